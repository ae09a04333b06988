"""Whether this release may serve: every one of its migrations is applied.

Until then the code would meet a schema it does not know, and /health answers 503.
Once seen ready, a process stays ready and only checks that the database answers.
"""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

_state = {"ready": False}


def pending_migrations():
    """The migrations of this release that the database has not applied, in order
    (ones of a later release that it has applied do not count)."""
    if _state["ready"]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    _state["ready"] = not pending
    return pending
