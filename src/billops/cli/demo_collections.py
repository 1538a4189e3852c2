"""`billops demo`'s collections: the collector works the worklist every month, as a team would.

- At the start the supervisor assigns the active customers to the collector (the largest tenth to
  themselves), and the administrator sets the approval policies: write-offs from 250.00 and refunds from
  5 000.00 need a second person (a collector approves write-offs up to 1 000.00, a supervisor up to
  25 000.00).
- The supervisor sets a dunning policy per currency (notices of 5 000 or more): a reminder by e-mail 10
  days after the due date, a second one at 30 days with a fee, a final letter at 60 days with a fee and
  8 % interest that hands the account to the collection agency. Dunning starts two months before today.
- Each month, on the 15th after the payments came in:
  - promises and payment plans are evaluated by what was paid;
  - the dunning run sends its notices and charges their fees and interest on debit notes (the last two
    months);
  - the collector calls the first customers of today's list and records each call; about half of them
    promise to pay part of what is overdue within one to two weeks;
  - customers dispute a few overdue invoices; last month's cases are decided: resolved by a credit note
    or a re-bill, rejected, or withdrawn;
  - the collector asks to write off two small, long overdue balances; the supervisor approves most of
    these and rejects some;
  - a customer with invoices overdue agrees a payment plan of three monthly instalments.
- On the month's last day, most customers keep their promises and pay their instalments; the others do
  not, and their promises break or their plans default.
- Today: the credit review puts customers over their credit limit on hold.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.services import approve_request, reject_request
from billops.access.models import Role, User
from billops.collections.models import Instalment, PaymentPlan, PromiseToPay
from billops.collections.selectors.aging import aged_items
from billops.collections.selectors.plans import customers_with_active_plans, list_plans
from billops.collections.selectors.promises import list_promises
from billops.collections.selectors.worklist import WorkItem, worklist
from billops.collections.services.accounts import assign_collector, record_activity
from billops.collections.services.credit import review_credit_holds
from billops.collections.services.dunning import (
    LevelData,
    ensure_dunning_products,
    run_dunning,
    save_dunning_policy,
)
from billops.collections.services.plans import EqualInstalments, create_payment_plan, evaluate_payment_plans
from billops.collections.services.promises import evaluate_promises, open_balance, record_promise
from billops.collections.services.write_offs import request_write_off
from billops.core.money import Money, round_money
from billops.customers.models import Customer, OpenItemMovement
from billops.disputes.models import Reason, RootCause
from billops.disputes.selectors import ACTIVE, list_cases
from billops.disputes.services import open_dispute, resolve_by_credit, resolve_by_rebill
from billops.disputes.services.decisions import reject_dispute, withdraw_dispute
from billops.invoicing.models import DocumentType, Invoice
from billops.invoicing.selectors import OPEN_STATUSES
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.receipts import post_receipt

CALLS_A_MONTH = 8
DISPUTES_A_MONTH = 3
WRITE_OFFS_A_MONTH = 2
WRITE_OFF_MOST = Decimal(600)  # the collector asks to write off balances up to this much
CURRENCIES = ("EUR", "GBP", "CHF", "USD")
PAYING = 0.65  # the share of promises kept and instalments paid
LEVELS = [
    LevelData(
        days_after_due=10, subject="Reminder: {invoices}", channel="email",
        body="Dear {customer}, our records show {total} overdue. Please pay at your earliest convenience.",
    ),
    LevelData(
        days_after_due=30, subject="Second reminder: {invoices}", channel="email", fee_amount="10",
        body="Dear {customer}, {total} is 30 days overdue; a reminder fee of {fee} applies.",
    ),
    LevelData(
        days_after_due=60, subject="Final notice: {invoices}", channel="letter", fee_amount="25",
        interest_rate="8", escalation="collection_agency",
        body="Dear {customer}, {total} is 60 days overdue. Unless you pay {amount_due} within 10 days, the "
        "account goes to our collection agency.",
    ),
]  # fmt: skip
OUTCOMES = ("promised", "promised", "reached", "no_answer", "left_message", "disputed")


@dataclass
class CollectionsFigures:
    assigned: int = 0
    calls: int = 0
    promises: int = 0
    kept: int = 0
    broken: int = 0
    disputes: int = 0
    resolved_by_credit: int = 0
    resolved_by_rebill: int = 0
    rejected: int = 0
    withdrawn: int = 0
    write_offs_posted: int = 0  # below the policy, at once
    write_offs_approved: int = 0
    write_offs_rejected: int = 0
    credit_holds: int = 0
    dunning_runs: int = 0
    notices: int = 0
    fee_notes: int = 0
    plans: int = 0
    plans_completed: int = 0
    plans_defaulted: int = 0


class DemoCollections:
    def __init__(self, rng: random.Random, users: dict[str, User], customers: list[Customer]) -> None:
        self.rng = rng
        self.admin, self.supervisor = users["admin"], users["supervisor"]
        self.collector, self.clerk = users["collector"], users["clerk"]
        self.figures = CollectionsFigures()
        by_limit = sorted(customers, key=lambda customer: (-customer.credit_limit, customer.account_number))
        key_accounts = {customer.pk for customer in by_limit[: len(by_limit) // 10]}
        for customer in customers:
            owner = self.supervisor if customer.pk in key_accounts else self.collector
            assign_collector(customer_id=customer.pk, collector_id=owner.pk, actor=self.supervisor)
            self.figures.assigned += 1
        ensure_dunning_products(actor=self.supervisor)
        for currency in CURRENCIES:
            save_dunning_policy(
                code=f"STD-{currency}", name=f"Standard reminders ({currency})", currency=currency,
                is_default=True, minimum_amount="5000", levels=LEVELS, actor=self.supervisor,
            )  # fmt: skip
            set_approval_policy(
                action="collections.write_off", currency=currency, approval_from=Decimal(250),
                limits={Role.COLLECTOR: Decimal(1000), Role.SUPERVISOR: Decimal(25000)}, actor=self.admin,
            )  # fmt: skip
            set_approval_policy(
                action="payments.refund", currency=currency, approval_from=Decimal(5000),
                limits={Role.SUPERVISOR: Decimal(25000)}, actor=self.admin,
            )  # fmt: skip

    def month(self, mid: date, *, dun: bool) -> None:
        """The collector's work on the 15th, after the month's payments came in; with `dun`, the dunning
        run too (the demo duns its last months only: every notice renders a letter, which takes time)."""
        self._evaluate(mid)
        self._decide_disputes()
        due = [item for item in worklist(today=mid) if item.collector_id == self.collector.pk]
        for item in due[:CALLS_A_MONTH]:
            self._call(item.customer, item.overdue, mid)
        self._open_disputes(mid)
        self._write_off(mid)
        if dun:
            run = run_dunning(run_on=mid, actor=self.collector)
            self.figures.dunning_runs += 1
            self.figures.notices += run.notice_count
            self.figures.fee_notes += run.debit_note_count
        self._agree_plan(mid, due)

    def month_end(self, end: date) -> None:
        """Most customers pay what they promised, and their instalments due, by the day; then both are
        evaluated."""
        for promise in list_promises(status=PromiseToPay.Status.OPEN).filter(promised_on__lte=end):
            owed = min(promise.amount, open_balance(promise.customer_id, promise.currency))
            if owed > 0 and self.rng.random() < PAYING:
                invoices = list(
                    Invoice.objects.filter(customer_id=promise.customer_id, status__in=OPEN_STATUSES)
                    .exclude(document_type=DocumentType.CREDIT_NOTE)
                    .order_by("due_on", "pk")
                )
                self._pay(promise.customer, owed, promise.promised_on, invoices)
        for plan in list_plans(status=PaymentPlan.Status.ACTIVE):
            invoices = [item.invoice for item in plan.items.select_related("invoice")]
            for instalment in plan.instalments.filter(due_on__lte=end, status=Instalment.Status.DUE):
                owed = min(
                    instalment.amount - instalment.paid_amount, open_balance(plan.customer_id, plan.currency)
                )
                if owed > 0 and self.rng.random() < PAYING:
                    self._pay(plan.customer, owed, instalment.due_on, invoices)
        self._evaluate(end)

    def _evaluate(self, on: date) -> None:
        decided = evaluate_promises(on=on, actor=self.collector)
        self.figures.kept += decided["kept"]
        self.figures.broken += decided["broken"]
        plans = evaluate_payment_plans(on=on, actor=self.collector)
        self.figures.plans_completed += plans["completed"]
        self.figures.plans_defaulted += plans["defaulted"]

    def _pay(self, customer: Customer, amount: Decimal, on: date, invoices: list[Invoice]) -> None:
        """The customer wires the money; the clerk applies it to the invoices, in their order."""
        receipt = post_receipt(
            customer_id=customer.pk, amount=Money(amount, customer.currency), actor=self.clerk,
            bank_account=f"MAIN-{customer.currency}", method="wire", received_on=on,
            reference="Payment as agreed with our collector",
        )  # fmt: skip
        left, allocations = amount, []
        for invoice in invoices:
            invoice.refresh_from_db()
            part = min(left, invoice.open_amount)
            if part > 0:
                allocations.append(Allocation(invoice_number=invoice.number or "", amount=part))
                left -= part
        if allocations:  # else it stays unapplied, a credit on the account
            apply_receipt(receipt_id=receipt.pk, actor=self.clerk, applied_on=on, allocations=allocations)

    def _agree_plan(self, mid: date, due: list[WorkItem]) -> None:
        """The first customer of the list that is not waiting on a promise agrees to pay in three parts."""
        for item in due:
            if item.open_promise is not None or item.customer.pk in customers_with_active_plans():
                continue
            invoices = self._overdue_invoices(mid, buckets=(1, 2, 3, 4), customer_id=item.customer.pk)
            if not invoices:
                continue
            create_payment_plan(
                customer_id=item.customer.pk, invoice_ids=invoices[:3], actor=self.collector,
                instalments=EqualInstalments(count=3, first_due_on=mid + timedelta(days=10)), grace_days=3,
            )  # fmt: skip
            self.figures.plans += 1
            return

    def finish(self, today: date) -> None:
        """Today's credit review, of the credit limits (the demo's customers never pay their opening
        balances, so the days-past-due rule would hold most of them)."""
        held = review_credit_holds(actor=self.collector, on=today, days_past_due=0)
        self.figures.credit_holds += len(held)

    def _call(self, customer: Customer, overdue: Decimal, mid: date) -> None:
        outcome = self.rng.choice(OUTCOMES)
        record_activity(
            customer_id=customer.pk, kind="call", outcome=outcome, contact="Accounts payable",
            text=f"Called about {round_money(overdue, customer.currency)} overdue.", actor=self.collector,
        )  # fmt: skip
        self.figures.calls += 1
        if outcome == "promised":
            part = round_money(overdue * Decimal(self.rng.choice(["0.5", "0.75", "1"])), customer.currency)
            record_promise(
                customer_id=customer.pk, amount=Money(part.amount, customer.currency),
                promised_on=mid + timedelta(days=self.rng.randint(7, 14)), contact="Accounts payable",
                actor=self.collector,
            )  # fmt: skip
            self.figures.promises += 1

    def _overdue_invoices(
        self, mid: date, buckets: tuple[int, ...], most: Decimal | None = None, customer_id: int | None = None
    ) -> list[int]:
        """Invoices open on the day in those buckets (up to `most` open), without a dispute being worked."""
        items = [
            item
            for bucket in buckets
            for item in aged_items(as_of=mid, bucket=bucket, customer_id=customer_id, limit=200)
        ]
        disputed = {case.invoice_id for case in list_cases(status=ACTIVE)}
        return [
            item.item_id
            for item in items
            if item.kind == OpenItemMovement.Kind.DOCUMENT and item.item_id not in disputed
            and 0 < item.open_amount <= (most or item.open_amount)
        ]  # fmt: skip

    def _open_disputes(self, mid: date) -> None:
        candidates = self._overdue_invoices(mid, buckets=(1,))
        for invoice_id in self.rng.sample(candidates, k=min(DISPUTES_A_MONTH, len(candidates))):
            reason = self.rng.choice([Reason.PRICE, Reason.QUANTITY, Reason.NOT_RECEIVED, Reason.QUALITY])
            open_dispute(
                invoice_id=invoice_id, reason=reason, actor=self.collector,
                note="The customer says this invoice is wrong and holds it back.",
            )  # fmt: skip
            self.figures.disputes += 1

    def _decide_disputes(self) -> None:
        """Last month's cases: most resolved by a credit note, some re-billed, rejected or withdrawn."""
        for case in list_cases(status=ACTIVE).order_by("pk"):
            roll = self.rng.random()
            if roll < 0.45:
                resolve_by_credit(
                    case_id=case.pk, root_cause=RootCause.PRICING_ERROR, actor=self.collector,
                    note="Checked against the order: we overcharged; credited.",
                )  # fmt: skip
                self.figures.resolved_by_credit += 1
            elif roll < 0.65:
                resolve_by_rebill(
                    case_id=case.pk, root_cause=RootCause.WRONG_QUANTITY, actor=self.clerk,
                    note="Re-billed with the delivered quantity.",
                )  # fmt: skip
                self.figures.resolved_by_rebill += 1
            elif roll < 0.9:
                reject_dispute(
                    case_id=case.pk, root_cause=RootCause.CUSTOMER_ERROR, actor=self.collector,
                    note="Proof of delivery sent; the invoice stands.",
                )  # fmt: skip
                self.figures.rejected += 1
            else:
                withdraw_dispute(case_id=case.pk, note="The customer found the goods.", actor=self.collector)
                self.figures.withdrawn += 1

    def _write_off(self, mid: date) -> None:
        """Small balances long overdue: the collector asks; the supervisor decides those that need it."""
        small = self._overdue_invoices(mid, buckets=(3, 4), most=WRITE_OFF_MOST)
        for invoice_id in self.rng.sample(small, k=min(WRITE_OFFS_A_MONTH, len(small))):
            outcome = request_write_off(
                invoice_id=invoice_id, reason="Uncollectable: customer unresponsive", actor=self.collector
            )
            if outcome.write_off is not None:
                self.figures.write_offs_posted += 1
            elif outcome.approval is not None and self.rng.random() < 0.75:
                approve_request(request_id=outcome.approval.pk, actor=self.supervisor, note="Agreed.")
                self.figures.write_offs_approved += 1
            elif outcome.approval is not None:
                reject_request(
                    request_id=outcome.approval.pk, actor=self.supervisor, note="Try the agency first."
                )
                self.figures.write_offs_rejected += 1
