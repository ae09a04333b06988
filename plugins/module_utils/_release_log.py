# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the audit release log, its records and their rules. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import hashlib
import json
import math
import os
import re
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

from ansible.module_utils.six import string_types

from ansible_collections.runbook.golive.plugins.module_utils import _io, _pg
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

SCHEMA = 1
# go: the version serves; rollback: the fleet went back; partial: part of the fleet runs it;
# refused: stopped at prepare, nothing changed; interrupted: a killed run, recorded by the recovery.
DECISIONS = ("go", "rollback", "partial", "refused", "interrupted")
# The record's fields, in the order they are written.
TEXT_FIELDS = (
    "release_id",
    "environment",
    "phase",
    "decision",
    "version",
    "previous_version",
    "commit",
    "owner",
    "backup_id",
    "backup_checksum",
    "migration_from",
    "migration_to",
    "notes",
)
TIME_FIELDS = ("started", "finished")
# Fields that may hold nested data, checked for secrets key by key.
NESTED_FIELDS = ("phases", "health", "smoke", "extra")
# Ansible's own bookkeeping in a registered result: not part of what happened.
DROPPED_KEYS = ("invocation",)

_SECRET_WORDS = frozenset(
    (
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "pass",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "apikey",
        "credential",
        "credentials",
        "authorization",
        "cookie",
        "pgpass",
    )
)
# Text that looks like a secret, and the part of it that is the secret (group "secret"):
# replaced by REDACTED, the rest of the text is kept.
_SECRET_VALUES = (
    # a URL with a password in it: postgresql://app:s3cret@db/app
    re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:)(?P<secret>[^/\s@]+)(?P<tail>@)"),
    # password=..., token=... as in a DSN or a query string
    re.compile(
        r"(?i)(?P<head>\b(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)=)(?P<secret>[^\s&;]+)(?P<tail>)"
    ),
    # "password": "..." in JSON text
    re.compile(
        r'(?i)(?P<head>"(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"\s*:\s*")(?P<secret>[^"]+)(?P<tail>)'
    ),
)
REDACTED = "********"
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}\Z")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\Z"
)


def _words(key):
    """``apiKey`` / ``API-KEY`` / ``db_password`` -> their lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", "%s" % key)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def looks_secret(key):
    words = _words(key)
    if any(w in _SECRET_WORDS for w in words):
        return True
    joined = "".join(words)
    return any(s in joined for s in ("password", "passwd", "secret", "token", "apikey", "privatekey"))


def redact_text(text):
    """``text`` with the secret part of anything that looks like a secret replaced by REDACTED."""
    for pattern in _SECRET_VALUES:
        text = pattern.sub(lambda m: m.group("head") + REDACTED + m.group("tail"), text)
    return text


def clean(value, where, redacted=None):
    """``value`` without Ansible's bookkeeping keys, and without secrets: the value of a key
    whose name looks secret becomes REDACTED, the secret part of a text that looks like one
    too. The path of each redaction is appended to ``redacted`` (a list) when given."""
    if redacted is None:
        redacted = []
    if isinstance(value, dict):
        out = {}
        for key in sorted(value, key=lambda k: "%s" % k):
            if key in DROPPED_KEYS or ("%s" % key).startswith("_ansible"):
                continue
            path = "%s.%s" % (where, key)
            if looks_secret(key):
                out["%s" % key] = REDACTED
                redacted.append(path)
                continue
            out["%s" % key] = clean(value[key], path, redacted)
        return out
    if isinstance(value, (list, tuple)):
        return [clean(item, "%s.%d" % (where, i), redacted) for i, item in enumerate(value)]
    if isinstance(value, string_types):
        text = redact_text(value)
        if text != value:
            redacted.append(where)
        return text
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "%s" % value  # JSON has no NaN or infinity
        if abs(value) >= 1e16:
            # Written as an integer, as PostgreSQL's jsonb gives it back: both copies hash alike.
            return int(value)
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    return "%s" % value


def parse_time(value, name):
    """An ISO 8601 time as ``(datetime in UTC, "YYYY-MM-DDTHH:MM:SSZ")``; no zone means UTC."""
    match = _ISO.match(("%s" % value).strip())
    if not match:
        raise GoliveError(
            "release log record: %s %r is not an ISO 8601 time; write it like 2026-11-22T02:00:00Z" % (name, value)
        )
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        when = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as err:
        raise GoliveError("release log record: %s %r is not a valid time: %s" % (name, value, err))
    if zone and zone not in ("Z", "z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        when -= sign * offset
    return when, when.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now():
    return datetime.datetime.utcnow().replace(microsecond=0)


def build(params, now=None, redacted=None):
    """The record to write, from the module's parameters; GoliveError when invalid. The paths
    of what was redacted (see clean) are appended to ``redacted``."""
    if redacted is None:
        redacted = []
    rec = {"schema": SCHEMA}
    for name in TEXT_FIELDS:
        value = params.get(name)
        if value is not None and "%s" % value != "":
            value = "%s" % value
            if "\n" in value and name != "notes":
                raise GoliveError("release log record: %s must be one line, got %r" % (name, value))
            rec[name] = clean(value, name, redacted)
    for name in ("release_id", "environment", "version", "decision"):
        if not rec.get(name):
            raise GoliveError("release log record: %s is required" % name)
    rec.setdefault("phase", "final")
    if rec["decision"] not in DECISIONS:
        raise GoliveError("release log record: decision %r is not one of %s" % (rec["decision"], ", ".join(DECISIONS)))
    if rec.get("commit") and not _COMMIT.match(rec["commit"]):
        raise GoliveError("release log record: commit %r is not a git commit SHA (7 to 64 hex digits)" % rec["commit"])
    times = {}
    for name in TIME_FIELDS:
        if params.get(name) not in (None, ""):
            times[name], rec[name] = parse_time(params[name], name)
    if len(times) == 2:
        seconds = (times["finished"] - times["started"]).total_seconds()
        if seconds < 0:
            raise GoliveError(
                "release log record: finished %s is before started %s" % (rec["finished"], rec["started"])
            )
        rec["duration"] = seconds
    phases = params.get("phases")
    if phases:
        if not isinstance(phases, dict):
            raise GoliveError("release log record: phases maps a phase name to its seconds")
        rec["phases"] = {}
        for name, given in clean(phases, "phases", redacted).items():
            if given == REDACTED and looks_secret(name):
                continue  # a phase whose name looks secret is left out, its path is in redacted
            try:
                seconds = float(given)
            except (TypeError, ValueError):
                seconds = -1.0
            if seconds < 0:
                raise GoliveError(
                    "release log record: phases.%s must be a number of seconds, got %r" % (name, phases[name])
                )
            rec["phases"][name] = seconds
    for name in ("health", "smoke", "extra"):
        if params.get(name) is not None:
            rec[name] = clean(params[name], name, redacted)
    hosts = params.get("hosts")
    if hosts:
        rec["hosts"] = clean(["%s" % h for h in hosts], "hosts", redacted)
    rec["recorded_at"] = (now or utc_now()).strftime("%Y-%m-%dT%H:%M:%SZ")
    return rec


def key(rec):
    """What makes a record unique: appending the same one twice changes nothing."""
    return (rec.get("release_id"), rec.get("decision"), rec.get("phase") or "final")


def dumps(rec):
    return json.dumps(rec, sort_keys=True, separators=(",", ":"))


def parse_lines(text):
    """``(records, bad_line_numbers)`` of a JSON Lines log; a torn last line is reported, not fatal."""
    records, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            bad.append(number)
            continue
        if isinstance(rec, dict):
            records.append(rec)
        else:
            bad.append(number)
    return records, bad


def find(records, rec):
    wanted = key(rec)
    for old in records:
        if key(old) == wanted:
            return old
    return None


def current_versions(records):
    """Per environment, the version that serves after the records in order:
    ``go`` sets it to the record's version, ``rollback`` to the version rolled
    back to (previous_version, None when the record does not say),
    ``partial`` (the fleet is mixed), ``refused`` (nothing changed) and
    ``interrupted`` (a killed run) leave it."""
    current = {}
    for rec in records:
        env = rec.get("environment")
        decision = rec.get("decision")
        if not env or decision not in ("go", "rollback"):
            continue
        version = rec.get("version") if decision == "go" else rec.get("previous_version")
        current[env] = dict(
            version=version,
            release_id=rec.get("release_id"),
            decision=decision,
            recorded_at=rec.get("recorded_at"),
        )
    return current


def select(records, environment=None, limit=20):
    """The last ``limit`` records (of ``environment``), newest first."""
    chosen = [r for r in records if environment is None or r.get("environment") == environment]
    return list(reversed(chosen[-limit:])) if limit > 0 else []


# -- the JSON Lines file ----------------------------------------------------


def split_lines(data):
    """``(number, line bytes)`` of each non-blank line of a JSON Lines file's bytes, numbered from 1."""
    out = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            out.append((number, line))
    return out


def file_entries(data):
    """``(entries, bad_line_numbers)``: an entry per record line, with its number, its record
    and the sha256 of the line exactly as stored (its bytes, without the newline)."""
    entries, bad = [], []
    for number, line in split_lines(data):
        try:
            rec = json.loads(line.decode("utf-8"))
        except ValueError:
            rec = None
        if not isinstance(rec, dict):
            bad.append(number)
            continue
        entries.append(dict(number=number, rec=rec, sha256=sha256_hex(line)))
    return entries, bad


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except IOError as err:
        if err.errno == errno.ENOENT:
            return b""
        raise GoliveError("release log %s: cannot read it: %s" % (path, err.strerror))


def read_file(path):
    """``(records, bad_line_numbers)``; a missing file is an empty log."""
    entries, bad = file_entries(_read_bytes(path))
    return [e["rec"] for e in entries], bad


def read_file_entries(path):
    """``(entries, bad_line_numbers)`` of the file (see file_entries); a missing file is an empty log."""
    return file_entries(_read_bytes(path))


def ensure_dir(path, mode=0o750):
    """Create the log's directory (and parents) with ``mode`` if missing."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(directory):
        return False
    try:
        os.makedirs(directory, mode)
        os.chmod(directory, mode)
    except OSError as err:
        raise GoliveError("release log %s: cannot create %s: %s" % (path, directory, err.strerror))
    return True


LOCK_WAIT = 60.0  # seconds a writer waits for another one to finish


class LockedLog:
    """The log file opened and locked (``flock``, exclusive) for one writer: read it, append a
    line, and keep it locked until the table has its copy too, so two writers never chain to
    the same record and the table gets records in the file's order."""

    def __init__(self, path, mode, wait=LOCK_WAIT):
        self.path = path
        self.mode = mode
        ensure_dir(path)
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
        except OSError as err:
            raise GoliveError("release log %s: cannot open it to append: %s" % (path, err.strerror))
        try:
            self._lock(wait)
        except Exception:
            os.close(self.fd)
            raise

    def _lock(self, wait):
        if fcntl is None:
            return
        deadline = time.time() + wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except (IOError, OSError) as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise GoliveError("release log %s: cannot lock it: %s" % (self.path, err.strerror))
            if time.time() >= deadline:
                raise GoliveError(
                    "release log %s: another writer has held its lock for %d s; wait for it to finish "
                    "(or find the process that holds it with fuser) and run the task again" % (self.path, wait)
                )
            time.sleep(0.2)

    def read(self):
        os.lseek(self.fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def append(self, line, data=None):
        """Append ``line`` durably; after a torn last line (no newline), on a line of its own."""
        data = self.read() if data is None else data
        out = line.encode("utf-8") + b"\n"
        if data and not data.endswith(b"\n"):
            out = b"\n" + out
        try:
            _io.write_all(self.fd, out, self.path)
            os.fsync(self.fd)
            if (os.fstat(self.fd).st_mode & 0o7777) != self.mode:
                os.fchmod(self.fd, self.mode)
        except OSError as err:
            raise GoliveError("release log %s: cannot append to it: %s" % (self.path, err.strerror or err))
        _io.fsync_dir(os.path.dirname(os.path.abspath(self.path)))

    def close(self):
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


def append_file(path, rec, mode):
    """Append ``rec`` durably, keeping the file's mode at ``mode`` (under the file's lock)."""
    log = LockedLog(path, mode)
    try:
        log.append(dumps(rec))
    finally:
        log.close()


# -- the hash chain ---------------------------------------------------------

# prev_sha256 of the first record of an environment.
GENESIS = "0" * 64


def sha256_hex(data):
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def record_sha256(rec):
    """The sha256 of a record's canonical JSON (dumps: keys sorted, no spaces, non-ASCII as
    \\u escapes): the bytes of its line in the file, without the newline."""
    return sha256_hex(dumps(rec))


def is_chained(rec):
    return isinstance(rec.get("prev_sha256"), string_types)


def chain_fields(entries, environment):
    """``prev_sha256`` and ``seq`` of a new record of ``environment`` appended after ``entries``
    (dicts with ``rec`` and ``sha256``, in the log's order): the sha256 of the environment's last
    record (GENESIS when there is none) and its number in the environment (1 for the first)."""
    mine = [e for e in entries if e["rec"].get("environment") == environment]
    if not mine:
        return dict(prev_sha256=GENESIS, seq=1)
    last = mine[-1]
    seq = last["rec"].get("seq")
    if not is_chained(last["rec"]) or not isinstance(seq, int) or isinstance(seq, bool):
        seq = len(mine)
    return dict(prev_sha256=last["sha256"], seq=seq + 1)


# -- verification -----------------------------------------------------------


class Copy:
    """One copy of the log to verify: ``kind`` (file or table), its name (the path or the
    table) and its entries (see file_entries / table_entries) in stored order."""

    def __init__(self, kind, name, entries):
        self.kind = kind
        self.name = name
        self.entries = entries
        self.by_sha = {}
        self.by_key = {}
        for entry in entries:
            self.by_sha.setdefault(entry["sha256"], entry)
            self.by_key.setdefault(key(entry["rec"]), entry)

    def spot(self, entry):
        """``line 7`` or ``id 7``."""
        return "%s %d" % ("line" if self.kind == "file" else "id", entry["number"])

    def where(self, entry):
        """``file /var/.../releases.jsonl line 7`` or ``table golive_releases id 7``."""
        return "%s %s %s" % (self.kind, self.name, self.spot(entry))


def _what(rec):
    """``release R (decision, phase)``."""
    return "release %s (%s, %s)" % (rec.get("release_id"), rec.get("decision"), rec.get("phase") or "final")


def _fields_differing(a, b):
    names = sorted(set(a) | set(b))
    return [n for n in names if a.get(n) != b.get(n)]


def _problem(copy, entry, kind, msg):
    rec = entry["rec"] if entry else {}
    return dict(
        copy=copy.kind,
        location=copy.where(entry) if entry else "%s %s" % (copy.kind, copy.name),
        line=entry["number"] if entry and copy.kind == "file" else None,
        id=entry["number"] if entry and copy.kind == "table" else None,
        release_id=rec.get("release_id"),
        environment=rec.get("environment"),
        kind=kind,
        msg=msg,
    )


def _seq(rec):
    seq = rec.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def check_copy(copy, other=None):
    """``(problems, unchained, explained)`` of one copy: its chain recomputed environment by
    environment in stored order. ``other`` (the other Copy, or None) tells an edit from a deletion
    when it still has the original. ``unchained`` maps an environment to the entries written
    before chaining; ``explained`` holds ``(copy kind, record key)`` of the records a problem
    already names (a cross-copy check leaves them out)."""
    problems, unchained, explained = [], {}, set()
    envs = []
    for entry in copy.entries:
        env = entry["rec"].get("environment")
        if env not in envs:
            envs.append(env)
    for env in envs:
        items = [e for e in copy.entries if e["rec"].get("environment") == env]
        prev, chained_seen, offset = None, False, 0
        for index, entry in enumerate(items):
            rec = entry["rec"]
            here = "%s (%s)" % (copy.where(entry), _what(rec))
            if not is_chained(rec):
                if chained_seen:
                    problems.append(
                        _problem(
                            copy,
                            entry,
                            "unchained",
                            "%s: has no prev_sha256 but comes after chained records of environment %s: it was "
                            "added by something that does not chain records, or its prev_sha256 was removed"
                            % (here, env),
                        )
                    )
                else:
                    unchained.setdefault(env, []).append(entry)
                prev = entry
                continue
            chained_seen = True
            seq = _seq(rec)
            gap = None if seq is None else seq - (index + 1) - offset
            if seq is not None:
                offset = seq - (index + 1)
            expected = prev["sha256"] if prev else GENESIS
            said = rec["prev_sha256"]
            if said == expected:
                prev = entry
                continue
            before = "%s (%s)" % (copy.spot(prev), _what(prev["rec"])) if prev else None
            target = copy.by_sha.get(said)
            original = other.by_sha.get(said) if other else None
            if target is not None:
                kind = "reordered"
                msg = (
                    "%s: out of order: it chains to %s (%s), which is not the record before it (%s): records were "
                    "moved, or a record was copied late (after a failed write to the table)"
                    % (here, copy.spot(target), _what(target["rec"]), before or "none")
                )
            elif said == GENESIS:
                kind = "reordered"
                msg = (
                    "%s: chains as the first record of environment %s, but %s comes before it: records were "
                    % (
                        here,
                        env,
                        before,
                    )
                    + "added before it or it was moved"
                )
            elif original is not None and prev is not None and key(original["rec"]) == key(prev["rec"]):
                kind = "edited"
                explained.add((copy.kind, key(prev["rec"])))
                msg = (
                    "%s (%s): edited after it was written: the next record (%s) chained sha256 %s, this record now "
                    "hashes %s; %s still holds the original (fields that differ: %s)"
                    % (
                        copy.where(prev),
                        _what(prev["rec"]),
                        copy.spot(entry),
                        said,
                        prev["sha256"],
                        other.where(original),
                        ", ".join(_fields_differing(prev["rec"], original["rec"])) or "their formatting",
                    )
                )
                problems.append(_problem(copy, prev, kind, msg))
                prev = entry
                continue
            elif original is not None:
                kind = "deleted"
                explained.add((copy.kind, key(original["rec"])))
                msg = (
                    "%s: a record before it is missing: it chains to sha256 %s, %s, which %s holds but this %s "
                    "does not: deleted" % (here, said, _what(original["rec"]), other.where(original), copy.kind)
                )
            elif gap == 0 and prev is not None:
                kind = "edited"
                msg = (
                    "%s (%s): edited after it was written: the next record (%s) chained sha256 %s, this record now "
                    "hashes %s" % (copy.where(prev), _what(prev["rec"]), copy.spot(entry), said, prev["sha256"])
                )
                problems.append(_problem(copy, prev, kind, msg))
                prev = entry
                continue
            elif gap is not None and gap > 0:
                kind = "deleted"
                msg = (
                    "%s: %d record%s of environment %s deleted before it (after %s): it chains to sha256 %s, which "
                    "no record has, and it is record %d of the environment where %d was expected"
                    % (
                        here,
                        gap,
                        "s" if gap > 1 else "",
                        env,
                        before or "the start of the log",
                        said,
                        seq,
                        seq - gap,
                    )
                )
            else:
                kind = "broken"
                msg = (
                    "%s: chains to sha256 %s, which no record has, and %s hashes %s: that record was edited or "
                    "records before this one were deleted or added" % (here, said, before or "nothing", expected)
                )
            problems.append(_problem(copy, entry, kind, msg))
            prev = entry
    return problems, unchained, explained


def compare_copies(file_copy, table_copy, explained):
    """Problems of records in one copy and not the other, or different in both (chained ones only:
    records written before chaining may differ between the copies)."""
    problems = []
    for one, two in ((file_copy, table_copy), (table_copy, file_copy)):
        for entry in one.entries:
            rec = entry["rec"]
            k = key(rec)
            if not is_chained(rec) or (two.kind, k) in explained:
                continue
            theirs = two.by_key.get(k)
            if theirs is None:
                hint = (
                    "deleted from the table, or its write to the table failed (the task's table_error said why; "
                    "the next run of that task copies it)"
                    if two.kind == "table"
                    else "deleted from the file"
                )
                problems.append(
                    _problem(
                        two,
                        None,
                        "missing",
                        "%s %s: %s, at %s, is missing from the %s: %s"
                        % (two.kind, two.name, _what(rec), one.where(entry), two.kind, hint),
                    )
                )
                problems[-1].update(release_id=rec.get("release_id"), environment=rec.get("environment"))
            elif one.kind == "file" and theirs["sha256"] != entry["sha256"] and (one.kind, k) not in explained:
                problems.append(
                    _problem(
                        one,
                        entry,
                        "differs",
                        "%s: %s and %s differ (fields: %s): one of them was edited after it was written"
                        % (
                            _what(rec),
                            one.where(entry),
                            two.where(theirs),
                            ", ".join(_fields_differing(rec, theirs["rec"])) or "their formatting",
                        ),
                    )
                )
    return problems


def verify(file_copy=None, table_copy=None, bad_lines=()):
    """The verification's result: chain_ok, problems, unchained notes, counts and heads."""
    problems, unchained_notes, explained = [], [], set()
    copies = [c for c in (file_copy, table_copy) if c is not None]
    if file_copy is not None:
        for number in bad_lines:
            problems.append(
                dict(
                    copy="file",
                    location="file %s line %d" % (file_copy.name, number),
                    line=number,
                    id=None,
                    release_id=None,
                    environment=None,
                    kind="unreadable",
                    msg="file %s line %d: not a JSON record (a write torn by a crash, or an edit); a record "
                    "there is lost and the chain of its environment breaks after it" % (file_copy.name, number),
                )
            )
    for copy in copies:
        other = table_copy if copy is file_copy else file_copy
        found, unchained, seen = check_copy(copy, other)
        problems.extend(found)
        explained |= seen
        for env, entries in unchained.items():
            span = copy.spot(entries[0])
            if len(entries) > 1:
                span += " to %s" % copy.spot(entries[-1])
            unchained_notes.append(
                "%s %s: %d record%s of environment %s (%s) not chained (written before chaining)"
                % (copy.kind, copy.name, len(entries), "s" if len(entries) > 1 else "", env, span)
            )
    if file_copy is not None and table_copy is not None:
        problems.extend(compare_copies(file_copy, table_copy, explained))
    main = copies[0] if copies else Copy("file", "", [])
    heads = {}
    for entry in main.entries:
        rec = entry["rec"]
        env = rec.get("environment")
        heads[env] = dict(
            sha256=entry["sha256"],
            release_id=rec.get("release_id"),
            records=heads.get(env, {}).get("records", 0) + 1,
        )
    return dict(
        chain_ok=not problems,
        problems=problems,
        unchained=unchained_notes,
        record_count=len(main.entries),
        environments=sorted(e for e in heads if e is not None),
        heads=heads,
    )


# -- the PostgreSQL table ---------------------------------------------------

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z")


def table_sql_name(table):
    """``schema.table`` or ``table`` as quoted SQL; GoliveError for anything else."""
    if not _TABLE.match(table or "") or len(table) > 127:
        raise GoliveError(
            "release log table %r: give a plain name or schema.name (letters, digits, underscores)" % table
        )
    return ".".join(_pg.quote_ident(part) for part in table.split("."))


def decision_check_name(table):
    """The name of the CHECK on decision: ``<table>_decision_check``, as PostgreSQL names it."""
    return _pg.fit_name(table.split(".")[-1], "_decision_check")


def _decisions_sql():
    return ", ".join(_pg.quote_literal(d) for d in DECISIONS)


def create_sql(table):
    """Create the table if missing, bring an older table's CHECK on decision up to date and make it
    append-only. The CREATE runs only when the table is missing: even with IF NOT EXISTS, it needs
    CREATE on the schema, which a role that only inserts does not have."""
    name = table_sql_name(table)
    return (
        (
            "DO $golive$\n"
            "BEGIN\n"
            "  IF to_regclass(%s) IS NULL THEN\n"
            "    CREATE TABLE IF NOT EXISTS %s (\n"
            "      id bigserial PRIMARY KEY,\n"
            "      release_id text NOT NULL,\n"
            "      environment text NOT NULL,\n"
            "      decision text NOT NULL CONSTRAINT %s CHECK (decision IN (%s)),\n"
            "      phase text NOT NULL,\n"
            "      version text NOT NULL,\n"
            "      recorded_at timestamptz NOT NULL,\n"
            "      record jsonb NOT NULL,\n"
            "      UNIQUE (release_id, decision, phase)\n"
            "    );\n"
            "  END IF;\n"
            "END\n"
            "$golive$;\n"
            % (_pg.quote_literal(name), name, _pg.quote_ident(decision_check_name(table)), _decisions_sql())
        )
        + migrate_sql(table)
        + append_only_sql(table)
    )


def append_only_names(table):
    """``(function, row trigger, truncate trigger)``: the function in the table's schema (or,
    for a plain name, where the table is found), named after the table."""
    parts = table.split(".")
    function = _pg.quote_ident(_pg.fit_name(parts[-1], "_append_only"))
    if len(parts) == 2:
        function = "%s.%s" % (_pg.quote_ident(parts[0]), function)
    return function, "golive_append_only", "golive_no_truncate"


def append_only_sql(table):
    """A DO block that makes the table append-only, once: a function that raises, run by a row
    trigger BEFORE UPDATE OR DELETE and a statement trigger BEFORE TRUNCATE. Does nothing when
    both triggers are there; the table is locked and the catalog read again first. A role that
    does not own the table cannot add them: then a PostgreSQL WARNING says so and the insert
    goes on."""
    name = table_sql_name(table)
    function, row_trigger, truncate_trigger = append_only_names(table)
    has = "EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = rel AND t.tgname = %s)"
    both = "%s AND %s" % (has % _pg.quote_literal(row_trigger), has % _pg.quote_literal(truncate_trigger))
    message = (
        "release log table %s: % refused: the release log is append-only. Keep it that way: to "
        "retire old rows, a DBA copies them to an archive with a role that may disable trigger % "
        "(ALTER TABLE ... DISABLE TRIGGER), never by editing them here"
    )
    return (
        "DO $golive$\n"
        "DECLARE\n"
        "  rel regclass := to_regclass(%(literal)s);\n"
        "BEGIN\n"
        "  IF rel IS NULL OR (%(both)s) THEN\n"
        "    RETURN;\n"
        "  END IF;\n"
        "  BEGIN\n"
        "    LOCK TABLE %(name)s IN SHARE ROW EXCLUSIVE MODE;\n"
        "    IF %(both)s THEN\n"
        "      RETURN;\n"
        "    END IF;\n"
        "    CREATE OR REPLACE FUNCTION %(function)s() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        "    BEGIN\n"
        "      RAISE EXCEPTION %(message)s, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, TG_NAME\n"
        "        USING ERRCODE = 'insufficient_privilege';\n"
        "      RETURN NULL;\n"
        "    END\n"
        "    $fn$;\n"
        "    IF NOT %(has_row)s THEN\n"
        "      CREATE TRIGGER %(row_trigger)s BEFORE UPDATE OR DELETE ON %(name)s\n"
        "        FOR EACH ROW EXECUTE FUNCTION %(function)s();\n"
        "    END IF;\n"
        "    IF NOT %(has_truncate)s THEN\n"
        "      CREATE TRIGGER %(truncate_trigger)s BEFORE TRUNCATE ON %(name)s\n"
        "        FOR EACH STATEMENT EXECUTE FUNCTION %(function)s();\n"
        "    END IF;\n"
        "  EXCEPTION WHEN insufficient_privilege THEN\n"
        "    RAISE WARNING 'release log table %%: not append-only (no trigger against UPDATE, DELETE and "
        "TRUNCATE) and %%; its owner makes it append-only by recording once', rel, SQLERRM;\n"
        "  END;\n"
        "END\n"
        "$golive$;\n"
        % dict(
            literal=_pg.quote_literal(name),
            name=name,
            both=both,
            has_row=has % _pg.quote_literal(row_trigger),
            has_truncate=has % _pg.quote_literal(truncate_trigger),
            function=function,
            row_trigger=_pg.quote_ident(row_trigger),
            truncate_trigger=_pg.quote_ident(truncate_trigger),
            message=_pg.quote_literal(message),
        )
    )


def protected_sql(table):
    """Whether both append-only triggers are on the table and enabled, as JSON (null: no table)."""
    _function, row_trigger, truncate_trigger = append_only_names(table)
    return (
        "SELECT CASE WHEN to_regclass(%(literal)s) IS NULL THEN NULL ELSE to_json(\n"  # noqa: S608 - quoted by _pg
        "  (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = to_regclass(%(literal)s)\n"
        "     AND t.tgname IN (%(row)s, %(truncate)s) AND t.tgenabled <> 'D') = 2) END;\n"
        % dict(
            literal=_pg.quote_literal(table_sql_name(table)),
            row=_pg.quote_literal(row_trigger),
            truncate=_pg.quote_literal(truncate_trigger),
        )
    )


def migrate_sql(table):
    """A DO block that replaces a CHECK on decision lacking one of DECISIONS (a table created
    by an older version: ``CHECK (decision IN ('go', 'rollback', 'partial'))``, whatever the
    constraint's name) by the CHECK of today. Does nothing on an up-to-date table; the table is
    locked and the catalog read again before it is altered, so two runs at once do not collide.
    A role that does not own the table cannot alter it: then the old CHECK stays (a PostgreSQL
    WARNING says so), a record of an old decision still goes in and a new one is refused by it.
    """
    name = table_sql_name(table)
    # Each decision, quoted as pg_get_constraintdef shows it: 'go'::text.
    lacks = " OR ".join(
        "pg_get_constraintdef(c.oid) NOT LIKE %s" % _pg.quote_literal("%" + _pg.quote_literal(d) + "%")
        for d in DECISIONS
    )
    on_decision = (
        "SELECT c.conname FROM pg_constraint c\n"
        "    WHERE c.conrelid = rel AND c.contype = 'c' AND c.conkey = ARRAY[col]"
    )
    return (
        "DO $golive$\n"  # noqa: S608 - names and literals quoted by _pg, decisions are constants
        "DECLARE\n"
        "  rel regclass := to_regclass(%(literal)s);\n"
        "  col smallint;\n"
        "  stale name;\n"
        "BEGIN\n"
        "  SELECT a.attnum INTO col FROM pg_attribute a\n"
        "    WHERE a.attrelid = rel AND a.attname = 'decision' AND NOT a.attisdropped;\n"
        "  IF col IS NULL OR NOT EXISTS (%(on_decision)s AND (%(lacks)s)) THEN\n"
        "    RETURN;\n"
        "  END IF;\n"
        "  BEGIN\n"
        "    LOCK TABLE %(name)s IN ACCESS EXCLUSIVE MODE;\n"
        "    FOR stale IN %(on_decision)s AND (%(lacks)s) LOOP\n"
        "      EXECUTE format('ALTER TABLE %%s DROP CONSTRAINT %%I', rel, stale);\n"
        "    END LOOP;\n"
        "    IF NOT EXISTS (%(on_decision)s) THEN\n"
        "      ALTER TABLE %(name)s ADD CONSTRAINT %(check)s CHECK (decision IN (%(decisions)s));\n"
        "    END IF;\n"
        "  EXCEPTION WHEN insufficient_privilege THEN\n"
        "    RAISE WARNING 'release log table %%: the CHECK on decision lacks new decisions and %%; "
        "its owner can bring it up to date by recording once', rel, SQLERRM;\n"
        "  END;\n"
        "END\n"
        "$golive$;\n"
        % dict(
            literal=_pg.quote_literal(name),
            name=name,
            on_decision=on_decision,
            lacks=lacks,
            check=_pg.quote_ident(decision_check_name(table)),
            decisions=_decisions_sql(),
        )
    )


def insert_sql(table, rec, after_id=None):
    """Insert ``rec`` unless its key is there; prints the new row's id, or nothing.

    With ``after_id`` (the id of the last row of the record's environment that the chain was
    computed from, 0 for none), the insert takes an advisory lock and inserts only when that is
    still the environment's last row: another writer in between makes it print nothing."""
    name = table_sql_name(table)
    lock = guard = ""
    if after_id is not None:
        # Held until the transaction ends; DO prints nothing.
        lock = "DO $golive$BEGIN PERFORM pg_advisory_xact_lock(hashtext(%s)); END$golive$;\n" % _pg.quote_literal(
            "runbook.golive release log " + name
        )
        # Names quoted by _pg, after_id an int.
        guard = "WHERE coalesce((SELECT max(id) FROM %s AS o WHERE o.environment = r->>'environment'), 0)" % name  # noqa: S608
        guard += " = %d\n" % int(after_id)
    return lock + (
        "INSERT INTO %s (release_id, environment, decision, phase, version, recorded_at, record)\n"
        "SELECT r->>'release_id', r->>'environment', r->>'decision', r->>'phase', r->>'version',\n"
        "       (r->>'recorded_at')::timestamptz, r\n"
        "FROM (SELECT %s::jsonb AS r) AS given\n"
        "%s"
        "ON CONFLICT (release_id, decision, phase) DO NOTHING\n"
        "RETURNING id;\n" % (name, _pg.quote_literal(dumps(rec)), guard)
    )


def exists_sql(table):
    """Whether the table exists, as JSON true/false."""
    return "SELECT to_json(to_regclass(%s) IS NOT NULL);\n" % _pg.quote_literal(table_sql_name(table))


def find_sql(table, rec):
    """The logged record with ``rec``'s key, as JSON, or null."""
    release_id, decision, phase = key(rec)
    # Names and literals are quoted by _pg.
    return "SELECT record FROM %s WHERE release_id = %s AND decision = %s AND phase = %s;\n" % (  # noqa: S608
        table_sql_name(table),
        _pg.quote_literal(release_id),
        _pg.quote_literal(decision),
        _pg.quote_literal(phase),
    )


def all_sql(table):
    """Every row as ``{"id": ..., "environment": ..., "record": ...}``, oldest first, as one JSON array."""
    name = table_sql_name(table)  # quoted by _pg
    return (
        "SELECT coalesce(json_agg(json_build_object('id', id, 'environment', environment, 'record', record) "  # noqa: S608
        "ORDER BY id), '[]'::json) "
        "FROM %s;\n" % name
    )


def db_rows(conn, database, table):
    """Every row of the table (``{"id", "environment", "record"}``), oldest first; none when it does not
    exist yet."""
    if not conn.psql_json(database, exists_sql(table), "release log table %s: look it up" % table):
        return []
    return conn.psql_json(database, all_sql(table), "release log table %s: read it" % table) or []


def db_read(conn, database, table):
    """Every record in the table, oldest first; an empty log when it does not exist yet."""
    return [row["record"] for row in db_rows(conn, database, table)]


def table_entries(rows):
    """Entries (see file_entries) of table rows: the id and the sha256 of the record's canonical JSON."""
    return [
        dict(number=row["id"], rec=row["record"], sha256=record_sha256(row["record"]))
        for row in rows
        if isinstance(row.get("record"), dict)
    ]


def db_protected(conn, database, table):
    """Whether the table's append-only triggers are there and enabled; None without a table."""
    return conn.psql_json(database, protected_sql(table), "release log table %s: look at its triggers" % table)


def db_find(conn, database, table, rec):
    if not conn.psql_json(database, exists_sql(table), "release log table %s: look it up" % table):
        return None
    return conn.psql_json(database, find_sql(table, rec), "release log table %s: look up the record" % table)


def db_insert(conn, database, table, rec, after_id=None):
    """Create (or bring up to date) the table and insert ``rec``, in one transaction; whether a row
    was added (see insert_sql for ``after_id``)."""
    script = "BEGIN;\n" + create_sql(table) + insert_sql(table, rec, after_id) + "COMMIT;\n"
    out = conn.psql(database, script, "release log table %s: insert" % table)
    return bool(out.strip())


# -- what the module does ---------------------------------------------------


def _warn_bad(module, path, bad):
    if bad:
        module.warn(
            "release log %s: line%s %s %s not a JSON record and %s skipped"
            % (
                path,
                "s" if len(bad) > 1 else "",
                ", ".join("%d" % n for n in bad),
                "are" if len(bad) > 1 else "is",
                "were" if len(bad) > 1 else "was",
            )
        )


TABLE_TRIES = 5  # inserts into the table alone, when other writers keep appending in between


def run(module, connect=None):
    """Decide, then act unless in check mode; returns the module's result.

    ``connect()`` returns a context manager giving a ``_pg.Connection`` when
    O(database) is set.
    """
    state = module.params["state"]
    if state == "query":
        return _query(module, connect)
    if state == "verify":
        return _verify(module, connect)
    return _present(module, connect)


def _query(module, connect):
    p = module.params
    path, database, table = p["path"], p["database"], p["table"]
    if p["limit"] < 0:
        raise GoliveError("limit must not be negative, got %d" % p["limit"])
    records, bad = read_file(path) if path else ([], [])
    _warn_bad(module, path, bad)
    if not path:
        with connect() as conn:
            records = db_read(conn, database, table)
    return dict(
        changed=False,
        source="file" if path else "table",
        records=select(records, p["environment"], p["limit"]),
        current=current_versions(records),
        bad_lines=bad,
    )


def _verify(module, connect):
    p = module.params
    path, database, table, env = p["path"], p["database"], p["table"], p["environment"]

    def mine(entries):
        return [e for e in entries if env is None or e["rec"].get("environment") == env]

    file_copy, bad, table_copy, table_error, protected = None, [], None, None, None
    if path:
        entries, bad = read_file_entries(path)
        file_copy = Copy("file", path, mine(entries))
    if database:
        try:
            with connect() as conn:
                rows = db_rows(conn, database, table)
                protected = db_protected(conn, database, table) if rows else None
            table_copy = Copy("table", table, mine(table_entries(rows)))
        except (GoliveError, OSError) as err:
            if not path or p.get("table_required"):
                raise
            table_error = _without(p.get("password"), "%s" % err)
            module.warn("release log table %s: cannot read it, only the file was verified: %s" % (table, table_error))
    if protected is False:
        module.warn(
            "release log table %s is not append-only: its triggers golive_append_only and golive_no_truncate are "
            "missing or disabled; record once as the table's owner to add them" % table
        )
    result = verify(file_copy, table_copy, bad)
    result.update(
        changed=False,
        checked=[c.kind for c in (file_copy, table_copy) if c is not None],
        table_error=table_error,
        table_protected=protected,
        bad_lines=bad,
    )
    return result


def _find_entry(entries, rec):
    wanted = key(rec)
    for entry in entries:
        if key(entry["rec"]) == wanted:
            return entry
    return None


def _present(module, connect):
    p = module.params
    path, database = p["path"], p["database"]
    redacted = []
    rec = build(p, redacted=redacted)
    if redacted:
        module.warn(
            "release log record %s (%s, %s): what looked like a secret was replaced by %s in %s"
            % (rec["release_id"], rec["decision"], rec["phase"], REDACTED, ", ".join(redacted))
        )
    if not path:
        with connect() as conn:
            logged, written = _present_table_only(module, conn, rec)
        return _present_result(module, rec, logged, written, None, [], redacted)
    log = None if module.check_mode else LockedLog(path, int(p["mode"], 8))
    try:
        data = _read_bytes(path) if log is None else log.read()
        entries, bad = file_entries(data)
        _warn_bad(module, path, bad)
        found = _find_entry(entries, rec)
        logged = found["rec"] if found else None
        # The file first, always, before anything touches PostgreSQL: it is the
        # log that works when the database does not.
        written = dict(file=logged is None)
        if written["file"]:
            rec.update(chain_fields(entries, rec["environment"]))
            if log is not None:
                log.append(dumps(rec), data)
        table_error = None
        if database:
            # The file is still locked: the table gets records in the file's order.
            table_error = _present_table_copy(module, connect, rec, logged, written, bad, entries)
    finally:
        if log is not None:
            log.close()
    return _present_result(module, rec, logged, written, table_error, bad, redacted)


def _present_table_copy(module, connect, rec, logged, written, bad, entries=()):
    """Copy the file's record (``logged``, or the one just appended) into the table, best effort,
    after the file's earlier records the table lacks (written while it could not be reached), in
    the file's order, so the table's chain has no gap."""
    p = module.params
    path, database, table = p["path"], p["database"], p["table"]
    try:
        with connect() as conn:
            rows = db_rows(conn, database, table)
            have = set(key(row["record"]) for row in rows if isinstance(row.get("record"), dict))
            target = logged or rec
            # Exactly the file's records, so both copies chain alike.
            wanted = [entry["rec"] for entry in entries] + ([] if logged else [rec])
            missing = [one for one in wanted if key(one) not in have]
            written["table"] = key(target) not in have
            if missing and not module.check_mode:
                added = [one for one in missing if db_insert(conn, database, table, one)]
                written["table"] = any(key(one) == key(target) for one in added)
                earlier = [one for one in added if key(one) != key(target)]
                if earlier:
                    module.warn(
                        "release log table %s lacked %d earlier record(s) of file %s (written while the "
                        "table could not be reached): copied, in the file's order (%s)"
                        % (
                            table,
                            len(earlier),
                            path,
                            ", ".join("%s %s" % (one["release_id"], one["decision"]) for one in earlier),
                        )
                    )
    except (GoliveError, OSError) as err:
        # The copy in the database is best effort: the file holds the record.
        written["table"] = False
        table_error = _without(p.get("password"), "%s" % err)
        held = _file_holds(module.check_mode, written["file"], path)
        msg = "release log record %s (%s, %s) %s, but not in table %s: %s" % (
            rec["release_id"],
            rec["decision"],
            rec["phase"],
            held,
            table,
            table_error,
        )
        if p.get("table_required"):
            raise GoliveError(
                "%s; table_required is set, so the task fails: fix what the error names and run the task "
                "again (the file does not get the record twice)" % msg,
                changed=written["file"] and not module.check_mode,
                written=written,
                record=rec if written["file"] else logged,
                table_error=table_error,
                bad_lines=bad,
            )
        module.warn(msg)
        return table_error
    return None


def _present_table_only(module, conn, rec):
    """``(logged record or None, written)`` of a record kept in the table alone: chained to the
    table's last record of its environment, inserted only while that is still the last one."""
    p = module.params
    database, table = p["database"], p["table"]
    for _attempt in range(TABLE_TRIES):
        rows = db_rows(conn, database, table)
        entries = table_entries(rows)
        found = _find_entry(entries, rec)
        if found:
            return found["rec"], dict(table=False)
        rec.update(chain_fields(entries, rec["environment"]))
        if module.check_mode:
            return None, dict(table=True)
        # The environment column, as the insert's guard reads it (a row of an earlier version may
        # lack it in its record).
        last_id = max([row["id"] for row in rows if row.get("environment") == rec["environment"]] or [0])
        if db_insert(conn, database, table, rec, after_id=last_id):
            return None, dict(table=True)
    raise GoliveError(
        "release log table %s: other writers appended records of environment %s each time this one read the "
        "table (%d tries); run the task again" % (table, rec["environment"], TABLE_TRIES)
    )


def _present_result(module, rec, logged, written, table_error, bad, redacted):
    changed = any(written.values())
    result = dict(
        changed=changed,
        appended=changed,
        written=written,
        record=rec if changed else logged,
        table_error=table_error,
        redacted=redacted,
        bad_lines=bad,
    )
    if not changed:
        result["msg"] = "release %s (%s, %s) is already in the release log" % (
            rec["release_id"],
            rec["decision"],
            rec["phase"],
        )
    if module._diff and written.get("file"):
        path = module.params["path"]
        result["diff"] = dict(before="", after=dumps(rec) + "\n", before_header=path, after_header=path)
    return result


def _file_holds(check_mode, appended, path):
    if check_mode and appended:
        return "would be appended to %s" % path
    return "is in %s" % path


def _without(secret, text):
    """``text`` with ``secret`` masked (a tool may echo what it was given)."""
    if secret:
        text = text.replace(secret, "********")
    return text
