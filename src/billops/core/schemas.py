"""API schema pieces every router shares: how amounts and dates travel, request bodies that refuse
unknown fields, list pages, and the error reply every operation documents.

Amounts travel as decimal strings ("10.10"); a JSON number with a fraction is refused, because by the
time it is parsed it is a binary float and may no longer be the amount the client meant. Whole JSON
numbers are exact and accepted.

Dates travel as "YYYY-MM-DD" only: Pydantic would also read a number (or a string of digits) as a Unix
timestamp, so a mistyped `0` would close the period of January 1970.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from annotated_types import Ge, Le
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import BeforeValidator, ConfigDict, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from billops.core.errors import InvalidAmount
from billops.core.money import to_decimal

DECIMAL_TEXT_SCHEMA = {
    "type": "string",
    "pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$",
    "examples": ["1234.50"],
}


def _decimal_text(value: object, info: ValidationInfo) -> Decimal:
    try:
        return to_decimal(value, field=info.field_name or "amount")
    except InvalidAmount as exc:
        raise PydanticCustomError("decimal_text", exc.message) from None


# an amount in a request: decimal text like "10.10"
AmountIn = Annotated[Decimal, BeforeValidator(_decimal_text), WithJsonSchema(DECIMAL_TEXT_SCHEMA)]
# an amount in a reply: decimal text at the currency's minor unit
AmountOut = Annotated[Decimal, WithJsonSchema({"type": "string", "examples": ["1234.50"]})]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value  # Pydantic still checks it is a real day
    raise PydanticCustomError("iso_date", "a date is written YYYY-MM-DD")


# a date in a request (body, query or path): "2025-03-14", never a timestamp
DateIn = Annotated[date, BeforeValidator(_iso_date)]


class StrictIn(Schema):
    """A request body in which a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    """Every refusal: a code for machines, a message for clerks, and the field at fault (or null).

    A 422 for a request that does not fit the schema also carries `errors`, the validator's own list.
    """

    code: str
    message: str
    field: str | None


# every operation that reads a query string: a value that does not fit (422) or holds a NUL character (400)
QUERY_ERRORS = (400, 422)
# every POST and PATCH may meet these: a body that is not JSON or holds a NUL character, a malformed or
# reused Idempotency-Key (400, 422), a duplicate still running (409), the read-only auditor (403)
WRITE_ERRORS = (400, 403, 409, 422)


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error replies an operation documents next to its success: 401 always, a token is required."""
    return dict.fromkeys(sorted({401, *statuses}), ErrorOut)


# the largest integer SQLite and PostgreSQL take for an id, a LIMIT or an OFFSET; past it a number is a
# 422 rather than a database error (SQLite cannot even compare a larger one)
SQL_BIGINT_MAX = 2**63 - 1

# a row's id in a path or a body
RowId = Annotated[int, Ge(1), Le(SQL_BIGINT_MAX)]


class LimitOffset(LimitOffsetPagination):
    """Ninja's `?limit=&offset=` pages, with bounds the database can take."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=SQL_BIGINT_MAX)
        offset: int = Field(0, ge=0, le=SQL_BIGINT_MAX)
