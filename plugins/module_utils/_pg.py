# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: PostgreSQL connections, quoting, errors and sessions. Not a public API.

Everything goes through the PostgreSQL client tools (psql, pg_dump, pg_restore)
run by ``_run``; no driver is needed on the target. The password reaches them
only through a temporary PGPASSFILE (0600 in a private 0700 directory, removed
afterwards), never through argv or PGPASSWORD.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import tempfile
import uuid

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

# The connection options every PostgreSQL module takes (doc fragment runbook.golive.postgres).
PG_ARGUMENT_SPEC = dict(
    host=dict(type="str", aliases=["login_host"]),
    port=dict(type="int", default=5432, aliases=["login_port"]),
    user=dict(type="str", aliases=["login_user"]),
    password=dict(type="str", no_log=True, aliases=["login_password"]),
    ssl_mode=dict(
        type="str",
        default="prefer",
        choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
    ),
    connect_timeout=dict(type="int", default=10),
    lock_timeout=dict(type="str", default="30s"),
    bin_dir=dict(type="path"),
)

LOCK_TIMEOUT = "30s"
_DURATION = re.compile(r"\A(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\Z")


def duration(value, name="lock_timeout"):
    """A PostgreSQL duration as given (``30s``, ``500 ms``, ``2min``, ``0``), without spaces."""
    m = _DURATION.match(("%s" % value).strip())
    if not m:
        raise GoliveError(
            "%s %r is not a PostgreSQL duration; give a number and a unit, for example 30s, 500ms or 2min "
            "(0 waits without limit)" % (name, value)
        )
    return m.group(1) + (m.group(2) or "")


# Modules that create, rename or drop databases connect to this one to do it
# (doc fragment runbook.golive.postgres.maintenance_db).
MAINTENANCE_DB_SPEC = dict(maintenance_db=dict(type="str", default="postgres"))

NAMEDATALEN = 63  # longest identifier PostgreSQL keeps, in bytes
_PLAIN_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_-]*\Z")


def check_name(option, name):
    """Refuse ``name``, given as ``option`` (a database, a role), unless it is a plain name: letters,
    digits, ``_`` and ``-``, starting with a letter or ``_``, at most 63 bytes. Such names are always
    quoted, so another one would be safe, but ``app; DROP TABLE items`` is a mistake to refuse
    clearly before connecting, not a "does not exist" later. Returns ``name``."""
    if not isinstance(name, str) or not _PLAIN_NAME.match(name) or len(name.encode("utf-8")) > NAMEDATALEN:
        raise GoliveError(
            "%s %r is not a plain PostgreSQL name: letters, digits, _ and -, starting with a letter or _, at most "
            "%d bytes; give the name as it was created, for example golive_app. Nothing was changed."
            % (option, name, NAMEDATALEN)
        )
    return name


def quote_ident(name):
    """``name`` as a double-quoted SQL identifier (quote_ident that always quotes)."""
    if "\x00" in name:
        raise GoliveError("the name %r contains a NUL character; PostgreSQL names cannot" % name)
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text):
    """``text`` as a SQL string literal (standard_conforming_strings is on in our sessions)."""
    if "\x00" in text:
        raise GoliveError("the text %r contains a NUL character; PostgreSQL strings cannot" % text)
    return "'" + text.replace("'", "''") + "'"


def split_name(name):
    """``schema.table.column`` -> its parts, verbatim (quotes kept): dots inside double quotes are
    part of a name, and whatever follows an unquoted ``(`` (a function's argument types) stays in
    the last part. ``public."a.b".c`` -> ``['public', '"a.b"', 'c']``."""
    parts, current, quoted = [], [], False
    for i, ch in enumerate(name):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            current.append(name[i:])
            break
        elif not quoted and ch == ".":
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def unquote_ident(part):
    """One part of a name as PostgreSQL stores it, its quotes taken off (``"Odd"`` -> ``Odd``)."""
    if len(part) >= 2 and part[0] == '"' and part[-1] == '"':
        return part[1:-1].replace('""', '"')
    return part


def conninfo_value(value):
    """A libpq conninfo value: single-quoted, with backslash and quote escaped."""
    return "'" + ("%s" % value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def pgpass_line(password):
    """The one PGPASSFILE line for ``password``: any host, port, database and user."""
    if "\n" in password or "\r" in password:
        raise GoliveError("the password contains a line break, which a PGPASSFILE cannot hold; change the password")
    return "*:*:*:*:%s\n" % password.replace("\\", "\\\\").replace(":", "\\:")


def fit_name(base, suffix):
    """``base + suffix`` cut to fit PostgreSQL's 63-byte names (``base`` is shortened, never the suffix)."""
    room = NAMEDATALEN - len(suffix.encode("utf-8"))
    data = base.encode("utf-8")
    if len(data) > room:
        base = data[:room].decode("utf-8", "ignore")
    return base + suffix


def parse_tool_version(text):
    """``pg_dump (PostgreSQL) 15.18 (Debian ...)`` -> ``(15, 18)``; 9.6.24 -> ``(9, 6, 24)``."""
    m = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?", text or "")
    if not m:
        raise GoliveError("cannot read a PostgreSQL version from %r" % (text or "").strip())
    return tuple(int(x) for x in m.groups() if x is not None)


def major(version):
    """The major version of a version tuple: ``(15,)`` from 15.18, ``(9, 6)`` from 9.6.24."""
    return tuple(version[:1]) if version[0] >= 10 else tuple(version[:2])


def server_version(num):
    """``server_version_num`` (150018, 90624) -> version tuple ((15, 18), (9, 6, 24))."""
    num = int(num)
    if num >= 100000:
        return (num // 10000, num % 10000)
    return (num // 10000, (num // 100) % 100, num % 100)


def version_text(version):
    return ".".join("%d" % x for x in version)


def check_dump_version(tool_version, server, tool="pg_dump"):
    """Refuse a client tool whose major version is older than the server's."""
    if major(tool_version) < major(server):
        raise GoliveError(
            "%s %s is older than the server (PostgreSQL %s) and cannot dump it; install the "
            "PostgreSQL %s client tools on the host (e.g. the postgresql-client-%s package) and point "
            "bin_dir at them"
            % (
                tool,
                version_text(tool_version),
                version_text(server),
                version_text(major(server)),
                version_text(major(server)),
            )
        )


# (pattern on the tool's stderr, message). Groups of the pattern can be used by name.
_KNOWN_ERRORS = [
    (
        r"canceling statement due to lock timeout|could not obtain lock on relation"
        r"|canceling statement due to statement timeout[\s\S]*query was: LOCK TABLE",
        "waited longer than lock_timeout ({lock_timeout}) for a lock at {where}: another session holds a lock "
        "on a table this needs (a long transaction, a migration, VACUUM FULL); find it in pg_locks and "
        "pg_stat_activity (SELECT pid, pg_blocking_pids(pid), query FROM pg_stat_activity WHERE wait_event_type = "
        "'Lock'), let it finish and rerun, or raise lock_timeout",
    ),
    (
        r'password authentication failed for user "(?P<u>[^"]*)"',
        "authentication as {u} at {where} failed: the password is wrong or the role may not log in; "
        "check the password option (the inventory's database password) and the role",
    ),
    (
        r"no password supplied|password is required",
        "the server at {where} asks for a password for {user} but none was given; set the password option",
    ),
    (
        r'Peer authentication failed for user "(?P<u>[^"]*)"',
        "peer authentication as {u} at {where} failed: the OS user running the module is not {u}; "
        "use become_user: {u}, or connect over TCP with host and password",
    ),
    (
        r'database "(?P<d>[^"]*)" does not exist',
        "database {d} does not exist at {where}; check the database option (psql -l lists the databases)",
    ),
    (
        r'role "(?P<u>[^"]*)" does not exist',
        "role {u} does not exist at {where}; check the user option",
    ),
    (
        r'no pg_hba\.conf entry for host "(?P<h>[^"]*)", user "(?P<u>[^"]*)", database "(?P<d>[^"]*)"',
        "pg_hba.conf at {where} allows no connection from {h} as {u} to {d}; add an entry "
        "(and reload PostgreSQL) or connect another way",
    ),
    (
        r"server does not support SSL, but SSL was required",
        "the server at {where} does not offer SSL but ssl_mode requires it; enable SSL on the server or lower ssl_mode",
    ),
    # ssl_mode verify-ca / verify-full (golive_db_ssl_mode's default for a remote database).
    (
        r'root certificate file "(?P<f>[^"]*)" does not exist',
        "ssl_mode checks the certificate of the server at {where} against the CA in {f} on the target, and there "
        "is none: put the CA that signed the server's certificate there (for the user the module runs as), or "
        "choose require knowingly (it encrypts without checking who answers)",
    ),
    (
        r'server certificate for "(?P<c>[^"]*)" does not match host name "(?P<h>[^"]*)"',
        "the certificate of the server at {where} is for {c}, not {h}: connect by a name the certificate holds "
        "(the host option, golive_db_host), or give the server a certificate for {h}",
    ),
    (
        r"certificate verify failed",
        "the certificate of the server at {where} is not signed by the CA in ~/.postgresql/root.crt on the target "
        "(certificate verify failed): put the CA that signed it there, or fix the server's certificate",
    ),
    (
        r"timeout expired",
        "connecting to {where} timed out; check host, port and the firewall, or raise connect_timeout",
    ),
    (
        r"Connection refused|could not connect to server|No such file or directory\s+Is the server running",
        "cannot connect to PostgreSQL at {where}: nothing accepts connections there; check that the server "
        "runs and the host and port options",
    ),
    (
        r"could not translate host name \"(?P<h>[^\"]*)\"",
        "the host name {h} does not resolve on the target; check the host option",
    ),
    (
        r"aborting because of server version mismatch",
        "pg_dump is older than the server at {where}; install the client tools of the server's major "
        "version and point bin_dir at them",
    ),
    (
        r"permission denied to create database",
        "{user} may not create databases at {where}; grant it (ALTER ROLE ... CREATEDB) or connect as a role "
        "that may (for example become_user: postgres)",
    ),
    (
        r'must be owner of database "?(?P<d>[^"\s]*)"?',
        "{user} does not own database {d} at {where}; connect as its owner or a superuser",
    ),
    (
        r"permission denied for (?P<what>table|schema|sequence|database|relation) (?P<obj>\S+)",
        "{user} lacks the right to read {what} {obj} at {where}; connect as the database owner or grant it",
    ),
]


def explain(stderr, where, user=None, lock_timeout=None):
    """A message naming the cause and the fix for a known libpq / tool error, else None."""
    text = stderr or ""
    for pattern, message in _KNOWN_ERRORS:
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            values = dict(where=where, user=user or "the connecting role", lock_timeout=lock_timeout or LOCK_TIMEOUT)
            values.update(dict((k, v) for k, v in m.groupdict().items() if v is not None))
            return message.format(**values)
    return None


class Connection:
    """How to reach one server: conninfo strings, the PGPASSFILE and the tools.

    Use as a context manager; the password file and its directory are removed
    on leaving, also on an error.
    """

    def __init__(self, module, params):
        self.module = module
        self.host = params.get("host")
        self.port = params.get("port") or 5432
        self.user = params.get("user")
        self.ssl_mode = params.get("ssl_mode") or "prefer"
        self.connect_timeout = params.get("connect_timeout") or 10
        given = params.get("lock_timeout", LOCK_TIMEOUT)
        self.lock_timeout = duration(LOCK_TIMEOUT if given is None else given)
        self.bin_dir = params.get("bin_dir")
        self._password = params.get("password")
        self._tmpdir = None
        self.passfile = None

    def __enter__(self):
        if self._password is not None:
            self._tmpdir = tempfile.mkdtemp(prefix="golive-pg-")
            os.chmod(self._tmpdir, 0o700)
            self.passfile = os.path.join(self._tmpdir, "pgpass")
            fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, pgpass_line(self._password).encode("utf-8"))
            finally:
                os.close(fd)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self.passfile = None

    @property
    def where(self):
        """The server as messages name it: ``db1:5432`` or ``the local socket (port 5432)``."""
        if self.host and not self.host.startswith("/"):
            return "%s:%s" % (self.host, self.port)
        return "the local socket %s(port %s)" % ((self.host + " ") if self.host else "", self.port)

    def conninfo(self, dbname):
        """A libpq conninfo string for ``dbname``; never holds the password."""
        parts = [("dbname", dbname)]
        if self.host:
            parts.append(("host", self.host))
        parts.append(("port", self.port))
        if self.user:
            parts.append(("user", self.user))
        parts.append(("sslmode", self.ssl_mode))
        parts.append(("connect_timeout", self.connect_timeout))
        parts.append(("application_name", "runbook.golive"))
        # Every statement waits for a lock at most lock_timeout (pg_dump resets it: lock_wait_args).
        parts.append(("options", "-c lock_timeout=%s" % self.lock_timeout))
        return " ".join("%s=%s" % (k, conninfo_value(v)) for k, v in parts)

    def lock_wait_args(self):
        """pg_dump's own bound on waiting for its table locks (it sets lock_timeout to 0 itself)."""
        return ["--lock-wait-timeout=%s" % self.lock_timeout]

    def env(self, client_encoding=False):
        env = {"LC_ALL": "C", "LANG": "C", "LC_MESSAGES": "C"}
        if self.passfile:
            env["PGPASSFILE"] = self.passfile
        if client_encoding:
            env["PGCLIENTENCODING"] = "UTF8"
        return env

    def tool(self, name):
        """Absolute path of a client tool, from bin_dir if given, else the PATH."""
        if self.bin_dir:
            path = os.path.join(self.bin_dir, name)
            if not os.access(path, os.X_OK):
                raise GoliveError("%s not found in bin_dir %s; check bin_dir" % (name, self.bin_dir))
            return path
        path = self.module.get_bin_path(name, required=False)
        if not path:
            raise GoliveError(
                "%s was not found on the target's PATH; install the PostgreSQL client tools "
                "(e.g. postgresql-client) or set bin_dir" % name
            )
        return path

    def tool_version(self, name):
        done = _run.run(self.module, [self.tool(name), "--version"], what="%s --version" % name)
        return parse_tool_version(done.out)

    def fail(self, err, what):
        """Re-raise a tool failure with the known cause and fix in front, if there is one."""
        stderr = err.result.get("stderr") or err.result.get("stdout") or ""
        hint = explain(stderr, self.where, self.user, self.lock_timeout)
        if hint:
            raise GoliveError("%s: %s" % (what, hint), **err.result)
        raise err

    def run(self, argv, what, **kwargs):
        """``_run.run`` with our environment and the error mapping."""
        env = dict(self.env(), **kwargs.pop("env", {}))
        try:
            return _run.run(self.module, argv, what=what, env=env, **kwargs)
        except GoliveError as err:
            self.fail(err, what)

    def psql(self, dbname, sql, what, single_transaction=False):
        """Run ``sql`` (one script, stops at the first error) in ``dbname``; the unaligned output.

        With ``single_transaction`` the script runs in one transaction: all of it or, on an
        error, nothing.
        """
        argv = [
            self.tool("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-w",
            "-v",
            "ON_ERROR_STOP=1",
            "--dbname=%s" % self.conninfo(dbname),
            "--file=-",
        ]
        if single_transaction:
            argv.append("--single-transaction")
        script = "SET standard_conforming_strings = on;\n" + sql
        return self.run(argv, what, env=self.env(client_encoding=True), data=script).out

    def psql_json(self, dbname, sql, what):
        """``sql`` is one query returning one JSON value; that value."""
        return json.loads(self.psql(dbname, sql, what).strip() or "null")


class Session:
    """One psql process held open, e.g. to keep a transaction (and its snapshot) alive.

    ``query`` sends a statement and reads its unaligned output up to a marker
    line; a failure ends psql (ON_ERROR_STOP) and is raised with its cause.
    """

    def __init__(self, conn, dbname, what):
        self.conn = conn
        self.what = what
        self._mark = "__golive_%s__" % uuid.uuid4().hex
        argv = [
            conn.tool("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-w",
            "-v",
            "ON_ERROR_STOP=1",
            "--dbname=%s" % conn.conninfo(dbname),
        ]
        self.proc = _run.spawn(conn.module, argv, what=what, env=conn.env(client_encoding=True), stdin=True)
        self.query("SET standard_conforming_strings = on")

    def send(self, sql):
        """Queue ``sql``; read its answer with ``receive``. psql works on it meanwhile."""
        try:
            self.proc.stdin.write(("%s;\n\\echo %s\n" % (sql.rstrip().rstrip(";"), self._mark)).encode("utf-8"))
            self.proc.stdin.flush()
        except (OSError, ValueError):
            self._died()

    def receive(self):
        """The output of the oldest statement sent and not yet received."""
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self._died()
            line = line.decode("utf-8").rstrip("\n")
            if line == self._mark:
                return "\n".join(lines)
            lines.append(line)

    def receive_json(self):
        return json.loads(self.receive().strip() or "null")

    def query(self, sql):
        self.send(sql)
        return self.receive()

    def query_json(self, sql):
        self.send(sql)
        return self.receive_json()

    def _died(self):
        try:
            self.proc.wait(check=True)
        except GoliveError as err:
            self.conn.fail(err, self.what)
        raise GoliveError("%s: psql ended unexpectedly" % self.what)

    def close(self, commit=True):
        """End the session (COMMIT or ROLLBACK an open transaction first)."""
        if self.proc.proc.poll() is None:
            try:
                self.proc.stdin.write(b"COMMIT;\n" if commit else b"ROLLBACK;\n")
                self.proc.stdin.write(b"\\q\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):
                pass
        try:
            self.proc.wait(check=True)
        except GoliveError as err:
            self.conn.fail(err, self.what)

    def kill(self):
        self.proc.kill()


# Ordinary and partitioned tables of the user, not of extensions: those the dump holds rows of.
TABLES_SQL = r"""
SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, format('%I.%I', n.nspname, c.relname))
                         ORDER BY n.nspname, c.relname), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""


def count_sql(tables):
    """One query giving a JSON object ``{"schema.table": exact row count}`` for ``tables``.

    ``tables`` are ``[schema, table, key]`` rows from TABLES_SQL; names are
    quoted here, in Python.
    """
    if not tables:
        return "SELECT '{}'::json"
    rows = ",\n  ".join(
        "(%s, (SELECT count(*) FROM %s.%s))"  # noqa: S608 - names quoted right here
        % (quote_literal(key), quote_ident(schema), quote_ident(table))
        for schema, table, key in tables
    )
    return "SELECT json_object_agg(k, n) FROM (VALUES\n  %s\n) AS v(k, n)" % rows  # noqa: S608 - quoted above


def row_counts(run_query_json):
    """Exact row counts of every user table, through ``run_query_json(sql)`` (one session or snapshot)."""
    tables = run_query_json(TABLES_SQL) or []
    counts = run_query_json(count_sql(tables)) or {}
    return dict((k, int(v)) for k, v in counts.items())


def compare_counts(expected, got):
    """Differences between two ``{table: rows}`` maps, as a sorted list of dicts."""
    diffs = []
    for table in sorted(set(expected) | set(got)):
        e, g = expected.get(table), got.get(table)
        if e != g:
            diffs.append(dict(table=table, expected=e, got=g))
    return diffs


DATABASE_INFO_SQL = (
    "SELECT json_build_object("
    "'name', d.datname, 'owner', pg_get_userbyid(d.datdba), 'encoding', pg_encoding_to_char(d.encoding), "
    "'row', to_jsonb(d) - 'datacl' - 'datfrozenxid' - 'datminmxid', "
    "'size', pg_database_size(d.oid), 'comment', shobj_description(d.oid, 'pg_database'), "
    "'acl', (SELECT json_agg(json_build_object('grantee', CASE a.grantee WHEN 0 THEN 'PUBLIC' "
    "ELSE pg_get_userbyid(a.grantee) END, 'privilege', a.privilege_type, 'grantable', a.is_grantable)) "
    "FROM aclexplode(d.datacl) a), "
    "'settings', (SELECT json_agg(json_build_object('role', CASE s.setrole WHEN 0 THEN NULL "
    "ELSE pg_get_userbyid(s.setrole) END, 'config', s.setconfig)) "
    "FROM pg_db_role_setting s WHERE s.setdatabase = d.oid)) "
    "FROM pg_database d WHERE d.datname = %s"
)


def database_info_sql(dbname):
    """One JSON object describing database ``dbname`` (or no row): owner, encoding, locale, ACL, settings."""
    return DATABASE_INFO_SQL % quote_literal(dbname)
