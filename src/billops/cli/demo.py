"""`billops demo`: a deterministic demo company built through the same services a clerk uses.

The same seed always gives the same customers, amounts and passwords: users per role, customers with
varied terms, tax statuses, cycles and hierarchies, and opening balances posted through the ledger on the
cut-over date, whose period is then closed. Then a year of billing, month by month through the bill runs
with the business date moved along (`demo_year`).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from stdnum import ean
from stdnum.us import ein
from stdnum.util import get_cc_module

from billops.access import clock
from billops.access.models import Role, User
from billops.access.services import create_user
from billops.cli.demo_year import KINDS, DemoYear, build_demo_year
from billops.core.errors import InvalidInput
from billops.core.money import Money
from billops.customers import selectors as customer_selectors
from billops.customers import services as customer_services
from billops.customers.validation import AddressData, ContactData, CustomerData
from billops.ledger.services import close_period

CUT_OVER_ON = date(2025, 12, 31)  # balances carried over from the earlier system are dated here
ROLES = [Role.ADMIN, Role.SUPERVISOR, Role.CLERK, Role.COLLECTOR, Role.AUDITOR]
WORDS = [
    "ledger",
    "invoice",
    "harbour",
    "maple",
    "copper",
    "meadow",
    "lantern",
    "orbit",
    "willow",
    "quartz",
    "summit",
    "canyon",
    "falcon",
    "juniper",
    "cobalt",
    "ember",
    "prairie",
    "glacier",
    "saffron",
    "tundra",
]

# country -> (currency, cities, street names)
MARKETS = {
    "DE": (
        "EUR",
        ["Berlin", "Hamburg", "München", "Köln", "Leipzig"],
        ["Hauptstraße", "Lindenallee", "Hafenweg"],
    ),
    "FR": ("EUR", ["Paris", "Lyon", "Lille", "Nantes"], ["rue de la Paix", "avenue Foch", "quai Voltaire"]),
    "AT": ("EUR", ["Wien", "Graz", "Linz"], ["Ringstraße", "Mariahilfer Straße"]),
    "GB": ("GBP", ["London", "Leeds", "Bristol", "Glasgow"], ["High Street", "Station Road", "Mill Lane"]),
    "CH": ("CHF", ["Zürich", "Basel", "Bern"], ["Bahnhofstrasse", "Seestrasse"]),
    "US": (
        "USD",
        ["New York", "Chicago", "Austin", "Denver", "Boston"],
        ["Main Street", "Oak Avenue", "5th Avenue"],
    ),
}
NAME_PARTS = (
    [
        "Northwind",
        "Bluewater",
        "Ironbridge",
        "Silverline",
        "Greenfield",
        "Redwood",
        "Stonegate",
        "Brightpath",
        "Oakridge",
        "Clearview",
        "Highland",
        "Riverside",
        "Summit",
        "Harbor",
        "Evergreen",
        "Goldcrest",
        "Westbrook",
        "Eastwood",
        "Lakeshore",
        "Pinecrest",
    ],
    [
        "Logistics",
        "Dental",
        "Legal",
        "Foods",
        "Engineering",
        "Clinics",
        "Software",
        "Printing",
        "Consulting",
        "Builders",
        "Pharma",
        "Media",
        "Energy",
        "Textiles",
        "Robotics",
    ],
)
SUFFIX = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "FR": "SAS", "GB": "Ltd", "US": "Inc."}
TERMS = ["NET30", "NET30", "NET30", "NET15", "NET45", "NET60", "2/10NET30", "15NEXT", "DUE"]
TAGS = ["key-account", "public-sector", "reseller", "law-firm", "healthcare", "manufacturing"]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str


def _logins_file() -> Path:
    return Path(os.environ.get("BILLOPS_VAR_DIR", "var")) / "demo-logins.txt"


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(count - 1))


def _vat_id(rng: random.Random, country: str) -> str:
    """A VAT ID with valid check digits for the country (drawn until one passes python-stdnum)."""
    rule = get_cc_module(country.lower(), "vat")
    if rule is None:
        raise ValueError(f"python-stdnum has no VAT rule for {country}")
    while True:
        candidate = {
            "DE": lambda: "DE" + _digits(rng, 9),
            "FR": lambda: "FR" + _digits(rng, 11),
            "AT": lambda: "ATU" + _digits(rng, 8),
            "GB": lambda: "GB" + _digits(rng, 9),
            "CH": lambda: "CHE" + _digits(rng, 9) + "MWST",
        }[country]()
        if rule.is_valid(candidate):
            return candidate


def _employer_id(rng: random.Random) -> str:
    while True:
        candidate = f"{rng.randint(10, 99)}-{_digits(rng, 7)}"
        if ein.is_valid(candidate):
            return candidate


def _gln_endpoint(rng: random.Random) -> str:
    """A PEPPOL endpoint id under scheme 0088 (a GS1 global location number with its check digit)."""
    base = _digits(rng, 12)
    return f"0088:{base}{ean.calc_check_digit(base)}"


def _customer_data(rng: random.Random, index: int, parent: tuple[str, str] | None) -> CustomerData:
    """Customer number `index`; a child of `parent` (account number, country) is in its parent's country."""
    country = (
        parent[1] if parent else rng.choice(["DE", "DE", "FR", "AT", "GB", "GB", "CH", "US", "US", "US"])
    )
    currency, cities, streets = MARKETS[country]
    name = f"{rng.choice(NAME_PARTS[0])} {rng.choice(NAME_PARTS[1])} {SUFFIX[country]}"
    exempt = rng.random() < 0.12
    cycle = rng.choice(["monthly"] * 6 + ["quarterly", "quarterly", "annual", "anniversary"])
    delivery = rng.choice(["email"] * 6 + ["portal", "post", "einvoice"])
    domain = name.split()[0].lower() + ".example"
    contacts = [
        ContactData(role="billing", name=f"{rng.choice(WORDS).title()} Billing", email=f"billing@{domain}")
    ]
    if rng.random() < 0.6:
        contacts.append(
            ContactData(role="ap", name="Accounts Payable", email=f"ap@{domain}", phone="+1 555 0100")
        )
    if rng.random() < 0.3:
        contacts.append(ContactData(role="collections", name="Treasury", email=f"treasury@{domain}"))
    address = AddressData(
        kind="billing", lines=f"{rng.randint(1, 200)} {rng.choice(streets)}", city=rng.choice(cities),
        postal_code=_digits(rng, 5), country=country,
    )  # fmt: skip
    return CustomerData(
        account_number=f"C-{index:05d}",
        legal_name=name,
        currency=currency,
        country=country,
        status=rng.choice(["active"] * 12 + ["inactive", "prospect"]),
        terms=rng.choice(TERMS),
        vat_id="" if country == "US" else _vat_id(rng, country),
        tax_id=_employer_id(rng) if country == "US" else "",
        tax_status="exempt" if exempt else "taxable",
        exemption_certificate=f"EX-{rng.randint(1000, 9999)}" if exempt else "",
        exemption_expires_on=date(2027, rng.randint(1, 12), 28) if exempt else None,
        cycle=cycle,
        cycle_day=rng.choice([1, 1, 1, 15, 28]) if cycle in ("monthly", "quarterly", "annual") else None,
        anniversary_on=date(2024, rng.randint(1, 12), rng.randint(1, 28)) if cycle == "anniversary" else None,
        remittance_instructions="Please quote the invoice number with every payment.",
        delivery_method=delivery,
        einvoice_endpoint_id=_gln_endpoint(rng) if delivery == "einvoice" else "",
        parent_account_number=parent[0] if parent else "",
        bill_to_parent=parent is not None and rng.random() < 0.5,
        tags=rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2])),
        notes="Prefers calls in the morning." if rng.random() < 0.1 else "",
        contacts=contacts,
        addresses=[address],
    )


def _make_users(rng: random.Random) -> dict[str, tuple[User, DemoLogin]]:
    users = {}
    for role in ROLES:
        password = "-".join(rng.sample(WORDS, 3)) + f"-{rng.randint(10, 99)}"
        user = create_user(
            username=role.value, password=password, role=role, actor=None,
            email=f"{role.value}@billops.example", full_name=f"Demo {role.label}",
        )  # fmt: skip
        users[role.value] = (user, DemoLogin(role.value, role.label, password))
    return users


def build_demo(*, seed: int, customers: int, months: int = 0) -> int:
    """Build the demo company once; a second run reports it is already there and changes nothing."""
    if customers < 1:
        raise InvalidInput(f"the demo needs at least one customer, not {customers}", field="customers")
    console = Console()
    if User.objects.filter(username="clerk").exists() or customer_selectors.count_customers():
        console.print("The demo company is already built in this database; nothing was changed.")
        if _logins_file().exists():
            console.print(_logins_file().read_text().rstrip())
        return 0
    rng = random.Random(seed)
    users = _make_users(rng)
    clerk, supervisor = users["clerk"][0], users["supervisor"][0]
    created: list[tuple[int, str, str]] = []  # (customer id, account number, currency)
    parents: list[tuple[str, str]] = []  # (account number, country) of the group heads
    opening_total: dict[str, Decimal] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Building customers", total=customers)
        for index in range(1, customers + 1):
            parent = rng.choice(parents) if parents and rng.random() < 0.2 else None
            customer = customer_services.create_customer(data=_customer_data(rng, index, parent), actor=clerk)
            if rng.random() < 0.12 and parent is None:
                parents.append((customer.account_number, customer.country))
            if customer.status == "active" and rng.random() < 0.8:
                limit = Decimal(rng.choice([5_000, 10_000, 25_000, 50_000, 100_000]))
                customer_services.set_credit_limit(
                    customer_id=customer.pk, credit_limit=limit, actor=supervisor
                )
            created.append((customer.pk, customer.account_number, customer.currency))
            progress.advance(task)
        task = progress.add_task("Posting opening balances", total=len(created))
        for customer_id, account_number, currency in created:
            if rng.random() < 0.7:
                cents = rng.randint(-20_000, 2_500_000) or 1
                amount = Money(Decimal(cents).scaleb(-2), currency)
                customer_services.post_opening_balance(
                    customer_id=customer_id, amount=amount, balance_on=CUT_OVER_ON,
                    reference=f"LEGACY-{account_number}", actor=supervisor,
                )  # fmt: skip
                opening_total[currency] = opening_total.get(currency, Decimal(0)) + amount.amount
            progress.advance(task)
    for customer_id, _, _ in rng.sample(created, k=max(1, len(created) // 30)):
        customer_services.place_credit_hold(
            customer_id=customer_id, reason="Payment overdue since cut-over", actor=clerk
        )
    close_period(start_on=CUT_OVER_ON.replace(day=1), actor=supervisor)
    with Progress(console=console, transient=True) as progress:
        year = build_demo_year(
            rng=rng,
            users={role: user for role, (user, _) in users.items()},
            customer_ids=[customer_id for customer_id, _, _ in created],
            today=clock.today(),
            months=months,
            progress=progress,
        )
    _year_summary(console, year)

    logins = [login for _, login in users.values()]
    _write_logins(logins)
    _summary(console, seed=seed, customers=len(created), opening_total=opening_total, logins=logins)
    return 0


def _write_logins(logins: list[DemoLogin]) -> None:
    path = _logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["Demo logins (user / password):"] + [
        f"  {x.username:<11} {x.password:<34} {x.role}" for x in logins
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def _year_summary(console: Console, year: DemoYear) -> None:
    kinds = ", ".join(f"{year.invoices_by_kind[kind]} {name}" for kind, name in KINDS.items())
    console.print(
        f"Bill runs: {year.runs} runs issued {year.invoices} invoices (billing {kinds}); "
        f"{year.run_exceptions} run exceptions (credit holds, a timekeeper without a rate, …), "
        f"{year.run_drafts} invoices left by the runs as drafts for review (far above the usual amount, "
        f"or needing approval), {year.drafts_issued} of them reviewed and issued the month after (the last "
        "run's are left to review)."
    )
    cash = year.cash
    console.print(
        f"Cash: {cash.files} bank files in {len(cash.formats)} formats ({', '.join(sorted(cash.formats))}), "
        f"{cash.lines} lines; {cash.posted_by_import} payments matched and applied on import ("
        f"{cash.written_off} of them short by a bank fee, written off within the tolerance), "
        f"{cash.resolved} resolved by the clerk from the matching queue, {cash.dismissed} bank fees "
        f"dismissed, {cash.reversals} returned direct debits reversed, {cash.refunds} overpayments refunded."
    )
    held = year.collections
    console.print(
        f"Collections: {held.assigned} customers assigned to collectors; {held.calls} calls logged, "
        f"{held.promises} promises to pay ({held.kept} kept, {held.broken} broken); {held.disputes} "
        f"disputes ({held.resolved_by_credit} resolved by credit note, {held.resolved_by_rebill} re-billed, "
        f"{held.rejected} rejected, {held.withdrawn} withdrawn); write-offs: {held.write_offs_posted} "
        f"posted below the approval policy, {held.write_offs_approved} approved by the supervisor, "
        f"{held.write_offs_rejected} rejected; {held.dunning_runs} dunning runs sent {held.notices} notices "
        f"({held.fee_notes} with fees and interest on a debit note); {held.plans} payment plans "
        f"({held.plans_completed} completed, {held.plans_defaulted} defaulted); {held.credit_holds} "
        "customers over their credit limit put on hold by today's credit review."
    )
    work, time = year.work, year.time
    console.print(
        f"Work captured: {work.subscriptions} subscriptions ({work.cancelled} cancelled at term end), "
        f"{work.usage_charges} usage charges with {work.usage_events} events ({work.late_events} late), "
        f"{work.orders} orders in {work.deliveries} deliveries, {work.charges} one-off charges, "
        f"{time.entries} time entries and {time.expenses} expenses."
    )
    console.print(
        f"Invoicing: {year.credit_notes} credit notes, {year.voids} voids; {year.drafts} drafts and "
        f"{year.awaiting_approval} invoices awaiting approval; months closed: "
        f"{', '.join(year.months_closed) or 'none'}."
    )


def _summary(
    console: Console, *, seed: int, customers: int, opening_total: dict[str, Decimal], logins: list[DemoLogin]
) -> None:
    console.print(f"[bold]Demo company built[/] (seed {seed}): {customers} customers.")
    balances = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(opening_total.items()))
    console.print(
        f"Opening balances on {CUT_OVER_ON.isoformat()}: {balances}; period {CUT_OVER_ON:%Y-%m} closed."
    )
    table = Table(title="Demo logins")
    for column in ("user", "password", "role"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role)
    console.print(table)
