"""`billops import usage FILE`: all or nothing, every problem by row and column, BOM tolerated, formula
cells refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.cli.main import main
from billops.usage.models import BillableMetric, UsageBatch, UsageEvent
from tests.invoicing.factories import make_customer
from tests.usage.factories import make_metric

pytestmark = pytest.mark.django_db

HEADER = "event_id,customer,metric,timestamp,value\n"


@pytest.fixture
def metrics(clerk: User, entity: Any, usage_product: Any) -> list[BillableMetric]:
    make_customer(clerk, account_number="A-1")
    return [make_metric(clerk), make_metric(clerk, "STORAGE", "max", name="Storage", unit="GB", field="gb")]


def run_import(tmp_path: Path, content: bytes) -> int:
    path = tmp_path / "usage.csv"
    path.write_bytes(content)
    return main(["import", "usage", str(path), "--user", "clerk"])


def test_a_file_with_a_byte_order_mark_is_imported_and_audited_once(
    tmp_path: Path, clerk: User, metrics: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = (
        "c1,A-1,API-CALLS,2026-03-14T10:00:00Z,\r\n"
        "s1,a-1,storage,2026-03-14T10:00:00+01:00,12.5\r\n"
        "\r\n"
        "s1,A-1,STORAGE,2026-03-14T10:00:00+01:00,12.5\r\n"
    )
    assert run_import(tmp_path, b"\xef\xbb\xbf" + (HEADER + rows).encode()) == 0
    assert capsys.readouterr().out == "imported 2 usage events from usage.csv (1 duplicate skipped)\n"
    assert list(UsageEvent.objects.order_by("pk").values_list("event_id", "used_on", "value")) == [
        ("c1", date(2026, 3, 14), Decimal(0)),
        ("s1", date(2026, 3, 14), Decimal("12.5")),
    ]
    batch = UsageBatch.objects.get()
    assert (batch.source, batch.filename, batch.received, batch.accepted, batch.duplicates) == (
        "file",
        "usage.csv",
        3,
        2,
        1,
    )
    event = AuditEvent.objects.get(action="usage.events_imported")
    assert (event.after["accepted"], event.after["duplicates"], event.after["filename"]) == (
        2,
        1,
        "usage.csv",
    )


def test_every_problem_is_named_by_row_and_column_and_nothing_is_imported(
    tmp_path: Path, metrics: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = (
        "ok,A-1,API-CALLS,2026-03-14T10:00:00Z,\n"
        "b1,NOPE,API-CALLS,2026-03-14T10:00:00Z,\n"
        "b2,A-1,STORAGE,2026-03-14T10:00:00Z,-3\n"
        "b3,A-1,STORAGE,,4\n"
        "@SUM(A1),A-1,API-CALLS,2026-03-14T10:00:00Z,\n"
        "b5,A-1,STORAGE,2026-03-14T10:00:00Z,=1+2\n"
        "b6,A-1,STORAGE,2026-03-14T10:00:00Z,1,extra\n"
    )
    assert run_import(tmp_path, (HEADER + rows).encode()) == 4
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "row,column,message",
        "6,event_id,the cell starts like a spreadsheet formula",
        "7,value,the cell starts like a spreadsheet formula",
        '8,,"the row has 6 cells, the header 5"',
        "error: 3 problems in usage.csv; nothing was imported",
    ]
    assert UsageEvent.objects.count() == 0

    fixed = rows.replace("@SUM(A1)", "b4").replace("=1+2", "3").replace(",1,extra", ",1")
    assert run_import(tmp_path, (HEADER + fixed).encode()) == 4
    assert capsys.readouterr().err.splitlines() == [
        "row,column,message",
        "3,customer,there is no customer 'NOPE'",
        '4,value,"value must be zero or more, got -3"',
        "5,timestamp,timestamp is required",
        "error: 3 problems in usage.csv; nothing was imported",
    ]
    assert (UsageEvent.objects.count(), UsageBatch.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (
            b"event_id,customer,metric,when,value\n",
            "unknown column; the columns are event_id, customer, metric, timestamp, value",
        ),
        (b"\xff\xfeevent_id\n", "the file is not UTF-8 text; save it as 'CSV UTF-8'"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(
    tmp_path: Path, metrics: Any, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    assert run_import(tmp_path, content) == 4
    assert message in capsys.readouterr().err
    assert UsageEvent.objects.count() == 0
