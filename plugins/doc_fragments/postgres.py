# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Connection options of every PostgreSQL module (plugins/module_utils/_pg.py PG_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Host name or address of the PostgreSQL server, as seen from the target.
      - A path starting with C(/) is a directory holding the server's unix socket.
      - When not given, the tools use the default unix socket (peer authentication as the
        user the module runs as, for example with C(become_user=postgres)).
    type: str
    aliases: [login_host]
  port:
    description:
      - TCP port of the server (also names the unix socket file).
    type: int
    default: 5432
    aliases: [login_port]
  user:
    description:
      - Role to connect as. Defaults to the name of the user the module runs as.
    type: str
    aliases: [login_user]
  password:
    description:
      - Password of O(user).
      - It reaches the PostgreSQL tools only through a temporary C(PGPASSFILE) (mode 0600, in
        a private temporary directory removed afterwards, also on failure); never on a command
        line and never in C(PGPASSWORD).
    type: str
    aliases: [login_password]
  ssl_mode:
    description:
      - The libpq C(sslmode) of the connection.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  connect_timeout:
    description:
      - Seconds to wait for a connection before giving up.
    type: int
    default: 10
  lock_timeout:
    description:
      - How long any statement of the module waits for a lock before it fails, as a PostgreSQL
        duration (V(30s), V(500ms), V(2min)); V(0) waits without limit.
      - Sent as the session's C(lock_timeout) on every connection, and to C(pg_dump) as
        C(--lock-wait-timeout). A backup, a restore's cut-over or an undo queued behind a long
        lock (a long transaction, a migration, C(VACUUM FULL)) then fails with a message saying
        so, instead of hanging and making every later query on that table wait behind it.
    type: str
    default: 30s
  bin_dir:
    description:
      - Directory holding C(psql), C(pg_dump) and C(pg_restore), for example
        V(/usr/lib/postgresql/16/bin) when the server is newer than the client tools on the PATH.
      - When not given, the tools are looked up on the PATH.
    type: path
requirements:
  - The PostgreSQL client tools C(psql), C(pg_dump) and C(pg_restore) on the target, of at least
    the server's major version. No Python database driver is needed.
notes:
  - Messages of the tools are read in the C locale, so that known errors (wrong password, missing
    database, missing privilege) are reported with their cause and fix.
"""

    # Modules that create, rename or drop databases.
    MAINTENANCE_DB = r"""
options:
  maintenance_db:
    description:
      - The database to connect to for creating, renaming and dropping databases. It must not be
        a database the module creates, renames or drops.
    type: str
    default: postgres
"""
