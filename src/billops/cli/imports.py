"""`billops import KIND FILE`: the same all-or-nothing imports as the staff pages, from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

from billops.access.selectors import get_user
from billops.catalog.services import import_tax_rates
from billops.core.errors import InvalidInput
from billops.customers.services import import_customers

EXIT_REJECTED = 4


def import_file(*, kind: str, path: Path, username: str) -> int:
    """Import a customer file or a tax-rate table as `username`; on any bad row print the reject report and
    write nothing."""
    if not username:
        raise InvalidInput("say who imports with --user NAME (or BILLOPS_USER)", field="user")
    actor = get_user(username, field="user")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field="file")
    content = path.read_bytes()
    result = (
        import_tax_rates(content=content, filename=path.name, actor=actor)
        if kind == "tax-rates"
        else import_customers(content=content, filename=path.name, actor=actor)
    )
    if not result.ok:
        sys.stderr.write(result.rejects_csv())
        problems = f"{len(result.rejects)} problem{'' if len(result.rejects) == 1 else 's'}"
        print(f"error: {problems} in {path.name}; nothing was imported", file=sys.stderr)
        return EXIT_REJECTED
    print(f"imported {result.created} {kind.replace('-', ' ')} from {path.name}")
    return 0
