"""Staff pages for disputes: the list with its filters, opening a case on an invoice's lines, a case's page
with its actions (each error next to its field), notes with htmx, attachments uploaded and downloaded.
Every role reads them; the auditor gets no forms, and a refused post changes nothing."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billops.access.models import Role
from billops.access.services import set_business_date
from billops.disputes.models import DisputeAttachment, DisputeCase, DisputeNote, Status
from billops.disputes.services import LineClaim, open_dispute
from tests.disputes.books import unchanged


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def words(response: Any) -> str:
    """The page's text as a reader sees it, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


def field_error(response: Any, field_id: str) -> str:
    page = html.unescape(response.content.decode())
    found = re.search(rf'<ul class="errorlist" id="{re.escape(field_id)}-errors">(.*?)</ul>', page, re.S)
    assert found, f"no error under {field_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", found[1]).split())


@pytest.fixture
def case(clerk, invoice):
    return open_dispute(
        invoice_id=invoice.pk, reason="price", actor=clerk, sla_due_on=date(2026, 3, 12),
        lines=[LineClaim(line_no=1, amount="59.50")], note="rate should be 125.00",
    )  # fmt: skip


def test_the_list_shows_cases_due_first_and_marks_the_overdue(clerk, make_user, case):
    client = signed_in(clerk)
    page = client.get(reverse("disputes:list"))
    assert page.status_code == 200
    assert f"{case.pk} INV-2026-000001" in words(page) and "59.50 EUR" in words(page)
    badge = '<span class="badge bad">SLA overdue</span>'
    assert badge not in page.content.decode()
    set_business_date(on=date(2026, 3, 13), actor=make_user(Role.ADMIN))
    overdue = client.get(reverse("disputes:list"), {"overdue": "1", "owner": "none"})
    assert badge in overdue.content.decode()
    assert "No disputes match" in words(client.get(reverse("disputes:list"), {"status": "rejected"}))
    unknown = client.get(reverse("disputes:list"), {"customer": "C-NOPE"})
    assert "there is no customer with account number 'C-NOPE'" in words(unknown)
    assert f"case-{case.pk}" not in unknown.content.decode()


def test_a_case_is_opened_from_the_invoice_form(clerk, collector, invoice):
    client = signed_in(clerk)
    form = client.get(reverse("disputes:new"), {"invoice": invoice.pk})
    assert form.status_code == 200
    assert "Left to dispute 437.09 EUR" in words(form)
    posted = client.post(
        f"{reverse('disputes:new')}?invoice={invoice.pk}",
        {"invoice": invoice.pk, "reason": "quantity", "line_2": "on", "amount_2": "",
         "owner_id": collector.pk, "note": "only 2 handbooks arrived"},
    )  # fmt: skip
    case = DisputeCase.objects.get()
    assert posted.status_code == 302 and posted["Location"] == reverse("disputes:case", args=[case.pk])
    assert (case.amount, case.reason, case.owner, case.lines.get().line.line_no) == (
        Decimal("80.09"), "quantity", collector, 2
    )  # fmt: skip
    shown = words(client.get(posted["Location"]))
    assert f"Dispute {case.pk} opened on INV-2026-000001: 80.09 EUR disputed" in shown
    by_number = client.get(reverse("disputes:new"), {"number": "inv-2026-000001"})
    assert "Disputed in other cases 80.09 EUR" in words(by_number)
    assert "Invoice number" in words(client.get(reverse("disputes:new")))


def test_a_refused_opening_shows_the_error_next_to_the_line(clerk, invoice):
    client = signed_in(clerk)
    with unchanged():
        refused = client.post(
            reverse("disputes:new"),
            {"invoice": invoice.pk, "reason": "price", "line_1": "on", "amount_1": "10", "line_2": "on",
             "amount_2": "80.10"},
        )  # fmt: skip
    assert refused.status_code == 200
    assert field_error(refused, "openform-amount_2") == (
        "line 2: 80.10 EUR is more than the 80.09 EUR of the line (tax included) not yet credited or disputed"
    )
    with unchanged():
        too_much = client.post(
            reverse("disputes:new"), {"invoice": invoice.pk, "reason": "price", "amount": "500"}
        )
    assert "437.09 EUR is left to dispute, not 500.00 EUR" in field_error(too_much, "openform-amount")


def test_the_case_page_shows_the_case_and_works_it(clerk, collector, case):
    client = signed_in(collector)
    page = client.get(reverse("disputes:case", args=[case.pk]))
    assert page.status_code == 200
    text = words(page)
    assert "Disputed 59.50 EUR tax included" in text and "rate should be 125.00" in text
    assert "Issues a credit note of 59.50 EUR" in text  # the preview before resolving
    started = client.post(reverse("disputes:investigate", args=[case.pk]), {"note": ""})
    assert started.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.owner) == (Status.INVESTIGATING, collector)
    with unchanged():
        refused = client.post(reverse("disputes:investigate", args=[case.pk]), {"note": ""})
    assert refused.status_code == 200
    assert f"dispute {case.pk} is investigating; only an open case is taken into investigation" in words(
        refused
    )
    with unchanged():
        no_cause = client.post(reverse("disputes:resolve_credit", args=[case.pk]), {"note": "agreed"})
    assert "root_cause must be one of" in field_error(no_cause, "credit-root_cause")
    resolved = client.post(
        reverse("disputes:resolve_credit", args=[case.pk]), {"root_cause": "pricing_error", "note": "agreed"}
    )
    assert resolved.status_code == 302
    after = words(client.get(resolved["Location"]))
    assert "credit note CN-2026-000001 of 59.50 EUR issued on INV-2026-000001" in after
    assert "Resolved by credit note" in after and "Pricing error" in after


def test_reject_withdraw_and_assign_from_the_page(clerk, collector, invoice, case):
    client = signed_in(clerk)
    assigned = client.post(reverse("disputes:assign", args=[case.pk]), {"owner_id": collector.pk})
    assert assigned.status_code == 302
    assert DisputeCase.objects.get(pk=case.pk).owner == collector
    with unchanged():
        no_note = client.post(reverse("disputes:reject", args=[case.pk]), {"root_cause": "other", "note": ""})
    assert field_error(no_note, "rejectform-note") == "note is required"
    client.post(reverse("disputes:reject", args=[case.pk]), {"root_cause": "customer_error", "note": "POD"})
    assert DisputeCase.objects.get(pk=case.pk).status == Status.REJECTED
    other = open_dispute(invoice_id=invoice.pk, reason="tax", amount="1", actor=clerk)
    client.post(reverse("disputes:withdraw", args=[other.pk]), {"note": "by phone"})
    assert DisputeCase.objects.get(pk=other.pk).status == Status.WITHDRAWN


def test_a_note_added_with_htmx_redraws_only_the_notes(clerk, case):
    client = signed_in(clerk)
    added = client.post(reverse("disputes:add_note", args=[case.pk]), {"note": "called the customer"},
                        headers={"HX-Request": "true"})  # fmt: skip
    assert added.status_code == 200
    partial = added.content.decode()
    assert partial.lstrip().startswith('<section class="card" id="notes">') and "<html" not in partial
    assert "called the customer" in partial
    with unchanged():
        empty = client.post(reverse("disputes:add_note", args=[case.pk]), {"note": " "},
                            headers={"HX-Request": "true"})  # fmt: skip
    assert field_error(empty, "noteform-note") == "text is required"
    plain = client.post(reverse("disputes:add_note", args=[case.pk]), {"note": "without htmx"})
    assert plain.status_code == 302
    assert DisputeNote.objects.filter(case=case).count() == 3


def test_attachments_are_uploaded_and_downloaded_from_the_page(clerk, case):
    client = signed_in(clerk)
    uploaded = client.post(
        reverse("disputes:attach", args=[case.pk]),
        {"file": SimpleUploadedFile("letter.pdf", b"%PDF-1.4 letter", content_type="application/pdf")},
    )
    assert uploaded.status_code == 302
    attachment = DisputeAttachment.objects.get()
    downloaded = client.get(reverse("disputes:attachment", args=[case.pk, attachment.pk]))
    assert (downloaded.status_code, downloaded.content) == (200, b"%PDF-1.4 letter")
    assert downloaded["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    with unchanged():
        empty = client.post(
            reverse("disputes:attach", args=[case.pk]), {"file": SimpleUploadedFile("e.txt", b"")}
        )
        nothing = client.post(reverse("disputes:attach", args=[case.pk]), {})
    assert field_error(empty, "attachmentform-file") == "e.txt is empty; attach the file with its content"
    assert field_error(nothing, "attachmentform-file") == "choose the file to attach"
    assert client.get(reverse("disputes:attachment", args=[case.pk, 999])).status_code == 404


def test_the_auditor_reads_without_forms_and_is_refused(auditor, case):
    client = signed_in(auditor)
    page = client.get(reverse("disputes:case", args=[case.pk]))
    assert page.status_code == 200
    assert "Start investigating" not in words(page) and "Add note" not in words(page)
    with unchanged():
        refused = client.post(
            reverse("disputes:reject", args=[case.pk]), {"root_cause": "other", "note": "x"}
        )
    assert refused.status_code == 403
    assert client.get(reverse("disputes:case", args=[999999])).status_code == 404
    assert signed_in(auditor).get(reverse("disputes:list")).status_code == 200


def test_pages_need_a_signed_in_user(case):
    response = Client().get(reverse("disputes:case", args=[case.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
