"""`billops import bank-statement FILE [--format F] [--bank-account CODE]`: a bank file imported as on the
pages, then a one-screen summary; a refused file changes nothing and exits non-zero."""

from __future__ import annotations

import sys
from pathlib import Path

from billops.access.selectors import get_user
from billops.core.errors import InvalidInput
from billops.payments.services.bank_files import import_bank_file


def import_bank_statement(*, path: Path, username: str, format: str = "", bank_account: str = "") -> int:
    if not username:
        raise InvalidInput("say who imports with --user NAME (or BILLOPS_USER)", field="user")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field="file")
    result = import_bank_file(
        data=path.read_bytes(), file_name=path.name, actor=get_user(username, field="user"), format=format,
        bank_account=bank_account,
    )  # fmt: skip
    file = result.file
    if result.already_imported:
        sys.stdout.write(
            f"{path.name} was imported before, as {file.file_name} on {file.imported_at:%Y-%m-%d %H:%M}: "
            "nothing read again\n"
        )
        return 0
    sys.stdout.write(
        f"imported {path.name} ({file.format}, bank account {file.bank_account.code}): "
        f"{file.lines_read} lines, in {file.total_in:.2f} and out {file.total_out:.2f} {file.currency}; "
        f"{result.posted} posted, {result.parked} in the matching queue, {result.rejected} rejected\n"
    )
    return 0
