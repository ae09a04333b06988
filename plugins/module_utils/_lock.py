# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the deploy lock, a directory created atomically with an owner record. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import json
import os
import shutil
import socket
import time

from ansible_collections.runbook.golive.plugins.module_utils import _io
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

OWNER_FILE = "owner.json"
RECORD_VERSION = 1
RECORD_KEYS = ("version", "owner", "release_id", "host", "pid", "acquired_at", "acquired_epoch", "ttl")

# Decisions
CREATE = "create"
KEEP = "keep"
BREAK = "break"
HELD = "held"
ABSENT = "absent"
REMOVE = "remove"
FORCE = "force"
REFUSE = "refuse"


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def make_record(owner, release_id, ttl, now, host=None, pid=None):
    """The owner record written to ``owner.json`` (schema version 1)."""
    return dict(
        version=RECORD_VERSION,
        owner=owner,
        release_id=release_id,
        host=host or socket.gethostname(),
        pid=pid or os.getpid(),
        acquired_at=iso(now),
        acquired_epoch=round(now, 3),
        ttl=ttl,
    )


def parse_record(text):
    """``owner.json`` -> dict; ValueError when it is not a record."""
    record = json.loads(text)
    if not isinstance(record, dict) or "owner" not in record or "acquired_epoch" not in record:
        raise ValueError("not an owner record")
    record["acquired_epoch"] = float(record["acquired_epoch"])
    return record


def age(record, now):
    return max(0.0, now - record["acquired_epoch"])


def is_stale(record, now, ttl):
    return age(record, now) > ttl


def same_holder(record, owner, release_id):
    return record.get("owner") == owner and record.get("release_id") == release_id


def decide_acquire(record, owner, release_id, now, ttl, break_stale):
    if record is None:
        return CREATE
    if same_holder(record, owner, release_id):
        return KEEP
    if break_stale and is_stale(record, now, ttl):
        return BREAK
    return HELD


def decide_release(record, owner, release_id, force):
    """Ownership is the owner, and the release id too when the caller gives one."""
    if record is None:
        return ABSENT
    if record.get("owner") == owner and (release_id is None or record.get("release_id") == release_id):
        return REMOVE
    return FORCE if force else REFUSE


def describe(record, now, ttl=None):
    """``alice (release r42) on app1 since 2026-11-22T06:00:00Z, 93s ago``."""
    if record.get("incomplete"):
        text = "an unknown owner (no owner record) since %s" % record["acquired_at"]
    else:
        text = "%s (release %s) on %s since %s" % (
            record.get("owner"),
            record.get("release_id") or "-",
            record.get("host"),
            record.get("acquired_at"),
        )
    text += ", %ds ago" % age(record, now)
    if ttl is not None and is_stale(record, now, ttl):
        text += ", stale (older than ttl %ds)" % ttl
    return text


class Lock:
    """A lock directory: ``os.mkdir`` either creates it or fails, never both for two callers."""

    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.owner_file = os.path.join(path, OWNER_FILE)

    def read(self, wait=2.0, poll=0.05):
        """The holder's record, or None when there is no lock.

        A lock just created by another process may not have its record yet: wait for it a
        little, then describe it as incomplete, dated by the directory.
        """
        deadline = time.time() + wait
        while True:
            try:
                with open(self.owner_file) as handle:
                    return parse_record(handle.read())
            except (IOError, OSError) as err:
                if err.errno != errno.ENOENT:
                    raise GoliveError("cannot read deploy lock record %s: %s" % (self.owner_file, err.strerror))
            except ValueError:
                pass
            try:
                mtime = os.stat(self.path).st_mtime
            except OSError:
                return None
            if time.time() >= deadline:
                return dict(
                    owner=None,
                    release_id=None,
                    host=None,
                    acquired_at=iso(mtime),
                    acquired_epoch=mtime,
                    incomplete=True,
                )
            time.sleep(poll)

    def create(self, record):
        """True when this call created the lock; False when it exists."""
        parent = os.path.dirname(self.path)
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
        except OSError as err:
            if err.errno != errno.EEXIST:
                raise GoliveError("cannot create %s for the deploy lock: %s" % (parent, err.strerror))
        try:
            os.mkdir(self.path, 0o755)
        except OSError as err:
            if err.errno == errno.EEXIST:
                return False
            raise GoliveError("cannot create deploy lock %s: %s" % (self.path, err.strerror))
        try:
            _io.write_file(self.module, self.owner_file, json.dumps(record, sort_keys=True) + "\n", mode=0o644)
        except GoliveError:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        return True

    def remove(self, expected):
        """Take the lock away atomically (rename, then delete), if it still is ``expected``'s.

        Returns False when the lock changed hands meanwhile (it is then left alone).
        """
        tomb = "%s.removed.%d.%d" % (self.path, os.getpid(), int(time.time() * 1000))
        try:
            os.rename(self.path, tomb)
        except OSError as err:
            if err.errno == errno.ENOENT:
                return False
            raise GoliveError("cannot remove deploy lock %s: %s" % (self.path, err.strerror))
        moved = Lock(self.module, tomb).read(wait=0)
        if moved is not None and not _same_record(moved, expected):
            with contextlib.suppress(OSError):
                os.rename(tomb, self.path)  # someone else's fresh lock: give it back
            return False
        shutil.rmtree(tomb, ignore_errors=True)
        return True


def _same_record(a, b):
    keys = ("owner", "release_id", "acquired_epoch")
    return all(a.get(k) == b.get(k) for k in keys)


def public(record):
    """The record as returned to the caller."""
    if record is None:
        return None
    return dict((k, record.get(k)) for k in RECORD_KEYS + ("incomplete",) if k in record)


def acquire(lock, owner, release_id, ttl, break_stale, check_mode, now=None):
    now = time.time() if now is None else now
    record = lock.read()
    decision = decide_acquire(record, owner, release_id, now, ttl, break_stale)
    result = dict(changed=decision in (CREATE, BREAK), path=lock.path, decision=decision, broken=None)
    if decision == HELD:
        hint = "; it is stale: rerun with break_stale: true to break it" if is_stale(record, now, ttl) else ""
        raise GoliveError(
            "deploy lock %s is held by %s; not acquired for %s (release %s). Wait for that go-live to finish, "
            "or have its owner release the lock%s" % (lock.path, describe(record, now, ttl), owner, release_id, hint),
            held=True,
            lock=public(record),
            path=lock.path,
        )
    mine = make_record(owner, release_id, ttl, now)
    if decision == KEEP:
        return dict(result, held=True, lock=public(record))
    if decision == BREAK:
        result["broken"] = public(record)
    if check_mode:
        return dict(result, held=False, lock=public(record) if decision == BREAK else None)
    if decision == BREAK and not lock.remove(record):
        raise GoliveError(
            "deploy lock %s changed hands while breaking the stale lock of %s; rerun to see who holds it now"
            % (lock.path, describe(record, now))
        )
    if not lock.create(mine):
        winner = lock.read()
        raise GoliveError(
            "deploy lock %s was taken by %s just now; not acquired for %s (release %s)"
            % (lock.path, describe(winner, time.time()) if winner else "someone else", owner, release_id),
            held=True,
            lock=public(winner),
            path=lock.path,
            broken=result["broken"],
        )
    return dict(result, held=True, lock=public(mine))


def release(lock, owner, release_id, force, check_mode, now=None):
    now = time.time() if now is None else now
    record = lock.read()
    decision = decide_release(record, owner, release_id, force)
    result = dict(changed=decision in (REMOVE, FORCE), path=lock.path, decision=decision, released=public(record))
    if decision == ABSENT:
        return dict(result, held=False, lock=None, released=None)
    if decision == REFUSE:
        raise GoliveError(
            "deploy lock %s is held by %s, not by %s (release %s); not released. Release it as its owner, "
            "or with force: true if that go-live is known to be over"
            % (lock.path, describe(record, now), owner, release_id),
            held=True,
            lock=public(record),
            path=lock.path,
        )
    if not check_mode and not lock.remove(record):
        raise GoliveError("deploy lock %s changed hands while being released; rerun to see who holds it" % lock.path)
    return dict(result, held=False, lock=None, forced=decision == FORCE)


def inspect(lock, ttl, now=None):
    now = time.time() if now is None else now
    record = lock.read()
    result = dict(changed=False, path=lock.path, held=record is not None, lock=public(record), age=None, stale=False)
    if record is not None:
        result.update(age=round(age(record, now), 3), stale=is_stale(record, now, ttl))
    return result
