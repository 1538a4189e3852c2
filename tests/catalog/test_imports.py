"""Rate-table imports: all or nothing, every problem named by row and column, a second import of the
same file changes nothing, and the shipped tables load through `billops catalog seed`."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.catalog import services
from billops.catalog.imports import Reject
from billops.catalog.models import TaxRate, TaxRateImport
from billops.cli.main import main
from billops.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db

HEADER = "tax_code,country,region,locality,rate,valid_from,valid_to"


def csv_file(*lines: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode()


def run(content: bytes, actor: User | None) -> services.ImportResult:
    return services.import_tax_rates(content=content, filename="rates.csv", actor=actor)


@pytest.fixture
def codes(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)


def test_import_adds_every_rate_and_records_one_event(supervisor: User, codes: None) -> None:
    content = csv_file(
        HEADER,
        "VAT-STD,DE,,,19,2026-01-01,",
        "vat-red,de,,,7.0,2026-01-01,2026-12-31",
        "US-SALES,US,CA,,7.25,2026-01-01,",
        "US-SALES,US,CA,94103,1.375,2026-01-01,",
        bom=True,
    )
    events = AuditEvent.objects.count()
    result = run(content, supervisor)

    assert (result.ok, result.rows, result.created, result.unchanged, result.closed) == (True, 4, 4, 0, 0)
    stored = TaxRate.objects.order_by("tax_code__code", "locality").values_list(
        "tax_code__code", "country", "region", "locality", "rate", "valid_from", "valid_to"
    )
    assert list(stored) == [
        ("US-SALES", "US", "CA", "", Decimal("7.25"), date(2026, 1, 1), None),
        ("US-SALES", "US", "CA", "94103", Decimal("1.375"), date(2026, 1, 1), None),
        ("VAT-RED", "DE", "", "", Decimal("7"), date(2026, 1, 1), date(2026, 12, 31)),
        ("VAT-STD", "DE", "", "", Decimal("19"), date(2026, 1, 1), None),
    ]
    assert AuditEvent.objects.count() == events + 1
    batch = TaxRateImport.objects.get()
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "catalog.tax_rates_imported",
        supervisor,
        "catalog.taxrateimport",
        str(batch.pk),
    )
    assert event.after == {
        "filename": "rates.csv",
        "file_sha256": hashlib.sha256(content).hexdigest(),
        "rows": 4,
        "created": 4,
        "unchanged": 0,
        "closed_rates": [],
    }
    assert (batch.rows, batch.created, batch.imported_by, result.import_id) == (4, 4, supervisor, batch.pk)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    supervisor: User, codes, unchanged
) -> None:
    content = csv_file(HEADER, "VAT-STD,DE,,,19,2026-01-01,", "VAT-STD,FR,,,20,2026-01-01,")
    assert run(content, supervisor).created == 2
    with unchanged():
        again = run(content, supervisor)
    assert (again.ok, again.created, again.unchanged, again.import_id) == (True, 0, 2, None)


def test_a_new_rate_in_a_file_ends_the_open_ended_rate_before_it(supervisor: User, codes: None) -> None:
    run(csv_file(HEADER, "VAT-STD,DE,,,19,2026-01-01,"), supervisor)
    old = TaxRate.objects.get()
    result = run(
        csv_file(HEADER, "VAT-STD,DE,,,21,2026-07-01,2026-12-31", "VAT-STD,DE,,,22,2027-01-01,"), supervisor
    )
    assert result.ok, result.rejects
    assert (result.created, result.closed) == (2, 1)
    spans = TaxRate.objects.order_by("valid_from").values_list("rate", "valid_from", "valid_to")
    assert [(str(r.normalize()), f, t) for r, f, t in spans] == [
        ("19", date(2026, 1, 1), date(2026, 6, 30)),
        ("21", date(2026, 7, 1), date(2026, 12, 31)),
        ("22", date(2027, 1, 1), None),
    ]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.after is not None
    assert event.after["closed_rates"] == [{"id": old.pk, "valid_to": "2026-06-30"}]


def test_clashes_with_stored_rates_are_rejected_and_nothing_is_written(
    supervisor: User, codes, unchanged
) -> None:
    services.add_tax_rate(
        tax_code="VAT-STD",
        country="DE",
        rate="19",
        valid_from="2026-01-01",
        valid_to="2026-12-31",
        actor=supervisor,
    )
    content = csv_file(HEADER, "VAT-STD,FR,,,20,2026-01-01,", "VAT-STD,DE,,,16,2026-07-01,2026-09-30")
    with unchanged():
        result = run(content, supervisor)
    assert (result.ok, result.created) == (False, 0)
    assert result.rejects == [
        Reject(3, "valid_from", "overlaps the stored rate of VAT-STD DE: 19% from 2026-01-01 to 2026-12-31")
    ]


@pytest.mark.parametrize(
    ("content", "rejects"),
    [
        (b"", [Reject(None, "", "the file is empty")]),
        (b"  \n\n", [Reject(None, "", "the file is empty")]),
        (csv_file(HEADER), [Reject(None, "", "the file has a header but no rates")]),
        (
            csv_file("tax_code,country,rate,valid_from,valid_to,colour", "VAT-STD,DE,19,2026-01-01,,red"),
            [
                Reject(1, "colour", f"unknown column; the columns are {HEADER}"),
                Reject(1, "region", "this column is missing"),
                Reject(1, "locality", "this column is missing"),
            ],
        ),
        (
            csv_file(HEADER.replace(",", ";"), "VAT-STD;DE;;;19,5;2026-01-01;"),
            [
                Reject(1, HEADER.replace(",", ";"), f"unknown column; the columns are {HEADER}"),
                *[Reject(1, name, "this column is missing") for name in HEADER.split(",")],
                Reject(1, "", "the separator is ',' (a ';' was found in the header)"),
            ],
        ),
        (
            b"tax_code,country\n\xff\xfe",
            [Reject(2, "", "the file is not UTF-8 text (byte 0xFF); save it as 'CSV UTF-8'")],
        ),
    ],
)
def test_file_problems_are_reported_and_nothing_is_written(
    supervisor, codes, unchanged, content, rejects
) -> None:
    with unchanged():
        result = run(content, supervisor)
    assert result.rejects == rejects
    assert result.created == 0


def test_every_bad_cell_is_reported_with_its_row_and_column(supervisor: User, codes, unchanged) -> None:
    content = csv_file(
        HEADER,
        "VAT-STD,DE,,,19,2026-01-01,",  # row 2: fine, but not written either
        'VAT-STD,FR,,,"19,5",2026-01-01,',  # 3: a decimal comma
        "VAT-STD,AT,,,20,01.01.2026,",  # 4: not an ISO date
        "VAT-STD,XX,,,20,2026-01-01,",  # 5: no such country
        "GST,AU,,,10,2026-01-01,",  # 6: no such tax code
        "VAT-STD,BE,,,100,2026-01-01,",  # 7: 100 %
        "VAT-STD,NL,,,-1,2026-01-01,",  # 8: negative
        "VAT-STD,IT,,,22,2026-01-01,2025-12-31",  # 9: ends before it starts
        "US-SALES,US,,10001,4.5,2026-01-01,",  # 10: a ZIP code without its state
        "VAT-STD,DE,,,19,2026-01-01,",  # 11: the same as row 2
        "",  # 12: blank, skipped
        "VAT-STD,ES,,,21,2026-01-01,,extra",  # 13: one cell too many
    )
    with unchanged():
        result = run(content, supervisor)
    assert [(r.row, r.column) for r in result.rejects] == [
        (3, "rate"),
        (4, "valid_from"),
        (5, "country"),
        (6, "tax_code"),
        (7, "rate"),
        (8, "rate"),
        (9, "valid_to"),
        (10, "region"),
        (10, "locality"),
        (11, "valid_from"),
        (13, ""),
    ]
    messages = {(r.row, r.column): r.message for r in result.rejects}
    assert messages[(3, "rate")] == "rate '19,5': the decimal separator is '.' (write 19.5)"
    assert messages[(4, "valid_from")] == "valid_from '01.01.2026' is not a date like 2026-01-31"
    assert messages[(6, "tax_code")] == "there is no tax code 'GST'; create it first"
    assert messages[(7, "rate")] == "rate must be at least 0 and below 100 (percent), got 100"
    assert messages[(9, "valid_to")] == "valid_to 2025-12-31 is before valid_from 2026-01-01"
    assert messages[(11, "valid_from")] == "VAT-STD DE from 2026-01-01 repeats row 2"
    assert messages[(13, "")] == "the row has 8 cells but the header names 7"
    assert result.rejects_csv().splitlines()[:2] == [
        "row,column,message",
        "3,rate,\"rate '19,5': the decimal separator is '.' (write 19.5)\"",
    ]


def test_rows_of_one_file_may_not_overlap(supervisor: User, codes, unchanged) -> None:
    content = csv_file(HEADER, "VAT-STD,DE,,,19,2026-01-01,", "VAT-STD,DE,,,21,2026-07-01,")
    with unchanged():
        result = run(content, supervisor)
    assert result.rejects == [Reject(3, "valid_from", "VAT-STD DE from 2026-07-01 overlaps row 2")]


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_only_a_supervisor_imports_rates(make_user, role, codes, unchanged) -> None:
    actor = make_user(role)
    with unchanged(), pytest.raises(PermissionDenied):
        run(csv_file(HEADER, "VAT-STD,DE,,,19,2026-01-01,"), actor)


# --- the command line ------------------------------------------------------------------------------


def test_billops_import_tax_rates(supervisor: User, codes: None, tmp_path: Path, capsys) -> None:
    good = tmp_path / "rates.csv"
    good.write_bytes(csv_file(HEADER, "VAT-STD,DE,,,19,2026-01-01,"))
    assert main(["import", "tax-rates", str(good), "--user", "supervisor"]) == 0
    assert capsys.readouterr().out == "imported 1 tax rates from rates.csv\n"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file(HEADER, "VAT-STD,FR,,,abc,2026-01-01,"))
    assert main(["import", "tax-rates", str(bad), "--user", "supervisor"]) == 4
    err = capsys.readouterr().err
    assert "2,rate,rate 'abc' is not a number like 1234.50" in err
    assert err.endswith("error: 1 problem in bad.csv; nothing was imported\n")
    assert TaxRate.objects.count() == 1


def test_billops_catalog_seed_twice_changes_nothing_the_second_time(db: None, capsys) -> None:
    assert main(["catalog", "seed"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first == [
        "tax codes: created VAT-STD, VAT-RED, VAT-ZERO, VAT-EXEMPT, US-SALES",
        "eu_vat_rates_2026.csv: 53 rates added",
        "us_sales_tax_sample.csv: 61 rates added",
    ]
    assert TaxRate.objects.filter(tax_code__code="US-SALES", locality="").count() == 51  # 50 states and DC
    events = AuditEvent.objects.count()
    assert AuditEvent.objects.filter(action="catalog.tax_rates_imported", actor=None).count() == 2
    assert main(["catalog", "seed"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "tax codes: all 5 there already",
        "eu_vat_rates_2026.csv: all 53 rates there already",
        "us_sales_tax_sample.csv: all 61 rates there already",
        "nothing changed: the catalog was seeded already",
    ]
    assert AuditEvent.objects.count() == events
