"""Domain errors of the catalog; each names the field (or file row and column) at fault."""

from __future__ import annotations

from typing import Any

from billops.core.errors import Conflict, DomainError, InvalidInput


class OverlappingRate(Conflict):
    """A tax rate would apply on days another rate of the same code and place already covers."""

    code = "overlapping_rate"


class NotRevenueAccount(InvalidInput):
    code = "not_revenue_account"


class CatalogInvalid(InvalidInput):
    """Several fields are wrong at once; `errors` holds each one so a form can show it by its field."""

    code = "invalid"

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        summary = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        super().__init__(f"{len(errors)} fields need correcting — {summary}", field=errors[0].field)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [error.as_dict() for error in self.errors]}


def raise_errors(errors: list[DomainError]) -> None:
    """Raise the one error as itself, several as CatalogInvalid, none not at all."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CatalogInvalid(errors)


def errors_of(exc: DomainError) -> list[DomainError]:
    """The single errors inside a raised DomainError, for showing each next to its field."""
    return list(exc.errors) if isinstance(exc, CatalogInvalid) else [exc]


class UnknownCode(InvalidInput):
    """A request names a tax code, account, product or price list that does not exist."""

    code = "unknown_code"
