"""Domain errors of customer master data; each names the field at fault."""

from __future__ import annotations

from billops.core.errors import FieldErrors, InvalidInput


class InvalidVatId(InvalidInput):
    code = "invalid_vat_id"


class InvalidTaxId(InvalidInput):
    code = "invalid_tax_id"


class HierarchyCycle(InvalidInput):
    """A customer would become its own ancestor."""

    code = "hierarchy_cycle"


class CustomerInvalid(FieldErrors):
    """Several fields of one request are wrong at once."""


raise_errors = CustomerInvalid.raise_any
