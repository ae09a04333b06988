# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: nginx config test, graceful reload and access-log counting. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import os
import re
import time
from collections import OrderedDict

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

MASTER = "nginx: master process"
WORKER = "nginx: worker process"
EXITING = "is shutting down"

# ------------------------------------------------------------ config, reload


def config_test(module, binary, config=None):
    """``nginx -t``: its own message; a GoliveError with it when the configuration is invalid."""
    argv = [binary, "-t"] + (["-c", config] if config else [])
    done = _run.run(module, argv, check=False)
    text = ((done.err or "") + (done.out or "")).strip()
    if not done.ok:
        raise GoliveError(
            "nginx -t: the configuration is invalid, nginx was not reloaded and still runs the previous one:\n%s\n"
            "Fix the configuration and run again." % _run.tail(text),
            config_test=text,
        )
    return text


def choose_method(module, method, service):
    if method != "auto":
        return method
    systemctl = _run.which(module, "systemctl", required=False)
    if systemctl and _run.run(module, [systemctl, "is-active", "--quiet", service], check=False).ok:
        return "systemd"
    return "signal"


def reload(module, method, binary, service, config=None):
    if method == "systemd":
        _run.run(module, [_run.which(module, "systemctl"), "reload", service], what="systemctl reload %s" % service)
    else:
        argv = [binary, "-s", "reload"] + (["-c", config] if config else [])
        _run.run(module, argv, what="nginx -s reload")


# --------------------------------------------------------------- processes


def scan_processes(proc="/proc"):
    """Every process as ``(pid, ppid, cmdline)``, from /proc; processes that exit meanwhile are skipped."""
    found = []
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        try:
            with open(os.path.join(proc, name, "stat"), "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
            with open(os.path.join(proc, name, "cmdline"), "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (IOError, OSError):
            continue
        # The command name in stat is in parentheses and may hold spaces: ppid follows the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) < 2:
            continue
        found.append((int(name), int(fields[1]), cmdline))
    return found


def find_master(processes, pid_file=None):
    """The master's pid: the pid file's when it names a live master, else the only master running."""
    masters = [pid for pid, _ppid, cmd in processes if cmd.startswith(MASTER)]
    if pid_file:
        try:
            with open(pid_file) as handle:
                pid = int(handle.read().strip())
            if pid in masters:
                return pid
        except (IOError, OSError, ValueError):
            pass
    if len(masters) == 1:
        return masters[0]
    if not masters:
        raise GoliveError(
            "nginx is not running (no 'nginx: master process' on the host); start it: this module reloads "
            "a running nginx"
        )
    raise GoliveError(
        "several nginx masters run (%s); give pid_file of the one to reload" % ", ".join("%d" % p for p in masters)
    )


def workers_of(processes, master):
    """``(active, exiting)`` worker pids of ``master``; exiting ones finish their requests, then go."""
    active, exiting = [], []
    for pid, ppid, cmd in processes:
        if ppid != master or not cmd.startswith(WORKER):
            continue
        (exiting if EXITING in cmd else active).append(pid)
    return sorted(active), sorted(exiting)


def new_generation(before, after):
    """Workers started by the reload (in ``after``, not in ``before``); empty means no new generation."""
    old = set(before)
    return sorted(pid for pid in after if pid not in old)


def wait_for_generation(master, before, timeout, poll=0.1, scan=None, sleep=None, clock=None):
    """Poll until ``master`` runs workers that were not in ``before``.

    Returns ``(active, exiting)``, None if no new worker came in time; a GoliveError if the master died.
    """
    scan = scan or scan_processes
    sleep = sleep or time.sleep
    clock = clock or time.time
    deadline = clock() + timeout
    while True:
        processes = scan()
        if not any(pid == master for pid, _ppid, _cmd in processes):
            raise GoliveError(
                "nginx master %d is gone after the reload: nginx is down; start it (systemctl start nginx) "
                "and read its error log" % master
            )
        active, exiting = workers_of(processes, master)
        if new_generation(before, active):
            # Workers are forked one after the other: one more look collects them all.
            sleep(poll)
            return workers_of(scan(), master)
        if clock() >= deadline:
            return None
        sleep(poll)


def tail_file(path, lines=10, limit=65536):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read().decode("utf-8", "replace")
    except (IOError, OSError) as err:
        return "(cannot read %s: %s)" % (path, err.strerror or err)
    return "\n".join(data.splitlines()[-lines:]) or "(empty)"


# --------------------------------------------------------------- access log

NAMED_FORMATS = {
    "combined": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"',
    "common": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
}
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_TIME_FIELDS = ("msec", "time_iso8601", "time_local")
_CAPTURED = ("status",) + _TIME_FIELDS
_FALLBACK_STATUS = re.compile(r'"[^"]*" (\d{3}) ')
_MONTHS = dict((m, i) for i, m in enumerate(calendar.month_abbr) if m)
_TIME_LOCAL = re.compile(r"^(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


class RegexFormat:
    """A line format given as an nginx ``log_format`` string."""

    def __init__(self, regex):
        self.regex = regex
        self.has_time = bool(set(_TIME_FIELDS) & set(regex.groupindex))

    def parse(self, line):
        """``(status, time text)``; status None when the line is not understood."""
        match = self.regex.match(line)
        if not match:
            loose = _FALLBACK_STATUS.search(line)
            return (int(loose.group(1)) if loose else None), None
        fields = match.groupdict()
        return int(fields["status"]), next((fields[f] for f in _TIME_FIELDS if fields.get(f)), None)


class JsonFormat:
    """One JSON object per line (nginx ``escape=json``): ``status`` and a time key."""

    has_time = True
    time_keys = ("time", "time_iso8601", "time_local", "msec", "timestamp", "@timestamp")

    def parse(self, line):
        try:
            record = json.loads(line)
            status = int(record["status"])
        except (ValueError, KeyError, TypeError):
            return None, None
        return status, next(("%s" % record[k] for k in self.time_keys if record.get(k) not in (None, "")), None)


def compile_log_format(fmt):
    """``json``, ``combined``, ``common`` or an nginx ``log_format`` string -> a line format.

    In a format string each variable matches up to the next literal character (quoted fields
    may hold spaces and escaped quotes); fields after the last variable (extra fields appended
    to a known format) are tolerated.
    """
    if fmt == "json":
        return JsonFormat()
    fmt = NAMED_FORMATS.get(fmt, fmt)
    parts = []
    pos = 0
    seen = set()
    matches = list(_VARIABLE.finditer(fmt))
    if not any((m.group(1) or m.group(2)) == "status" for m in matches):
        raise GoliveError("log_format %r has no $status; give the format the access log is written with" % fmt)
    for match in matches:
        parts.append(re.escape(fmt[pos : match.start()]))
        name = match.group(1) or match.group(2)
        following = fmt[match.end() : match.end() + 1]
        if name == "status":
            body = r"\d{3}"
        elif following == '"':
            body = r'(?:[^"\\]|\\.)*'
        elif following:
            body = "[^%s]*" % re.escape(following)
        else:
            body = r"\S*"
        if name in _CAPTURED and name not in seen:
            seen.add(name)
            parts.append("(?P<%s>%s)" % (name, body))
        else:
            parts.append("(?:%s)" % body)
        pos = match.end()
    parts.append(re.escape(fmt[pos:]))
    return RegexFormat(re.compile("^" + "".join(parts)))


def _offset_seconds(sign, hours, minutes):
    seconds = int(hours) * 3600 + int(minutes) * 60
    return -seconds if sign == "-" else seconds


def parse_time(value):
    """A time as nginx logs it (``$time_local``, ``$time_iso8601``, ``$msec``) or as a user gives
    it (ISO 8601, naive means UTC; epoch seconds) -> epoch seconds; None if not understood."""
    value = ("%s" % value).strip()
    try:
        return float(value)
    except ValueError:
        pass
    match = _TIME_LOCAL.match(value)
    if match:
        day, month, year, hh, mm, ss, sign, oh, om = match.groups()
        if month not in _MONTHS:
            return None
        utc = calendar.timegm((int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss)))
        return float(utc - _offset_seconds(sign, oh, om))
    match = _ISO.match(value)
    if match:
        year, month, day, hh, mm, ss, zone = match.groups()
        utc = calendar.timegm((int(year), int(month), int(day), int(hh), int(mm), int(ss or 0)))
        if zone and zone.upper() != "Z":
            zone = zone.replace(":", "")
            utc -= _offset_seconds(zone[0], zone[1:3], zone[3:5])
        return float(utc)
    return None


class AccessCount:
    """Counts per status class from one pass over an access log."""

    def __init__(self, samples):
        self.samples = samples
        self.classes = OrderedDict(("%dxx" % c, 0) for c in range(1, 6))
        self.statuses = {}
        self.lines = 0
        self.unparsed = 0
        self.before_since = 0
        self.excluded = 0
        self.sample_5xx = []

    def add(self, status, line):
        self.lines += 1
        key = "%dxx" % (status // 100)
        if key in self.classes:
            self.classes[key] += 1
        name = "%d" % status
        self.statuses[name] = self.statuses.get(name, 0) + 1
        if status >= 500 and len(self.sample_5xx) < self.samples:
            self.sample_5xx.append(line)


def count_lines(lines, line_format, since=None, samples=5, exclude=None):
    """Count statuses in ``lines`` (text, no newline) at or after epoch ``since``.

    Lines that ``exclude`` (a compiled pattern) finds anything in are left out of the counts.
    """
    count = AccessCount(samples)
    for line in lines:
        if exclude is not None and exclude.search(line):
            count.excluded += 1
            continue
        status, when = line_format.parse(line)
        if status is None:
            count.unparsed += 1
            continue
        if since is not None:
            when = parse_time(when) if when else None
            if when is None:
                count.unparsed += 1
                continue
            if when < since:
                count.before_since += 1
                continue
        count.add(status, line)
    return count


def read_new_lines(path, since_offset=0):
    """Complete lines of ``path`` from byte ``since_offset``.

    Returns ``(lines, start, end, rotated, size)``: ``end`` is just after the last complete line,
    so a line being written is read next time; a file shorter than the offset was rotated or
    truncated and is read from the start.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = since_offset or 0
            if start < 0:
                start = _end_of_last_line(handle, size)
            rotated = start > size
            if rotated:
                start = 0
            handle.seek(start)
            data = handle.read()
    except (IOError, OSError) as err:
        raise GoliveError("cannot read access log %s: %s; check access_log" % (path, err.strerror or err))
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.decode("utf-8", "replace").splitlines()
    return lines, start, start + len(complete), rotated, size


def _end_of_last_line(handle, size, limit=65536):
    handle.seek(max(0, size - limit))
    data = handle.read()
    return size - len(data) + data.rfind(b"\n") + 1


def compile_exclude(pattern):
    """The ``exclude`` option as a compiled pattern (None when empty); a clear error when invalid."""
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise GoliveError(
            "exclude %r is not a valid regular expression (%s); give a Python regular expression, "
            'for example "maintenance":"1" for the maintenance page\'s 503 answers' % (pattern, err)
        )


def count_access(path, log_format="combined", since_offset=None, since_time=None, samples=5, exclude=None):
    line_format = compile_log_format(log_format)
    exclude = compile_exclude(exclude)
    since = None
    if since_time is not None:
        since = parse_time(since_time)
        if since is None:
            raise GoliveError(
                "since_time %r is not a time; give ISO 8601 (2026-11-22T06:00:00Z) or epoch seconds" % since_time
            )
        if not line_format.has_time:
            raise GoliveError("log_format has no $time_local, $time_iso8601 or $msec; count with since_offset instead")
    lines, start, end, rotated, size = read_new_lines(path, since_offset)
    count = count_lines(lines, line_format, since, samples, exclude)
    return dict(
        path=path,
        start_offset=start,
        end_offset=end,
        size=size,
        rotated=rotated,
        lines=count.lines,
        counts=dict(count.classes),
        statuses=count.statuses,
        unparsed=count.unparsed,
        before_since_time=count.before_since,
        excluded=count.excluded,
        samples_5xx=count.sample_5xx,
    )


# ------------------------------------------------------------------ the run


def run(module, params, check_mode):
    """Config test, reload and access-log count as the module's options ask. Returns the result."""
    result = dict(changed=False, reloaded=False, method=None, config_test=None)
    if params["reload"]:
        binary = params["binary"] or _run.which(module, "nginx")
        result["config_test"] = config_test(module, binary, params["config"])
        master = find_master(scan_processes(), params["pid_file"])
        before, exiting = workers_of(scan_processes(), master)
        result.update(
            master_pid=master, workers_before=before, workers_after=before, workers_new=[], workers_exiting=exiting
        )
        result["method"] = choose_method(module, params["method"], params["service"])
        result["changed"] = True
        if not check_mode:
            reload(module, result["method"], binary, params["service"], params["config"])
            seen = wait_for_generation(master, before, params["reload_timeout"])
            if seen is None:
                raise GoliveError(
                    "nginx master %d started no new workers within %ss of the reload: nginx kept the previous "
                    "configuration (the reload failed at run time, for example a certificate it cannot read or a "
                    "port it cannot bind). Last lines of %s:\n%s"
                    % (master, params["reload_timeout"], params["error_log"], tail_file(params["error_log"])),
                    **result,
                )
            result.update(reloaded=True, workers_after=seen[0], workers_exiting=seen[1])
            result["workers_new"] = new_generation(before, seen[0])
    if params["access_log"]:
        access = count_access(
            params["access_log"],
            params["log_format"],
            params["since_offset"],
            params["since_time"],
            params["samples"],
            params["exclude"],
        )
        result["access"] = access
        limit = params["max_5xx"]
        if limit is not None and access["counts"]["5xx"] > limit:
            raise GoliveError(
                "access log %s: %d 5xx answers in %d lines since offset %d (at most %d allowed); first ones:\n%s"
                % (
                    access["path"],
                    access["counts"]["5xx"],
                    access["lines"],
                    access["start_offset"],
                    limit,
                    "\n".join(access["samples_5xx"]),
                ),
                **result,
            )
    return result
