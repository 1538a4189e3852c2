"""Domain errors, currencies and the shared money fields."""

import pytest

from billops.core import errors
from billops.core.currencies import CURRENCY_CHOICES, MINOR_UNITS, minor_units, validate_currency
from billops.core.fields import AmountField, CurrencyField
from billops.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


def test_as_dict_gives_code_message_and_field():
    error = errors.InvalidAmount("amount 1e3 is not a number like 1234.50", field="lines.0.amount", row=3)
    assert error.as_dict() == {
        "code": "invalid_amount",
        "message": "amount 1e3 is not a number like 1234.50",
        "field": "lines.0.amount",
    }
    assert error.details == {"row": 3}
    assert str(error) == "amount 1e3 is not a number like 1234.50"


def test_as_dict_without_a_field_says_none():
    assert errors.NotFound("no customer 7").as_dict() == {
        "code": "not_found",
        "message": "no customer 7",
        "field": None,
    }


@pytest.mark.parametrize(
    ("error_class", "code", "status"),
    [
        (errors.DomainError, "invalid", 400),
        (errors.InvalidInput, "invalid", 400),
        (errors.InvalidAmount, "invalid_amount", 400),
        (errors.UnknownCurrency, "unknown_currency", 400),
        (errors.CurrencyMismatch, "currency_mismatch", 400),
        (errors.NotFound, "not_found", 404),
        (errors.PermissionDenied, "permission_denied", 403),
        (errors.Conflict, "conflict", 409),
        (errors.Duplicate, "duplicate", 409),
        (errors.UnprocessableReplay, "idempotency_key_reused", 422),
    ],
)
def test_each_error_has_its_code_and_http_status(error_class, code, status):
    error = error_class("message", field="field")
    assert isinstance(error, errors.DomainError)
    assert (error.code, error.http_status) == (code, status)
    assert error.as_dict()["code"] == code


@pytest.mark.parametrize(
    ("code", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CLP", 0), ("BHD", 3)]
)
def test_minor_units_per_currency(code, places):
    assert minor_units(code) == places


def test_unknown_currency_is_refused_naming_the_field():
    with pytest.raises(errors.UnknownCurrency) as refused:
        validate_currency("XXQ", field="invoice_currency")
    assert refused.value.field == "invoice_currency"
    assert refused.value.message == "'XXQ' is not an ISO 4217 currency code"
    with pytest.raises(errors.UnknownCurrency):
        minor_units("usd")


def test_currency_choices_list_every_code_once_in_order():
    codes = [code for code, _ in CURRENCY_CHOICES]
    assert codes == sorted(MINOR_UNITS)
    assert len(set(codes)) == len(codes)


def test_amount_field_holds_the_shared_precision():
    field = AmountField()
    assert (field.max_digits, field.decimal_places) == (AMOUNT_DIGITS, AMOUNT_PLACES) == (18, 6)


def test_currency_field_keeps_the_code_list_out_of_migrations():
    field = CurrencyField()
    assert field.max_length == 3
    assert field.choices == CURRENCY_CHOICES
    _, path, _, kwargs = field.deconstruct()
    assert path == "billops.core.fields.CurrencyField"
    assert "choices" not in kwargs
    assert kwargs["max_length"] == 3
