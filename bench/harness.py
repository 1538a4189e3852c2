"""What every benchmark shares: the database to run against and Django set up on it.

The benchmarks are run as scripts (`python bench/<name>.py`), so this folder is on the import path.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """The database URL to run against: a temporary SQLite file, or a PostgreSQL cluster."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="billops-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    if url := os.environ.get("BILLOPS_BENCH_PG_URL"):
        yield url
        return
    sys.path.insert(0, str(ROOT / "tools"))
    from throwaway_postgres import throwaway_cluster

    with throwaway_cluster() as url:
        yield url


def setup_django(url: str, var_dir: str) -> None:
    """Point Django at the database and migrate it."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "billops.settings"
    os.environ["BILLOPS_DATABASE_URL"] = url
    os.environ["BILLOPS_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
