"""`flush` that can wipe a PostgreSQL database whose posted rows are guarded by immutability triggers.

Flushing is the operator erasing everything (the test runner does it between transactional tests).
Triggers are bypassed with `session_replication_role = replica`, which needs a superuser: the same
person could drop the triggers anyway, so the guard against ordinary writers stays intact.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            super().handle(**options)
            return
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")
