"""The `billops` commands an operator scripts: demo, import, createuser; called through `main()` as the
shell would, reading the exit code, stdout, stderr and then the database."""

from __future__ import annotations

import io
import random
import re
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count
from django.utils import timezone
from stdnum import ean
from stdnum.util import get_cc_module

from billops.access import clock
from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.billing.models import BilledItem, BillRun, BillRunDraft, BillRunException
from billops.cli import demo
from billops.cli.invariants import BILLED_KINDS, check_all
from billops.cli.main import main
from billops.core.calendars import add_months
from billops.customers.models import Customer, CustomerImport, OpeningBalance
from billops.invoicing.models import Invoice, InvoiceLine
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, PeriodStatus
from billops.payments.models import BankLine, Receipt, StatementFile
from billops.timekeeping.models import Matter, TimeEntry

pytestmark = pytest.mark.django_db

DEMO_CUSTOMERS = 30
# the two months before this one, each billed by its run and closed, and this month, not billed yet; the
# first month's run lists the trainee without a rate, the second bills their time and last month's late usage
DEMO_MONTHS = 3


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_VAR_DIR", str(tmp_path))
    return tmp_path


def run_demo(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["demo", "--seed", "1", "--customers", str(DEMO_CUSTOMERS), "--months", str(DEMO_MONTHS)])
    return code, " ".join(capsys.readouterr().out.split())  # however rich wraps the summary


def demo_logins(var_dir: Path) -> dict[str, str]:
    """username -> password, read from the logins file the demo wrote."""
    lines = (var_dir / "demo-logins.txt").read_text().splitlines()
    assert lines[0] == "Demo logins (user / password):"
    return {user: password for user, password, *_ in (line.split() for line in lines[1:])}


def whole_database() -> dict[str, object]:
    return {
        "users": list(User.objects.order_by("pk").values_list("username", "role", "password")),
        "customers": list(Customer.objects.order_by("pk").values()),
        "opening_balances": list(OpeningBalance.objects.order_by("pk").values()),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("pk", "digest")),
        "events": list(AuditEvent.objects.order_by("seq").values_list("seq", "hash")),
        "periods": list(AccountingPeriod.objects.order_by("start_on").values_list("start_on", "status")),
    }


# --- billops demo --------------------------------------------------------------------------------------


def test_demo_builds_the_company_and_bills_each_finished_month_through_a_bill_run(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_demo(capsys)

    assert code == 0
    assert sorted(User.objects.values_list("username", "role")) == sorted(
        (role.value, role.value) for role in Role
    )
    assert Customer.objects.count() == DEMO_CUSTOMERS
    assert sorted(Customer.objects.values_list("account_number", flat=True)) == [
        f"C-{n:05d}" for n in range(1, DEMO_CUSTOMERS + 1)
    ]
    balances = OpeningBalance.objects.all()
    assert balances.count() == 20
    for balance in balances.select_related("customer"):
        assert (balance.currency, balance.balance_on) == (balance.customer.currency, demo.CUT_OVER_ON)
        assert balance.reference == f"LEGACY-{balance.customer.account_number}"
        assert balance.open_amount == balance.amount != 0
        assert balance.journal_entry_id is not None
    this_month = timezone.localdate().replace(day=1)
    first, second = add_months(this_month, -2), add_months(this_month, -1)
    assert list(AccountingPeriod.objects.order_by("start_on").values_list("start_on", "status")) == [
        (demo.CUT_OVER_ON.replace(day=1), PeriodStatus.CLOSED),
        (first, PeriodStatus.CLOSED),
        (second, PeriodStatus.CLOSED),
        (this_month, PeriodStatus.OPEN),
    ]
    # one in thirty held at cut-over; today's credit review holds those over their credit limit
    on_hold = Customer.objects.filter(credit_hold=True)
    assert on_hold.filter(credit_hold_reason="Payment overdue since cut-over").count() == 1
    reviewed = on_hold.filter(credit_hold_reason__startswith="Credit review ")
    assert reviewed.count() == on_hold.count() - 1
    assert Customer.objects.exclude(parent=None).count() == 4
    # the same seed builds the same company in any database: seed 1's trail, action by action
    actions = dict(AuditEvent.objects.values_list("action").annotate(n=Count("seq")).order_by())
    assert {
        action: n for action, n in actions.items() if action.split(".")[0] in ("access", "customers")
    } == {
        "access.user_created": 5,
        # the first month's first day, then the 15th and the last day (today) of each month, and the
        # first of the month after each billed one
        "access.clock_set": 1 + 2 * DEMO_MONTHS + DEMO_MONTHS - 1,
        "access.clock_reset": 1,
        "customers.created": 30,
        "customers.changed": 2,  # two of the legal clients invoiced per matter
        "customers.credit_limit_set": 26,
        "customers.credit_hold_placed": 1 + reviewed.count(),
        "customers.opening_balance_posted": 20,
    }
    assert clock.test_date() is None  # the demo system runs on the real date

    # one run per finished month, by the clerk, its invoices dated the next month's first day
    clerk = User.objects.get(username="clerk")
    runs = list(BillRun.objects.order_by("period_start"))
    assert [(run.period_start, run.invoice_date, run.status, run.started_by) for run in runs] == [
        (first, second, BillRun.Status.DONE, clerk),
        (second, this_month, BillRun.Status.DONE, clerk),
    ]
    # every invoice was issued by a run: one per billed customer and run
    issued = Invoice.objects.filter(document_type="invoice", number__isnull=False)
    assert issued.count() == sum(run.invoices_issued for run in runs) == actions["invoice.issued"] > 20
    run_drafts = BillRunDraft.objects.filter(invoice__isnull=False)
    assert run_drafts.count() == sum(run.drafts_created for run in runs)
    billed_on = BilledItem.objects.values("invoice_id").distinct().count()
    assert issued.count() + run_drafts.count() == billed_on
    # two legal clients are invoiced per matter: their matter's work on an invoice of its own
    per_matter = Customer.objects.filter(run_invoice_per="matter_or_contract")
    assert per_matter.count() == 2
    assert issued.filter(customer__in=per_matter, reference__startswith="matter M-").exists()
    assert set(issued.values_list("issued_on", flat=True)) == {second, this_month}
    # the customer on credit hold is an exception of each run; the trainee's client of the first only,
    # until the supervisor set the trainee's rate: the second run billed their time
    held = Customer.objects.get(credit_hold_reason="Payment overdue since cut-over")
    exceptions = {
        (run.period_start, exception.customer_id, exception.field)
        for run in runs
        for exception in BillRunException.objects.filter(run=run)
    }
    trainee_client = Matter.objects.order_by("number").first().customer_id
    assert exceptions == {
        (first, held.pk, "credit_hold"),
        (first, trainee_client, "rate"),
        (second, held.pk, "credit_hold"),
    }
    trainee = TimeEntry.objects.filter(timekeeper__code="TN", worked_on__lt=this_month)
    assert trainee.filter(worked_on__lt=second).count() == 1  # their first day
    assert set(trainee.values_list("status", "billed_rate")) == {("billed", Decimal(95))}
    # the first month's late usage arrived after its run: the second run billed it as an adjustment
    adjustments = InvoiceLine.objects.filter(description__contains="late-usage adjustment")
    assert adjustments.exists()
    assert set(adjustments.values_list("invoice__issued_on", flat=True)) == {this_month}
    # corrections of the first run's invoices, this month's work in progress
    assert actions["credit_note.issued"] == Invoice.objects.filter(document_type="credit_note").count() >= 1
    assert actions["invoice.voided"] == Invoice.objects.filter(status="void").count() >= 1
    assert Invoice.objects.filter(status="draft").count() == 12
    assert Invoice.objects.filter(status="submitted").count() == 5
    money = ("credit_note.issued", "debit_note.issued", "invoice.voided", "receipt.posted", "receipt.applied",
             "receipt.reversed", "receipt.refunded", "collections.written_off",
             "collections.write_off_recovered")  # fmt: skip
    assert JournalEntry.objects.count() == balances.count() + issued.count() + sum(
        actions.get(action, 0) for action in money
    )
    # the banks' files in all five formats: payments matched on import or by the clerk, fees dismissed
    formats = set(StatementFile.objects.values_list("format", flat=True))
    assert formats == {"bai2", "camt.053", "csv", "mt940", "ofx"}
    from_banks = Receipt.objects.filter(bank_line__isnull=False)  # the others: promised to the collector
    assert BankLine.objects.filter(status="posted").count() == from_banks.count() > 0
    assert BankLine.objects.filter(status="rejected", reason="dismissed: bank account fee").exists()
    assert f"Demo company built (seed 1): {DEMO_CUSTOMERS} customers." in out
    assert f"Bill runs: 2 runs issued {issued.count()} invoices" in out
    assert "period 2025-12 closed" in out

    report = check_all()
    assert {name: result["problems"] for name, result in report["invariants"].items()} == {
        "I1": [],
        "I2": [],
        "I3": [],
        "I4": [],
        "I5": [],
    }
    counts = report["counts"]
    assert counts["customers"] == DEMO_CUSTOMERS
    assert counts["opening_balances"] == balances.count()
    assert counts["periods_closed"] == 3
    assert counts["invoices_issued"] == issued.count()
    assert counts["bill_runs"] == 2
    # subscription, usage, order, one-off, time and expense work, each billed by the runs
    billed = {name: n for name, n in counts.items() if name.startswith("billed_")}
    assert sorted(billed) == sorted(BILLED_KINDS)
    assert all(n > 0 for n in billed.values()), billed
    assert sum(billed.values()) == BilledItem.objects.count()
    # the collector's months: calls, promises, disputes, write-offs, plans and this month's and last
    # month's dunning runs
    assert counts["dunning_runs"] == 2
    assert counts["collectors_assigned"] == Customer.objects.filter(status="active").count()
    assert counts["activities"] > 0
    assert "Collections: " in out and "customers assigned to collectors" in out


def test_demo_writes_logins_that_work(var_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_demo(capsys)

    logins_file = var_dir / "demo-logins.txt"
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600
    logins = demo_logins(var_dir)
    assert sorted(logins) == sorted(role.value for role in Role)
    for username, password in logins.items():
        user = authenticate(username=username, password=password)
        assert user is not None and user.username == username
        assert authenticate(username=username, password=password + "x") is None


def test_demo_again_on_a_built_database_changes_nothing_and_exits_0(
    var_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_demo(capsys)
    before = whole_database()
    logins = (var_dir / "demo-logins.txt").read_text()

    code = main(["demo", "--seed", "2", "--customers", "5"])

    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "The demo company is already built in this database; nothing was changed." in out
    assert logins.splitlines()[1].split()[1] in out  # it shows the logins again
    assert whole_database() == before
    assert (var_dir / "demo-logins.txt").read_text() == logins
    assert verify_chain().ok


@pytest.mark.parametrize("customers", ["0", "-3"])
def test_demo_without_customers_is_refused_and_builds_nothing(
    var_dir: Path, capsys: pytest.CaptureFixture[str], customers: str
) -> None:
    code = main(["demo", "--seed", "1", "--customers", customers])

    assert code == 1
    assert capsys.readouterr().err == (
        f"error: the demo needs at least one customer, not {customers} (customers)\n"
    )
    assert (User.objects.count(), Customer.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)
    assert not (var_dir / "demo-logins.txt").exists()


def test_demo_customer_data_is_the_same_for_the_same_seed() -> None:
    def draw(seed: int) -> list[demo.CustomerData]:
        rng = random.Random(seed)
        parent = ("C-00001", "GB")
        return [demo._customer_data(rng, n, parent if n % 3 == 0 else None) for n in range(1, 41)]

    first, again, other = draw(7), draw(7), draw(8)

    assert first == again
    assert first != other
    assert [data.account_number for data in first] == [f"C-{n:05d}" for n in range(1, 41)]
    for data in first:
        if data.parent_account_number:
            assert (data.parent_account_number, data.country, data.currency) == ("C-00001", "GB", "GBP")
        if data.country != "US":
            assert get_cc_module(data.country.lower(), "vat").is_valid(data.vat_id), data.vat_id
        if data.einvoice_endpoint_id:
            assert ean.is_valid(data.einvoice_endpoint_id.removeprefix("0088:"))


# --- billops import customers --------------------------------------------------------------------------


GOOD_CSV = (
    "account_number,legal_name,currency,country,vat_id,terms\n"
    "P-1000,Parent Holding AG,EUR,DE,DE 136 695 976,NET30\n"
    "P-1001,Parent Berlin GmbH,EUR,DE,,2/10NET30\n"
)
BAD_CSV = (
    "account_number,legal_name,currency,country\n"
    "P-2000,Good Row GmbH,EUR,DE\n"
    "P-2001,Bad Currency GmbH,EUX,DE\n"
)


@pytest.fixture
def no_user_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BILLOPS_USER", raising=False)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_customers_creates_every_row_and_exits_0(
    tmp_path: Path, clerk: User, no_user_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "customers.csv", GOOD_CSV)

    code = main(["import", "customers", str(path), "--user", "clerk"])

    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "imported 2 customers from customers.csv\n", "")
    assert list(Customer.objects.order_by("account_number").values_list("account_number", "vat_id")) == [
        ("P-1000", "DE136695976"),
        ("P-1001", ""),
    ]
    batch = CustomerImport.objects.get()
    assert (batch.filename, batch.rows, batch.imported_by) == ("customers.csv", 2, clerk)
    assert AuditEvent.objects.filter(action="customers.created", actor=clerk).count() == 2
    assert AuditEvent.objects.filter(action="customers.imported", actor=clerk).count() == 1


def test_import_takes_the_user_from_billops_user(
    tmp_path: Path, clerk: User, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BILLOPS_USER", "clerk")
    path = write(tmp_path, "customers.csv", GOOD_CSV)

    assert main(["import", "customers", str(path)]) == 0
    assert Customer.objects.count() == 2


def test_import_with_a_bad_row_exits_4_names_row_and_column_and_creates_nothing(
    tmp_path: Path, clerk: User, no_user_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.csv", BAD_CSV)
    events = AuditEvent.objects.count()

    code = main(["import", "customers", str(path), "--user", "clerk"])

    out, err = capsys.readouterr()
    assert code == 4
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "row,column,message"
    assert re.fullmatch(r"3,currency,.*EUX.*", lines[1]), lines[1]
    assert lines[-1] == "error: 1 problem in bad.csv; nothing was imported"
    assert len(lines) == 3
    assert Customer.objects.count() == 0
    assert CustomerImport.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("present_user", "user_args", "message"),
    [
        ("clerk", ["--user", "nobody"], "error: no user named 'nobody' (user)\n"),
        (None, [], "error: say who imports with --user NAME (or BILLOPS_USER) (user)\n"),
        ("auditor", ["--user", "auditor"], "error: the auditor role may not do customers.import\n"),
    ],
    ids=["unknown-user", "without-a-user", "auditor-is-refused"],
)
def test_import_without_a_permitted_user_exits_1_and_creates_nothing(
    tmp_path: Path,
    db: None,
    no_user_env: None,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    present_user: str | None,
    user_args: list[str],
    message: str,
) -> None:
    if present_user:
        request.getfixturevalue(present_user)
    path = write(tmp_path, "customers.csv", GOOD_CSV)
    events = AuditEvent.objects.count()

    code = main(["import", "customers", str(path), *user_args])

    out, err = capsys.readouterr()
    assert (code, out, err) == (1, "", message)
    assert (Customer.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_import_of_a_missing_file_exits_1(
    tmp_path: Path, clerk: User, no_user_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.csv"

    code = main(["import", "customers", str(missing), "--user", "clerk"])

    assert code == 1
    assert capsys.readouterr().err == f"error: {missing} is not a file (file)\n"


# --- billops createuser --------------------------------------------------------------------------------


STRONG = "lantern-copper-meadow-42"


def test_createuser_reads_the_password_from_stdin_and_audits_it(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))

    code = main(
        ["createuser", "dora", "--role", "collector", "--password-stdin", "--email", "dora@example.com",
         "--name", "Dora Explorer"]
    )  # fmt: skip

    assert (code, capsys.readouterr().out) == (0, "created dora (Collector)\n")
    user = User.objects.get(username="dora")
    assert (user.role, user.email, user.first_name, user.last_name) == (
        Role.COLLECTOR,
        "dora@example.com",
        "Dora",
        "Explorer",
    )
    assert authenticate(username="dora", password=STRONG) == user
    event = AuditEvent.objects.get(action="access.user_created")
    assert (event.actor_id, event.actor_label, event.target_id) == (None, "system", str(user.pk))
    assert event.after == {"username": "dora", "role": "collector"}
    assert verify_chain().ok


def test_createuser_takes_the_password_without_a_windows_line_ending(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\r\n"))

    assert main(["createuser", "dora", "--role", "clerk", "--password-stdin"]) == 0
    assert authenticate(username="dora", password=STRONG) is not None


def test_createuser_asks_twice_and_refuses_different_passwords(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([STRONG, STRONG + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    code = main(["createuser", "dora", "--role", "clerk"])

    assert (code, capsys.readouterr().err) == (1, "error: the passwords do not match\n")
    assert (User.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_createuser_asks_for_the_password_at_the_terminal(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return STRONG

    monkeypatch.setattr("getpass.getpass", typed)

    assert main(["createuser", "sam", "--role", "supervisor"]) == 0
    assert prompts == ["Password for sam: ", "Again: "]
    assert User.objects.get(username="sam").role == Role.SUPERVISOR


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("dora", "This password is too short"),
        ("12345678901", "This password is entirely numeric"),
        ("", "This password is too short"),
    ],
)
def test_createuser_with_a_weak_password_exits_1_and_creates_nothing(
    db: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))

    code = main(["createuser", "dora", "--role", "collector", "--password-stdin"])

    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and message in err and err.endswith(" (password)\n"), err
    assert not User.objects.filter(username="dora").exists()
    assert AuditEvent.objects.count() == 0


def test_createuser_twice_exits_1_and_keeps_the_first(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    assert main(["createuser", "dora", "--role", "collector", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))

    code = main(["createuser", "dora", "--role", "admin", "--password-stdin"])

    assert code == 1
    assert capsys.readouterr().err == "error: a user named 'dora' already exists (username)\n"
    assert User.objects.get(username="dora").role == Role.COLLECTOR
    assert AuditEvent.objects.filter(action="access.user_created").count() == 1


def test_an_unknown_role_is_refused_by_the_parser(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["createuser", "dora", "--role", "owner", "--password-stdin"])
    assert exited.value.code == 2
    assert "invalid choice: 'owner'" in capsys.readouterr().err
    assert not User.objects.exists()


# --- billops migrate -----------------------------------------------------------------------------------


def test_migrate_on_a_migrated_database_applies_nothing_and_keeps_the_chart(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = list(Account.objects.order_by("code").values_list("code", "purpose"))

    assert main(["migrate"]) == 0

    assert "No migrations to apply." in capsys.readouterr().out
    assert list(Account.objects.order_by("code").values_list("code", "purpose")) == accounts
    assert len(accounts) == 11
