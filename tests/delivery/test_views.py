"""Staff pages: the delivery log with its retry and re-send buttons, one delivery, and statements."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse

from billops.delivery.models import Delivery, DeliveryStatus
from billops.delivery.services import queue_invoice_delivery, send_due_deliveries
from tests.customers.factories import create_customer
from tests.delivery.factories import PRIMARY, issued


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_need_a_signed_in_user(db):
    for name in ("log", "statements", "statement_preview"):
        response = Client().get(reverse(f"delivery:{name}"))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_log_shows_a_failed_delivery_with_its_reply_and_offers_retry_and_resend(
    smtp_sink, customer, clerk
):
    smtp_sink.reject(PRIMARY)
    invoice = issued(customer, clerk)
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    send_due_deliveries()
    client = signed_in(clerk)

    page = client.get(reverse("delivery:log"), {"status": "failed"}).content.decode()
    assert invoice.number in page and "550 5.1.1 no such user" in page
    assert reverse("delivery:retry", args=[delivery.pk]) in page
    assert reverse("delivery:resend", args=[delivery.pk]) in page
    assert "Failed</a>: 1" in page
    detail = client.get(reverse("delivery:detail", args=[delivery.pk])).content.decode()
    assert f"&lt;{delivery.message_id}&gt;" in detail and "no such user" in detail

    response = client.post(reverse("delivery:retry", args=[delivery.pk]), {"back": "detail"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "delivery:detail", args=[delivery.pk]
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED

    response = client.post(reverse("delivery:resend", args=[delivery.pk]))  # still queued: refused
    assert response["Location"] == reverse("delivery:log")
    assert Delivery.objects.count() == 1
    smtp_sink.rejected.clear()
    send_due_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    attachment = client.get(reverse("delivery:attachment", args=[delivery.pk]))
    assert attachment["Content-Type"] == "application/pdf" and attachment.content == bytes(
        delivery.attachment
    )


def test_the_auditor_sees_the_log_without_buttons(smtp_sink, customer, clerk, auditor):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    page = signed_in(auditor).get(reverse("delivery:log")).content.decode()
    assert delivery.customer.account_number in page
    assert reverse("delivery:retry", args=[delivery.pk]) not in page


def test_preview_and_send_a_statement_from_the_page(smtp_sink, customer, clerk):
    issued(customer, clerk, issued_on=date(2026, 3, 2))
    client = signed_in(clerk)
    form = {"account": customer.account_number, "period_start": "2026-03-01", "as_of": "2026-03-31"}

    assert customer.account_number in client.get(reverse("delivery:statements")).content.decode()
    preview = client.get(reverse("delivery:statement_preview"), form)
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    unknown = client.get(reverse("delivery:statement_preview"), {**form, "account": "NOPE"})
    assert unknown.status_code == 404 and "no customer with account number" in unknown.content.decode()

    response = client.post(reverse("delivery:statements"), {**form, "action": "send"})
    delivery = Delivery.objects.get()
    assert response["Location"] == reverse("delivery:detail", args=[delivery.pk])
    assert (delivery.kind, delivery.as_of) == ("statement", date(2026, 3, 31))

    refused = client.post(reverse("delivery:statements"), {**form, "recipients": "nobody", "action": "send"})
    assert refused.status_code == 400 and "not a valid e-mail address" in refused.content.decode()
    assert Delivery.objects.count() == 1


def test_send_statements_to_every_customer_with_a_balance_from_the_page(customer, clerk):
    issued(customer, clerk, issued_on=date(2026, 3, 2))
    issued(create_customer(clerk), clerk, issued_on=date(2026, 3, 2))  # no billing contact
    response = signed_in(clerk).post(
        reverse("delivery:statements"),
        {"period_start": "2026-03-01", "as_of": "2026-03-31", "action": "send_all"},
        follow=True,
    )
    page = response.content.decode()
    assert "1 statements queued, 0 had been queued before, 1 refused." in page
    assert "has no billing contact with an e-mail address" in page
    assert Delivery.objects.count() == 1
