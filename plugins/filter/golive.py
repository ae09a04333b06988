# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters the golive roles decide with: inputs, change window, database fingerprint diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.module_utils._pg_fingerprint import object_differences
from ansible_collections.runbook.golive.plugins.module_utils._smoke_command import problems as smoke_command_problems

# A tag git accepts and a release directory name can hold: no "..", no leading "-" or ".".
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
VERSION_MAX = 100
OWNER_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*\Z")
_CLOCK = re.compile(r"^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2}) ([1-7])\Z")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})\Z")
# What a name of each kind may hold: letters, digits and a few separators, so that a
# shell, SQL, PromQL or systemd fragment given where a name is expected is refused.
_NAMES = {
    "label": (re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z"), "letters, digits and . _ - (at most 63, e.g. prod)"),
    "unix_user": (re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z"), "a system user or group name (e.g. myapp)"),
    "unit": (
        re.compile(r"^[A-Za-z0-9_.@:-]{1,240}\.(service|socket|target|timer)\Z"),
        "a systemd unit name ending in .service, .socket, .target or .timer (e.g. myapp.service)",
    ),
    "sql_name": (
        re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z"),
        "a PostgreSQL name of letters, digits and _ (e.g. myapp)",
    ),
    "sql_table": (
        re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}\Z"),
        "a table name, optionally schema.table, of letters, digits and _",
    ),
}
DAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}


def _minutes(text, what):
    match = _HHMM.match(("%s" % text).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise AnsibleFilterError("%s must be HH:MM (24-hour clock), got %r" % (what, text))
    return int(match.group(1)) * 60 + int(match.group(2))


def _version_problem(name, value):
    text = "%s" % (value,)
    if not text:
        return "%s is empty: say which release, e.g. -e %s=v1.4.2" % (name, name)
    if len(text) > VERSION_MAX:
        return "%s is %d characters long; a release tag has at most %d" % (name, len(text), VERSION_MAX)
    if not _VERSION.match(text) or ".." in text or text.endswith((".", ".lock")):
        return (
            "%s %r is not a release tag: use letters, digits and . _ + - only, starting with a letter or digit, "
            "without '..'" % (name, text)
        )
    return None


def input_problems(inputs):
    """Every problem with a run's inputs, one sentence each; empty when all are fine.

    ``inputs`` holds ``versions`` (name -> tag), ``owner``, ``urls`` (name -> URL or ""),
    ``paths`` (name -> path), ``relative_paths`` (name -> list of paths inside the release),
    ``numbers`` (name -> [value, minimum]), ``names`` (name -> [value or list of values, kind],
    kind one of label, unix_user, unit, sql_name, sql_table), ``smoke_commands`` ([the verify
    role's verify_smoke_commands, the inventory's host names]).
    """
    if not isinstance(inputs, dict):
        raise AnsibleFilterError("input_problems takes a dict of the run's inputs")
    problems = []
    for name, value in sorted((inputs.get("versions") or {}).items()):
        problem = _version_problem(name, value)
        if problem:
            problems.append(problem)
    if "owner" in inputs:
        owner = "%s" % (inputs["owner"],)
        if not owner.strip():
            problems.append("golive_owner is empty: set GOLIVE_OWNER or -e golive_owner=<name>")
        elif _CONTROL.search(owner) or len(owner) > OWNER_MAX:
            problems.append(
                "golive_owner %r has control characters or more than %d characters: give a plain name"
                % (owner[:OWNER_MAX], OWNER_MAX)
            )
    for name, value in sorted((inputs.get("urls") or {}).items()):
        if value and not _URL.match("%s" % value):
            problems.append("%s must be an http:// or https:// URL without spaces" % name)
    for name, value in sorted((inputs.get("paths") or {}).items()):
        text = "%s" % (value,)
        parts = text[1:].split("/")
        if (
            not text.startswith("/")
            or (text != "/" and any(p in ("", ".", "..") for p in parts))
            or _CONTROL.search(text)
        ):
            problems.append("%s %r must be an absolute path without '.', '..', '//' or a trailing '/'" % (name, text))
    for name, value in sorted((inputs.get("relative_paths") or {}).items()):
        for item in value or []:
            text = "%s" % (item,)
            parts = text.split("/")
            if (
                not text
                or text.startswith("/")
                or _CONTROL.search(text)
                or any(part in ("", ".", "..") for part in parts)
            ):
                problems.append(
                    "%s holds %r: each must be a path inside the release, relative, without '.', '..' or an "
                    "empty part (for example logs or var/uploads)" % (name, text)
                )
    for name, spec in sorted((inputs.get("names") or {}).items()):
        value, kind = spec
        pattern, meaning = _NAMES[kind]
        for item in value if isinstance(value, list) else [value]:
            text = "%s" % (item,)
            if not pattern.match(text):
                problems.append("%s holds %r, which is not %s" % (name, text[:80], meaning))
    if "smoke_commands" in inputs:
        commands, hosts = inputs["smoke_commands"]
        problems.extend(smoke_command_problems(commands, hosts))
    for name, spec in sorted((inputs.get("numbers") or {}).items()):
        value, minimum = spec
        try:
            number = int("%s" % value)
        except ValueError:
            problems.append("%s must be a whole number, got %r" % (name, value))
            continue
        if number < int(minimum):
            problems.append("%s must be at least %s, got %s" % (name, minimum, number))
    return problems


def change_window(clock, start="", end="", freeze_days=None, freeze_from_hour=0):
    """Whether a go-live may start now: inside the window and outside the freeze."""
    match = _CLOCK.match(("%s" % clock).strip())
    if not match:
        raise AnsibleFilterError(
            "change_window expects 'YYYY-mm-ddTHH:MM D' (date +'%%Y-%%m-%%dT%%H:%%M %%u'), got %r" % clock
        )
    now = int(match.group(1)) * 60 + int(match.group(2))
    day = int(match.group(3))
    freeze_days = [int(d) for d in (freeze_days or [])]
    if any(d < 1 or d > 7 for d in freeze_days):
        raise AnsibleFilterError("freeze_days are weekday numbers 1 (Monday) to 7 (Sunday), got %s" % freeze_days)
    hour = int(freeze_from_hour or 0)
    if freeze_days and day in freeze_days:
        first = freeze_days[0]
        if day != first or now >= hour * 60:
            since = "%s %02d:00" % (DAYS[first], hour)
            return dict(
                allowed=False,
                reason="it is %s %s, inside the change freeze (from %s)" % (DAYS[day], clock[11:16], since),
            )
    if start or end:
        if not (start and end):
            raise AnsibleFilterError("give both the window start and end (HH:MM), or neither")
        lo, hi = _minutes(start, "window start"), _minutes(end, "window end")
        inside = lo <= now < hi if lo <= hi else (now >= lo or now < hi)
        if not inside:
            return dict(allowed=False, reason="it is %s, outside the change window %s-%s" % (clock[11:16], start, end))
    return dict(allowed=True, reason="inside the change window")


def fingerprint_diff(before, after, rows=True):
    """Differences between two pg_fingerprint results, one sentence each."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        raise AnsibleFilterError("fingerprint_diff compares two pg_fingerprint results (dicts)")
    diffs = object_differences(before.get("objects", {}), after.get("objects", {}))
    if rows:
        old_rows, new_rows = before.get("row_counts", {}), after.get("row_counts", {})
        for table in sorted(set(old_rows) & set(new_rows)):
            if old_rows[table] != new_rows[table]:
                diffs.append("table %s has %s rows, had %s" % (table, new_rows[table], old_rows[table]))
    return diffs


def releases_to_prune(paths, keep, protect=None):
    """The release directories to remove: all but the newest ``keep`` (at least 2), never one
    named in ``protect`` (the live release, the rollback target: a release id or its path).
    Release ids begin with their UTC time, so sorted by name is sorted by age. Names are compared
    as they are, never as patterns: ``v1.0.0+build`` protects that release and no other."""
    try:
        keep = max(int(keep), 2)
    except (TypeError, ValueError):
        raise AnsibleFilterError("releases_to_prune: keep must be a whole number, got %r" % (keep,))
    protected = set(_release_name(p) for p in (protect or []) if p and _release_name(p))
    ordered = sorted("%s" % p for p in (paths or []))
    return [p for p in ordered[: max(len(ordered) - keep, 0)] if _release_name(p) not in protected]


def _release_name(path):
    """The release id a release directory is named after: ``/srv/app/releases/<id>/`` -> ``<id>``."""
    return ("%s" % path).rstrip("/").rsplit("/", 1)[-1]


def run_summary(journal):
    """One line on a run journal for the operator: which run, whose, where it stopped, and
    what each host serves (``v1.1.0 (release r1) by alice, started ..., phase rollout,
    journal updated ...; app1 serves v1.1.0, app2 serves v1.0.0``)."""
    if not isinstance(journal, dict):
        raise AnsibleFilterError("run_summary takes a run journal (a dict, as runbook.golive.run_journal returns it)")
    hosts = journal.get("hosts") if isinstance(journal.get("hosts"), dict) else {}
    serving = ", ".join(
        "%s serves %s" % (host, (entry.get("serving") if isinstance(entry, dict) else None) or "?")
        for host, entry in sorted(hosts.items())
    )
    return "%s (release %s) by %s, started %s, phase %s, journal updated %s; %s" % (
        journal.get("version") or "?",
        journal.get("release_id") or "?",
        journal.get("owner") or "?",
        journal.get("started") or "?",
        journal.get("phase") or "?",
        journal.get("updated") or journal.get("started") or "?",
        serving or "no host recorded",
    )


def _listed(items, limit=5):
    items = ["%s" % i for i in (items or [])]
    more = len(items) - limit
    return "; ".join(items[:limit]) + (" and %d more" % more if more > 0 else "")


def _db_rollback(db):
    if not isinstance(db, dict):
        raise AnsibleFilterError("takes what the rollback did to the database (a dict, __golive_db_rollback)")
    return db


def database_rollback_problem(db, restore_command=""):
    """Why the database is not as it was after a rollback, for the operator, or '' when it is."""
    db = _db_rollback(db)
    remaining = db.get("remaining") or []
    if db.get("decision") == "stop":
        return (
            "The database was not restored: a restore of %s would discard %s rows written since the backup "
            "(%s), more than rollback_max_lost_rows=%s. It is left as the go-live left it (%d differences: %s)."
            " To restore anyway, discarding those rows: %s"
            % (
                db.get("backup") or "the backup",
                db.get("rows_differing"),
                _listed(db.get("tables_differing")),
                db.get("max_lost_rows"),
                len(remaining),
                _listed(remaining),
                restore_command or "runbook.golive.pg_restore of that backup",
            )
        )
    if remaining:
        return (
            "The database is not as it was before the go-live (%d differences: %s). Repair the schema by hand, "
            "or restore %s with runbook.golive.pg_restore."
            % (len(remaining), _listed(remaining), db.get("backup") or "the backup")
        )
    return ""


def database_rollback_summary(db):
    """One sentence on what a rollback did to the database and why, or '' when it did nothing."""
    db = _db_rollback(db)
    decision = db.get("decision")
    why = _listed(db.get("differences"), 3)
    if decision == "stop":
        return database_rollback_problem(db)
    if decision == "restore":
        lost = ""
        if db.get("rows_differing") is not None:
            lost = "; %s rows differed from the backup%s" % (
                db["rows_differing"],
                " (%s)" % _listed(db.get("tables_differing"), 3) if db.get("tables_differing") else "",
            )
        return "The database was restored from %s%s%s%s." % (
            db.get("backup") or "the backup",
            " because %s" % why if why else "",
            "; as the go-live left it, it is kept as %s" % db["previous_data_in"] if db.get("previous_data_in") else "",
            lost,
        )
    if decision == "undo":
        undone = db.get("undone") or []
        return (
            "The database was %sreturned in place: %s the release added %s dropped (%s); "
            "nothing was restored, no row users wrote was lost."
            % (
                "migrated back and " if db.get("downgraded") in (True, "True", "true") else "",
                "the object" if len(undone) == 1 else "the %d objects" % len(undone),
                "was" if len(undone) == 1 else "were",
                _listed(undone),
            )
        )
    if decision == "downgrade":
        return "The database was migrated back."
    return ""


def phase_durations(marks, end):
    """Seconds each phase took, from the moments they started and the end of the run."""
    if not isinstance(marks, dict):
        raise AnsibleFilterError("phase_durations takes a dict of phase -> start time in epoch seconds")
    try:
        order = sorted(((float(t), name) for name, t in marks.items()))
        end = float(end)
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError("phase_durations: start times must be epoch seconds (%s)" % err)
    bounds = [t for t, _name in order[1:]] + [end]
    return dict((name, round(max(0.0, stop - start), 1)) for (start, name), stop in zip(order, bounds))


class FilterModule:
    def filters(self):
        return {
            "change_window": change_window,
            "database_rollback_problem": database_rollback_problem,
            "database_rollback_summary": database_rollback_summary,
            "input_problems": input_problems,
            "fingerprint_diff": fingerprint_diff,
            "phase_durations": phase_durations,
            "releases_to_prune": releases_to_prune,
            "run_summary": run_summary,
        }
