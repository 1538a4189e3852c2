"""VAT IDs and national tax numbers, compacted and checked with python-stdnum."""

from __future__ import annotations

import re
from typing import Any

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as NumberError
from stdnum.util import get_cc_module

from billops.core.errors import InvalidInput
from billops.customers.countries import COUNTRY_CODES
from billops.customers.errors import InvalidTaxId, InvalidVatId

VAT_ONLY_PREFIXES = frozenset({"EL", "EU", "XI"})  # VAT prefixes that are not ISO 3166 codes

# the national tax number a country's `tax_id` is checked against, where python-stdnum knows one
TAX_ID_MODULES = {
    "AT": "tin", "AU": "abn", "BR": "cnpj", "CA": "bn", "CH": "uid", "DE": "stnr", "DK": "cvr", "ES": "nif",
    "FR": "siren", "GB": "utr", "GH": "tin", "IN": "pan", "IT": "codicefiscale", "MX": "rfc", "PL": "nip",
    "SE": "orgnr", "TH": "tin", "US": "tin", "ZA": "tin",
}  # fmt: skip


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    return value.strip()


_NUMBER_PROBLEMS = {
    InvalidChecksum: "its check digits are wrong",
    InvalidLength: "it has the wrong length",
    InvalidFormat: "it is not in the format of that country",
    InvalidComponent: "a part of it is not valid",
}


def _problem(exc: NumberError) -> str:
    return next((text for kind, text in _NUMBER_PROBLEMS.items() if isinstance(exc, kind)), "it is not valid")


def clean_vat_id(value: Any, country: str, name: str = "vat_id") -> str:
    """Compact a VAT ID and check it for the country of its prefix (the customer's country if it has none).

    EU numbers go through python-stdnum's `eu.vat`; other countries through their own module where
    python-stdnum has one. A number of a country it does not know is kept as given, compacted.
    """
    text = re.sub(r"[\s.\-/]", "", _text(value, name)).upper()
    if not text:
        return ""
    if text[:2] not in COUNTRY_CODES | VAT_ONLY_PREFIXES:
        text = ("EL" if country == "GR" else country) + text
    if text.startswith("GR"):
        text = "EL" + text[2:]  # Greek VAT numbers carry EL, not the ISO code
    prefix = text[:2]
    if not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,38}", text):
        raise InvalidVatId(
            f"VAT ID {text!r} must be a country prefix followed by letters and digits", field=name
        )
    if prefix.lower() in eu_vat.MEMBER_STATES | {"el", "eu"}:
        try:
            return str(eu_vat.validate(text))
        except NumberError as exc:
            raise InvalidVatId(f"VAT ID {text} is not valid: {_problem(exc)}", field=name) from None
    module = get_cc_module(prefix.lower(), "vat")
    if module is None:
        return text
    failures: list[NumberError] = []
    for candidate in (text, text[2:]):  # some of python-stdnum's modules take the prefix, some do not
        try:
            number = str(module.validate(candidate))
        except NumberError as exc:
            failures.append(exc)
            continue
        return number if number.startswith(prefix) else prefix + number
    worst = min(
        failures, key=lambda exc: next((i for i, k in enumerate(_NUMBER_PROBLEMS) if isinstance(exc, k)), 9)
    )
    raise InvalidVatId(f"VAT ID {text} is not valid for {prefix}: {_problem(worst)}", field=name)


def clean_tax_id(value: Any, country: str, name: str = "tax_id") -> str:
    """Compact a national tax number and check it where python-stdnum knows the customer's country's rule."""
    text = _text(value, name)
    if not text:
        return ""
    module = get_cc_module(country.lower(), TAX_ID_MODULES[country]) if country in TAX_ID_MODULES else None
    if module is None:
        compact = re.sub(r"\s+", "", text).upper()
        if len(compact) > 40 or not re.fullmatch(r"[A-Z0-9./-]+", compact):
            raise InvalidTaxId(
                f"tax ID {text!r} may only hold letters, digits, dots, dashes and slashes", field=name
            )
        return compact
    try:
        return str(module.validate(text))
    except NumberError as exc:
        raise InvalidTaxId(f"tax ID {text} is not valid for {country}: {_problem(exc)}", field=name) from None
