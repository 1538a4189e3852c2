"""The UTBMS litigation code set shipped with billops (data/utbms_litigation.csv): loaded by the app's
data migration, and again after every `migrate` (a test database flush empties the table)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps

CODE_SET_FILE = Path(__file__).parent / "data" / "utbms_litigation.csv"


def litigation_codes() -> list[dict[str, str]]:
    """The rows of the shipped file: code_set, code, phase, description."""
    with CODE_SET_FILE.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def ensure_litigation_codes(apps: Any = None, using: str = "default", **_: Any) -> None:
    """Add the shipped codes that are missing; codes already there are left as they are."""
    try:
        code_model = (apps or global_apps).get_model("timekeeping", "UtbmsCode")
    except LookupError:  # migrated back to before the table existed
        return
    present = set(code_model.objects.using(using).values_list("code", flat=True))
    code_model.objects.using(using).bulk_create(
        code_model(**row) for row in litigation_codes() if row["code"] not in present
    )
