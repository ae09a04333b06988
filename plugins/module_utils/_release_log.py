# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the audit release log, its records and their rules. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import json
import os
import re

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
_SECRET_VALUES = (
    # a URL with a password in it: postgresql://app:s3cret@db/app
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    # password=..., token=... as in a DSN or a query string
    re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key|access[_-]?key)=[^\s&;]+"),
    # "password": "..." in JSON text
    re.compile(r'(?i)"(password|passwd|secret|token|api[_-]?key|access[_-]?key)"\s*:\s*"[^"]+'),
)
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
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


def clean(value, where):
    """``value`` without Ansible's bookkeeping keys; GoliveError on anything secret."""
    if isinstance(value, dict):
        out = {}
        for key in sorted(value, key=lambda k: "%s" % k):
            if key in DROPPED_KEYS or ("%s" % key).startswith("_ansible"):
                continue
            path = "%s.%s" % (where, key)
            if looks_secret(key):
                raise GoliveError(
                    "release log record: %s looks like a secret (its name says password, token, key, "
                    "secret...); a release log never holds secrets: remove it or give it a name that "
                    "does not look secret" % path
                )
            out["%s" % key] = clean(value[key], path)
        return out
    if isinstance(value, (list, tuple)):
        return [clean(item, "%s.%d" % (where, i)) for i, item in enumerate(value)]
    if isinstance(value, string_types):
        for pattern in _SECRET_VALUES:
            if pattern.search(value):
                raise GoliveError(
                    "release log record: %s holds what looks like a secret (a password in a URL, "
                    "password=..., token=...); a release log never holds secrets: remove it" % where
                )
        return value
    if value is None or isinstance(value, (bool, int, float)):
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


def build(params, now=None):
    """The record to write, from the module's parameters; GoliveError when invalid."""
    rec = {"schema": SCHEMA}
    for name in TEXT_FIELDS:
        value = params.get(name)
        if value is not None and "%s" % value != "":
            value = "%s" % value
            if "\n" in value and name != "notes":
                raise GoliveError("release log record: %s must be one line, got %r" % (name, value))
            rec[name] = clean(value, name)
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
        for name, given in clean(phases, "phases").items():
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
            rec[name] = clean(params[name], name)
    hosts = params.get("hosts")
    if hosts:
        rec["hosts"] = clean(["%s" % h for h in hosts], "hosts")
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


def read_file(path):
    """``(records, bad_line_numbers)``; a missing file is an empty log."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except IOError as err:
        if err.errno == errno.ENOENT:
            return [], []
        raise GoliveError("release log %s: cannot read it: %s" % (path, err.strerror))
    return parse_lines(text)


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


def append_file(path, rec, mode):
    """Append ``rec`` durably, keeping the file's mode at ``mode``."""
    ensure_dir(path)
    _io.append_line(path, dumps(rec), mode)
    try:
        if (os.stat(path).st_mode & 0o7777) != mode:
            os.chmod(path, mode)
    except OSError as err:
        raise GoliveError("release log %s: cannot set its mode: %s" % (path, err.strerror))


# -- the PostgreSQL table ---------------------------------------------------

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


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
    """Create the table if missing, then bring an older table's CHECK on decision up to date."""
    name = table_sql_name(table)
    return (
        "CREATE TABLE IF NOT EXISTS %s (\n"
        "  id bigserial PRIMARY KEY,\n"
        "  release_id text NOT NULL,\n"
        "  environment text NOT NULL,\n"
        "  decision text NOT NULL CONSTRAINT %s CHECK (decision IN (%s)),\n"
        "  phase text NOT NULL,\n"
        "  version text NOT NULL,\n"
        "  recorded_at timestamptz NOT NULL,\n"
        "  record jsonb NOT NULL,\n"
        "  UNIQUE (release_id, decision, phase)\n"
        ");\n" % (name, _pg.quote_ident(decision_check_name(table)), _decisions_sql())
    ) + migrate_sql(table)


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


def insert_sql(table, rec):
    """Insert ``rec`` unless its key is there; prints the new row's id, or nothing."""
    return (
        "INSERT INTO %s (release_id, environment, decision, phase, version, recorded_at, record)\n"
        "SELECT r->>'release_id', r->>'environment', r->>'decision', r->>'phase', r->>'version',\n"
        "       (r->>'recorded_at')::timestamptz, r\n"
        "FROM (SELECT %s::jsonb AS r) AS given\n"
        "ON CONFLICT (release_id, decision, phase) DO NOTHING\n"
        "RETURNING id;\n" % (table_sql_name(table), _pg.quote_literal(dumps(rec)))
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
    """Every record, oldest first, as one JSON array."""
    name = table_sql_name(table)  # quoted by _pg
    return "SELECT coalesce(json_agg(record ORDER BY id), '[]'::json) FROM %s;\n" % name  # noqa: S608


def db_read(conn, database, table):
    """Every record in the table, oldest first; an empty log when it does not exist yet."""
    if not conn.psql_json(database, exists_sql(table), "release log table %s: look it up" % table):
        return []
    return conn.psql_json(database, all_sql(table), "release log table %s: read it" % table) or []


def db_find(conn, database, table, rec):
    if not conn.psql_json(database, exists_sql(table), "release log table %s: look it up" % table):
        return None
    return conn.psql_json(database, find_sql(table, rec), "release log table %s: look up the record" % table)


def db_insert(conn, database, table, rec):
    """Create (or bring up to date) the table and insert ``rec``, in one transaction; whether a row was added."""
    script = "BEGIN;\n" + create_sql(table) + insert_sql(table, rec) + "COMMIT;\n"
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


def run(module, connect=None):
    """Decide, then act unless in check mode; returns the module's result.

    ``connect()`` returns a context manager giving a ``_pg.Connection`` when
    O(database) is set.
    """
    p = module.params
    path, database, table = p["path"], p["database"], p["table"]
    records, bad = read_file(path) if path else ([], [])
    _warn_bad(module, path, bad)
    if p["state"] == "query":
        if p["limit"] < 0:
            raise GoliveError("limit must not be negative, got %d" % p["limit"])
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
    rec = build(p)
    logged = find(records, rec) if path else None
    written = {}
    if path:
        # The file first, always, before anything touches PostgreSQL: it is the
        # log that works when the database does not.
        written["file"] = logged is None
        if written["file"] and not module.check_mode:
            append_file(path, rec, int(p["mode"], 8))
    table_error = None
    if database:
        try:
            with connect() as conn:
                in_db = db_find(conn, database, table, rec)
                logged = logged or in_db
                written["table"] = in_db is None
                if written["table"] and not module.check_mode:
                    written["table"] = db_insert(conn, database, table, rec)
        except (GoliveError, OSError) as err:
            if not path:
                raise
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
    changed = any(written.values())
    result = dict(
        changed=changed,
        appended=changed,
        written=written,
        record=rec if changed else logged,
        table_error=table_error,
        bad_lines=bad,
    )
    if not changed:
        result["msg"] = "release %s (%s, %s) is already in the release log" % (
            rec["release_id"],
            rec["decision"],
            rec["phase"],
        )
    if module._diff and written.get("file"):
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
