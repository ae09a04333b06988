# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: database migrations with Alembic, Django or the app's own commands. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from collections import OrderedDict

from ansible_collections.runbook.golive.plugins.module_utils import _io, _pg, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

UPGRADED = "upgraded"
DOWNGRADED = "downgraded"
HEAD = "head"
BASE = "base"
ZERO = "zero"  # Django's name for "no migration of this app applied"

# ---------------------------------------------------------------- environment

_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_SECRET_KEY = re.compile(r"(?i)(pass|secret|token|key|url|dsn|credential|auth)")
_URL_PASSWORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:([^@]+)@")


def parse_env_file(text, source="env_file"):
    """KEY=VALUE lines (``export`` and quotes allowed, ``#`` comments) -> dict.

    A bad line is reported by number only: the file usually holds secrets.
    """
    env = OrderedDict()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_KEY.match(key):
            raise GoliveError(
                "%s line %d is not KEY=VALUE; fix the file (only KEY=VALUE lines and # comments)" % (source, number)
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = re.sub(r'\\(["\\$`])', r"\1", value)
        env[key] = value
    return env


def pg_options(existing, lock_timeout, statement_timeout):
    """PGOPTIONS for the migration: ``existing`` (the env file's, say) then the two timeouts.

    libpq gives PGOPTIONS to the server at connect; a later ``-c`` wins over an
    earlier one, so the module's timeouts hold whatever the env file set.
    Each timeout is validated as a PostgreSQL duration (``30s``, ``5min``, ``0``).
    """
    parts = [
        "-c lock_timeout=%s" % _pg.duration(lock_timeout, "lock_timeout"),
        "-c statement_timeout=%s" % _pg.duration(statement_timeout, "statement_timeout"),
    ]
    existing = (existing or "").strip()
    return " ".join(([existing] if existing else []) + parts)


def secret_values(env):
    """Values of ``env`` that must not appear in output: secret-looking keys and URL passwords."""
    found = set()
    for key, value in env.items():
        if not value:
            continue
        if _SECRET_KEY.search(key) and len(value) >= 4:
            found.add(value)
        match = _URL_PASSWORD.match(value)
        if match:
            found.add(match.group(1))
    return found


# ------------------------------------------------------------------- alembic

_REV_LINE = re.compile(r"^([^\s(),<>\[\]]+)((?: \([^)]*\))*)\s*$")
_HISTORY_LINE = re.compile(r"^(.*?) -> ([^\s(),<>]+)((?: \([^)]*\))*)(?:, ?(.*))?$")
_TOKEN = re.compile(r"[^\s(),<>]+")


def parse_alembic_current(text):
    """``alembic current`` / ``heads`` stdout -> list of revisions (empty: no revision).

    Lines look like ``1a2b3c4d5e6f (head)``, ``1a2b (effective head) (mergepoint)`` or just
    ``1a2b``; log lines (``INFO  [alembic...]``) and blank lines are ignored.
    """
    revs = []
    for line in (text or "").splitlines():
        match = _REV_LINE.match(line.strip())
        if match and match.group(1) not in ("INFO", "WARNING", "ERROR", "DEBUG"):
            revs.append(match.group(1))
    return revs


class Revision:
    def __init__(self, rev, parents, flags, doc):
        self.rev = rev
        self.parents = parents
        self.flags = flags
        self.doc = doc

    @property
    def is_head(self):
        return "head" in self.flags


def parse_alembic_history(text):
    """``alembic history`` stdout -> list of Revision, newest first as alembic prints it.

    ``<base> -> 1a2b (head), add users``; ``(1a2b, 3c4d) -> 5e6f (head) (mergepoint), merge``.
    """
    revisions = []
    for line in (text or "").splitlines():
        match = _HISTORY_LINE.match(line.strip())
        if not match:
            continue
        parents = [t for t in _TOKEN.findall(match.group(1)) if t != "base"]
        flags = re.findall(r"\(([^)]*)\)", match.group(3) or "")
        revisions.append(Revision(match.group(2), parents, flags, (match.group(4) or "").strip()))
    return revisions


class Graph:
    """The migration graph of one release, from ``alembic history``."""

    def __init__(self, revisions):
        self.newest_first = [r.rev for r in revisions]
        self.by_rev = OrderedDict((r.rev, r) for r in revisions)

    def heads(self):
        flagged = [r.rev for r in self.by_rev.values() if r.is_head]
        if flagged:
            return flagged
        children = set(p for r in self.by_rev.values() for p in r.parents)
        return [rev for rev in self.newest_first if rev not in children]

    def resolve(self, rev):
        """Full id of ``rev`` (alembic accepts unique prefixes)."""
        if rev in self.by_rev:
            return rev
        matches = [r for r in self.by_rev if r.startswith(rev)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise GoliveError("revision %s is ambiguous (%s); give more characters" % (rev, ", ".join(matches)))
        raise GoliveError(
            "revision %s is not in this release's migration history (heads: %s); "
            "check the revision, or run the module from the release that has it" % (rev, ", ".join(self.heads()))
        )

    def ancestors(self, revs):
        """``revs`` and everything below them."""
        seen = set()
        todo = list(revs)
        while todo:
            rev = todo.pop()
            if rev in seen:
                continue
            seen.add(rev)
            node = self.by_rev.get(rev)
            if node:
                todo.extend(node.parents)
        return seen


class Decision:
    """What a run would do: ``direction`` (upgrade/downgrade/None), ``pending`` in apply order, ``target``."""

    def __init__(self, direction, pending, target):
        self.direction = direction
        self.pending = pending
        self.target = target

    @property
    def changed(self):
        return bool(self.pending)


def alembic_decide(state, revision, current, graph):
    """Decide an Alembic run from the current revisions and the release's graph."""
    have = graph.ancestors(current)
    if state == UPGRADED:
        heads = graph.heads()
        if revision in (HEAD, None):
            if len(heads) > 1:
                raise GoliveError(
                    "the migrations have several heads (%s); merge them (alembic merge) "
                    "or set revision: heads to upgrade every branch" % ", ".join(heads)
                )
            targets, target = heads, HEAD
        elif revision == "heads":
            targets, target = heads, "heads"
        else:
            target = graph.resolve(revision)
            targets = [target]
        want = graph.ancestors(targets)
        pending = [r for r in reversed(graph.newest_first) if r in want and r not in have]
        return Decision("upgrade" if pending else None, pending, target)
    if revision in (BASE, None):
        target, want = BASE, set()
    else:
        target = graph.resolve(revision)
        if target not in have:
            raise GoliveError(
                "cannot downgrade to %s: it is not applied (the database is at %s); "
                "use state: upgraded to move forward" % (target, ", ".join(current) or "no revision")
            )
        want = graph.ancestors([target])
    pending = [r for r in graph.newest_first if r in have and r not in want]
    return Decision("downgrade" if pending else None, pending, target)


# -------------------------------------------------------------------- django

_DJ_APP = re.compile(r"^(\w[\w.]*)\s*$")
_DJ_MIGRATION = re.compile(r"^\s+\[([Xx\- ])\]\s+(\S+)")


def parse_showmigrations_list(text):
    """``manage.py showmigrations --list`` -> OrderedDict app -> [(name, applied)].

    ``[X]`` applied, ``[ ]`` not, ``[-]`` a squashed migration partly applied (counts as not).
    """
    apps = OrderedDict()
    app = None
    for line in (text or "").splitlines():
        match = _DJ_MIGRATION.match(line)
        if match and app is not None:
            apps[app].append((match.group(2), match.group(1) in "Xx"))
            continue
        match = _DJ_APP.match(line)
        if match:
            app = match.group(1)
            apps[app] = []
    return apps


def django_state(apps):
    """Per-app latest applied migration (``zero`` when none)."""
    state = OrderedDict()
    for app, migrations in apps.items():
        if not migrations:
            continue
        applied = [name for name, done in migrations if done]
        state[app] = applied[-1] if applied else ZERO
    return state


def django_heads(apps):
    return OrderedDict((app, m[-1][0]) for app, m in apps.items() if m)


def normalize_django_target(revision, app_label=None):
    """``head`` | ``{app: migration}`` | (``app_label`` + ``migration``) -> ``head`` or OrderedDict."""
    if revision in (None, HEAD):
        if app_label:
            raise GoliveError("app_label %s needs a migration name in revision" % app_label)
        return HEAD
    if isinstance(revision, dict):
        return OrderedDict((k, ZERO if v is None else "%s" % v) for k, v in revision.items())
    if app_label:
        return OrderedDict([(app_label, "%s" % revision)])
    if "." in "%s" % revision:
        app, name = ("%s" % revision).split(".", 1)
        return OrderedDict([(app, name)])
    raise GoliveError(
        "revision %s: with tool django give a dict app -> migration, app.migration, or app_label" % revision
    )


def django_decide(state, target, apps):
    """Decide a Django run. ``pending`` holds ``app.migration`` names in apply order."""
    if target == HEAD:
        if state == DOWNGRADED:
            raise GoliveError("state downgraded needs a revision (app -> migration) with tool django")
        pending = ["%s.%s" % (app, name) for app, ms in apps.items() for name, done in ms if not done]
        return Decision("upgrade" if pending else None, pending, HEAD)
    forward, backward = [], []
    for app, wanted in target.items():
        if app not in apps:
            raise GoliveError("app %s has no migrations here (apps: %s)" % (app, ", ".join(apps) or "none"))
        names = [name for name, _done in apps[app]]
        if wanted == ZERO:
            index = -1
        else:
            matches = [i for i, name in enumerate(names) if name == wanted or name.startswith(wanted + "_")]
            if len(matches) != 1:
                raise GoliveError(
                    "migration %s.%s %s (known: %s)"
                    % (app, wanted, "is ambiguous" if matches else "does not exist", ", ".join(names))
                )
            index = matches[0]
        forward.extend("%s.%s" % (app, n) for n, done in apps[app][: index + 1] if not done)
        backward.extend("%s.%s" % (app, n) for n, done in reversed(apps[app][index + 1 :]) if done)
    if state == UPGRADED and backward:
        raise GoliveError(
            "migrations %s are applied beyond the target; use state: downgraded to unapply them" % ", ".join(backward)
        )
    if state == DOWNGRADED and forward and not backward:
        raise GoliveError(
            "cannot downgrade: %s are not applied yet; use state: upgraded to move forward" % ", ".join(forward)
        )
    if backward:
        return Decision("downgrade", backward, target)
    return Decision("upgrade" if forward else None, forward, target)


# ------------------------------------------------------------------ running


def python_of(module, virtualenv):
    if not virtualenv:
        return _run.which(module, "python3")
    python = os.path.join(virtualenv, "bin", "python")
    if not os.path.exists(python):
        raise GoliveError(
            "virtualenv %s has no bin/python; give the release's virtualenv (it must exist on the host)" % virtualenv
        )
    return python


class Tool:
    """Common to the three tools: where and how to run, and the revision as the tool sees it."""

    name = None
    # The _run.Account the tool's commands run as (None: the module's own user).
    user = None

    def __init__(self, module, chdir, env):
        self.module = module
        self.chdir = chdir
        self.env = env

    def run(self, args, what, check=True):
        return _run.run(
            self.module, self.argv(args), what=what, check=check, cwd=self.chdir, env=self.env, user=self.user
        )

    def argv(self, args):
        raise NotImplementedError

    @staticmethod
    def show(revisions):
        """Revisions as returned to the caller: one id, null, or a list when several."""
        if isinstance(revisions, dict):
            return dict(revisions)
        if not revisions:
            return None
        if len(revisions) == 1:
            return revisions[0]
        return list(revisions)


class Alembic(Tool):
    name = "alembic"

    def __init__(self, module, chdir, env, python, config=None):
        super(Alembic, self).__init__(module, chdir, env)
        self.base = [python, "-m", "alembic"] + (["-c", config] if config else [])

    def argv(self, args):
        return self.base + list(args)

    def current(self):
        return parse_alembic_current(self.run(["current"], "alembic current in %s" % self.chdir).out)

    def decide(self, state, revision, current):
        out = self.run(["history"], "alembic history in %s" % self.chdir).out
        graph = Graph(parse_alembic_history(out))
        if not graph.by_rev:
            raise GoliveError("alembic history in %s lists no revisions; is this the release directory?" % self.chdir)
        self.heads = graph.heads()
        return alembic_decide(state, revision, current, graph)

    def plan(self, decision, current):
        start = current[0] if len(current) == 1 else None
        if decision.direction == "upgrade":
            span = "%s:%s" % (start, decision.target) if start else decision.target
        else:
            span = "%s:%s" % (start or "head", decision.target)
        return self.run([decision.direction, "--sql", span], "alembic %s --sql %s" % (decision.direction, span)).out

    def apply(self, decision):
        self.run([decision.direction, decision.target], "alembic %s %s" % (decision.direction, decision.target))


class Django(Tool):
    name = "django"

    def __init__(self, module, chdir, env, python, manage_py="manage.py"):
        super(Django, self).__init__(module, chdir, env)
        self.base = [python, manage_py]

    def argv(self, args):
        return self.base + list(args)

    def _apps(self):
        out = self.run(["showmigrations", "--list"], "manage.py showmigrations in %s" % self.chdir).out
        return parse_showmigrations_list(out)

    def current(self):
        self.apps = self._apps()
        self.heads = django_heads(self.apps)
        return django_state(self.apps)

    def decide(self, state, revision, current):
        return django_decide(state, revision, self.apps)

    def _targets(self, decision):
        if decision.target == HEAD:
            return [[]]
        return [[app, name] for app, name in decision.target.items()]

    def plan(self, decision, current):
        return "".join(
            self.run(["migrate", "--plan"] + t, "manage.py migrate --plan %s" % " ".join(t)).out
            for t in self._targets(decision)
        )

    def apply(self, decision):
        for t in self._targets(decision):
            self.run(["migrate", "--noinput"] + t, "manage.py migrate %s" % " ".join(t))


class Command(Tool):
    """The app's own commands; ``{revision}`` in an argument is replaced by the target."""

    name = "command"

    def __init__(self, module, chdir, env, commands):
        super(Command, self).__init__(module, chdir, env)
        self.commands = commands
        self.heads = []

    def argv(self, args):
        return list(args)

    def _cmd(self, which, revision=None):
        argv = self.commands.get(which)
        if not argv:
            raise GoliveError("tool command needs commands.%s to %s" % (which, which))
        return [a.replace("{revision}", "%s" % (revision or "")) for a in argv]

    def current(self):
        return parse_alembic_current(self.run(self._cmd("current"), "the current-revision command").out)

    def decide(self, state, revision, current):
        target = revision or (HEAD if state == UPGRADED else BASE)
        if current == [target]:
            return Decision(None, [], target)
        # The app's tool alone knows what is pending: assume a change, judge afterwards.
        return Decision("upgrade" if state == UPGRADED else "downgrade", [target], target)

    def plan(self, decision, current):
        if not self.commands.get("plan"):
            return None
        return self.run(self._cmd("plan", decision.target), "the plan command").out

    def apply(self, decision):
        self.run(self._cmd(decision.direction, decision.target), "the %s command" % decision.direction)


def load_env(module, env_file, environment):
    """The tool's environment: ``env_file`` then ``environment``; secret values are masked in output."""
    env = OrderedDict()
    if env_file:
        try:
            with open(env_file) as handle:
                text = handle.read()
        except (IOError, OSError) as err:
            raise GoliveError(
                "cannot read env_file %s: %s; check the path, and run the task as root (become: true "
                "without become_user), with run_as naming the user the migrations run as"
                % (env_file, err.strerror or err)
            )
        env.update(parse_env_file(text, env_file))
    env.update((k, "" if v is None else "%s" % v) for k, v in (environment or {}).items())
    module.no_log_values.update(secret_values(env))
    return env


def run_as(name, chdir, virtualenv=None):
    """The _run.Account the tool runs as (None for the module's own user), once it is known
    to exist and to be able to enter the release directory and the virtualenv."""
    if not name:
        return None
    user = _run.account(name, "run_as")
    for path, option in ((chdir, "chdir"), (virtualenv and os.path.join(virtualenv, "bin"), "virtualenv")):
        why = path and user.switch and user.can_enter(path)
        if why:
            raise GoliveError(
                "run_as %s cannot read %s %s: %s; make it readable by %s (the deploy ships releases owned by "
                "root, group golive_app_group, mode 0750: put %s in that group) or set run_as to a user who can"
                % (name, option, path, why, name, name)
            )
    return user


def environment(module, params):
    """The tool's environment: the env file, ``environment``, then PGOPTIONS with the timeouts."""
    env = load_env(module, params["env_file"], params["environment"])
    env["PGOPTIONS"] = pg_options(
        env.get("PGOPTIONS", os.environ.get("PGOPTIONS")), params["lock_timeout"], params["statement_timeout"]
    )
    return env


def setup(module, params):
    """The tool to run and the normalized target revision, from the module's parameters."""
    chdir = params["chdir"]
    if not os.path.isdir(chdir):
        raise GoliveError("release directory %s does not exist on the host; check chdir" % chdir)
    env = environment(module, params)
    user = run_as(params["run_as"], chdir, params["virtualenv"])
    tool, revision = _tool(module, params, chdir, env)
    tool.user = user
    return tool, revision


def _tool(module, params, chdir, env):
    revision = params["revision"]
    if params["tool"] == "command":
        if params["state"] == DOWNGRADED and not params["commands"].get("downgrade"):
            raise GoliveError("state downgraded with tool command needs commands.downgrade")
        return Command(module, chdir, env, params["commands"]), revision
    python = python_of(module, params["virtualenv"])
    if params["tool"] == "django":
        return Django(module, chdir, env, python, params["manage_py"]), normalize_django_target(
            revision, params["app_label"]
        )
    if isinstance(revision, dict):
        raise GoliveError("revision must be a revision id with tool alembic, not a dict")
    return Alembic(module, chdir, env, python, params["alembic_config"]), (
        None if revision is None else "%s" % revision
    )


def migrate(tool, state, revision, check_mode, plan_file=None):
    """Decide, render the plan when asked, then act unless in check mode. Returns the result dict."""
    before = tool.current()
    decision = tool.decide(state, revision, before)
    result = dict(
        changed=decision.changed,
        tool=tool.name,
        state=state,
        target=Tool.show(decision.target) if isinstance(decision.target, dict) else decision.target,
        revision_before=Tool.show(before),
        revision_after=Tool.show(before),
        heads=Tool.show(tool.heads) if isinstance(tool.heads, dict) else list(tool.heads),
        pending=decision.pending,
        plan=None,
        plan_file=None,
        run_as=tool.user.name if tool.user is not None else None,
    )
    if decision.changed and (check_mode or plan_file):
        result["plan"] = tool.plan(decision, before)
        if plan_file and result["plan"] is not None:
            _io.write_file(tool.module, plan_file, result["plan"], mode=0o600)
            result["plan_file"] = plan_file
    if check_mode or not decision.changed:
        return result
    try:
        tool.apply(decision)
    except GoliveError as err:
        after = _after(tool)
        if after is None:
            where = "in a state the tool could not report; check it before anything else"
        elif after != before:
            where = "now at %s (it moved); fix the migration and rerun, or downgrade to %s" % (
                _describe(after),
                _describe(before),
            )
        else:
            where = "still at %s; fix the migration and rerun" % _describe(before)
        failure = dict(result)
        failure.update(changed=after != before, revision_after=Tool.show(after), stderr=err.result.get("stderr", ""))
        raise GoliveError(
            "%s migration in %s to %s failed:\n%s\nThe database is %s."
            % (
                tool.name,
                tool.chdir,
                result["target"],
                error_text(err.result.get("stderr") or err.result.get("stdout") or err.msg),
                where,
            ),
            **failure,
        )
    after = tool.current()
    result["revision_after"] = Tool.show(after)
    if tool.name == "command":
        result["changed"] = after != before
    return result


_RUNNING = re.compile(r"Running (upgrade|downgrade) |Applying |Unapplying ")


def error_text(output):
    """The useful part of a failed tool's output: the step it was running and the error without
    the Python traceback's frames."""
    lines = (output or "").splitlines()
    step = [line.strip() for line in lines if _RUNNING.search(line)][-1:]
    marks = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if marks:
        lines = [line for line in lines[marks[-1] + 1 :] if line.strip() and not line.startswith(" ")]
    return _run.tail("\n".join(step + lines), 15)


def _after(tool):
    try:
        return tool.current()
    except GoliveError:
        return None


def _describe(revisions):
    if isinstance(revisions, dict):
        return ", ".join("%s.%s" % kv for kv in revisions.items()) or "no migration"
    return ", ".join(revisions) or "no revision"
