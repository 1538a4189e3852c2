"""The demo's cash: each month the banks send what customers paid for the last run's invoices, one bank
file per account in that bank's format, and the clerk works the matching queue.

Five bank accounts, one format each: EUR camt.053, GBP CSV (its layout set by the supervisor), CHF MT940,
USD BAI2, and a EUR card acquirer's account as OFX. Customers pay about four invoices in five within the
month: most name the invoice (in the remittance text or as its RF reference), some only give their
name or account, some pay short (a bank fee taken off: written off within the EUR and GBP write-off
tolerances), a few cannot be told apart. The import applies what it is sure of; the
clerk resolves most of the rest by their top suggestion (their account is remembered), dismisses the
bank's fees, reverses the odd returned direct debit (charging the customer a fee for it), and the
supervisor refunds some overpayments.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from stdnum import iban

from billops.access.models import User
from billops.catalog.services.products import create_product
from billops.core.money import Money
from billops.customers.models import Customer
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.rendering.reference import creditor_reference
from billops.invoicing.selectors import OPEN_STATUSES
from billops.payments.models import Application, BankAccount, BankLine, Receipt, Refund
from billops.payments.services.applications import Allocation
from billops.payments.services.bank_files import csv_mapping, import_bank_file, set_csv_layout
from billops.payments.services.matching import allocations_of
from billops.payments.services.queue import dismiss_line, match_refund, resolve_line, resolve_return
from billops.payments.services.receipts import create_bank_account
from billops.payments.services.refunds import refund_receipt
from billops.payments.services.returns import RETURN_FEE_PRODUCT
from billops.payments.services.tolerances import set_write_off_tolerance
from billops.payments.statements.bai import write_bai2
from billops.payments.statements.camt import write_camt053
from billops.payments.statements.csvfile import write_csv
from billops.payments.statements.mt940 import write_mt940
from billops.payments.statements.ofx import write_ofx
from billops.payments.statements.parsed import ParsedStatement, StatementLine

# code, currency, number, format
ACCOUNTS = (
    ("MAIN-EUR", "EUR", "DE00370400440532013000", "camt"),
    ("MAIN-GBP", "GBP", "GB00NWBK60161331926819", "csv"),
    ("MAIN-CHF", "CHF", "CH000900000152344321", "mt940"),
    ("MAIN-USD", "USD", "021000021-7654321", "bai2"),
    ("CARDS-EUR", "EUR", "DE00500105175407324931", "ofx"),
)
GBP_LAYOUT = {
    "booked_on": "Date", "bank_reference": "Transaction ID", "amount": "Amount", "payer_name": "Counterparty",
    "remittance": "Reference", "date_format": "%d/%m/%Y",
}  # fmt: skip
OPENING = Decimal("25000.00")
RETURN_FEE = Decimal("5.00")  # charged, in its currency, to a customer whose direct debit came back
BANK_FEE = Decimal("0.90")  # what a payer's bank takes off now and then: 1 % of an invoice of 90.00


@dataclass
class CashFigures:
    files: int = 0
    lines: int = 0
    posted_by_import: int = 0
    resolved: int = 0
    dismissed: int = 0
    written_off: int = 0  # payments short by a bank fee, the rest written off within the tolerance
    reversals: int = 0
    refunds: int = 0
    formats: set[str] = field(default_factory=set)


def _account_number(number: str) -> str:
    """A valid IBAN from the template's bank part (check digits computed), or the US account as is."""
    if number[:2].isalpha() and number[2:4] == "00":
        return number[:2] + iban.calc_check_digits(number) + number[4:]
    return number


class DemoCash:
    def __init__(self, rng: random.Random, clerk: User, supervisor: User) -> None:
        self.rng, self.clerk, self.supervisor = rng, clerk, supervisor
        self.figures = CashFigures()
        self.banks: dict[str, tuple[BankAccount, str]] = {}
        self.balances: dict[str, Decimal] = {}
        self.next_line: dict[str, int] = defaultdict(int)
        self.pending_out: dict[str, list[tuple[str, Decimal, str]]] = defaultdict(list)  # money out to book
        for code, currency, number, format in ACCOUNTS:
            kind = "card acquirer" if code.startswith("CARDS") else "main"
            bank = create_bank_account(
                code=code, name=f"{currency} {kind} account",
                currency=currency, number=_account_number(number), actor=supervisor,
            )  # fmt: skip
            self.banks[code] = (bank, format)
            self.balances[code] = OPENING
        create_product(
            code=RETURN_FEE_PRODUCT, name="Returned payment fee", unit="each", tax_code="VAT-EXEMPT",
            revenue_account="4000", description="Fee for a returned payment", actor=supervisor,
        )  # fmt: skip
        for currency in ("EUR", "GBP"):  # CHF and USD have none: their short payments wait for a clerk
            set_write_off_tolerance(currency=currency, max_amount="5.00", max_percent="1", actor=supervisor)
        gbp = set_csv_layout(bank_account="MAIN-GBP", layout=GBP_LAYOUT, actor=supervisor)
        self.banks[gbp.code] = (gbp, "csv")
        self.returning: set[int] = set()  # receipts whose return the bank books next month

    @staticmethod
    def _payer_account(customer: Customer) -> str:
        """The customer's own (made-up, valid) Dutch IBAN."""
        bban = f"BANK{customer.pk:010d}"
        return "NL" + iban.calc_check_digits(f"NL00{bban}") + bban

    def _bank_for(self, invoice: Invoice) -> str:
        if invoice.currency == "EUR":
            return "CARDS-EUR" if self.rng.random() < 0.15 else "MAIN-EUR"
        return f"MAIN-{invoice.currency}"

    def _line(
        self, code: str, amount: Decimal, currency: str, on: date, *, remittance: str = "",
        payer_name: str = "", payer_account: str = "", creditor_reference: str = "",
    ) -> StatementLine:  # fmt: skip
        self.next_line[code] += 1
        reference = (
            f"{code[0]}{code[-3:]}{on:%y%m}{self.next_line[code]:05d}"  # "MCHF260200001": MT940 takes 16
        )
        return StatementLine(
            self.next_line[code], on, amount, currency, reference, value_on=on, remittance=remittance,
            payer_name=payer_name, payer_account=payer_account, creditor_reference=creditor_reference,
        )  # fmt: skip

    def _payment(self, invoice: Invoice, code: str, on: date) -> StatementLine:
        """How the customer pays: naming the invoice, its RF reference, its account or name only, short."""
        customer, amount, roll = invoice.customer, invoice.open_amount, self.rng.random()
        names = {"payer_name": customer.legal_name}
        if roll < 0.55:
            return self._line(
                code, amount, invoice.currency, on, remittance=f"Invoice {invoice.number}", **names
            )
        if roll < 0.7:
            rf = creditor_reference(invoice.number or "")
            return self._line(
                code, amount, invoice.currency, on, creditor_reference=rf, remittance=rf, **names
            )
        if roll < 0.85:
            return self._line(code, amount, invoice.currency, on, payer_account=self._payer_account(customer),
                              remittance="payment", **names)  # fmt: skip
        if roll < 0.89:  # the payer's bank took its fee: written off within the tolerance
            return self._line(code, amount - BANK_FEE, invoice.currency, on,
                              remittance=f"Invoice {invoice.number}", **names)  # fmt: skip
        if roll < 0.93:
            short = (amount * Decimal("0.9")).quantize(Decimal("0.01"))
            return self._line(
                code, short, invoice.currency, on, remittance=f"{invoice.number} less 10 %", **names
            )
        if roll < 0.97:  # paid twice the odd fee: the rest stays a credit, refunded the month after
            more = amount + Decimal("25.00")
            return self._line(
                code, more, invoice.currency, on, remittance=f"{invoice.number} and fees", **names
            )
        return self._line(code, amount, invoice.currency, on, payer_name="A. N. Other", remittance="thanks")

    def receive(self, invoice_ids: list[int], on: date, *, last: bool) -> None:
        """The month's bank files, booked `on`: payments for the invoices, returns and refunds made
        before, a fee; imported, then the queue worked (the last month's queue is left as it is)."""
        invoices = (
            Invoice.objects.filter(pk__in=invoice_ids, status=InvoiceStatus.ISSUED, open_amount__gt=0)
            .select_related("customer")
            .order_by("pk")
        )
        lines: dict[str, list[StatementLine]] = defaultdict(list)
        for invoice in invoices:
            if self.rng.random() < 0.8:
                code = self._bank_for(invoice)
                lines[code].append(self._payment(invoice, code, on))
        for code, (bank, _) in self.banks.items():
            for reference, amount, remittance in self.pending_out.pop(code, []):
                lines[code].append(
                    self._line(code, -amount, bank.currency, on, remittance=f"{remittance} {reference}")
                )
            lines[code].append(
                self._line(code, Decimal("-4.50"), bank.currency, on, remittance="Account fee")
            )
            self._import(code, lines[code], on)
        if not last:
            self._work_queue()
            self._returns_and_refunds()

    def _import(self, code: str, lines: list[StatementLine], on: date) -> None:
        bank, format = self.banks[code]
        opening = self.balances[code]
        closing = opening + sum((line.amount for line in lines), Decimal(0))
        statement_id = {
            "mt940": f"{code[:10]}{on:%y%m}/{on.month}",
            "ofx": f"{on.isoformat()}/{on.isoformat()}",
        }
        statement = ParsedStatement(
            format, statement_id.get(format, f"{code}-{on:%Y%m%d}"), bank.number, bank.currency, opening,
            closing, on, on, lines,
        )  # fmt: skip
        self.balances[code] = closing
        if format == "camt":
            data = write_camt053([statement])
        elif format == "mt940":
            data = write_mt940([statement])
        elif format == "bai2":
            data = write_bai2([statement], sender="BANKUS33", receiver="BILLOPS", created_on=on)
        elif format == "ofx":
            data = write_ofx([statement])
        else:
            mapping = csv_mapping(bank)
            assert mapping is not None  # the layout was set in __init__
            data = write_csv(statement, mapping)
        result = import_bank_file(
            data=data, file_name=f"{code.lower()}-{on:%Y-%m-%d}.{format}", actor=self.clerk, bank_account=code
        )
        self.figures.files += 1
        self.figures.lines += len(lines)
        self.figures.posted_by_import += result.posted
        self.figures.written_off += Application.objects.filter(
            receipt__bank_line__file=result.file, written_off__gt=0
        ).count()
        self.figures.formats.add(result.file.format)

    def _work_queue(self) -> None:
        """The clerk resolves most parked payments by their top suggestion and dismisses the fees."""
        for line in BankLine.objects.filter(status=BankLine.Status.PARKED).order_by("pk"):
            if line.amount < 0:
                if "fee" in line.remittance.lower():
                    dismiss_line(line_id=line.pk, reason="bank account fee", actor=self.clerk)
                    self.figures.dismissed += 1
                continue
            if not line.suggestions or self.rng.random() < 0.2:
                continue  # left for the demo's clerk
            best = line.suggestions[0]
            allocations = allocations_of(best)
            if not self._still_open(allocations):
                continue  # paid by a line resolved just before: the clerk matches this one again later
            resolve_line(
                line_id=line.pk, customer_id=best["customer_id"], actor=self.clerk, allocations=allocations
            )
            self.figures.resolved += 1

    @staticmethod
    def _still_open(allocations: list[Allocation]) -> bool:
        """Whether each invoice a suggestion names still has open what it would apply (a line resolved just
        before may have paid it)."""
        numbers = [allocation.invoice_number for allocation in allocations]
        open_now = dict(
            Invoice.objects.filter(number__in=numbers, status__in=OPEN_STATUSES).values_list(
                "number", "open_amount"
            )
        )
        return all(
            allocation.invoice_number in open_now
            and open_now[allocation.invoice_number] >= (allocation.amount or 0)
            for allocation in allocations
        )

    def _returns_and_refunds(self) -> None:
        """A direct debit comes back now and then, and the supervisor refunds an overpayment: both reach
        the bank in next month's file, where the clerk matches them."""
        for line in BankLine.objects.filter(status=BankLine.Status.PARKED, amount__lt=0).select_related(
            "file"
        ):
            remittance = line.remittance
            if remittance.startswith("RETURN") and (receipt_id := int(remittance.split()[-1].split(":")[1])):
                resolve_return(line_id=line.pk, receipt_id=receipt_id, return_code="AM04", actor=self.clerk,
                               fee=RETURN_FEE)  # fmt: skip
                self.figures.reversals += 1
            elif remittance.startswith("REFUND"):
                match_refund(
                    line_id=line.pk, refund_id=int(remittance.split()[-1].split(":")[1]), actor=self.clerk
                )
        posted = (
            Receipt.objects.filter(status=Receipt.Status.POSTED, bank_line__isnull=False)
            .exclude(pk__in=self.returning)
            .order_by("pk")
        )
        returned = posted.filter(refunds__isnull=True).exclude(bank_account__code="CARDS-EUR").last()
        if returned is not None and self.rng.random() < 0.5:
            self.returning.add(returned.pk)
            self.pending_out[returned.bank_account.code].append(
                (f"receipt:{returned.pk}", returned.amount, "RETURN AM04")
            )
        overpaid = posted.filter(unapplied_amount__gt=0).exclude(pk__in=self.returning).first()
        if overpaid is not None:
            left = Money(overpaid.unapplied_amount, overpaid.currency)
            refund = refund_receipt(
                receipt_id=overpaid.pk, amount=left, method="wire",
                reason="overpayment returned to the customer", actor=self.supervisor,
            )  # fmt: skip
            assert isinstance(refund, Refund)  # the demo sets no approval policy for refunds
            self.pending_out[overpaid.bank_account.code].append(
                (f"refund:{refund.pk}", refund.amount, "REFUND")
            )
            self.figures.refunds += 1
