"""Database helpers: optional list filters for the selectors, deadlocks reported as conflicts, and, for
migrations, PostgreSQL triggers that make rows immutable.

The services never change posted rows; these triggers are the second line of defence against raw SQL.
SQLite has no such guard, which is why `billops check` re-verifies hashes and digests.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError, connection, migrations, models
from django.utils import timezone

from billops.core.errors import Conflict

P = ParamSpec("P")
R = TypeVar("R")
DEADLOCK_SQLSTATE = "40P01"


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh ids for rows of the model that a bulk write inserts with their keys set, because
    rows written in the same statement batch refer to each other (an invoice and its journal entry).
    Call it inside the writing transaction."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the database's write lock from its start (transaction_mode
        # IMMEDIATE), so nobody inserts in between; AUTOINCREMENT never reuses an id, even a deleted one
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {quoted}), 0), "  # noqa: S608 - the model's table
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        last = cursor.fetchone()[0]
        return list(range(last + 1, last + 1 + count))


def _needs_preparing(field: models.Field[Any, Any]) -> bool:
    # the drivers take ints, text, Decimals, dates and None as they are (Django registers SQLite's
    # adapters); a timestamp must be made naive UTC on SQLite, JSON dumped
    return isinstance(field, models.DateTimeField | models.JSONField | models.BinaryField)


def _is_automatic_time(field: models.Field[Any, Any]) -> bool:
    return isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)


def _prepare_column(values: list[list[Any]], index: int, field: models.Field[Any, Any]) -> None:
    """The column's values as the driver takes them; a timestamp seen before (the rows' automatic time)
    is prepared once."""
    if not isinstance(field, models.DateTimeField):
        for row in values:
            row[index] = field.get_db_prep_save(row[index], connection)
        return
    done: dict[Any, Any] = {}
    for row in values:
        value = row[index]
        if value not in done:
            done[value] = field.get_db_prep_save(value, connection)
        row[index] = done[value]


def insert_rows(rows: Sequence[models.Model]) -> None:
    """Insert new rows of one model, as `bulk_create` would, in one `executemany`, without compiling an
    INSERT of every value: a bill run writes millions of values. Either every row has its id set
    (`reserve_ids`) or none has, and the database numbers them (their ids are then not read back)."""
    if not rows:
        return
    model = type(rows[0])
    with_ids = rows[0].pk is not None
    if any((row.pk is not None) != with_ids for row in rows):
        raise ValueError("insert_rows takes rows that all have their id set, or none")
    fields = [field for field in model._meta.concrete_fields if with_ids or not field.primary_key]
    relations = [field for field in fields if isinstance(field, models.ForeignKey)]
    for row in rows:
        for relation in relations:  # as bulk_create: take each related row's id, refuse one not saved
            if getattr(row, relation.attname) is None and relation.is_cached(row):
                related = relation.get_cached_value(row)
                if related is not None and related.pk is None:
                    raise ValueError(f"{model.__name__}.{relation.name} is an unsaved related object")
                if related is not None:
                    setattr(row, relation.attname, related.pk)
    now = timezone.now()  # one moment for the automatic times of rows written in one statement
    for field in filter(_is_automatic_time, fields):
        for row in rows:
            setattr(row, field.attname, now)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    # a new row holds every field's value in its __dict__ (read there: a descriptor costs per value)
    read = operator.itemgetter(*[field.attname for field in fields])
    values = [list(read(row.__dict__)) for row in rows]
    for index, field in enumerate(fields):
        if _needs_preparing(field):
            _prepare_column(values, index, field)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
    for row in rows:
        row._state.adding, row._state.db = False, connection.alias


def update_rows(rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write the named fields of saved rows of one model, in one `executemany` of `UPDATE … WHERE id`:
    what `save(update_fields=…)` does row by row."""
    if not rows:
        return
    model = type(rows[0])
    columns = [field for field in model._meta.concrete_fields if field.name in fields]
    if len(columns) != len(fields):
        raise ValueError(f"update_rows takes columns of {model.__name__}, not {', '.join(fields)}")
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in columns)
    values = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", values)  # noqa: S608


class MonthStart(models.Func):
    """The first day of a date's month, computed by the database itself: `TruncMonth` calls a Python
    function for every row on SQLite, and a bill run groups every usage event by month."""

    output_field = models.DateField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="DATE(%(expressions)s, 'start of month')", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(DATE_TRUNC('month', %(expressions)s) AS date)"
        return self.as_sql(compiler, connection, template=template, **extra)


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
