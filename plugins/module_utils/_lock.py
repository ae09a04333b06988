# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the deploy lock, a directory created atomically with an owner record. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import grp
import hmac
import json
import os
import pwd
import shutil
import socket
import stat
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


def make_record(owner, release_id, ttl, now, host=None, pid=None, token=None):
    """The owner record written to ``owner.json`` (schema version 1).

    ``token``, the holder's per-run token, is kept in the file only: ``public`` leaves it out.
    """
    record = dict(
        version=RECORD_VERSION,
        owner=owner,
        release_id=release_id,
        host=host or socket.gethostname(),
        pid=pid or os.getpid(),
        acquired_at=iso(now),
        acquired_epoch=round(now, 3),
        ttl=ttl,
    )
    if token is not None:
        record["token"] = token
    return record


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


TOKEN_MAX = 256


def token_problem(token):
    """Why ``token`` cannot be a run token, or None; the message never holds the token."""
    if token is None:
        return None
    if not token.strip() or len(token) > TOKEN_MAX or any(ord(c) < 32 or ord(c) == 127 for c in token):
        return (
            "token must be 1 to %d printable characters, not only spaces (a random string made once per run), "
            "got %d characters" % (TOKEN_MAX, len(token))
        )
    return None


def same_token(record, token):
    """Whether ``token`` is the holder's: both absent (a lock taken without one), or equal."""
    held = record.get("token")
    if held is None or token is None:
        return held is None and token is None
    return hmac.compare_digest(("%s" % held).encode("utf-8"), ("%s" % token).encode("utf-8"))


def same_holder(record, owner, release_id, token=None):
    """The same owner, release and run: two runs of one go-live (a job launched twice) differ
    in their tokens, so only one of them holds the lock."""
    return record.get("owner") == owner and record.get("release_id") == release_id and same_token(record, token)


def decide_acquire(record, owner, release_id, now, ttl, break_stale, token=None):
    if record is None:
        return CREATE
    if same_holder(record, owner, release_id, token):
        return KEEP
    if break_stale and is_stale(record, now, ttl):
        return BREAK
    return HELD


def decide_release(record, owner, release_id, force, token=None):
    """Ownership is the owner, and the release id too when the caller gives one, and the run's
    token when the lock holds one."""
    if record is None:
        return ABSENT
    if (
        record.get("owner") == owner
        and (release_id is None or record.get("release_id") == release_id)
        and (record.get("token") is None or same_token(record, token))
    ):
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


def _user(uid, default=None):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "%d" % uid if default is None else default


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return "%d" % gid


def check_safe(path, st, what, fix_mode):
    """Refuse ``path`` (its ``st``) unless the running user (or root) owns it and nobody else
    may write to it: whoever may write there may forge, move or remove the lock."""
    me = os.geteuid()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid in (me, 0) and not mode & (stat.S_IWGRP | stat.S_IWOTH):
        return
    raise GoliveError(
        "%s %s is owned by uid %d%s with mode %04o; another user could forge or remove the deploy lock "
        "there. If it is yours, fix it with: chown %s:%s %s && chmod %04o %s; otherwise remove it and rerun"
        % (
            what,
            path,
            st.st_uid,
            " (%s)" % _user(st.st_uid, "") if _user(st.st_uid, "") else "",
            mode,
            _user(me),
            _group(os.getegid()),
            path,
            fix_mode,
            path,
        ),
        path=path,
    )


def _no_symlink(path, st, what):
    if stat.S_ISLNK(st.st_mode):
        raise GoliveError(
            "%s %s is a symbolic link; a deploy lock is never one (someone may be redirecting it): "
            "remove the link (rm %s) and rerun" % (what, path, path),
            path=path,
        )


class Lock:
    """A lock directory: ``os.mkdir`` either creates it or fails, never both for two callers.

    Its parent, the lock directory and ``owner.json`` must belong to the running user (or root)
    and be writable by nobody else; a symbolic link in their place is refused.
    """

    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.parent = os.path.dirname(os.path.abspath(path))
        self.owner_file = os.path.join(path, OWNER_FILE)

    def _check_parent(self):
        """The parent's stat, checked; None when it does not exist."""
        try:
            st = os.stat(self.parent)
        except OSError as err:
            if err.errno == errno.ENOENT:
                return None
            raise GoliveError("cannot read %s for the deploy lock: %s" % (self.parent, err.strerror))
        if not stat.S_ISDIR(st.st_mode):
            raise GoliveError(
                "%s, where the deploy lock is kept, is not a directory; remove it or choose another path" % self.parent
            )
        check_safe(self.parent, st, "deploy lock directory", 0o700)
        return st

    def _check_lock_dir(self):
        """The lock directory's lstat, checked; None when there is no lock."""
        if self._check_parent() is None:
            return None
        try:
            st = os.lstat(self.path)
        except OSError as err:
            if err.errno == errno.ENOENT:
                return None
            raise GoliveError("cannot read deploy lock %s: %s" % (self.path, err.strerror))
        _no_symlink(self.path, st, "deploy lock")
        if not stat.S_ISDIR(st.st_mode):
            raise GoliveError("deploy lock %s is not a directory; remove it (rm %s) and rerun" % (self.path, self.path))
        check_safe(self.path, st, "deploy lock", 0o700)
        return st

    def _read_owner_file(self):
        """The text of ``owner.json``, opened without following a link and checked."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.owner_file, flags)
        except OSError as err:
            if err.errno == errno.ELOOP:
                _no_symlink(self.owner_file, os.lstat(self.owner_file), "deploy lock record")
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise GoliveError(
                    "deploy lock record %s is not a regular file; remove the lock %s and rerun"
                    % (self.owner_file, self.path)
                )
            check_safe(self.owner_file, st, "deploy lock record", 0o600)
            chunks = []
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(fd)

    def read(self, wait=2.0, poll=0.05):
        """The holder's record, or None when there is no lock.

        A lock just created by another process may not have its record yet: wait for it a
        little, then describe it as incomplete, dated by the directory.
        """
        deadline = time.time() + wait
        while True:
            st = self._check_lock_dir()
            if st is None:
                return None
            try:
                return parse_record(self._read_owner_file())
            except (IOError, OSError) as err:
                if err.errno != errno.ENOENT:
                    raise GoliveError("cannot read deploy lock record %s: %s" % (self.owner_file, err.strerror))
            except ValueError:
                pass
            if time.time() >= deadline:
                return dict(
                    owner=None,
                    release_id=None,
                    host=None,
                    acquired_at=iso(st.st_mtime),
                    acquired_epoch=st.st_mtime,
                    incomplete=True,
                )
            time.sleep(poll)

    def create(self, record):
        """True when this call created the lock; False when it exists."""
        if self._check_parent() is None:
            try:
                os.makedirs(self.parent, 0o700)
                os.chmod(self.parent, 0o700)
            except OSError as err:
                if err.errno != errno.EEXIST:
                    raise GoliveError("cannot create %s for the deploy lock: %s" % (self.parent, err.strerror))
            self._check_parent()
        try:
            os.mkdir(self.path, 0o700)
        except OSError as err:
            if err.errno == errno.EEXIST:
                return False
            raise GoliveError("cannot create deploy lock %s: %s" % (self.path, err.strerror))
        try:
            _io.write_file(self.module, self.owner_file, json.dumps(record, sort_keys=True) + "\n", mode=0o600)
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
    keys = ("owner", "release_id", "acquired_epoch", "token")
    return all(a.get(k) == b.get(k) for k in keys)


def public(record):
    """The record as returned to the caller."""
    if record is None:
        return None
    return dict((k, record.get(k)) for k in RECORD_KEYS + ("incomplete",) if k in record)


def acquire(lock, owner, release_id, ttl, break_stale, check_mode, now=None, token=None):
    now = time.time() if now is None else now
    record = lock.read()
    decision = decide_acquire(record, owner, release_id, now, ttl, break_stale, token)
    result = dict(changed=decision in (CREATE, BREAK), path=lock.path, decision=decision, broken=None)
    if decision == HELD:
        hint = "; it is stale: rerun with break_stale: true to break it" if is_stale(record, now, ttl) else ""
        if same_holder(record, owner, release_id, record.get("token")):
            hint = (
                "; it was taken by another run of the same go-live (its run token differs): was the job "
                "started twice? Let the other run finish" + hint
            )
        raise GoliveError(
            "deploy lock %s is held by %s; not acquired for %s (release %s). Wait for that go-live to finish, "
            "or have its owner release the lock%s" % (lock.path, describe(record, now, ttl), owner, release_id, hint),
            held=True,
            lock=public(record),
            path=lock.path,
        )
    mine = make_record(owner, release_id, ttl, now, token=token)
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


def release(lock, owner, release_id, force, check_mode, now=None, token=None):
    now = time.time() if now is None else now
    record = lock.read()
    decision = decide_release(record, owner, release_id, force, token)
    result = dict(changed=decision in (REMOVE, FORCE), path=lock.path, decision=decision, released=public(record))
    if decision == ABSENT:
        return dict(result, held=False, lock=None, released=None)
    if decision == REFUSE:
        other_run = ""
        if record.get("owner") == owner and (release_id is None or record.get("release_id") == release_id):
            other_run = " (by another run: its run token differs)"
        raise GoliveError(
            "deploy lock %s is held by %s%s, not by %s (release %s); not released. Release it as its owner, "
            "or with force: true if that go-live is known to be over"
            % (lock.path, describe(record, now), other_run, owner, release_id),
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
