"""`billops import usage FILE`: a usage CSV file, all or nothing, as the API's file upload takes it."""

from __future__ import annotations

import sys
from pathlib import Path

from billops.access.selectors import get_user
from billops.cli.imports import EXIT_REJECTED
from billops.core.errors import InvalidInput
from billops.usage.services.ingestion import import_events


def import_usage_file(*, path: Path, username: str) -> int:
    """Import the file's events as `username`; on any bad row print the reject report and store nothing."""
    if not username:
        raise InvalidInput("say who imports with --user NAME (or BILLOPS_USER)", field="user")
    actor = get_user(username, field="user")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field="file")
    result = import_events(content=path.read_bytes(), filename=path.name, actor=actor)
    if not result.ok:
        sys.stderr.write(result.rejects_csv())
        problems = f"{len(result.rejects)} problem{'' if len(result.rejects) == 1 else 's'}"
        sys.stderr.write(f"error: {problems} in {path.name}; nothing was imported\n")
        return EXIT_REJECTED
    sys.stdout.write(
        f"imported {result.accepted} usage events from {path.name} "
        f"({result.duplicates} duplicate{'' if result.duplicates == 1 else 's'} skipped)\n"
    )
    return 0
