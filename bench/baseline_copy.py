"""The raw baseline of a write benchmark: the same rows, written by plain bulk inserts into a copy.

`Snapshot.take` copies the database as it is before the benchmarked work and notes each table's highest
id. `Snapshot.replay` then reads back every row the work added to those tables, holds them in memory, and
times writing them into the copy: `executemany` on SQLite, `COPY` on PostgreSQL, in `chunks`
transactions, each committed. No business logic runs: this is the cost of the rows themselves.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
from django.db import connection, connections

BASELINE_DATABASE = "billops_bench_baseline"


@dataclass
class Snapshot:
    url: str
    tables: tuple[str, ...]
    copy_url: str
    high_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def take(cls, url: str, tables: tuple[str, ...]) -> Snapshot:
        connections.close_all()  # PostgreSQL copies a database only while nobody is connected to it
        if connection.vendor == "sqlite":
            path = urlparse(url).path
            copy_path = path + ".baseline"
            with sqlite3.connect(path) as source, sqlite3.connect(copy_path) as target:
                source.backup(target)
            copy_url = f"sqlite://{copy_path}"
        else:
            parts = urlparse(url)
            with psycopg.connect(url, autocommit=True) as pg:
                pg.execute(f"DROP DATABASE IF EXISTS {BASELINE_DATABASE}")
                pg.execute(f"CREATE DATABASE {BASELINE_DATABASE} TEMPLATE {parts.path.lstrip('/')}")
            copy_url = urlunparse(parts._replace(path=f"/{BASELINE_DATABASE}"))
        snapshot = cls(url, tables, copy_url)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                snapshot.high_ids[table] = cursor.fetchone()[0]
        return snapshot

    def _added_rows(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """Each table's columns and the rows added since the snapshot, in id order."""
        added = {}
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"SELECT * FROM {table} WHERE id > %s ORDER BY id", [self.high_ids[table]])
                columns = [column[0] for column in cursor.description]
                added[table] = (columns, [tuple(row) for row in cursor.fetchall()])
        return added

    def replay(self, *, chunks: int, updates: list[tuple[str, list[tuple[Any, ...]]]]) -> float:
        """Seconds to write the added rows into the copy in `chunks` committed transactions, plus the
        given UPDATE statements (each with its parameter rows), spread the same way."""
        added = self._added_rows()
        vendor = connection.vendor
        connections.close_all()
        started = time.perf_counter()
        if vendor == "sqlite":
            _replay_sqlite(urlparse(self.copy_url).path, added, chunks, updates)
        else:
            _replay_postgresql(self.copy_url, added, chunks, updates)
        return time.perf_counter() - started


def _slice(rows: list[Any], chunk: int, chunks: int) -> list[Any]:
    size = -(-len(rows) // chunks)
    return rows[chunk * size : (chunk + 1) * size]


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _replay_sqlite(
    path: str, added: dict[str, tuple[list[str], list[tuple[Any, ...]]]], chunks: int, updates: list[Any]
) -> None:
    with sqlite3.connect(path, isolation_level=None) as db:
        # CHECK constraints may call REGEXP (a receipt's card_last4), which SQLite has only where Django
        # registers it: the baseline's connection gets the same function
        db.create_function("REGEXP", 2, _regexp, deterministic=True)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        for chunk in range(chunks):
            db.execute("BEGIN IMMEDIATE")
            for table, (columns, rows) in added.items():
                marks = ", ".join("?" * len(columns))
                db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    _slice(rows, chunk, chunks),
                )
            for statement, parameters in updates:
                db.executemany(statement.replace("%s", "?"), _slice(parameters, chunk, chunks))
            db.execute("COMMIT")


def _replay_postgresql(
    url: str, added: dict[str, tuple[list[str], list[tuple[Any, ...]]]], chunks: int, updates: list[Any]
) -> None:
    with psycopg.connect(url) as pg:
        for chunk in range(chunks):
            with pg.transaction(), pg.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for table, (columns, rows) in added.items():
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in _slice(rows, chunk, chunks):
                            copy.write_row(row)
                for statement, parameters in updates:
                    cursor.executemany(statement, _slice(parameters, chunk, chunks))
