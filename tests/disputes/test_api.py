"""The disputes API over HTTP with real bearer tokens: a case opened on lines, worked and resolved by a
credit note or a re-bill; attachments uploaded and downloaded; refusals as {code, message, field} with
nothing written."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billops.disputes.models import MAX_ATTACHMENT_BYTES, DisputeCase
from billops.invoicing.models import Invoice
from tests.disputes.books import unchanged

CASES = "/disputes/cases"


@pytest.fixture
def api(api_as, clerk):
    return api_as(clerk)


def test_a_case_is_opened_worked_and_resolved_by_credit(api, api_as, collector, invoice):
    opened = api.post(
        CASES,
        {"invoice_id": invoice.pk, "reason": "price", "note": "rate should be 125.00",
         "lines": [{"line_no": 1, "amount": "59.50"}], "owner_id": collector.pk},
    )  # fmt: skip
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    case_id = body["id"]
    assert {key: body[key] for key in ("invoice_number", "customer_account_number", "reason", "status",
                                      "amount", "currency", "owner", "sla_due_on", "overdue", "source")} == {
        "invoice_number": "INV-2026-000001", "customer_account_number": invoice.customer.account_number,
        "reason": "price", "status": "open", "amount": "59.50", "currency": "EUR", "owner": "collector",
        "sla_due_on": "2026-04-09", "overdue": False, "source": "manual",
    }  # fmt: skip
    assert body["lines"] == [{"line_no": 1, "description": "Consulting", "amount": "59.50"}]
    assert [note["text"] for note in body["notes"]] == ["rate should be 125.00"]

    worker = api_as(collector)
    assert worker.post(f"{CASES}/{case_id}/investigate", {}).json()["status"] == "investigating"
    noted = worker.post(f"{CASES}/{case_id}/notes", {"text": "price list confirms 125.00"})
    assert noted.status_code == 201
    assert [note["author"] for note in noted.json()["notes"]] == ["clerk", "collector"]
    resolved = worker.post(
        f"{CASES}/{case_id}/resolve-credit", {"root_cause": "pricing_error", "note": "rate corrected"}
    )
    assert resolved.status_code == 200, resolved.json()
    result = resolved.json()
    assert (result["status"], result["root_cause"], result["credit_note_number"], result["resolved_by"]) == (
        "resolved_credit", "pricing_error", "CN-2026-000001", "collector"
    )  # fmt: skip
    note = Invoice.objects.get(pk=result["credit_note_id"])
    assert note.total == Decimal("59.50")
    invoice.refresh_from_db()
    assert invoice.open_amount == Decimal("377.59")

    listed = api.get(CASES, status="resolved_credit")
    assert [item["id"] for item in listed.json()["items"]] == [case_id]
    assert api.get(CASES, status="active").json()["count"] == 0
    assert api.get(f"{CASES}/{case_id}").json()["credit_note_id"] == note.pk


def test_a_rebill_through_the_api(api, invoice):
    case_id = api.post(CASES, {"invoice_id": invoice.pk, "reason": "quantity"}).json()["id"]
    result = api.post(
        f"{CASES}/{case_id}/resolve-rebill", {"root_cause": "wrong_quantity", "note": "2, not 3"}
    )
    assert result.status_code == 200, result.json()
    draft = Invoice.objects.get(pk=result.json()["rebill_draft_id"])
    assert (draft.rebill_of_id, draft.status) == (invoice.pk, "draft")


def test_reject_assign_and_withdraw(api, collector, invoice):
    first = api.post(CASES, {"invoice_id": invoice.pk, "reason": "tax", "amount": "5.00"}).json()["id"]
    assigned = api.post(f"{CASES}/{first}/assign", {"owner_id": collector.pk}).json()
    assert assigned["owner"] == "collector"
    assert api.post(f"{CASES}/{first}/assign", {"owner_id": None}).json()["owner"] is None
    rejected = api.post(f"{CASES}/{first}/reject", {"root_cause": "customer_error", "note": "VAT is right"})
    assert (rejected.json()["status"], rejected.json()["resolution_note"]) == ("rejected", "VAT is right")
    second = api.post(CASES, {"invoice_id": invoice.pk, "reason": "tax", "amount": "5.00"}).json()["id"]
    assert api.post(f"{CASES}/{second}/withdraw", {"note": "by phone"}).json()["status"] == "withdrawn"


def test_refusals_come_back_as_code_message_and_field_and_change_nothing(api, api_as, auditor, invoice):
    reader = api_as(auditor)
    with unchanged():
        too_much = api.post(CASES, {"invoice_id": invoice.pk, "reason": "price", "amount": "437.10"})
        bad_line = api.post(
            CASES,
            {
                "invoice_id": invoice.pk,
                "reason": "price",
                "lines": [{"line_no": 1}, {"line_no": 2, "amount": "80.10"}],
            },
        )
        forbidden = reader.post(CASES, {"invoice_id": invoice.pk, "reason": "price"})
        missing = api.post(f"{CASES}/999999/investigate", {})
        floated = api.post(CASES, {"invoice_id": invoice.pk, "reason": "price", "amount": 1.5})
    assert (too_much.status_code, too_much.json()) == (400, {
        "code": "over_disputed", "field": "amount",
        "message": "INV-2026-000001 has 437.09 EUR open: 437.09 EUR is left to dispute, not 437.10 EUR",
    })  # fmt: skip
    assert (bad_line.status_code, bad_line.json()["code"], bad_line.json()["field"]) == (
        400, "over_disputed", "lines[2].amount"
    )  # fmt: skip
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "permission_denied")
    assert (missing.status_code, missing.json()) == (
        404, {"code": "not_found", "message": "there is no dispute 999999", "field": "case_id"}
    )  # fmt: skip
    assert (floated.status_code, floated.json()["field"]) == (422, "amount")
    case_id = api.post(CASES, {"invoice_id": invoice.pk, "reason": "price", "amount": "5"}).json()["id"]
    api.post(f"{CASES}/{case_id}/withdraw", {"note": "by phone"})
    with unchanged():
        again = api.post(f"{CASES}/{case_id}/reject", {"root_cause": "other", "note": "x"})
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (409, "wrong_status", "status")


def test_attachments_are_uploaded_and_downloaded_as_sent(api, invoice):
    case_id = api.post(CASES, {"invoice_id": invoice.pk, "reason": "quality", "amount": "5"}).json()["id"]
    content = b"\x89PNG photo of the broken part"
    uploaded = api.client.post(
        f"/api/v1{CASES}/{case_id}/attachments",
        {"file": SimpleUploadedFile("broken part.png", content, content_type="image/png")},
    )
    assert uploaded.status_code == 201, uploaded.json()
    attachment = uploaded.json()
    shown = ("file_name", "content_type", "size", "sha256", "uploaded_by")
    assert {key: attachment[key] for key in shown} == {
        "file_name": "broken part.png", "content_type": "image/png", "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(), "uploaded_by": "clerk",
    }  # fmt: skip
    downloaded = api.get(f"{CASES}/{case_id}/attachments/{attachment['id']}")
    assert (downloaded.status_code, downloaded.content, downloaded["Content-Type"]) == (
        200,
        content,
        "image/png",
    )
    assert downloaded["Content-Disposition"].startswith("attachment;")
    assert downloaded["X-Content-SHA256"] == attachment["sha256"]
    assert api.get(f"{CASES}/{case_id}").json()["attachments"][0]["id"] == attachment["id"]
    assert api.get(f"{CASES}/{case_id}/attachments/999999").status_code == 404
    with unchanged():
        empty = api.client.post(
            f"/api/v1{CASES}/{case_id}/attachments", {"file": SimpleUploadedFile("empty.txt", b"")}
        )
        big = api.client.post(
            f"/api/v1{CASES}/{case_id}/attachments",
            {"file": SimpleUploadedFile("big.bin", b"x" * (MAX_ATTACHMENT_BYTES + 1))},
        )
    assert (empty.status_code, empty.json()["code"], empty.json()["field"]) == (
        400,
        "attachment_refused",
        "file",
    )
    assert (big.status_code, big.json()["field"]) == (400, "file")
    assert "is 10,485,761 bytes" in big.json()["message"]


def test_list_filters_and_the_resolution_time_kpi(api, collector, invoice):
    first = api.post(CASES, {"invoice_id": invoice.pk, "reason": "price", "amount": "5"}).json()["id"]
    second = api.post(
        CASES, {"invoice_id": invoice.pk, "reason": "tax", "amount": "5", "owner_id": collector.pk}
    ).json()["id"]
    assert [c["id"] for c in api.get(CASES, owner_id=collector.pk).json()["items"]] == [second]
    assert [c["id"] for c in api.get(CASES, invoice_id=invoice.pk).json()["items"]] == [first, second]
    assert api.get(CASES, overdue="true").json()["count"] == 0
    bad = api.get(CASES, status="closed")
    assert (bad.status_code, bad.json()["field"]) == (400, "status")
    api.post(f"{CASES}/{first}/reject", {"root_cause": "other", "note": "n"})
    resolved_on = DisputeCase.objects.get(pk=first).resolved_at.date().isoformat()
    kpi = api.get("/disputes/resolution-times", start=resolved_on, end=resolved_on).json()
    assert (kpi["count"], [c["case_id"] for c in kpi["cases"]], kpi["cases"][0]["status"]) == (
        1,
        [first],
        "rejected",
    )
    assert kpi["average_seconds"] == kpi["cases"][0]["seconds"] >= 0
