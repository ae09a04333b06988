# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _nginx
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

MASTER = "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"
BEFORE = [
    (1, 0, "/sbin/init"),
    (100, 1, MASTER),
    (101, 100, "nginx: worker process"),
    (102, 100, "nginx: worker process"),
    (103, 100, "nginx: cache manager process"),
    (200, 1, "/usr/bin/gunicorn wsgi:app"),
    (201, 200, "nginx: worker process"),  # not ours: another parent
]
AFTER = [
    (1, 0, "/sbin/init"),
    (100, 1, MASTER),
    (101, 100, "nginx: worker process is shutting down"),
    (150, 100, "nginx: worker process"),
    (151, 100, "nginx: worker process"),
]


def test_workers_and_generations():
    assert _nginx.find_master(BEFORE) == 100
    assert _nginx.workers_of(BEFORE, 100) == ([101, 102], [])
    active, exiting = _nginx.workers_of(AFTER, 100)
    assert (active, exiting) == ([150, 151], [101])
    assert _nginx.new_generation([101, 102], active) == [150, 151]
    assert _nginx.new_generation([101, 102], [101, 102]) == []


def test_master_from_pid_file_or_refusal(tmp_path):
    two = BEFORE + [(300, 1, MASTER)]
    pid_file = tmp_path / "nginx.pid"
    pid_file.write_text("300\n")
    assert _nginx.find_master(two, str(pid_file)) == 300
    with pytest.raises(GoliveError, match="several nginx masters run"):
        _nginx.find_master(two, str(tmp_path / "missing.pid"))
    with pytest.raises(GoliveError, match="nginx is not running"):
        _nginx.find_master([(1, 0, "/sbin/init")])


def test_scan_processes_reads_proc(tmp_path):
    for pid, ppid, comm, cmdline in [(7, 1, "nginx", b"nginx: worker process\0"), (8, 1, "a) b", b"x\0y\0")]:
        d = tmp_path / str(pid)
        d.mkdir()
        (d / "stat").write_text("%d (%s) S %d 7 7 0 -1" % (pid, comm, ppid))
        (d / "cmdline").write_bytes(cmdline)
    (tmp_path / "self").mkdir()
    assert sorted(_nginx.scan_processes(str(tmp_path))) == [(7, 1, "nginx: worker process"), (8, 1, "x y")]


class Clock:
    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_sees_new_generation():
    feed = [BEFORE, BEFORE, AFTER, AFTER]
    clock = Clock()
    seen = _nginx.wait_for_generation(100, [101, 102], 5, scan=lambda: feed.pop(0), sleep=clock.sleep, clock=clock.time)
    assert seen == ([150, 151], [101])


def test_wait_gives_up_without_new_workers():
    clock = Clock()
    seen = _nginx.wait_for_generation(100, [101, 102], 1, scan=lambda: BEFORE, sleep=clock.sleep, clock=clock.time)
    assert seen is None and clock.now >= 1


def test_wait_notices_dead_master():
    with pytest.raises(GoliveError, match="nginx master 100 is gone"):
        _nginx.wait_for_generation(100, [101], 1, scan=lambda: [(1, 0, "/sbin/init")], sleep=lambda s: None)


COMBINED = [
    '127.0.0.1 - - [22/Nov/2026:06:00:00 +0000] "GET /health HTTP/1.1" 200 45 "-" "curl/7.88.1"',
    '127.0.0.1 - - [22/Nov/2026:07:00:01 +0100] "GET /nope HTTP/1.1" 404 153 "-" "Mozilla/5.0 (X11; Linux)"',
    '10.0.0.9 - alice [22/Nov/2026:06:00:02 +0000] "POST /items HTTP/1.1" 502 157 "http://x/" "curl/7.88.1" "1.2.3.4"',
    '127.0.0.1 - - [22/Nov/2026:06:00:03 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"',
    "garbage line",
]


def test_combined_counts_and_samples():
    regex = _nginx.compile_log_format("combined")
    count = _nginx.count_lines(COMBINED, regex, samples=1)
    assert dict(count.classes) == {"1xx": 0, "2xx": 1, "3xx": 0, "4xx": 2, "5xx": 1}
    assert count.statuses == {"200": 1, "404": 1, "502": 1, "400": 1}
    assert count.unparsed == 1 and count.lines == 4
    assert count.sample_5xx == [COMBINED[2]]


def test_time_filter_uses_the_zone():
    regex = _nginx.compile_log_format("combined")
    # 07:00:01 +0100 is 06:00:01Z: at/after the cut-off; 06:00:00Z is before it.
    count = _nginx.count_lines(COMBINED, regex, since=_nginx.parse_time("2026-11-22T06:00:01Z"))
    assert count.before_since == 1 and count.statuses == {"404": 1, "502": 1, "400": 1}


CUSTOM = '$time_iso8601 $remote_addr "$request" $status $request_time "$http_user_agent"'


def test_custom_format():
    regex = _nginx.compile_log_format(CUSTOM)
    lines = [
        '2026-11-22T06:00:00+00:00 127.0.0.1 "GET / HTTP/1.1" 503 0.001 "curl 8"',
        '2026-11-22T06:05:00+00:00 127.0.0.1 "GET /a b HTTP/1.1" 301 0.002 "-"',
    ]
    count = _nginx.count_lines(lines, regex, since=_nginx.parse_time("2026-11-22T06:01:00"))
    assert count.statuses == {"301": 1} and count.before_since == 1


def test_quoted_fields_may_hold_escaped_quotes():
    fmt = _nginx.compile_log_format('"$request" "$http_user_agent" $status')
    assert fmt.parse('"GET /a\\x22b HTTP/1.1" "say \\"hi\\" 1.0" 418') == (418, None)


JSON_LINES = [
    '{"time":"2026-11-22T06:26:30+00:00","uri":"/health","status":200,"request_time":0.003}',
    '{"time":"2026-11-22T06:26:31+00:00","uri":"/nope \\"x\\"","status":404}',
    '{"time":"2026-11-22T06:26:32+00:00","uri":"/items","status":"503"}',
    '{"uri":"/no-status"}',
    "not json",
]


def test_json_lines():
    fmt = _nginx.compile_log_format("json")
    count = _nginx.count_lines(JSON_LINES, fmt)
    assert count.statuses == {"200": 1, "404": 1, "503": 1} and count.unparsed == 2
    count = _nginx.count_lines(JSON_LINES, fmt, since=_nginx.parse_time("2026-11-22T06:26:31Z"))
    assert count.statuses == {"404": 1, "503": 1} and count.before_since == 1
    assert count.sample_5xx == [JSON_LINES[2]]


def test_format_without_status_is_refused():
    with pytest.raises(GoliveError, match=r"has no \$status"):
        _nginx.compile_log_format("$remote_addr $request")


@pytest.mark.parametrize(
    "value, epoch",
    [
        ("22/Nov/2026:06:00:00 +0000", 1795327200.0),
        ("22/Nov/2026:07:00:00 +0100", 1795327200.0),
        ("2026-11-22T06:00:00Z", 1795327200.0),
        ("2026-11-22T08:00:00+02:00", 1795327200.0),
        ("2026-11-22 06:00", 1795327200.0),
        ("1795327200.5", 1795327200.5),
        ("yesterday", None),
    ],
)
def test_parse_time(value, epoch):
    assert _nginx.parse_time(value) == epoch


def write_log(tmp_path, text):
    path = tmp_path / "access.log"
    path.write_bytes(text.encode())
    return str(path)


def test_offsets_continue_and_skip_partial_line(tmp_path):
    first = COMBINED[0] + "\n"
    path = write_log(tmp_path, first + COMBINED[1] + "\n" + COMBINED[2][:20])
    one = _nginx.count_access(path, since_offset=len(first))
    assert one["lines"] == 1 and one["statuses"] == {"404": 1}
    assert one["end_offset"] == len(first) + len(COMBINED[1]) + 1 and one["end_offset"] < one["size"]
    with open(path, "a") as handle:
        handle.write(COMBINED[2][20:] + "\n")
    two = _nginx.count_access(path, since_offset=one["end_offset"])
    assert two["statuses"] == {"502": 1} and two["end_offset"] == two["size"]


def test_rotated_log_is_counted_from_start(tmp_path):
    path = write_log(tmp_path, COMBINED[0] + "\n")
    result = _nginx.count_access(path, since_offset=10**9)
    assert result["rotated"] and result["start_offset"] == 0 and result["lines"] == 1


def test_minus_one_marks_the_end(tmp_path):
    path = write_log(tmp_path, COMBINED[0] + "\n" + COMBINED[1][:10])
    result = _nginx.count_access(path, since_offset=-1)
    assert result["lines"] == 0 and result["end_offset"] == len(COMBINED[0]) + 1


def test_since_time_needs_a_time_field(tmp_path):
    path = write_log(tmp_path, "")
    with pytest.raises(GoliveError, match="no \\$time_local"):
        _nginx.count_access(path, log_format="$remote_addr $status", since_time="2026-11-22T06:00:00Z")
    with pytest.raises(GoliveError, match="is not a time"):
        _nginx.count_access(path, since_time="soon")


MAINTENANCE_LINES = [
    '{"time":"2026-11-22T06:26:30+00:00","status":"503","uri":"/items","maintenance":"1","bypass":""}',
    '{"time":"2026-11-22T06:26:31+00:00","status":"200","uri":"/health","maintenance":"","bypass":"1"}',
    '{"time":"2026-11-22T06:26:32+00:00","status":"502","uri":"/items","maintenance":"","bypass":""}',
]


def test_exclude_leaves_the_maintenance_page_out(tmp_path):
    path = write_log(tmp_path, "\n".join(MAINTENANCE_LINES) + "\n")
    counted = _nginx.count_access(path, log_format="json")
    assert counted["counts"]["5xx"] == 2 and counted["excluded"] == 0
    result = _nginx.count_access(path, log_format="json", exclude='"maintenance":"1"')
    # The 503 of the maintenance page is left out; the bypassed health check and the app's 502 count.
    assert result["excluded"] == 1
    assert result["statuses"] == {"200": 1, "502": 1}
    assert result["samples_5xx"] == [MAINTENANCE_LINES[2]]


def test_invalid_exclude_is_refused_with_the_fix(tmp_path):
    path = write_log(tmp_path, "")
    with pytest.raises(GoliveError, match="not a valid regular expression.*maintenance"):
        _nginx.count_access(path, log_format="json", exclude="(unclosed")
