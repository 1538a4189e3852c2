"""API schema pieces every router shares: how amounts travel, and request bodies that refuse unknown fields.

Amounts travel as decimal strings ("10.10"); a JSON number with a fraction is refused, because by the
time it is parsed it is a binary float and may no longer be the amount the client meant. Whole JSON
numbers are exact and accepted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from ninja import Schema
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


class StrictIn(Schema):
    """A request body in which a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")
