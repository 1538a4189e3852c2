"""Database helpers: optional list filters for the selectors, deadlocks reported as conflicts, and, for
migrations, PostgreSQL triggers that make rows immutable.

The services never change posted rows; these triggers are the second line of defence against raw SQL.
SQLite has no such guard, which is why `billops check` re-verifies hashes and digests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError, migrations

from billops.core.errors import Conflict

P = ParamSpec("P")
R = TypeVar("R")
DEADLOCK_SQLSTATE = "40P01"


def deadlock_as_conflict(action: Callable[P, R]) -> Callable[P, R]:
    """Wrap a durable service: when PostgreSQL breaks a deadlock by failing this transaction (already
    rolled back, nothing written), the caller gets a Conflict (409) to retry instead of a database error."""

    @functools.wraps(action)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return action(*args, **kwargs)
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_SQLSTATE:
                raise
            raise Conflict("another change to the same records ran at the same moment; try again") from exc

    return run


def given(**lookups: Any) -> dict[str, Any]:
    """The filter lookups whose value was given: None or empty text means "any" and drops out."""
    return {lookup: value for lookup, value in lookups.items() if value is not None and value != ""}


REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION billops_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billops: rows of % are immutable (% refused); post a correction instead',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _protect(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION billops_refuse_change();\n"
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION billops_refuse_change();"
    )


def protect_tables(*tables: str) -> migrations.RunPython:
    """A migration operation that refuses UPDATE, DELETE and TRUNCATE on the tables (PostgreSQL only)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(REFUSE_FUNCTION, params=None)
        for table in tables:
            schema_editor.execute(_protect(table))

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")

    return migrations.RunPython(forwards, backwards)
