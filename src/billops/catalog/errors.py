"""Domain errors of the catalog; each names the field (or file row and column) at fault."""

from __future__ import annotations

from billops.core.errors import Conflict, FieldErrors, InvalidInput


class OverlappingRate(Conflict):
    """A tax rate would apply on days another rate of the same code and place already covers."""

    code = "overlapping_rate"


class NotRevenueAccount(InvalidInput):
    code = "not_revenue_account"


class CatalogInvalid(FieldErrors):
    """Several fields of one request are wrong at once."""


raise_errors = CatalogInvalid.raise_any


class UnknownCode(InvalidInput):
    """A request names a tax code, account, product or price list that does not exist."""

    code = "unknown_code"
