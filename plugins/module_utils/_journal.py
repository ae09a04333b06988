# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the run journal, a go-live's state in one locked JSON file. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import errno
import fcntl
import json
import os
import re
import time

from ansible_collections.runbook.golive.plugins.module_utils import _io
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

SCHEMA = 1
HISTORY_DIR = "runs"
LOCK_SUFFIX = ".lock"
LOCK_TIMEOUT = 120.0
RUN_ID = re.compile(r"\A[A-Za-z0-9._+:-]{1,200}\Z")
# Keys the module maintains; everything else is the caller's data.
UPDATED = "updated"
FINISHED = "finished"


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def check_run_id(run_id):
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise GoliveError(
            "run_id %r is not valid: give 1 to 200 characters of letters, digits and . _ + : -" % (run_id,)
        )
    return run_id


def deep_merge(base, update):
    """A copy of ``base`` with ``update`` merged in: dicts recursively, lists and scalars replaced."""
    merged = copy.deepcopy(base)
    for key, value in (update or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def dumps(journal):
    """The file's text: stable (sorted keys) and strictly valid JSON (no NaN or Infinity)."""
    try:
        return json.dumps(journal, sort_keys=True, indent=1, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        raise GoliveError("the run journal cannot hold this data: %s; give only JSON values (no NaN, Infinity)" % err)


def is_unfinished(journal):
    return bool(journal) and FINISHED not in journal


def describe(journal):
    """``run r1-ab12 (release r1, owner alice, phase rollout, updated 2026-11-22T06:03:00Z)``."""
    return "run %s (release %s, owner %s, phase %s, updated %s)" % (
        journal.get("run_id"),
        journal.get("release_id") or "-",
        journal.get("owner") or "-",
        journal.get("phase") or "-",
        journal.get(UPDATED) or journal.get("started") or "-",
    )


def _significant(journal):
    """The journal without the bookkeeping that alone is not a change."""
    return dict((k, v) for k, v in (journal or {}).items() if k != UPDATED)


def apply(journal, run_id, now, data=None, host=None, host_data=None, mark=None, decision=None, finish=False):
    """The journal after one call: ``(new journal, changed)``. ``journal`` is not modified.

    ``data`` is deep-merged; ``host_data`` into ``hosts[host]``; ``mark`` sets ``phase``
    and, the first time only, ``marks[mark]`` (epoch seconds), so a rerun is not a change.
    ``updated`` is set only when something else changed.
    """
    if data and "run_id" in data and data["run_id"] != run_id:
        raise GoliveError("data.run_id %r differs from run_id %r; leave run_id out of data" % (data["run_id"], run_id))
    new = deep_merge(journal or {}, data)
    new["run_id"] = run_id
    new.setdefault("journal_schema", SCHEMA)
    new.setdefault("started", iso(now))
    if host is not None:
        hosts = new.get("hosts") if isinstance(new.get("hosts"), dict) else {}
        entry = hosts.get(host) if isinstance(hosts.get(host), dict) else {}
        hosts[host] = deep_merge(entry, host_data)
        new["hosts"] = hosts
    if mark is not None:
        new["phase"] = mark
        marks = new.get("marks") if isinstance(new.get("marks"), dict) else {}
        marks.setdefault(mark, round(now, 3))
        new["marks"] = marks
    if decision is not None:
        new["decision"] = decision
    if finish:
        new.setdefault(FINISHED, iso(now))
    changed = _significant(new) != _significant(journal)
    if changed:
        new[UPDATED] = iso(now)
    return new, changed


class Journal:
    """The journal file at ``path``, its lock file ``<path>.lock`` and its history ``<dir>/runs/``."""

    def __init__(self, module, path, keep=20, lock_timeout=LOCK_TIMEOUT):
        self.module = module
        self.path = os.path.abspath(path)
        self.directory = os.path.dirname(self.path)
        self.lock_path = self.path + LOCK_SUFFIX
        self.history_dir = os.path.join(self.directory, HISTORY_DIR)
        self.keep = keep
        self.lock_timeout = lock_timeout

    def history_path(self, run_id):
        return os.path.join(self.history_dir, "%s.json" % run_id)

    # Reading

    def _load(self, path, what):
        try:
            with open(path, "rb") as handle:
                text = handle.read()
        except (IOError, OSError) as err:
            if err.errno == errno.ENOENT:
                return None
            raise GoliveError("cannot read %s %s: %s" % (what, path, err.strerror))
        try:
            journal = json.loads(text.decode("utf-8"))
        except ValueError as err:
            raise GoliveError(
                "%s %s is not valid JSON (%s); inspect it, and when no go-live is running remove it "
                "(rm, or runbook.golive.run_journal with state: absent and force: true)" % (what, path, err),
                path=self.path,
                exists=True,
            )
        run_id = journal.get("run_id") if isinstance(journal, dict) else None
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise GoliveError(
                "%s %s is not a run journal (not a JSON object with a valid run_id); inspect it, and when no "
                "go-live is running remove it (rm, or runbook.golive.run_journal with state: absent and force: true)"
                % (what, path),
                path=self.path,
                exists=True,
            )
        return journal

    def read(self):
        """The journal, or None when there is none. Writes are renames, so no lock is needed to read."""
        return self._load(self.path, "run journal")

    def read_history(self, run_id):
        return self._load(self.history_path(run_id), "finished run journal")

    def exists(self):
        return os.path.lexists(self.path)

    # Writing (only inside ``locked()``)

    def _make_dir(self, directory):
        if os.path.isdir(directory):
            return
        try:
            os.makedirs(directory, 0o700)
            os.chmod(directory, 0o700)
        except OSError as err:
            if err.errno != errno.EEXIST or not os.path.isdir(directory):
                raise GoliveError("cannot create directory %s for the run journal: %s" % (directory, err.strerror))

    @contextlib.contextmanager
    def locked(self, poll=0.01):
        """Hold an exclusive ``flock`` on ``<path>.lock``: every read-modify-write happens inside.

        The lock file is never removed (removing it would let two writers lock two files).
        The kernel drops the lock when its holder dies, even by kill -9.
        """
        self._make_dir(self.directory)
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise GoliveError("cannot open the run journal lock %s: %s" % (self.lock_path, err.strerror))
        try:
            deadline = time.time() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as err:
                    if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise GoliveError("cannot lock %s: %s" % (self.lock_path, err.strerror))
                if time.time() >= deadline:
                    raise GoliveError(
                        "run journal lock %s is held by another process for more than %ds; find it with "
                        "fuser %s (a hung task?) and stop it" % (self.lock_path, self.lock_timeout, self.lock_path),
                        path=self.path,
                    )
                time.sleep(poll)
            yield
        finally:
            os.close(fd)  # closing drops the lock

    def write(self, journal):
        _io.write_file(self.module, self.path, dumps(journal), mode=0o600)

    def remove(self):
        try:
            os.unlink(self.path)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise GoliveError("cannot remove run journal %s: %s" % (self.path, err.strerror))
        _io.fsync_dir(self.directory)

    def archive(self, run_id):
        """Move the journal to ``runs/<run_id>.json`` (a rename: it is at one place at any moment), then prune."""
        self._make_dir(self.history_dir)
        target = self.history_path(run_id)
        try:
            os.rename(self.path, target)
            os.utime(target, None)  # the newest in the history, whenever it finished
        except OSError as err:
            raise GoliveError("cannot move run journal %s to %s: %s" % (self.path, target, err.strerror))
        _io.fsync_dir(self.history_dir)
        _io.fsync_dir(self.directory)
        self.prune()
        return target

    def prune(self):
        """Keep the newest ``keep`` finished journals in the history."""
        entries = []
        for name in os.listdir(self.history_dir):
            full = os.path.join(self.history_dir, name)
            if name.endswith(".json") and RUN_ID.match(name[: -len(".json")]) and os.path.isfile(full):
                entries.append((os.stat(full).st_mtime, name, full))
        entries.sort(reverse=True)
        for _mtime, _name, full in entries[self.keep :]:
            with contextlib.suppress(OSError):
                os.unlink(full)


def _result(
    journal, path, exists, unfinished=None, changed=False, archived=None, before=None, after=None, after_path=None
):
    """What every state returns; ``exists`` and ``unfinished`` describe the file at ``path`` after the call."""
    return dict(
        changed=changed,
        path=path,
        exists=exists,
        unfinished=(exists and is_unfinished(journal)) if unfinished is None else unfinished,
        journal=journal or {},
        archived=archived,
        diff=dict(
            before_header=path,
            after_header=after_path or path,
            before=dumps(before) if before else "",
            after=dumps(after) if after else "",
        ),
    )


def query(jr):
    journal = jr.read()
    return _result(journal, jr.path, journal is not None, before=journal, after=journal)


def start(jr, run_id, data=None, host=None, host_data=None, mark=None, decision=None, check_mode=False, now=None):
    """Begin run ``run_id``; refuse while another run's journal is unfinished."""
    check_run_id(run_id)
    now = time.time() if now is None else now
    with _maybe_locked(jr, check_mode):
        current = jr.read()
        if current is not None and is_unfinished(current) and current["run_id"] != run_id:
            raise GoliveError(
                "run journal %s: %s is unfinished; not starting run %s. If that go-live still runs, wait for it; "
                "if it was killed, recover it with playbooks/recover.yml first" % (jr.path, describe(current), run_id),
                path=jr.path,
                exists=True,
                unfinished=True,
                journal=current,
            )
        if jr.read_history(run_id) is not None:
            raise GoliveError(
                "run %s already finished (%s); not started again. A new go-live needs a new run_id"
                % (run_id, jr.history_path(run_id)),
                path=jr.path,
                exists=current is not None,
                unfinished=is_unfinished(current),
                journal=current or {},
            )
        replaced = current if current is not None and not is_unfinished(current) else None
        base = None if replaced is not None else current
        new, changed = apply(base, run_id, now, data, host, host_data, mark, decision)
        changed = changed or replaced is not None
        archived = jr.history_path(replaced["run_id"]) if replaced is not None else None
        if changed and not check_mode:
            if replaced is not None:
                jr.archive(replaced["run_id"])
            jr.write(new)
        return _result(new, jr.path, True, changed=changed, archived=archived, before=current, after=new)


def update(jr, run_id, data=None, host=None, host_data=None, mark=None, decision=None, check_mode=False, now=None):
    """Merge into the journal of run ``run_id``, which must be the one at ``path`` and unfinished."""
    check_run_id(run_id)
    now = time.time() if now is None else now
    with _maybe_locked(jr, check_mode):
        current = _own_journal(jr, run_id, "updated", jr.read())
        new, changed = apply(current, run_id, now, data, host, host_data, mark, decision)
        if changed and not check_mode:
            jr.write(new)
        return _result(new, jr.path, True, changed=changed, before=current, after=new)


def finish(jr, run_id, data=None, host=None, host_data=None, mark=None, decision=None, check_mode=False, now=None):
    """Mark run ``run_id`` finished and move its journal to the history; a rerun is not a change."""
    check_run_id(run_id)
    now = time.time() if now is None else now
    with _maybe_locked(jr, check_mode):
        current = jr.read()
        if current is None or current["run_id"] != run_id:
            done = jr.read_history(run_id)
            if done is not None:
                exists = current is not None
                unfinished = is_unfinished(current)
                return _result(done, jr.path, exists, unfinished, archived=jr.history_path(run_id))
        current = _own_journal(jr, run_id, "finished", current, allow_finished=True)
        new, _changed = apply(current, run_id, now, data, host, host_data, mark, decision, finish=True)
        target = jr.history_path(run_id)
        if not check_mode:
            jr.write(new)
            jr.archive(run_id)
        return _result(
            new,
            jr.path,
            False,
            unfinished=False,
            changed=True,
            archived=target,
            before=current,
            after=new,
            after_path=target,
        )


def remove(jr, run_id=None, force=False, check_mode=False):
    """Remove the journal at ``path`` if it is run ``run_id``'s, or any (even a corrupt one) with ``force``."""
    if run_id is not None:
        check_run_id(run_id)
    with _maybe_locked(jr, check_mode):
        if not jr.exists():
            return _result(None, jr.path, False)
        try:
            current = jr.read()
        except GoliveError:
            if not force:
                raise
            current = None  # a corrupt file: force removes it all the same
        if not force and (run_id is None or current["run_id"] != run_id):
            raise GoliveError(
                "run journal %s belongs to %s, not to run %s; not removed. Give its run_id, or force: true "
                "when that run is known to be over" % (jr.path, describe(current), run_id or "(none given)"),
                path=jr.path,
                exists=True,
                unfinished=is_unfinished(current),
                journal=current,
            )
        if not check_mode:
            jr.remove()
        result = _result(None, jr.path, False, changed=True, before=current)
        result["journal"] = current or {}
        return result


def _own_journal(jr, run_id, action, current, allow_finished=False):
    if current is None:
        raise GoliveError(
            "there is no run journal at %s for run %s; not %s. Start the run first (state: started), "
            "or look in %s if it already finished" % (jr.path, run_id, action, jr.history_dir),
            path=jr.path,
            exists=False,
            unfinished=False,
            journal={},
        )
    if current["run_id"] != run_id:
        raise GoliveError(
            "run journal %s belongs to %s, not to run %s; not %s" % (jr.path, describe(current), run_id, action),
            path=jr.path,
            exists=True,
            unfinished=is_unfinished(current),
            journal=current,
        )
    if not allow_finished and not is_unfinished(current):
        raise GoliveError(
            "run %s finished at %s (run journal %s); not %s" % (run_id, current[FINISHED], jr.path, action),
            path=jr.path,
            exists=True,
            unfinished=False,
            journal=current,
        )
    return current


@contextlib.contextmanager
def _maybe_locked(jr, check_mode):
    """The lock for a write; check mode only reads (writes are renames) and creates no lock file."""
    if check_mode:
        yield
    else:
        with jr.locked():
            yield
