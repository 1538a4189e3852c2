"""Workflow: submission, approval by a second person, credit-hold override, pre-issue checks and issue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.audit.models import AuditEvent
from billops.core.errors import PermissionDenied
from billops.invoicing.errors import PreIssueCheckFailed, SelfApproval, WrongStatus
from billops.invoicing.models import InvoiceStatus, NumberSeries
from billops.invoicing.services.drafts import change_draft
from billops.invoicing.services.entities import set_approval_threshold
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import (
    approve_invoice,
    invoice_now,
    issue_invoice,
    override_credit_hold,
    pre_issue_checks,
    reject_invoice,
    submit_invoice,
)
from billops.ledger.services import close_period
from tests.invoicing.factories import draft_for
from tests.invoicing.state import invoicing_state

ON = date(2026, 3, 5)


@pytest.fixture
def threshold(make_user, entity):
    admin = make_user("admin")
    return set_approval_threshold(entity_code="MAIN", currency="EUR", amount="1000.00", actor=admin)


def test_below_the_threshold_a_submission_is_approved_at_once(clerk, customer, threshold):
    invoice = submit_invoice(invoice_id=draft_for(customer, clerk, issued_on=ON).pk, actor=clerk)
    assert (invoice.status, invoice.approval_required) == (InvoiceStatus.APPROVED, False)
    assert AuditEvent.objects.get(action="invoice.submitted").after == {
        "status": "approved",
        "approval": "not required",
    }


def test_a_change_that_changes_nothing_leaves_an_approved_draft_approved(clerk, customer, threshold):
    invoice = submit_invoice(
        invoice_id=draft_for(customer, clerk, issued_on=ON, po_number="PO-7").pk, actor=clerk
    )
    events = AuditEvent.objects.count()
    for changes in ({}, {"po_number": "PO-7"}, {"issued_on": ON}):
        unchanged = change_draft(invoice_id=invoice.pk, actor=clerk, **changes)
        assert unchanged.status == InvoiceStatus.APPROVED
    assert AuditEvent.objects.count() == events
    changed = change_draft(invoice_id=invoice.pk, actor=clerk, po_number="PO-8")
    assert (changed.status, changed.po_number) == (InvoiceStatus.DRAFT, "PO-8")
    assert AuditEvent.objects.filter(action="invoice.draft_changed").count() == 1


def test_above_the_threshold_a_second_person_approves_before_issue(
    clerk, supervisor, make_user, customer, threshold
):
    draft = draft_for(customer, clerk, LineData(quantity="10", product_code="CONSULT"), issued_on=ON)
    with pytest.raises(WrongStatus, match=r"needs approval before it is issued: the total 1606\.50 EUR"):
        issue_invoice(invoice_id=draft.pk, actor=clerk)
    submitted = submit_invoice(invoice_id=draft.pk, actor=clerk)
    assert (submitted.status, submitted.approval_required) == (InvoiceStatus.SUBMITTED, True)
    with pytest.raises(WrongStatus, match="needs approval"):
        issue_invoice(invoice_id=draft.pk, actor=clerk)
    approved = approve_invoice(invoice_id=draft.pk, actor=supervisor)
    assert (approved.status, approved.approved_by) == (InvoiceStatus.APPROVED, supervisor)
    issued = issue_invoice(invoice_id=draft.pk, actor=clerk)
    assert issued.number == "INV-2026-000001"


def test_the_maker_cannot_approve_their_own_invoice(supervisor, customer, threshold):
    draft = draft_for(customer, supervisor, LineData(quantity="10", product_code="CONSULT"), issued_on=ON)
    submit_invoice(invoice_id=draft.pk, actor=supervisor)
    before = invoicing_state()
    with pytest.raises(SelfApproval, match="made or submitted"):
        approve_invoice(invoice_id=draft.pk, actor=supervisor)
    assert invoicing_state() == before


def test_a_clerk_cannot_approve(clerk, make_user, customer, threshold):
    other = make_user("clerk")
    draft = draft_for(customer, other, LineData(quantity="10", product_code="CONSULT"), issued_on=ON)
    submit_invoice(invoice_id=draft.pk, actor=other)
    with pytest.raises(PermissionDenied):
        approve_invoice(invoice_id=draft.pk, actor=clerk)


def test_a_rejected_submission_goes_back_to_draft_with_the_reason(clerk, supervisor, customer, threshold):
    draft = draft_for(customer, clerk, LineData(quantity="10", product_code="CONSULT"), issued_on=ON)
    submit_invoice(invoice_id=draft.pk, actor=clerk)
    assert (
        reject_invoice(invoice_id=draft.pk, reason="wrong rate", actor=supervisor).status
        == InvoiceStatus.DRAFT
    )
    assert AuditEvent.objects.get(action="invoice.rejected").after == {"reason": "wrong rate"}


def test_a_customer_flag_requires_approval_whatever_the_amount(clerk, customer):
    customer.invoice_approval_required = True
    customer.save()
    invoice = submit_invoice(invoice_id=draft_for(customer, clerk, issued_on=ON).pk, actor=clerk)
    assert invoice.status == InvoiceStatus.SUBMITTED


def test_credit_hold_blocks_issue_until_a_supervisor_overrides(clerk, supervisor, customer):
    customer.credit_hold, customer.credit_hold_reason = True, "90 days overdue"
    customer.save()
    draft = draft_for(customer, clerk, issued_on=ON)
    before = invoicing_state()
    with pytest.raises(PreIssueCheckFailed) as refused:
        issue_invoice(invoice_id=draft.pk, actor=clerk)
    assert refused.value.field == "credit_hold"
    assert "is on credit hold (90 days overdue)" in refused.value.message
    assert invoicing_state() == before
    with pytest.raises(PermissionDenied):
        override_credit_hold(invoice_id=draft.pk, reason="paid by wire today", actor=clerk)
    override_credit_hold(invoice_id=draft.pk, reason="paid by wire today", actor=supervisor)
    assert issue_invoice(invoice_id=draft.pk, actor=clerk).number == "INV-2026-000001"
    event = AuditEvent.objects.get(action="invoice.credit_hold_overridden")
    assert (event.actor, event.after["reason"]) == (supervisor, "paid by wire today")


def test_po_required_but_missing_blocks_issue(clerk, customer):
    customer.po_required = True
    customer.save()
    draft = draft_for(customer, clerk, issued_on=ON)
    assert [(c.code, c.blocking) for c in pre_issue_checks(draft)] == [("po_missing", True)]
    with pytest.raises(PreIssueCheckFailed, match="requires a PO number"):
        issue_invoice(invoice_id=draft.pk, actor=clerk)


def test_a_zero_amount_invoice_is_not_issued(clerk, customer):
    draft = draft_for(
        customer, clerk, LineData(quantity="1", unit_price="0", tax_code="VAT-STD", description="Free")
    )
    with pytest.raises(PreIssueCheckFailed, match="the total is zero"):
        issue_invoice(invoice_id=draft.pk, actor=clerk)


def test_an_expired_exemption_is_taxed_with_a_warning(clerk, customer):
    customer.tax_status, customer.exemption_certificate = "exempt", "EX-1"
    customer.exemption_expires_on = date(2026, 1, 31)
    customer.save()
    draft = draft_for(customer, clerk, issued_on=ON)
    assert draft.tax_total == Decimal("57.00")
    assert [(c.code, c.blocking) for c in pre_issue_checks(draft)] == [("exemption_expired", False)]
    valid = draft_for(customer, clerk, issued_on=date(2026, 1, 15))
    assert valid.tax_total == Decimal(0)
    assert valid.taxes.get().note == "Exempt: certificate EX-1, valid until 2026-01-31"


def test_reverse_charge_for_an_eu_business_customer(clerk, customer):
    customer.country, customer.vat_id = "FR", "FR40303265045"
    customer.save()
    invoice = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=ON).pk, actor=clerk)
    assert (invoice.tax_total, invoice.total) == (Decimal(0), Decimal("300.00"))
    tax = invoice.taxes.get()
    assert (tax.treatment, tax.label) == ("reverse_charge", "Reverse charge")
    assert "Article 196" in invoice.document.content


def test_issuing_an_issued_invoice_is_refused(clerk, customer):
    invoice = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=ON).pk, actor=clerk)
    before = invoicing_state()
    with pytest.raises(WrongStatus, match="already issued"):
        issue_invoice(invoice_id=invoice.pk, actor=clerk)
    assert invoicing_state() == before


def test_issuing_into_a_closed_period_is_refused_and_burns_no_number(clerk, supervisor, customer):
    issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=date(2026, 2, 27)).pk, actor=clerk)
    close_period(start_on=date(2026, 2, 1), actor=supervisor)
    draft = draft_for(customer, clerk, issued_on=date(2026, 2, 28))
    before = invoicing_state()
    with pytest.raises(Exception, match="closed"):
        issue_invoice(invoice_id=draft.pk, actor=clerk)
    assert invoicing_state() == before
    assert NumberSeries.objects.get().next_number == 2
    assert (
        issue_invoice(invoice_id=draft.pk, actor=clerk, issued_on=date(2026, 3, 1)).number
        == "INV-2026-000002"
    )


def test_numbers_are_per_entity_type_and_year(clerk, customer):
    first = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=date(2025, 12, 30)).pk, actor=clerk)
    second = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=date(2026, 1, 2)).pk, actor=clerk)
    third = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=date(2026, 1, 3)).pk, actor=clerk)
    assert [first.number, second.number, third.number] == [
        "INV-2025-000001",
        "INV-2026-000001",
        "INV-2026-000002",
    ]


def test_invoice_now_creates_and_issues_in_one_step_or_leaves_nothing(clerk, customer, threshold):
    invoice = invoice_now(
        customer_id=customer.pk, lines=[LineData(quantity="1", product_code="BOOK")], actor=clerk
    )
    assert (invoice.number, invoice.total) == ("INV-2026-000001", Decimal("26.70"))
    before = invoicing_state()
    with pytest.raises(WrongStatus, match="needs approval"):
        invoice_now(
            customer_id=customer.pk, lines=[LineData(quantity="10", product_code="CONSULT")], actor=clerk
        )
    assert invoicing_state() == before
