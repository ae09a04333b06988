# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: a team's own smoke command, checked, run in a time bound, judged. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import re

from ansible.module_utils.six import string_types

from ansible_collections.runbook.golive.plugins.module_utils import _mask, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._mask import (
    MASK,
    mask_json_text,
    mask_url,
    scrub,
    secret_name,
)

# What an entry of verify_smoke_commands may say, and nothing else: a typo
# (timout) must not silently drop a bound.
COMMAND_KEYS = ("name", "argv", "host", "timeout", "chdir", "env")
DEFAULT_TIMEOUT = 300
# How much of the end of a command's output is returned (characters).
OUTPUT_LIMIT = 2048
# The release under test, in the command's environment: release option key -> variable.
RELEASE_ENV = (
    ("version", "GOLIVE_VERSION"),
    ("release_id", "GOLIVE_RELEASE_ID"),
    ("environment", "GOLIVE_ENVIRONMENT"),
    ("url", "GOLIVE_URL"),
    ("previous_version", "GOLIVE_PREVIOUS_VERSION"),
)
RESERVED_ENV = tuple(name for key, name in RELEASE_ENV)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
# NAME=value, NAME: value, "name": "value", Authorization: Bearer value (one ":" only, so that
# pytest's test ids, file.py::test_token, stay readable).
_ASSIGNMENT = re.compile(
    r"([A-Za-z0-9_.-]+)([\"']?[ \t]*(?:=|:(?!:))[ \t]*[\"']?)"
    r"((?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+)?([^\s\"'&,;]+)"
)


def _label(index, raw):
    name = raw.get("name") if isinstance(raw, dict) else None
    return "verify_smoke_commands[%d]%s" % (index, " (%r)" % name if isinstance(name, string_types) and name else "")


def _number(value):
    """``value`` as a positive number, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


def argv_problem(argv):
    """Why ``argv`` is not a command's argument list, or None."""
    if isinstance(argv, string_types):
        return "argv is a list such as [pytest, -m, smoke], not a shell string"
    if not isinstance(argv, (list, tuple)) or not argv:
        return "argv must be a non-empty list such as [pytest, -m, smoke]"
    if not all(isinstance(a, string_types) for a in argv) or not argv[0]:
        return "argv must hold only texts, the program first (quote numbers: '1')"
    return None


def env_problem(env):
    """Why ``env`` is not a command's extra environment, or None (values are not quoted: they may be secret)."""
    if not isinstance(env, dict):
        return "env must be a dict of variable names to values"
    for name in sorted("%s" % k for k in env):
        if not _ENV_NAME.match(name):
            return "env name %r is not a variable name (letters, digits and _, not first a digit)" % name[:80]
        if name in RESERVED_ENV:
            return "env sets %s, which the release under test sets; leave it out" % name
    for name, value in sorted(env.items()):
        if value is None or isinstance(value, (dict, list, tuple)):
            return "env %s must be a text or a number" % name
    return None


def problems(commands, hosts=None):
    """Every problem with a list of smoke commands (verify_smoke_commands), one sentence each.

    ``hosts`` are the inventory's host names; a command's ``host`` must be one of them or
    ``localhost``. None skips that check. Nothing of ``env`` is quoted: it may hold tokens.
    """
    if commands is None or commands == "":
        return []
    if not isinstance(commands, list):
        return ["verify_smoke_commands must be a list of {name, argv, ...}, got %s" % type(commands).__name__]
    found = []
    names = set()
    for index, raw in enumerate(commands):
        label = _label(index, raw)
        if not isinstance(raw, dict):
            found.append("%s: a smoke command is a dict with at least name and argv" % label)
            continue
        unknown = sorted("%s" % k for k in set(raw) - set(COMMAND_KEYS))
        if unknown:
            found.append(
                "%s: unknown key%s %s; a smoke command knows %s"
                % (label, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(COMMAND_KEYS))
            )
        name = raw.get("name")
        if not isinstance(name, string_types) or not name.strip():
            found.append("%s: name is missing; give each smoke command a name for the release log" % label)
        elif name in names:
            found.append("%s: another smoke command is already named %r; names must be unique" % (label, name))
        else:
            names.add(name)
        problem = argv_problem(raw.get("argv"))
        if problem:
            found.append("%s: %s" % (label, problem))
        if "timeout" in raw and _number(raw["timeout"]) is None:
            found.append("%s: timeout must be a positive number of seconds, got %r" % (label, raw["timeout"]))
        chdir = raw.get("chdir")
        if chdir is not None and (not isinstance(chdir, string_types) or not chdir.startswith("/")):
            found.append("%s: chdir must be an absolute path, got %r" % (label, chdir))
        if raw.get("env") is not None:
            problem = env_problem(raw["env"])
            if problem:
                found.append("%s: %s" % (label, problem))
        host = raw.get("host", "localhost")
        if not isinstance(host, string_types) or not host:
            found.append("%s: host must be an inventory host name or localhost" % label)
        elif hosts is not None and host != "localhost" and host not in hosts:
            found.append(
                "%s: host %r is not in the inventory; name an inventory host, or localhost (the controller)"
                % (label, host)
            )
    return found


def environment(env, release):
    """The variables the command gets on top of the module's environment: ``env`` and the
    release under test (``release``: version, release_id, environment, url, previous_version)."""
    problem = env_problem(env or {})
    if problem:
        raise GoliveError(problem)
    out = dict(("%s" % k, "%s" % v) for k, v in (env or {}).items())
    for key, name in RELEASE_ENV:
        value = (release or {}).get(key)
        if value is not None:
            out[name] = "%s" % value
    return out


def executable(argv0, chdir, path):
    """Where ``argv0`` is found (relative to ``chdir`` when it holds a "/", else on ``path``), or None."""
    if "/" in argv0:
        full = os.path.join(chdir or os.getcwd(), argv0)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    for folder in (path or "").split(os.pathsep):
        full = os.path.join(folder or ".", argv0)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return full
    return None


def _mask_assignment(match):
    if not secret_name(match.group(1)) or match.group(4) == MASK:
        return match.group(0)
    return match.group(1) + match.group(2) + (match.group(3) or "") + MASK


def mask_output(text, secrets=()):
    """``text`` with ``secrets`` (the values of env, the URL's password) and anything that looks
    like one replaced by ``********``: URL passwords and tokens, NAME=value or NAME: value and JSON
    fields whose names look secret (TOKEN, password, Authorization: Bearer ...)."""
    if not text:
        return text
    text = scrub(text, secrets)
    text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    text = mask_json_text(text)
    return _ASSIGNMENT.sub(_mask_assignment, text)


def _drop_fragment(text, secrets):
    """``text``, the end of an output, without a first line cut short (where a secret may be
    cut in two and no longer match) nor, without a newline, a leading tail of a secret."""
    head, newline, rest = text.partition("\n")
    if newline and rest:
        return rest
    for secret in secrets:
        for size in range(len(secret) - 1, 0, -1):
            if text.startswith(secret[-size:]):
                return MASK + text[size:]
    return text


def tail_of(done, secrets, limit=OUTPUT_LIMIT):
    """The masked end of a command's output, at most ``limit`` characters, and whether it is cut."""
    text = done.out
    if done.truncated:
        text = _drop_fragment(text, secrets)
    text = mask_output(text, secrets)
    cut = done.truncated or len(text) > limit
    return (text[-limit:] if len(text) > limit else text), cut


def _last_lines(text, lines=3):
    parts = [p for p in (text or "").strip().splitlines() if p.strip()]
    return " | ".join(parts[-lines:]) if parts else "(no output)"


def _shown(argv, secrets):
    return [mask_output(a, secrets) for a in argv]


def not_run(name, argv, timeout, secrets=(), msg=None):
    """The result of a command that did not run: in check mode, or (with ``msg``) refused."""
    result = dict(
        changed=False,
        name=name,
        argv=_shown(argv, secrets) if isinstance(argv, list) else [],
        timeout=_number(timeout),
        rc=None,
        timed_out=False,
        seconds=None,
        output="",
        output_bytes=0,
        output_truncated=False,
        passed=None,
        skipped=False,
    )
    if msg is not None:
        result.update(passed=False, msg=mask_output(msg, secrets))
    return result


def run(module, name, argv, timeout, chdir=None, env=None, release=None, secrets=(), check_mode=False):
    """Run one smoke command and judge it by its exit code within ``timeout`` seconds.

    Returns ``(result, failed)``; ``result`` is the module's return value. Bad options raise
    GoliveError before anything runs.
    """
    problem = argv_problem(argv)
    if problem:
        raise GoliveError("smoke command %r: %s" % (name, problem))
    if _number(timeout) is None:
        raise GoliveError("smoke command %r: timeout must be a positive number of seconds, got %r" % (name, timeout))
    variables = environment(env, release)
    shown = _shown(argv, secrets)
    if chdir is not None and not os.path.isdir(chdir):
        raise GoliveError(
            "smoke command %r: chdir %s is not a directory on this host; create it or fix chdir" % (name, chdir)
        )
    path = variables.get("PATH", os.environ.get("PATH", os.defpath))
    if executable(argv[0], chdir, path) is None:
        hint = (
            "argv is a list, the program first ([pytest, -m, smoke]), not a shell string"
            if " " in argv[0].strip()
            else "install it, or give its path in argv"
        )
        raise GoliveError(
            "smoke command %r: %s is not an executable %s on this host; %s"
            % (name, shown[0], "file" if "/" in argv[0] else "on the PATH (%s)" % path, hint)
        )
    result = not_run(name, argv, timeout, secrets)
    if check_mode:
        msg = "would run smoke command %r: %s (check mode runs no command)" % (name, " ".join(shown))
        result.update(skipped=True, msg=msg)
        return result, False
    what = "smoke command %r" % name
    # Read twice what is kept: masking can change the length, and a first line cut short is dropped.
    done = _run.run_bounded(module, argv, float(timeout), what=what, cwd=chdir, env=variables, keep=OUTPUT_LIMIT * 2)
    output, cut = tail_of(done, secrets)
    seconds = round(done.seconds, 1)
    result.update(
        rc=done.rc,
        timed_out=done.timed_out,
        seconds=seconds,
        output=output,
        output_bytes=done.output_bytes,
        output_truncated=cut,
        passed=done.ok and not done.timed_out,
    )
    if done.timed_out:
        result["msg"] = (
            "%s did not finish within its timeout of %g s: it was killed with its whole process group; "
            "its last output: %s. Make it faster or raise its timeout" % (what, float(timeout), _last_lines(output))
        )
    elif not done.ok:
        how = "exited %d" % done.rc if done.rc > 0 else "was killed by signal %d" % -done.rc
        result["msg"] = "%s failed: %s %s after %.1f s: %s" % (what, shown[0], how, seconds, _last_lines(output))
    else:
        result["msg"] = "%s passed in %.1f s" % (what, seconds)
    return result, not result["passed"]


def protect(module, env=None, release=None):
    """Hide the secrets of ``env`` and the release URL's in the whole result; returns them.

    Ansible hides every value of a no_log option such as ``env`` wherever it appears, so a
    value too short or common to be a credential (V(1), V(true)) would garble every return
    code and word equal to it: such values are shown, as ``_mask.protect`` does everywhere.
    """
    values = [
        "%s" % v
        for v in (env.values() if isinstance(env, dict) else [])
        if v is not None and not isinstance(v, (dict, list, tuple, bool))
    ]
    found = _mask.protect(module, urls=[(release or {}).get("url")] + values, secrets=values)
    module.no_log_values.difference_update(set(values) - set(found))
    return found
