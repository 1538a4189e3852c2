"""A case opened from a remittance deduction (what the customer kept back from a payment): once per
invoice and reference; the same deduction again returns its case and writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billops.core.errors import Duplicate, InvalidAmount, InvalidInput, PermissionDenied
from billops.disputes.errors import OverDisputed
from billops.disputes.models import DisputeCase, Source
from billops.disputes.services import open_deduction_case, open_dispute
from tests.disputes.books import events, unchanged


def test_the_same_deduction_opens_one_case(clerk, invoice):
    case = open_deduction_case(invoice_id=invoice.pk, amount="17.85", reference="RA-2026-044/3", actor=clerk)
    assert (case.source, case.source_reference, case.reason, case.amount) == (
        Source.REMITTANCE_DEDUCTION, "RA-2026-044/3", "other", Decimal("17.85")
    )  # fmt: skip
    with unchanged():
        again = open_deduction_case(
            invoice_id=invoice.pk, amount=Decimal("17.85"), reference=" RA-2026-044/3 ", actor=clerk
        )
    assert again.pk == case.pk
    assert len(events("dispute.opened")) == 1
    other = open_deduction_case(
        invoice_id=invoice.pk, amount="10.00", reference="RA-2026-051/1", reason="quality", actor=clerk
    )
    assert (DisputeCase.objects.count(), other.reason) == (2, "quality")


def test_the_same_reference_with_another_amount_is_refused(clerk, invoice):
    case = open_deduction_case(invoice_id=invoice.pk, amount="17.85", reference="RA-1", actor=clerk)
    with unchanged(), pytest.raises(Duplicate) as refused:
        open_deduction_case(invoice_id=invoice.pk, amount="17.86", reference="RA-1", actor=clerk)
    assert (refused.value.field, refused.value.message) == (
        "reference",
        f"deduction 'RA-1' on INV-2026-000001 opened dispute {case.pk} for 17.85 EUR, not 17.86 EUR",
    )  # fmt: skip
    with unchanged(), pytest.raises(Duplicate) as refused:
        open_dispute(
            invoice_id=invoice.pk, reason="other", amount="5", source="remittance_deduction",
            source_reference="RA-1", actor=clerk,
        )  # fmt: skip
    assert refused.value.field == "source_reference"


def test_the_same_reference_on_another_invoice_is_another_deduction(clerk, invoice, other_invoice):
    first = open_deduction_case(invoice_id=invoice.pk, amount="5.00", reference="RA-1", actor=clerk)
    second = open_deduction_case(invoice_id=other_invoice.pk, amount="5.00", reference="RA-1", actor=clerk)
    assert first.pk != second.pk


def test_a_deduction_is_checked_as_any_case(clerk, auditor, invoice):
    for values, error, field in (
        ({"amount": "437.10", "reference": "RA-1"}, OverDisputed, "amount"),
        ({"amount": None, "reference": "RA-1"}, InvalidAmount, "amount"),
        ({"amount": "5.00", "reference": "  "}, InvalidInput, "reference"),
    ):
        with unchanged(), pytest.raises(error) as refused:
            open_deduction_case(invoice_id=invoice.pk, actor=clerk, **values)
        assert refused.value.field == field
    with unchanged(), pytest.raises(PermissionDenied):
        open_deduction_case(invoice_id=invoice.pk, amount="5.00", reference="RA-1", actor=auditor)
