# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A team's own smoke command: real short commands through the module, the time bound that kills
a whole process group, masked output, the list check, and the verify role's smoke gate run by
ansible-playbook on this machine."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _run, _smoke_command
from ansible_collections.runbook.golive.plugins.modules import smoke_command

ROOT = Path(__file__).resolve().parents[4]
MODULE = object()  # run_bounded needs nothing of the module but its optional environment
TOKEN = "tok-4f9a1c77e2b8"


def alive(pid):
    """Whether ``pid`` is a process that still runs (a zombie waiting for its reaper does not)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def gone(pid, within=3.0):
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# run_bounded, the time bound of _run.py


def test_run_bounded_keeps_the_exit_code_and_both_streams_in_order():
    done = _run.run_bounded(MODULE, ["sh", "-c", "echo one; echo two >&2; echo three; exit 3"], 10)
    assert (done.rc, done.timed_out, done.truncated) == (3, False, False)
    assert done.out == "one\ntwo\nthree\n"
    assert done.output_bytes == len("one\ntwo\nthree\n")


def test_run_bounded_keeps_only_the_end_of_a_long_output():
    done = _run.run_bounded(MODULE, ["sh", "-c", "seq 1 20000"], 10, keep=100)
    assert done.rc == 0 and done.truncated
    assert done.out.endswith("19999\n20000\n") and len(done.out) == 100
    assert done.output_bytes > 100000


def test_run_bounded_kills_the_whole_group_at_the_timeout(tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    done = _run.run_bounded(MODULE, ["sh", "-c", "sleep 30 & echo $! > %s; sleep 30" % pidfile], 1, grace=2)
    assert done.timed_out and done.rc == -signal.SIGTERM
    assert time.monotonic() - start < 3
    assert gone(int(pidfile.read_text()))


def test_at_the_timeout_every_process_of_the_group_may_end_cleanly(tmp_path):
    # The shell the command started traps SIGTERM to clean up: it gets it too, and the time to.
    bye = tmp_path / "bye"
    inner = "trap 'sleep 0.3; echo cleaned > %s; exit 0' TERM; sleep 30 & wait" % bye
    done = _run.run_bounded(MODULE, ["sh", "-c", 'sh -c "$0" & sleep 30', inner], 0.5, grace=3)
    assert done.timed_out
    assert bye.read_text() == "cleaned\n"


def test_run_bounded_kills_what_ignores_sigterm(tmp_path):
    pidfile = tmp_path / "pid"
    argv = ["sh", "-c", "trap '' TERM; sleep 30 & echo $! > %s; wait; sleep 30" % pidfile]
    done = _run.run_bounded(MODULE, argv, 0.5, grace=0.5)
    assert done.timed_out and done.rc == -signal.SIGKILL
    assert gone(int(pidfile.read_text()))


def test_run_bounded_leaves_nothing_running_after_a_command_that_ended(tmp_path):
    pidfile = tmp_path / "pid"
    done = _run.run_bounded(MODULE, ["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $! > %s" % pidfile], 10)
    assert (done.rc, done.timed_out) == (0, False)
    assert gone(int(pidfile.read_text()))


# The module, with real commands


def run(run_module, check_mode=False, **args):
    args.setdefault("name", "smoke")
    return run_module(smoke_command.main, args, check_mode=check_mode)


def test_true_passes(run_module):
    result, failed = run(run_module, argv=["true"])
    assert not failed, result["msg"]
    assert (result["passed"], result["rc"], result["timed_out"], result["changed"]) == (True, 0, False, False)
    assert result["msg"].startswith("smoke command 'smoke' passed in ")
    assert result["seconds"] < 5


def test_false_fails_with_its_exit_code(run_module):
    result, failed = run(run_module, name="pytest smoke", argv=["sh", "-c", "echo 3 failed, 9 passed; exit 1"])
    assert failed
    assert (result["passed"], result["rc"], result["timed_out"]) == (False, 1, False)
    assert result["msg"].startswith("smoke command 'pytest smoke' failed: sh exited 1 after ")
    assert result["msg"].endswith(": 3 failed, 9 passed")
    assert result["output"] == "3 failed, 9 passed\n"


def test_false_itself(run_module):
    result, failed = run(run_module, argv=["false"])
    assert failed and result["rc"] == 1 and result["passed"] is False


def test_a_command_past_its_timeout_is_killed_with_its_process_group(run_module, tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    argv = ["sh", "-c", "sleep 5 & echo $! > %s; echo started; sleep 5" % pidfile]
    result, failed = run(run_module, argv=argv, timeout=1)
    assert failed
    assert time.monotonic() - start < 4
    assert result["timed_out"] is True and result["passed"] is False and result["rc"] == -signal.SIGTERM
    assert "did not finish within its timeout of 1 s: it was killed with its whole process group" in result["msg"]
    assert "started" in result["msg"] and "raise its timeout" in result["msg"]
    assert gone(int(pidfile.read_text()))


def test_sleep_past_its_timeout(run_module):
    result, failed = run(run_module, argv=["sleep", "5"], timeout=1)
    assert failed and result["timed_out"] and 0.9 < result["seconds"] < 3


def test_secrets_in_the_output_come_back_masked(run_module):
    script = textwrap.dedent(
        """\
        echo "using $SMOKE_TOKEN"
        echo "API_TOKEN=other-secret-1 and password: hunter22"
        echo 'Authorization: Bearer abc.def.ghi'
        echo '{"user": "smoke", "access_token": "jwt-value-123"}'
        echo "GET http://deploy:pw-9911@app.example.com/health?token=q1w2e3r4"
        echo "tests/test_token.py::test_refresh PASSED"
        exit 1
        """
    )
    result, failed = run(
        run_module,
        argv=["sh", "-c", script],
        env={"SMOKE_TOKEN": TOKEN},
        release={"url": "http://user:url-pass-77@app.example.com/"},
    )
    assert failed
    for secret in (TOKEN, "other-secret-1", "hunter22", "abc.def.ghi", "jwt-value-123", "pw-9911", "q1w2e3r4"):
        assert secret not in result["output"] and secret not in result["msg"]
        assert secret not in json.dumps(result)
    assert "using ********" in result["output"]
    assert "tests/test_token.py::test_refresh PASSED" in result["output"]
    assert '"user": "smoke"' in result["output"]


def test_a_secret_cut_by_the_end_of_a_long_output_is_not_shown(run_module):
    # The kept end starts inside a line holding the token: that line is left out.
    script = 'printf "%%s" "$SMOKE_TOKEN"; seq 1 1200 | tr "\\n" " "; echo; echo done'
    result, failed = run(run_module, argv=["sh", "-c", script], env={"SMOKE_TOKEN": TOKEN * 3})
    assert not failed
    assert result["output_truncated"] is True and result["output"].endswith("done\n")
    assert len(result["output"]) <= _smoke_command.OUTPUT_LIMIT
    assert TOKEN[-6:] not in result["output"]


def test_the_release_and_env_reach_the_command(run_module, tmp_path):
    release = dict(
        version="v1.4.2",
        release_id="20261129T1500-v1.4.2",
        environment="prod",
        url="http://127.0.0.1:8000",
        previous_version="v1.4.1",
    )
    argv = [
        "sh",
        "-c",
        'echo "$GOLIVE_VERSION|$GOLIVE_RELEASE_ID|$GOLIVE_ENVIRONMENT|$GOLIVE_URL|$GOLIVE_PREVIOUS_VERSION"'
        '"|$SMOKE_MODE|$PWD"',
    ]
    result, failed = run(run_module, argv=argv, env={"SMOKE_MODE": "1"}, release=release, chdir=str(tmp_path))
    assert not failed, result["msg"]
    assert result["output"] == "v1.4.2|20261129T1500-v1.4.2|prod|http://127.0.0.1:8000|v1.4.1|1|%s\n" % tmp_path


def test_a_short_env_value_is_no_secret_and_garbles_nothing(run_module):
    result, failed = run(run_module, argv=["sh", "-c", "echo rc 1 of $DEBUG; exit 1"], env={"DEBUG": "1"})
    assert failed and result["rc"] == 1 and result["output"] == "rc 1 of 1\n"


def test_check_mode_runs_nothing_and_says_what_would_run(run_module, tmp_path):
    marker = tmp_path / "ran"
    result, failed = run(run_module, check_mode=True, name="touch", argv=["touch", str(marker)])
    assert not failed
    assert not marker.exists()
    assert result["skipped"] is True and result["passed"] is None and result["rc"] is None
    assert result["msg"] == "would run smoke command 'touch': touch %s (check mode runs no command)" % marker


def test_check_mode_still_refuses_a_program_that_is_not_there(run_module):
    result, failed = run(run_module, check_mode=True, argv=["no-such-smoke-tool", "-m", "smoke"])
    assert failed
    assert "no-such-smoke-tool is not an executable on the PATH" in result["msg"]
    assert result["passed"] is False and result["rc"] is None and result["name"] == "smoke"


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(argv=["pytest -m smoke"]), "argv is a list, the program first ([pytest, -m, smoke]), not a shell string"),
        (dict(argv=[]), "argv must be a non-empty list such as [pytest, -m, smoke]"),
        (dict(argv=["true"], timeout=0), "timeout must be a positive number of seconds, got 0"),
        (dict(argv=["true"], chdir="/no/such/dir"), "chdir /no/such/dir is not a directory on this host"),
        (dict(argv=["true"], env={"GOLIVE_VERSION": "v9"}), "env sets GOLIVE_VERSION, which the release under test"),
        (dict(argv=["true"], env={"BAD NAME": "x"}), "env name 'BAD NAME' is not a variable name"),
        (dict(argv=["./smoke.sh"], chdir="/"), "./smoke.sh is not an executable file on this host"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(run_module, args, message):
    result, failed = run(run_module, **args)
    assert failed
    assert message in result["msg"]
    assert result["rc"] is None and result["passed"] is False


def test_a_relative_program_runs_from_chdir(run_module, tmp_path):
    script = tmp_path / "test-smoke.sh"
    script.write_text("#!/bin/sh\necho smoke ok\n")
    script.chmod(0o755)
    result, failed = run(run_module, argv=["./test-smoke.sh"], chdir=str(tmp_path))
    assert not failed and result["output"] == "smoke ok\n"


def test_ansible_hides_the_env_values_everywhere_in_the_result(tmp_path):
    # Run as Ansible runs it (its own exit_json, no_log applied), not through the test seam.
    args = tmp_path / "args.json"
    args.write_text(
        json.dumps(
            {
                "ANSIBLE_MODULE_ARGS": {
                    "name": "token check",
                    "argv": ["sh", "-c", "echo token is $SMOKE_KEY; echo debug $DEBUG; exit 2"],
                    "env": {"SMOKE_KEY": TOKEN, "DEBUG": "1"},
                }
            }
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", smoke_command.__name__, str(args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert TOKEN not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["failed"] is True and result["rc"] == 2
    assert result["output"] == "token is ********\ndebug 1\n"
    assert result["invocation"]["module_args"]["env"]["SMOKE_KEY"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


# The list check (verify_smoke_commands), the rule prepare applies before the lock


GOOD = dict(name="pytest smoke", argv=["pytest", "-m", "smoke"], host="app1", timeout=600, chdir="/srv", env={})


def test_a_good_list_has_no_problem():
    assert _smoke_command.problems([GOOD, dict(name="sso", argv=["npm", "run", "smoke:sso"])], ["app1"]) == []
    assert _smoke_command.problems([], ["app1"]) == []


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("pytest -m smoke", "a smoke command is a dict with at least name and argv"),
        (dict(argv=["true"]), "name is missing"),
        (dict(GOOD, argv="pytest -m smoke"), "argv is a list such as [pytest, -m, smoke], not a shell string"),
        (dict(GOOD, argv=[]), "argv must be a non-empty list"),
        (dict(GOOD, argv=["pytest", 1]), "argv must hold only texts"),
        (dict(GOOD, timeout=0), "timeout must be a positive number of seconds, got 0"),
        (dict(GOOD, timeout="soon"), "timeout must be a positive number of seconds, got 'soon'"),
        (dict(GOOD, timeout=True), "timeout must be a positive number of seconds, got True"),
        (dict(GOOD, host="app9"), "host 'app9' is not in the inventory"),
        (dict(GOOD, chdir="srv"), "chdir must be an absolute path"),
        (dict(GOOD, env=["A=1"]), "env must be a dict"),
        (dict(GOOD, env={"GOLIVE_URL": "x"}), "env sets GOLIVE_URL"),
        (dict(GOOD, timout=5), "unknown key timout; a smoke command knows name, argv, host, timeout, chdir, env"),
    ],
)
def test_each_bad_entry_is_named_with_its_fix(entry, problem):
    found = _smoke_command.problems([entry], ["app1"])
    assert len(found) == 1 and found[0].startswith("verify_smoke_commands[0]")
    assert problem in found[0]


def test_names_are_unique_and_secret_values_are_never_quoted():
    found = _smoke_command.problems([GOOD, dict(GOOD, env={"TOKEN": {"nested": TOKEN}})], ["app1"])
    assert found == [
        "verify_smoke_commands[1] ('pytest smoke'): another smoke command is already named 'pytest smoke'; "
        "names must be unique",
        "verify_smoke_commands[1] ('pytest smoke'): env TOKEN must be a text or a number",
    ]
    assert _smoke_command.problems({"name": "x"}) == [
        "verify_smoke_commands must be a list of {name, argv, ...}, got dict"
    ]


# The verify role's smoke gate, run by ansible-playbook on this machine

PLAYBOOK = """\
---
- name: The smoke gate
  hosts: app
  gather_facts: false
  vars:
    golive_version: v2.0.0
    golive_environment: staging
    __golive_release_id: 20261129T1500-v2.0.0
    __golive_expect: v2.0.0
    __golive_front: app1
    verify_smoke_checks: []
    verify_smoke_base_url: http://127.0.0.1:9
  pre_tasks:
    - name: The previous version, as prepare keeps it
      ansible.builtin.set_fact:
        __golive_previous_version: v1.9.0
      delegate_to: localhost
      delegate_facts: true
      run_once: true
  tasks:
    - name: Smoke
      block:
        - name: Run the smoke gate
          ansible.builtin.include_role:
            name: runbook.golive.verify
            tasks_from: smoke.yml
      rescue:
        - name: Keep why it failed
          ansible.builtin.set_fact:
            __why: "{{ ansible_failed_result.msg }}"
      always:
        - name: Write what the release log would record
          ansible.builtin.copy:
            content: "{{ {'summary': hostvars['localhost'].__golive_smoke_summary | default(none),
                          'why': __why | default('')} | to_json }}"
            dest: "{{ out }}"
            mode: "0600"
          delegate_to: localhost
          run_once: true
"""


def start_gate(folder, commands):
    """Start ansible-playbook on the smoke gate with ``commands``; returns a function that waits for
    it and gives ``(record, log)``: what the release log would record and why the gate failed."""
    folder.mkdir()
    (folder / "hosts.yml").write_text(
        "all:\n  children:\n    app:\n      hosts:\n        app1:\n          ansible_connection: local\n"
        "          ansible_python_interpreter: %s\n" % sys.executable
    )
    (folder / "play.yml").write_text(PLAYBOOK)
    out = folder / "out.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCALHOST_WARNING="false")
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    extra = json.dumps({"verify_smoke_commands": commands, "out": str(out)})
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.Popen(
        [ansible_playbook, "-i", str(folder / "hosts.yml"), str(folder / "play.yml"), "-e", extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(ROOT),
    )

    def result():
        log = proc.communicate(timeout=180)[0]
        assert out.exists(), log
        return json.loads(out.read_text()), log

    return result


PASSING = [
    dict(name="release env", argv=["sh", "-c", 'echo "$GOLIVE_VERSION $GOLIVE_PREVIOUS_VERSION $GOLIVE_ENVIRONMENT"']),
    dict(name="quick", argv=["true"], host="app1", timeout=30),
]
FAILING = [
    dict(
        name="pytest smoke",
        argv=["sh", "-c", 'echo "login with $SMOKE_TOKEN failed"; exit 1'],
        env={"SMOKE_TOKEN": TOKEN},
    ),
    dict(name="hangs", argv=["sleep", "30"], timeout=1),
    dict(name="fine", argv=["true"]),
]


@pytest.fixture(scope="module")
def gates(tmp_path_factory):
    """The three gates below, run at once (each takes seconds of ansible-playbook)."""
    base = tmp_path_factory.mktemp("gates")
    marker = base / "ran"
    bad = [dict(name="first", argv=["touch", str(marker)]), dict(name="second", argv="pytest -m smoke")]
    started = dict(
        passing=start_gate(base / "passing", PASSING),
        failing=start_gate(base / "failing", FAILING),
        bad=start_gate(base / "bad", bad),
    )
    done = dict((name, wait()) for name, wait in started.items())
    done["marker"] = marker
    return done


def test_the_gate_passes_and_records_each_command(gates):
    record, log = gates["passing"]
    assert record["why"] == "", log
    summary = record["summary"]
    assert (summary["passed"], summary["failed"], summary["failed_checks"]) == (2, 0, [])
    assert summary["message"] == "all 2 smoke commands passed"
    first, second = summary["commands"]
    assert (first["name"], first["host"], first["passed"], first["rc"]) == ("release env", "localhost", True, 0)
    assert first["output"] == "v2.0.0 v1.9.0 staging\n"
    assert (second["name"], second["host"], second["timed_out"]) == ("quick", "app1", False)


def test_a_failing_command_fails_the_gate_and_is_recorded_masked(gates):
    record, log = gates["failing"]
    assert TOKEN not in log and TOKEN not in json.dumps(record)
    assert record["why"].startswith("smoke checks: smoke command 'pytest smoke' failed: sh exited 1"), log
    assert "smoke command 'hangs' did not finish within its timeout of 1 s" in record["why"]
    summary = record["summary"]
    assert (summary["passed"], summary["failed"]) == (1, 2)
    assert summary["failed_checks"] == ["pytest smoke", "hangs"]
    failed, hangs, fine = summary["commands"]
    assert failed["output"] == "login with ******** failed\n" and failed["rc"] == 1
    assert hangs["timed_out"] is True and fine["passed"] is True


def test_a_bad_entry_fails_the_gate_before_anything_runs(gates):
    record, log = gates["bad"]
    assert not gates["marker"].exists()
    assert (
        "verify_smoke_commands[1] ('second'): argv is a list such as [pytest, -m, smoke], not a shell string"
        in record["why"]
    ), log
    assert record["summary"]["commands"] == []
