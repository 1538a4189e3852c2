"""The invoice pages, driven through Django's test client as each role: the list and its filters, the
draft editor with its totals, the workflow from submission to issue, corrections, the PDF, and refusals
that show their message on the page and change nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.customers import services as customer_services
from billops.customers.models import Customer
from billops.invoicing.models import DocumentType, Invoice, InvoiceLine, InvoiceStatus, IssuedDocument
from billops.invoicing.services.corrections import issue_credit_note
from billops.invoicing.services.entities import set_approval_threshold
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice
from billops.ledger.models import JournalEntry
from tests.customers.factories import create_customer
from tests.invoicing.factories import draft_for

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def database_state() -> dict[str, Any]:
    """Everything a refused action must leave alone: documents, lines, entries and the audit trail."""
    return {
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "lines": list(InvoiceLine.objects.order_by("pk").values()),
        "entries": JournalEntry.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@contextmanager
def unchanged() -> Iterator[None]:
    before = database_state()
    yield
    assert database_state() == before


def issued(customer: Customer, actor: User, on: date, *lines: LineData) -> Invoice:
    draft = draft_for(customer, actor, *lines, issued_on=on)
    return issue_invoice(invoice_id=draft.pk, actor=actor)


def detail(invoice: Invoice | int) -> str:
    return reverse("invoicing:detail", args=[invoice if isinstance(invoice, int) else invoice.pk])


def url(name: str, invoice: Invoice, *args: Any) -> str:
    return reverse(f"invoicing:{name}", args=[invoice.pk, *args])


def text(response: Any) -> str:
    return response.content.decode()


def test_pages_need_a_login(db: None) -> None:
    response = Client().get(reverse("invoicing:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_list_filters_give_exact_rows(clerk: User, customer: Customer) -> None:
    globex = create_customer(clerk, account_number="GLOBEX-1", legal_name="Globex Corporation")
    january = issued(customer, clerk, date(2026, 1, 10))  # due 2026-02-09: overdue today
    february = issued(globex, clerk, date(2026, 2, 10), LineData(quantity="1", product_code="BOOK"))
    current = issued(customer, clerk, timezone.localdate())  # due in 30 days
    draft = draft_for(customer, clerk, po_number="PO-777")
    note = issue_credit_note(
        invoice_id=february.pk, reason="damaged", actor=clerk, issued_on=date(2026, 2, 20)
    )
    client = logged_in(clerk)

    def rows(**filters: str) -> list[int]:
        response = client.get(reverse("invoicing:list"), filters)
        assert response.status_code == 200
        return [invoice.pk for invoice in response.context["page"].object_list]

    everything = rows()
    assert sorted(everything) == sorted([january.pk, february.pk, current.pk, draft.pk, note.pk])
    assert [pk for pk in everything if pk != draft.pk] == [current.pk, note.pk, february.pk, january.pk]
    assert rows(status="draft") == [draft.pk]
    assert rows(type="credit_note") == [note.pk]
    assert rows(search="globex") == [note.pk, february.pk]
    assert rows(search="PO-777") == [draft.pk]
    assert rows(search="INV-2026-000002") == [february.pk]
    assert rows(issued_from="2026-02-01", issued_to="2026-02-28") == [note.pk, february.pk]
    assert rows(overdue="1") == [january.pk]
    assert rows(overdue="1", search="globex") == []  # February's invoice was credited in full
    html = text(client.get(reverse("invoicing:list"), {"type": "invoice", "status": "issued"}))
    assert html.count("<tr>") == 1 + 2  # the header row and the two open invoices
    assert f'<a href="{detail(january)}">{january.number}</a>' in html
    assert "status-overdue" in html and "5 documents" not in html and "2 documents" in html


def test_a_date_that_is_no_date_says_so_and_lists_nothing(clerk: User, customer: Customer) -> None:
    issued(customer, clerk, date(2026, 1, 10))
    response = logged_in(clerk).get(reverse("invoicing:list"), {"issued_from": "10.01.2026"})
    assert response.status_code == 200
    assert "&#x27;10.01.2026&#x27; is not a date like 2026-01-31" in text(response)
    assert list(response.context["page"].object_list) == []


def test_htmx_filtering_gets_the_results_alone(clerk: User, customer: Customer) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 1))
    response = logged_in(clerk).get(reverse("invoicing:list"), {"search": invoice.number}, headers=HTMX)
    html = text(response)
    assert html.startswith('<div id="invoice-results">') and "<html" not in html
    assert invoice.number in html and "1 documents" in html
    assert "HX-Request" in response["Vary"]


def test_new_draft_for_an_account_number(clerk: User, customer: Customer) -> None:
    client = logged_in(clerk)
    assert client.get(reverse("invoicing:create")).status_code == 200
    options = text(
        client.get(reverse("invoicing:customer_options"), {"account_number": customer.account_number})
    )
    assert f'<option value="{customer.account_number}">' in options
    response = client.post(
        reverse("invoicing:create"),
        {
            "account_number": customer.account_number.lower(),
            "issued_on": "2026-03-05",
            "service_start": "2026-02-01",
            "service_end": "2026-02-28",
            "po_number": "PO-1",
            "reference": "Project X",
            "invoice_discount_percent": "5",
            "language": "de",
            "notes": "Thank you.",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(invoice)
    assert (invoice.customer, invoice.status, invoice.issued_on, invoice.po_number, invoice.language) == (
        customer,
        InvoiceStatus.DRAFT,
        date(2026, 3, 5),
        "PO-1",
        "de",
    )
    assert (invoice.service_start, invoice.invoice_discount_percent) == (date(2026, 2, 1), Decimal(5))


def test_new_draft_shows_each_error_at_its_field(clerk: User, customer: Customer) -> None:
    client = logged_in(clerk)
    with unchanged():
        unknown = client.post(reverse("invoicing:create"), {"account_number": "NOPE-1", "po_number": "PO-9"})
        bad_date = client.post(
            reverse("invoicing:create"), {"account_number": customer.account_number, "issued_on": "5.3.2026"}
        )
        ordered = client.post(
            reverse("invoicing:create"),
            {
                "account_number": customer.account_number,
                "service_start": "2026-03-01",
                "service_end": "2026-02-01",
            },
        )
    assert unknown.status_code == 200
    assert unknown.context["form"].errors == {
        "account_number": ["there is no customer with account number 'NOPE-1'"]
    }
    assert 'value="PO-9"' in text(unknown)  # what was typed stays
    assert list(bad_date.context["form"].errors) == ["issued_on"]
    assert ordered.context["form"].errors == {"service_end": ["the service period ends before it starts"]}


def test_draft_editor_adds_a_line_and_shows_the_exact_total(clerk: User, customer: Customer) -> None:
    draft = draft_for(
        customer, clerk, LineData(quantity="2", product_code="CONSULT"), issued_on=date(2026, 3, 5)
    )
    client = logged_in(clerk)
    page = text(client.get(detail(draft)))
    assert '<td class="num" id="invoice-total">357.00 EUR</td>' in page  # 2 x 150.00 + 19 % VAT
    response = client.post(url("add_line", draft), {"product_code": "BOOK", "quantity": "3"}, headers=HTMX)
    assert response.status_code == 200
    html = text(response)
    assert html.startswith('<div id="editor"') and "<html" not in html  # the editor alone, for htmx
    assert "Line 2 added: Handbook." in html
    assert '<td class="num" id="invoice-total">437.09 EUR</td>' in html  # + 3 x 24.95 + 7 % VAT
    assert re.search(r"VAT 7%.*on 74\.85</span></th><td class=\"num\">5\.24</td>", html)
    draft.refresh_from_db()
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("374.85"),
        Decimal("62.24"),
        Decimal("437.09"),
    )
    without_htmx = client.post(
        url("add_line", draft),
        {"description": "Travel", "quantity": "1", "unit_price": "80", "tax_code": "VAT-STD"},
    )
    assert without_htmx.status_code == 302 and without_htmx["Location"] == detail(draft)
    assert draft.lines.get(line_no=3).price_source == "entered"


def test_a_refused_line_shows_the_error_at_its_field_and_changes_nothing(
    clerk: User, customer: Customer
) -> None:
    draft = draft_for(customer, clerk)
    client = logged_in(clerk)
    with unchanged():
        zero = client.post(url("add_line", draft), {"product_code": "CONSULT", "quantity": "0"}, headers=HTMX)
        unknown = client.post(url("add_line", draft), {"product_code": "NOPE", "quantity": "1"})
        free_text = client.post(url("add_line", draft), {"description": "Misc", "quantity": "1"})
    assert zero.status_code == 200
    assert zero.context["line_form"].errors == {
        "quantity": ["quantity must be more than zero, got 0; to give money back, raise a credit note"]
    }
    assert 'id="lineform-quantity-errors"' in text(zero)
    assert unknown.context["line_form"].errors == {"product_code": ["there is no product with code 'NOPE'"]}
    assert 'value="NOPE"' in text(unknown)
    assert list(free_text.context["line_form"].errors) == ["tax_code"]


def test_change_and_remove_a_line(clerk: User, customer: Customer) -> None:
    draft = draft_for(
        customer,
        clerk,
        LineData(quantity="2", product_code="CONSULT"),
        LineData(quantity="1", product_code="BOOK"),
        issued_on=date(2026, 3, 5),
    )
    client = logged_in(clerk)
    editing = client.get(detail(draft), {"line": "1"}, headers=HTMX)
    assert editing.context["editing_line"] == 1
    assert editing.context["line_form"].initial["quantity"] == "2"
    assert url("change_line", draft, 1) in text(editing)
    changed = client.post(
        url("change_line", draft, 1),
        {"product_code": "CONSULT", "quantity": "4", "discount_percent": "10"},
        headers=HTMX,
    )
    assert "Line 1 saved." in text(changed)
    line = draft.lines.get(line_no=1)
    assert (line.quantity, line.net) == (Decimal(4), Decimal("540.00"))  # 4 x 150 less 10 %
    removed = client.post(url("remove_line", draft, 2), headers=HTMX)
    assert "Line 2 removed." in text(removed)
    draft.refresh_from_db()
    assert list(draft.lines.values_list("line_no", flat=True)) == [1]
    assert draft.total == Decimal("642.60")
    assert '<td class="num" id="invoice-total">642.60 EUR</td>' in text(removed)


def test_header_changes_from_the_editor(clerk: User, customer: Customer) -> None:
    draft = draft_for(customer, clerk)
    client = logged_in(clerk)
    bad = client.post(url("change_header", draft), {"invoice_discount_percent": "100"}, headers=HTMX)
    assert bad.context["header_form"].errors == {
        "invoice_discount_percent": ["an invoice discount must be less than 100 %"]
    }
    assert '<details class="header-form" open>' in text(bad)
    ok = client.post(url("change_header", draft), {"po_number": "PO-42", "issued_on": "2026-04-01"})
    assert ok.status_code == 302
    draft.refresh_from_db()
    assert (draft.po_number, draft.issued_on) == ("PO-42", date(2026, 4, 1))


def test_the_checks_panel_shows_blocking_checks_warnings_and_the_approval_reason(
    clerk: User, supervisor: User, make_user: Callable[..., User]
) -> None:
    from tests.invoicing.factories import make_catalog, make_customer, make_entity

    make_entity()
    make_catalog()
    customer = make_customer(clerk)
    set_approval_threshold(entity_code="", currency="EUR", amount="100", actor=make_user(Role.ADMIN))
    customer_services.place_credit_hold(customer_id=customer.pk, reason="cheque bounced", actor=clerk)
    draft = draft_for(customer, clerk)
    page = logged_in(clerk).get(detail(draft))
    checks = page.context["checks"]
    assert [(c.code, c.blocking) for c in checks] == [("credit_hold", True)]
    html = text(page)
    assert 'class="check check-blocking" data-code="credit_hold"' in html
    assert "the total 357.00 EUR is at or above the approval threshold 100.00 EUR<" in html
    assert url("override_hold", draft) not in html  # a clerk cannot override
    supervisor_page = text(logged_in(supervisor).get(detail(draft)))
    assert url("override_hold", draft) in supervisor_page


def test_submit_then_approval_by_another_supervisor_then_issue_shows_the_number(
    clerk: User, supervisor: User, customer: Customer, make_user: Callable[..., User]
) -> None:
    set_approval_threshold(entity_code="", currency="EUR", amount="100", actor=make_user(Role.ADMIN))
    other = make_user(Role.SUPERVISOR, "second")
    draft = draft_for(customer, supervisor, issued_on=date(2026, 3, 5))
    maker = logged_in(supervisor)
    submitted = maker.post(url("submit", draft))
    assert submitted.status_code == 302 and submitted["Location"] == detail(draft)
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.SUBMITTED
    page = text(maker.get(detail(draft)))
    assert "another supervisor must approve it" in page
    assert url("approve", draft) not in page  # not offered to the maker

    with unchanged():
        refused = maker.post(url("approve", draft))
    assert refused.status_code == 403
    assert f"supervisor made or submitted draft {draft.pk} and cannot approve it" in text(refused)
    assert 'id="action-error"' in text(refused)

    assert url("approve", draft) in text(logged_in(other).get(detail(draft)))
    assert logged_in(other).post(url("approve", draft)).status_code == 302
    issue = logged_in(clerk).post(url("issue", draft), follow=True)
    assert issue.redirect_chain == [(detail(draft), 302)]
    html = text(issue)
    assert "Invoice INV-2026-000001 issued." in html
    assert "<h1>Invoice INV-2026-000001" in html
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.approved_by) == (InvoiceStatus.ISSUED, "INV-2026-000001", other)
    assert reverse("ledger:entry", args=[draft.journal_entry_id]) in html


def test_reject_needs_a_reason_and_sends_back_to_draft(
    clerk: User, supervisor: User, customer: Customer, make_user: Callable[..., User]
) -> None:
    set_approval_threshold(entity_code="", currency="EUR", amount="0", actor=make_user(Role.ADMIN))
    draft = draft_for(customer, clerk)
    logged_in(clerk).post(url("submit", draft))
    client = logged_in(supervisor)
    with unchanged():
        refused = client.post(url("reject", draft), {"reason": " "})
    assert refused.status_code == 200
    assert refused.context["reject_form"].errors == {"reason": ["reason is required"]}
    assert client.post(url("reject", draft), {"reason": "wrong PO"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT


def test_override_credit_hold_lets_the_clerk_issue(clerk: User, supervisor: User, customer: Customer) -> None:
    customer_services.place_credit_hold(customer_id=customer.pk, reason="late payer", actor=clerk)
    draft = draft_for(customer, clerk, issued_on=date(2026, 3, 5))
    with unchanged():
        blocked = logged_in(clerk).post(url("issue", draft))
    assert blocked.status_code == 200
    assert "is on credit hold (late payer)" in blocked.context["action_error"]
    assert (
        logged_in(supervisor).post(url("override_hold", draft), {"reason": "paid in advance"}).status_code
        == 302
    )
    assert logged_in(clerk).post(url("issue", draft)).status_code == 302
    draft.refresh_from_db()
    assert (draft.number, draft.hold_override_reason) == ("INV-2026-000001", "paid in advance")


def test_delete_a_draft(clerk: User, customer: Customer) -> None:
    draft = draft_for(customer, clerk)
    response = logged_in(clerk).post(url("delete", draft))
    assert response.status_code == 302 and response["Location"] == reverse("invoicing:list")
    assert not Invoice.objects.exists()


def test_the_issued_page_is_read_only_and_links_entry_pdf_and_history(
    clerk: User, customer: Customer
) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 5))
    page = logged_in(clerk).get(detail(invoice))
    html = text(page)
    assert page.context["invoice"] == invoice
    assert url("add_line", invoice) not in html and url("issue", invoice) not in html
    assert reverse("ledger:entry", args=[invoice.journal_entry_id]) in html
    assert url("pdf", invoice) in html
    assert "<code>invoice.issued</code>" in html and "<code>invoice.draft_created</code>" in html
    assert '<dd class="num open-amount" id="open-amount">357.00 EUR</dd>' in html


def test_the_pdf_is_served_inline_and_hashes_to_the_sha256_on_the_page(
    clerk: User, customer: Customer
) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 5))
    client = logged_in(clerk)
    assert 'hx-get="' + url("pdf_digest", invoice) + '"' in text(
        client.get(detail(invoice))
    )  # not rendered yet
    response = client.get(url("pdf", invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="INV-2026-000001.pdf"'
    assert response.content.startswith(b"%PDF-")
    digest = hashlib.sha256(response.content).hexdigest()
    assert f'<code class="hash" id="pdf-sha256">{digest}</code>' in text(client.get(detail(invoice)))
    assert IssuedDocument.objects.get(invoice=invoice).pdf_sha256 == digest
    again = client.get(url("pdf", invoice))
    assert hashlib.sha256(again.content).hexdigest() == digest  # stored once, served as stored


def test_a_draft_has_a_preview_and_no_pdf(clerk: User, customer: Customer) -> None:
    draft = draft_for(customer, clerk)
    client = logged_in(clerk)
    preview = client.get(url("preview", draft))
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    assert client.get(url("pdf", draft)).status_code == 404
    assert not IssuedDocument.objects.exists()


def test_void_needs_a_reason_then_reverses_the_entry(clerk: User, customer: Customer) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 5))
    client = logged_in(clerk)
    with unchanged():
        refused = client.post(url("void", invoice), {"reason": ""})
    assert refused.status_code == 200
    assert refused.context["void_form"].errors == {"reason": ["reason is required"]}
    assert '<details class="correction" open>' in text(refused)
    done = client.post(url("void", invoice), {"reason": "sent to the wrong customer"}, follow=True)
    assert "is void; its journal entry has been reversed" in text(done)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.VOID, Decimal(0))
    assert reverse("ledger:entry", args=[invoice.void_entry_id]) in text(done)


def test_credit_note_per_line_then_refused_beyond_what_is_left_then_whole(
    clerk: User, customer: Customer
) -> None:
    invoice = issued(
        customer,
        clerk,
        date(2026, 3, 5),
        LineData(quantity="2", product_code="CONSULT"),
        LineData(quantity="3", product_code="BOOK"),
    )
    client = logged_in(clerk)
    per_line = client.post(
        url("credit_note", invoice), {"reason": "one hour too many", "scope": "lines", "quantity_1": "1"}
    )
    note = Invoice.objects.get(document_type=DocumentType.CREDIT_NOTE)
    assert per_line.status_code == 302 and per_line["Location"] == detail(note)
    assert (note.number, note.total, note.original) == ("CN-2026-000001", Decimal("178.50"), invoice)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PARTLY_PAID, Decimal("258.59"))

    with unchanged():
        too_much = client.post(
            url("credit_note", invoice),
            {"reason": "again", "scope": "lines", "amount_2": "5", "quantity_1": "2"},
        )
        nothing = client.post(url("credit_note", invoice), {"reason": "again", "scope": "lines"})
    assert too_much.status_code == 200
    assert too_much.context["credit_form"].errors == {
        "quantity_1": ["line 1: 2 is more than the 1 still creditable"]
    }
    assert nothing.context["credit_form"].errors == {
        "__all__": ["enter a quantity or a net amount on at least one line"]
    }

    whole = client.post(url("credit_note", invoice), {"reason": "cancelled", "scope": "whole"})
    assert whole.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.CREDITED, Decimal(0))
    html = text(client.get(detail(invoice)))
    assert "CN-2026-000001" in html and "CN-2026-000002" in html
    assert url("credit_note", invoice) not in html  # nothing left to correct


def test_debit_note_and_rebill_start_linked_drafts(clerk: User, customer: Customer) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 5))
    client = logged_in(clerk)
    debit = client.post(url("debit_note", invoice), {"reason": "late fee"})
    note = Invoice.objects.get(document_type=DocumentType.DEBIT_NOTE)
    assert debit["Location"] == detail(note)
    editor = text(client.get(detail(note)))
    assert f"Draft debit note {note.pk}" in editor and "INV-2026-000001" in editor
    rebill = client.post(url("rebill", invoice), {"reason": "wrong rate"})
    draft = Invoice.objects.get(rebill_of=invoice)
    assert rebill["Location"] == detail(draft)
    assert (draft.status, draft.total) == (InvoiceStatus.DRAFT, invoice.total)
    html = text(client.get(detail(invoice)))
    assert f'Re-billed as <a href="{detail(draft)}">draft {draft.pk}</a>' in html


def test_the_auditor_sees_every_page_but_each_post_is_403(
    auditor: User, clerk: User, supervisor: User, customer: Customer
) -> None:
    draft = draft_for(customer, clerk, LineData(quantity="2", product_code="CONSULT"))
    submitted = draft_for(customer, clerk)
    logged_in(clerk).post(url("submit", submitted))
    invoice = issued(customer, clerk, date(2026, 3, 5))
    client = logged_in(auditor)
    for page in (reverse("invoicing:list"), reverse("invoicing:create"), detail(draft), detail(invoice)):
        assert client.get(page).status_code == 200
    editor = text(client.get(detail(draft)))
    assert url("add_line", draft) not in editor and url("submit", draft) not in editor
    assert client.get(url("pdf", invoice)).status_code == 200

    reason = {"reason": "because"}
    line = {"product_code": "CONSULT", "quantity": "1"}
    posts = [
        (reverse("invoicing:create"), {"account_number": customer.account_number}),
        (url("change_header", draft), {"po_number": "X"}),
        (url("add_line", draft), line),
        (url("change_line", draft, 1), line),
        (url("remove_line", draft, 1), {}),
        (url("submit", draft), {}),
        (url("approve", submitted), {}),
        (url("reject", submitted), reason),
        (url("override_hold", draft), reason),
        (url("issue", draft), {}),
        (url("delete", draft), {}),
        (url("void", invoice), reason),
        (url("credit_note", invoice), {**reason, "scope": "whole"}),
        (url("debit_note", invoice), reason),
        (url("rebill", invoice), reason),
    ]
    with unchanged():
        for path, data in posts:
            response = client.post(path, data)
            assert response.status_code == 403, path
            assert "the auditor role may not do invoicing." in text(response), path
        assert client.post(url("add_line", draft), line, headers=HTMX).status_code == 403


def test_posts_need_the_csrf_token(clerk: User, customer: Customer) -> None:
    draft = draft_for(customer, clerk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    with unchanged():
        assert client.post(url("submit", draft)).status_code == 403


def test_a_missing_document_is_404(clerk: User) -> None:
    client = logged_in(clerk)
    assert client.get(detail(424242)).status_code == 404
    assert client.post(reverse("invoicing:submit", args=[424242])).status_code == 404


def test_the_navigation_has_invoices(clerk: User) -> None:
    html = text(logged_in(clerk).get(reverse("invoicing:list")))
    assert f'<a href="{reverse("invoicing:list")}" aria-current="page">Invoices</a>' in html


def test_overdue_marks_open_invoices_past_their_due_date(clerk: User, customer: Customer) -> None:
    old = issued(customer, clerk, timezone.localdate() - timedelta(days=45))
    html = text(logged_in(clerk).get(detail(old)))
    assert '<span class="badge status status-overdue">Overdue</span>' in html


def test_the_issued_page_lists_its_deliveries(clerk: User, customer: Customer) -> None:
    from billops.delivery.services import queue_invoice_delivery

    invoice = issued(customer, clerk, date(2026, 3, 5))
    assert "Not delivered yet." in text(logged_in(clerk).get(detail(invoice)))
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, recipients=["ap@customer.example"])
    page = logged_in(clerk).get(detail(invoice))
    assert [d.pk for d in page.context["deliveries"]] == [delivery.pk]
    html = text(page)
    assert reverse("delivery:detail", args=[delivery.pk]) in html
    assert "<td>ap@customer.example</td>" in html and ">Queued</span>" in html


def test_an_htmx_change_of_a_document_issued_meanwhile_loads_its_page(
    clerk: User, customer: Customer
) -> None:
    invoice = issued(customer, clerk, date(2026, 3, 5))
    client = logged_in(clerk)
    with unchanged():
        response = client.post(
            url("add_line", invoice), {"product_code": "BOOK", "quantity": "1"}, headers=HTMX
        )
    assert response["HX-Redirect"] == detail(invoice)
    page = text(client.get(detail(invoice)))
    assert "INV-2026-000001 is issued and can no longer be changed" in page
