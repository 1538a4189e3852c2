"""Real concurrency on PostgreSQL: two workers sending at once, and two clerks queueing the same message."""

from __future__ import annotations

import pytest

from billops.access.models import Role
from billops.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from billops.delivery.services import queue_invoice_delivery, send_due_deliveries
from billops.invoicing.services.documents import render_pending_pdfs
from tests.conftest import race
from tests.delivery.factories import customer_with_contacts, issued
from tests.invoicing.factories import make_catalog, make_entity

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clerk(make_user):
    make_entity()
    make_catalog()
    return make_user(Role.CLERK)


def test_two_workers_at_once_send_each_delivery_exactly_once(smtp_sink, clerk):
    customer = customer_with_contacts(clerk)
    invoices = [issued(customer, clerk) for _ in range(8)]
    render_pending_pdfs()
    deliveries = {queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk).pk for invoice in invoices}

    results, errors = race(2, lambda _: send_due_deliveries())

    assert errors == []
    assert sum(counts.sent for counts in results) == 8
    received = sorted(message.message["Message-ID"] for message in smtp_sink.messages)
    assert received == sorted(f"<delivery-{pk}@billops>" for pk in deliveries)
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}
    assert DeliveryAttempt.objects.count() == 8


def test_two_clerks_queueing_the_same_message_at_once_queue_it_once(clerk, make_user):
    customer = customer_with_contacts(clerk)
    invoice = issued(customer, clerk)
    other = make_user(Role.CLERK)

    results, errors = race(
        2, lambda i: queue_invoice_delivery(invoice_id=invoice.pk, actor=(clerk, other)[i])
    )

    assert errors == []
    assert results[0].pk == results[1].pk
    assert Delivery.objects.count() == 1
