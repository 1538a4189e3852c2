"""`billops catalog seed`: the usual tax codes and the rate tables shipped in catalog/data/, idempotent.

A second run finds everything in place, changes nothing and says so.
"""

from __future__ import annotations

import sys

from billops.access.models import User
from billops.access.selectors import get_user
from billops.catalog.services import import_tax_rates, seed_tax_codes, shipped_rate_files
from billops.catalog.services.tax_codes import SEED_TAX_CODES

EXIT_REJECTED = 4


def _say(text: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(text + "\n")


def seed_catalog(*, username: str = "") -> int:
    """Create the missing tax codes, then import each shipped rate table (each file all or nothing)."""
    actor: User | None = None  # the operator at the shell, like `billops createuser`
    if username:
        actor = get_user(username, field="user")
    created = seed_tax_codes(actor=actor)
    if created:
        _say(f"tax codes: created {', '.join(code.code for code in created)}")
    else:
        _say(f"tax codes: all {len(SEED_TAX_CODES)} there already")
    changed = bool(created)
    for filename, content in shipped_rate_files():
        result = import_tax_rates(content=content, filename=filename, actor=actor)
        if not result.ok:
            sys.stderr.write(result.rejects_csv())
            _say(
                f"error: {len(result.rejects)} problems in {filename}; nothing was imported from it",
                error=True,
            )
            return EXIT_REJECTED
        if result.created or result.closed:
            ended = f", {result.closed} earlier rates ended the day before" if result.closed else ""
            _say(f"{filename}: {result.created} rates added{ended}")
            changed = True
        else:
            _say(f"{filename}: all {result.unchanged} rates there already")
    if not changed:
        _say("nothing changed: the catalog was seeded already")
    return 0
