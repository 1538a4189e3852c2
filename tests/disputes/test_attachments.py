"""Evidence kept with a case: stored with its size and SHA-256; an empty file or one above 10 MiB is
refused at the field `file` and nothing is written."""

from __future__ import annotations

import hashlib

import pytest

from billops.core.errors import PermissionDenied
from billops.disputes.errors import AttachmentRefused
from billops.disputes.models import MAX_ATTACHMENT_BYTES, DisputeAttachment
from billops.disputes.services import attach_file, open_dispute, reject_dispute
from tests.disputes.books import events, unchanged

PDF = b"%PDF-1.4 delivery note signed by the customer\n%%EOF\n"


@pytest.fixture
def case(clerk, invoice):
    return open_dispute(invoice_id=invoice.pk, reason="not_received", amount="80.09", actor=clerk)


def test_a_file_is_kept_with_its_hash(collector, case):
    attached = attach_file(
        case_id=case.pk, file_name="C:\\scans\\delivery note.pdf", content=PDF, actor=collector
    )
    stored = DisputeAttachment.objects.get(pk=attached.pk)
    assert (stored.file_name, stored.content_type, stored.size, bytes(stored.content)) == (
        "delivery note.pdf", "application/pdf", len(PDF), PDF
    )  # fmt: skip
    assert (stored.sha256, stored.uploaded_by) == (hashlib.sha256(PDF).hexdigest(), collector)
    [event] = events("dispute.file_attached")
    assert event.after == {
        "attachment": stored.pk, "file_name": "delivery note.pdf", "content_type": "application/pdf",
        "size": len(PDF), "sha256": stored.sha256,
    }  # fmt: skip


def test_a_file_may_be_added_to_a_decided_case(clerk, case):
    reject_dispute(case_id=case.pk, root_cause="customer_error", note="signed POD", actor=clerk)
    attach_file(case_id=case.pk, file_name="pod.jpg", content=b"\xff\xd8jpeg", actor=clerk)
    assert DisputeAttachment.objects.get().content_type == "image/jpeg"


def test_an_empty_or_too_large_file_is_refused(clerk, case):
    for content, message in (
        (b"", "photo.png is empty; attach the file with its content"),
        (b"x" * (MAX_ATTACHMENT_BYTES + 1), "photo.png is 10,485,761 bytes; an attachment is at most 10 MiB "
         "(10,485,760 bytes)"),
    ):  # fmt: skip
        with unchanged(), pytest.raises(AttachmentRefused) as refused:
            attach_file(case_id=case.pk, file_name="photo.png", content=content, actor=clerk)
        assert (refused.value.field, refused.value.message, refused.value.code) == (
            "file", message, "attachment_refused"
        )  # fmt: skip
    with unchanged(), pytest.raises(AttachmentRefused, match="the file has no name"):
        attach_file(case_id=case.pk, file_name="dir/", content=PDF, actor=clerk)


def test_exactly_ten_mib_is_accepted(clerk, case):
    attached = attach_file(
        case_id=case.pk, file_name="scan.tiff", content=b"\0" * MAX_ATTACHMENT_BYTES, actor=clerk
    )
    assert DisputeAttachment.objects.get(pk=attached.pk).size == MAX_ATTACHMENT_BYTES


def test_the_auditor_attaches_nothing(auditor, case):
    with unchanged(), pytest.raises(PermissionDenied):
        attach_file(case_id=case.pk, file_name="x.pdf", content=PDF, actor=auditor)
