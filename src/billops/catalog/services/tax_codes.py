"""Tax codes and their rate tables: create a code, add a rate, import a rate table, seed the usual codes.

Each action is one transaction that checks the actor's permission (catalog.manage), validates, writes and
records one audit event. A rate table is per code and place; a new rate that starts after an open-ended
one closes it the day before, and any other overlap is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.errors import OverlappingRate
from billops.catalog.imports import Reject, plan_rates
from billops.catalog.models import TaxCode, TaxRate, TaxRateImport
from billops.catalog.selectors import get_tax_code
from billops.catalog.services.common import referenced, save_unique
from billops.catalog.validation import (
    Problems,
    Span,
    clean_code,
    clean_country,
    clean_date,
    clean_locality,
    clean_optional_date,
    clean_period,
    clean_rate,
    clean_region,
    clean_text,
    day_before,
    fit_rate,
    place_problems,
)
from billops.core.errors import Duplicate, InvalidInput

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SHIPPED_RATE_FILES = (DATA_DIR / "eu_vat_rates_2026.csv", DATA_DIR / "us_sales_tax_sample.csv")

# (code, name, kind, legal note): the codes `billops catalog seed` creates when they are missing
SEED_TAX_CODES: tuple[tuple[str, str, str, str], ...] = (
    ("VAT-STD", "VAT standard rate", TaxCode.Kind.STANDARD, ""),
    ("VAT-RED", "VAT reduced rate", TaxCode.Kind.REDUCED, ""),
    ("VAT-ZERO", "VAT zero rate", TaxCode.Kind.ZERO, ""),
    ("VAT-EXEMPT", "Exempt from VAT", TaxCode.Kind.EXEMPT, "Exempt from VAT"),
    ("US-SALES", "US sales tax", TaxCode.Kind.SALES_TAX, ""),
)


def tax_code_state(tax_code: TaxCode) -> dict[str, Any]:
    return {
        "code": tax_code.code,
        "name": tax_code.name,
        "kind": tax_code.kind,
        "legal_note": tax_code.legal_note,
        "is_active": tax_code.is_active,
    }


def rate_state(rate: TaxRate) -> dict[str, Any]:
    return {
        "tax_code": rate.tax_code.code,
        "country": rate.country,
        "region": rate.region,
        "locality": rate.locality,
        "rate": rate.rate,
        "valid_from": rate.valid_from,
        "valid_to": rate.valid_to,
    }


def _clean_kind(value: Any) -> str:
    if value not in TaxCode.Kind.values:
        kinds = ", ".join(TaxCode.Kind.values)
        raise InvalidInput(f"kind {value!r} is not one of {kinds}", field="kind")
    return str(value)


def _insert_tax_code(code: str, name: str, kind: str, legal_note: str) -> TaxCode:
    tax_code = TaxCode(code=code, name=name, kind=kind, legal_note=legal_note)
    return save_unique(
        tax_code, duplicate=Duplicate(f"tax code {code} already exists", field="code"), insert=True
    )


@transaction.atomic(durable=True)
def create_tax_code(*, code: str, name: str, kind: str, legal_note: str = "", actor: User) -> TaxCode:
    """Add a tax code (its rates come separately, per country or US state and date)."""
    require_permission(actor, "catalog.manage")
    problems = Problems()
    clean = (
        problems.check(clean_code, code, "code", limit=20),
        problems.check(clean_text, name, "name", limit=100, required=True),
        problems.check(_clean_kind, kind),
        problems.check(clean_text, legal_note, "legal_note", limit=300),
    )
    problems.raise_any()
    code_text, name_text, kind_text, note = (str(value) for value in clean)
    if TaxCode.objects.filter(code=code_text).exists():
        raise Duplicate(f"tax code {code_text} already exists", field="code")
    tax_code = _insert_tax_code(code_text, name_text, kind_text, note)
    record_event(
        actor=actor, action="catalog.tax_code_created", target=tax_code, after=tax_code_state(tax_code)
    )
    return tax_code


@transaction.atomic(durable=True)
def add_tax_rate(
    *,
    tax_code: str,
    country: str,
    rate: Any,
    valid_from: Any,
    region: str = "",
    locality: str = "",
    valid_to: Any = None,
    actor: User,
) -> TaxRate:
    """Add a rate of a tax code for a place from a date. When it starts after an open-ended rate of the
    same place, that rate is closed the day before (the one audit event shows both); other overlaps
    are refused."""
    require_permission(actor, "catalog.manage")
    code = referenced(get_tax_code, tax_code, "tax_code", for_update=True)  # serialises the code's table
    problems = Problems()
    country_code = problems.check(clean_country, country)
    region_code = problems.check(clean_region, region)
    locality_code = problems.check(clean_locality, locality, region_code)
    percent = problems.check(clean_rate, rate)
    first = problems.check(clean_date, valid_from, "valid_from")
    last = problems.check(clean_optional_date, valid_to, "valid_to")
    problems.check(clean_period, first, last)
    if not code.is_active:
        problems.add(InvalidInput(f"tax code {code.code} is no longer in use", field="tax_code"))
    if country_code is not None and region_code is not None:
        for error in place_problems(code.kind, country_code, region_code, locality_code or ""):
            problems.add(error)
    problems.raise_any()

    place = {"tax_code": code, "country": country_code, "region": region_code, "locality": locality_code}
    stored = {r.pk: r for r in TaxRate.objects.filter(**place)}
    new = Span(None, percent, first, last)
    fit = fit_rate([Span(r.pk, r.rate, r.valid_from, r.valid_to) for r in stored.values()], new)
    clash = fit.same or fit.clash
    if clash is not None:
        where = " ".join(part for part in (code.code, country_code, region_code, locality_code) if part)
        raise OverlappingRate(
            f"{where} {new.describe()} overlaps the rate {clash.describe()}; end that rate first or change "
            "the dates",
            field="valid_from",
        )
    before: dict[str, Any] | None = None
    closed: dict[str, Any] = {}
    if fit.close is not None and fit.close.pk is not None:
        previous = stored[fit.close.pk]
        previous.valid_to = day_before(first)
        previous.save(update_fields=["valid_to"])
        before = {"closed_rate": {"id": previous.pk, "rate": previous.rate, "valid_to": None}}
        closed = {"closed_rate": {"id": previous.pk, "rate": previous.rate, "valid_to": previous.valid_to}}
    added = TaxRate.objects.create(**place, rate=percent, valid_from=first, valid_to=last)
    record_event(
        actor=actor,
        action="catalog.tax_rate_added",
        target=added,
        before=before,
        after={**rate_state(added), **closed},
    )
    return added


# --- import ----------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What a rate-table import did: rates added and closed, rows already present, or every problem."""

    rows: int
    file_sha256: str
    created: int = 0
    unchanged: int = 0
    closed: int = 0
    rejects: list[Reject] = field(default_factory=list)
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.rejects

    def rejects_csv(self) -> str:
        """The reject report as CSV (row, column, message), safe to open in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message"])
        for reject in self.rejects:
            row = "" if reject.row is None else reject.row
            writer.writerow([row, _escape(reject.column), _escape(reject.message)])
        return out.getvalue()


def _escape(text: str) -> str:
    # a spreadsheet runs a cell starting with one of these as a formula; the messages quote the file
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r", "'")) else text


@transaction.atomic(durable=True)
def import_tax_rates(*, content: bytes, filename: str, actor: User | None) -> ImportResult:
    """Add every rate of a CSV rate table, or none: on any problem nothing is written and the result lists
    each by row and column. Rows equal to stored rates are left alone, so a second import of the same
    file changes nothing. `actor` None is the operator on the command line (`billops catalog seed`)."""
    if actor is not None:
        require_permission(actor, "catalog.manage")
    list(TaxCode.objects.select_for_update().order_by("pk"))  # serialises with add_tax_rate; a few rows
    digest = hashlib.sha256(content).hexdigest()
    plan = plan_rates(content)
    result = ImportResult(rows=plan.rows, file_sha256=digest, rejects=plan.rejects, unchanged=plan.unchanged)
    if plan.rejects or not (plan.new or plan.closes):
        return result  # refused, or every row is there already: nothing to write, nothing to audit
    codes = {code.code: code for code in TaxCode.objects.filter(code__in={p.key[0] for p in plan.new})}
    closed = []
    for pk, valid_to in plan.closes:
        TaxRate.objects.filter(pk=pk).update(valid_to=valid_to)
        closed.append({"id": pk, "valid_to": valid_to})
    TaxRate.objects.bulk_create(
        TaxRate(
            tax_code=codes[p.key[0]], country=p.key[1], region=p.key[2], locality=p.key[3],
            rate=p.rate, valid_from=p.valid_from, valid_to=p.valid_to,
        )
        for p in plan.new
    )  # fmt: skip
    batch = TaxRateImport.objects.create(
        filename=filename[:255], file_sha256=digest, rows=plan.rows, created=len(plan.new), imported_by=actor
    )
    after = {
        "filename": batch.filename,
        "file_sha256": digest,
        "rows": plan.rows,
        "created": len(plan.new),
        "unchanged": plan.unchanged,
        "closed_rates": closed,
    }
    record_event(actor=actor, action="catalog.tax_rates_imported", target=batch, after=after)
    result.created, result.closed, result.import_id = len(plan.new), len(closed), batch.pk
    return result


# --- seed ------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def seed_tax_codes(*, actor: User | None = None) -> list[TaxCode]:
    """Create the usual tax codes (VAT-STD, VAT-RED, VAT-ZERO, VAT-EXEMPT, US-SALES) that are missing and
    return those created; codes already there are left as they are. `actor` None is the operator."""
    if actor is not None:
        require_permission(actor, "catalog.manage")
    existing = set(TaxCode.objects.values_list("code", flat=True))
    created = []
    for code, name, kind, note in SEED_TAX_CODES:
        if code in existing:
            continue
        tax_code = _insert_tax_code(code, name, kind, note)
        record_event(
            actor=actor, action="catalog.tax_code_created", target=tax_code, after=tax_code_state(tax_code)
        )
        created.append(tax_code)
    return created


def shipped_rate_files() -> list[tuple[str, bytes]]:
    """The rate tables that come with billops, as (file name, content)."""
    return [(path.name, path.read_bytes()) for path in SHIPPED_RATE_FILES]
