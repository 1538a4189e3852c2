"""The delivery API through a real bearer token: send, bulk send, the log, retry and re-send, statements."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from billops.delivery.models import Delivery, DeliveryStatus
from billops.delivery.services import send_due_deliveries
from tests.customers.factories import create_customer
from tests.delivery.factories import PRIMARY, SECOND, issued


def test_send_an_invoice_then_read_it_in_the_log(api_as, smtp_sink, customer, clerk):
    invoice = issued(customer, clerk)
    api = api_as(clerk)

    response = api.post(f"/delivery/invoices/{invoice.pk}/send")
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["status"] == "queued" and sent["recipients"] == [PRIMARY, SECOND]
    assert sent["document_number"] == invoice.number and sent["customer_account"] == customer.account_number
    assert sent["attempt_log"] == [] and sent["created_by"] == "clerk"
    assert api.post(f"/delivery/invoices/{invoice.pk}/send").json()["id"] == sent["id"]  # the same again

    send_due_deliveries()
    detail = api.get(f"/delivery/deliveries/{sent['id']}").json()
    assert detail["status"] == "sent" and detail["last_reply"] == smtp_sink.replies[0]
    assert [(a["attempt_no"], a["outcome"]) for a in detail["attempt_log"]] == [(1, "sent")]
    assert len(detail["attachment_sha256"]) == 64

    listed = api.get("/delivery/deliveries", invoice_id=invoice.pk).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == sent["id"]
    assert api.get("/delivery/deliveries", status="failed").json()["count"] == 0
    assert api.get("/delivery/deliveries", status="bogus").status_code == 422


def test_refusals_name_the_field_and_queue_nothing(api_as, customer, clerk, auditor):
    invoice = issued(customer, clerk)
    bad = api_as(clerk).post(f"/delivery/invoices/{invoice.pk}/send", {"recipients": ["nobody"]})
    assert bad.status_code == 400
    assert bad.json() == {
        "code": "invalid",
        "message": "not a valid e-mail address: 'nobody'",
        "field": "recipients",
    }
    assert api_as(clerk).post("/delivery/invoices/999999/send").status_code == 404
    assert api_as(auditor).post(f"/delivery/invoices/{invoice.pk}/send").status_code == 403
    assert api_as(clerk).post(f"/delivery/invoices/{invoice.pk}/send", {"recipients": []}).status_code == 422
    assert not Delivery.objects.exists()
    assert api_as(clerk).get("/delivery/deliveries/not-a-uuid").status_code in (404, 422)
    missing = api_as(clerk).get("/delivery/deliveries/6f1c2d3e-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["field"] == "delivery_id"


def test_bulk_send_reports_each_refused_invoice(api_as, customer, clerk):
    good = issued(customer, clerk)
    nobody = issued(create_customer(clerk), clerk)
    response = api_as(clerk).post("/delivery/invoices/send-bulk", {"invoice_ids": [good.pk, nobody.pk]})
    assert response.status_code == 200
    body = response.json()
    assert (body["queued"], body["already_queued"], body["refused"]) == (1, 0, 1)
    [refusal] = body["refusals"]
    assert (refusal["id"], refusal["code"], refusal["field"]) == (nobody.pk, "no_recipients", "recipients")
    assert [str(d.pk) for d in Delivery.objects.all()] == body["delivery_ids"]


def test_retry_and_resend_a_failed_delivery(api_as, smtp_sink, customer, clerk):
    api = api_as(clerk)
    smtp_sink.reject(PRIMARY)
    delivery = api.post(f"/delivery/invoices/{issued(customer, clerk).pk}/send").json()
    send_due_deliveries()
    assert api.get(f"/delivery/deliveries/{delivery['id']}").json()["status"] == "failed"

    retried = api.post(f"/delivery/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    send_due_deliveries()
    resent = api.post(f"/delivery/deliveries/{delivery['id']}/resend")
    assert resent.status_code == 201
    assert resent.json()["resend_of_id"] == delivery["id"] and resent.json()["id"] != delivery["id"]
    refused = api.post(f"/delivery/deliveries/{resent.json()['id']}/resend")
    assert refused.status_code == 409 and refused.json()["code"] == "delivery_in_progress"
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 1


def test_statements_by_api(api_as, customer, clerk, supervisor):
    issued(customer, clerk, issued_on=date(2026, 3, 2))
    api = api_as(clerk)
    dates = {"period_start": "2026-03-01", "as_of": "2026-03-31"}

    pdf = api.get(f"/delivery/statements/{customer.pk}.pdf", **dates)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Closing balance €357.00" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    backwards = api.get(
        f"/delivery/statements/{customer.pk}.pdf", period_start="2026-04-01", as_of="2026-03-31"
    )
    assert backwards.status_code == 400 and backwards.json()["field"] == "period_start"

    one = api.post(
        f"/delivery/statements/{customer.pk}/send", {**dates, "recipients": ["ap@customer.example"]}
    )
    assert one.status_code == 201 and one.json()["kind"] == "statement"
    assert one.json()["recipients"] == ["ap@customer.example"]
    everyone = api_as(supervisor).post("/delivery/statements/send-bulk", dates).json()
    assert (everyone["queued"], everyone["refused"]) == (1, 0)  # the billing contacts: another message
    assert Delivery.objects.filter(kind="statement").count() == 2
