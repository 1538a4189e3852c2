"""The download of a case's attachment, shared by the API and the pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from billops.disputes.models import DisputeAttachment


def attachment_response(attachment: DisputeAttachment) -> HttpResponse:
    """The file as uploaded, always as a download (it is the customer's file, never shown inline), with
    `X-Content-SHA256`, the hash recorded at upload."""
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.file_name) or "attachment"
    response["X-Content-SHA256"] = attachment.sha256
    return response
