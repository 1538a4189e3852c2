"""The mail transport against a real SMTP server (tests/mailsink.py) and the embedded outbox folder."""

from __future__ import annotations

import io
import shutil
import socket
import ssl
import subprocess
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.exceptions import ImproperlyConfigured
from pypdf import PdfWriter

from billops.core.errors import InvalidInput
from billops.core.mail import (
    MAX_ATTEMPTS,
    Attachment,
    DuplicateMessage,
    MailRejected,
    MailServerUnavailable,
    OutgoingMessage,
    SmtpServer,
    next_attempt_delay,
    parse_smtp_url,
    send_message,
    validate_address,
)
from tests.mailsink import SmtpSink


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    # binary past the PDF's end (every byte value, CR/LF pairs, a lone dot line) must survive as well
    return buffer.getvalue() + bytes(range(256)) + b"\r\n.\r\n..\n"


def invoice_message(**changes: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "message_id": "delivery-6f1c2d3e@billops",
        "sender": "billing@acme.example",
        "to": ("ap@customer.example",),
        "subject": "Invoice INV-2026-0042 from Acme Ltd",
        "text": "Dear customer,\n\nplease find invoice INV-2026-0042 attached.\n.\nAcme Ltd\n",
        "attachments": (Attachment("INV-2026-0042.pdf", pdf_bytes(), "application/pdf"),),
    }
    fields.update(changes)
    return OutgoingMessage(**fields)


# --- SMTP -----------------------------------------------------------------------------------------


def test_message_arrives_with_subject_id_recipients_and_attachment_bytes(smtp_sink: SmtpSink) -> None:
    message = invoice_message(to=("ap@customer.example", "cfo@customer.example"), reply_to="ar@acme.example")

    send_message(message)

    [received] = smtp_sink.messages
    assert received.mail_from == "billing@acme.example"
    assert received.rcpt_tos == ("ap@customer.example", "cfo@customer.example")
    email = received.message
    assert email["Subject"] == "Invoice INV-2026-0042 from Acme Ltd"
    assert email["Message-ID"] == "<delivery-6f1c2d3e@billops>"
    assert email["From"] == "billing@acme.example"
    assert email["To"] == "ap@customer.example, cfo@customer.example"
    assert email["Reply-To"] == "ar@acme.example"
    assert email["Date"] is not None
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert cast(EmailMessage, body).get_content() == message.text
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "INV-2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == message.attachments[0].content


def test_non_ascii_subject_text_and_file_name_arrive_intact(smtp_sink: SmtpSink) -> None:
    message = invoice_message(
        to=("buchhaltung@Bücher.example",),
        subject="Rechnung RE-2026-0042 für März: 1 234,50 €",
        text="Sehr geehrte Damen und Herren,\n\nanbei die Rechnung über 1 234,50 €.\n",
        attachments=(Attachment("Rechnung März.pdf", pdf_bytes(), "application/pdf"),),
    )

    send_message(message)

    [received] = smtp_sink.messages
    assert received.raw.isascii()  # no 8BITMIME needed on the way
    assert received.rcpt_tos == ("buchhaltung@xn--bcher-kva.example",)
    email = received.message
    assert email["Subject"] == message.subject
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert cast(EmailMessage, body).get_content() == message.text
    assert [part.get_filename() for part in email.iter_attachments()] == ["Rechnung März.pdf"]


def test_html_is_sent_as_an_alternative_to_the_text(smtp_sink: SmtpSink) -> None:
    send_message(invoice_message(html="<p>Please find invoice <b>INV-2026-0042</b> attached.</p>"))

    email = smtp_sink.messages[0].message
    assert email.get_content_type() == "multipart/mixed"
    alternative, pdf = email.iter_parts()
    assert (alternative.get_content_type(), pdf.get_content_type()) == (
        "multipart/alternative",
        "application/pdf",
    )
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]
    html = email.get_body(preferencelist=("html",))
    assert html is not None
    assert "<b>INV-2026-0042</b>" in cast(EmailMessage, html).get_content()
    assert [part.get_filename() for part in email.iter_attachments()] == ["INV-2026-0042.pdf"]


def test_reply_is_the_servers_own_final_reply(smtp_sink: SmtpSink) -> None:
    first = send_message(invoice_message(message_id="delivery-1@billops"))
    second = send_message(invoice_message(message_id="delivery-2@billops"))

    assert (first.reply, second.reply) == tuple(smtp_sink.replies)
    assert first.reply.startswith("250 2.0.0 Ok: queued as ")
    assert first.reply != second.reply
    assert first.accepted == ("ap@customer.example",)


def test_rejected_recipient_raises_mail_rejected_and_nobody_gets_the_message(smtp_sink: SmtpSink) -> None:
    smtp_sink.reject("bob@example.com")

    with pytest.raises(MailRejected) as refused:
        send_message(invoice_message(to=("ap@customer.example", "bob@example.com")))

    assert refused.value.smtp_code == 550
    assert refused.value.temporary is False
    assert refused.value.message == (
        f"the mail server at {smtp_sink.address} refused recipient bob@example.com: 550 5.1.1 no such user"
    )
    assert smtp_sink.messages == []


def test_temporary_failure_raises_server_unavailable_and_a_retry_goes_through(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(1)

    with pytest.raises(MailServerUnavailable) as failed:
        send_message(invoice_message())

    assert failed.value.smtp_code == 451
    assert failed.value.temporary is True
    assert failed.value.smtp_reply == "451 4.3.0 mailbox temporarily unavailable, try again later"
    assert smtp_sink.messages == []
    send_message(invoice_message())
    assert len(smtp_sink.messages) == 1


def test_server_down_raises_server_unavailable_naming_host_and_port(smtp_sink: SmtpSink) -> None:
    smtp_sink.stop()

    with pytest.raises(MailServerUnavailable) as failed:
        send_message(invoice_message())

    assert failed.value.temporary is True
    assert failed.value.smtp_code is None
    assert failed.value.message.startswith(f"the mail server at {smtp_sink.address} could not be reached: ")


def test_server_that_never_answers_times_out_as_unavailable(settings: Any) -> None:
    with socket.socket() as silent:  # accepts connections through the backlog but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings.MAIL_SMTP_URL = f"smtp://127.0.0.1:{port}"
        settings.MAIL_TIMEOUT_SECONDS = 0.3

        with pytest.raises(MailServerUnavailable) as failed:
            send_message(invoice_message())

    assert failed.value.message.startswith(f"the mail server at 127.0.0.1:{port} could not be reached: ")
    assert failed.value.message.endswith("timed out")


def test_credentials_in_the_url_log_in_and_wrong_ones_are_temporary(settings: Any) -> None:
    sink = SmtpSink(login=("billops", "s3cret/pass"))
    sink.start()
    try:
        settings.MAIL_SMTP_URL = f"smtp://billops:s3cret%2Fpass@{sink.address}"
        send_message(invoice_message())
        assert len(sink.messages) == 1

        settings.MAIL_SMTP_URL = f"smtp://billops:wrong@{sink.address}"
        with pytest.raises(MailServerUnavailable) as failed:
            send_message(invoice_message())
        assert failed.value.smtp_code == 535
        assert len(sink.messages) == 1
    finally:
        sink.stop()


@pytest.fixture
def server_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 that the client trusts through SSL_CERT_FILE."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context() in the client
    return context


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "smtps"])
def test_tls_session_delivers_with_login(
    server_tls: ssl.SSLContext, settings: Any, implicit_tls: bool
) -> None:
    sink = SmtpSink(login=("billops", "secret"), tls=server_tls, implicit_tls=implicit_tls)
    sink.start()
    try:
        settings.MAIL_SMTP_URL = sink.url
        assert sink.url.startswith("smtps://" if implicit_tls else "smtp://")

        result = send_message(invoice_message())

        assert result.reply == sink.replies[0]
        assert len(sink.messages) == 1
    finally:
        sink.stop()


def test_untrusted_certificate_is_refused(
    server_tls: ssl.SSLContext, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    sink = SmtpSink(tls=server_tls)
    sink.start()
    try:
        settings.MAIL_SMTP_URL = sink.url

        with pytest.raises(MailServerUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            send_message(invoice_message())

        assert sink.messages == []
    finally:
        sink.stop()


def test_starttls_refused_when_the_server_does_not_offer_it(smtp_sink: SmtpSink, settings: Any) -> None:
    settings.MAIL_SMTP_URL = f"smtp://{smtp_sink.address}?starttls=1"

    with pytest.raises(MailServerUnavailable, match="STARTTLS"):
        send_message(invoice_message())

    assert smtp_sink.messages == []


# --- addresses and headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["", "bob", "bob@", "@example.com", "bob@@example.com", "Bob <bob@example.com>", "bob@exa mple.com"],
)
def test_invalid_address_is_refused_naming_the_field(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_address(address, field="billing_email")

    assert refused.value.field == "billing_email"


@pytest.mark.parametrize(
    "address", ["bob@example.com\r\nBcc: eve@evil.example", "bob@example.com\n", "\rbob@x.io"]
)
def test_line_breaks_in_an_address_are_refused(address: str) -> None:
    with pytest.raises(InvalidInput, match="line break") as refused:
        validate_address(address)

    assert refused.value.field == "email"


def test_domain_is_lower_cased_and_the_local_part_kept() -> None:
    assert validate_address(" Bob.Smith@Example.COM ") == "Bob.Smith@example.com"
    assert validate_address("billing@localhost") == "billing@localhost"


def test_non_ascii_local_part_is_refused() -> None:
    # Django's validator lets U+017F (long s) through as an "s" (case-insensitive match); SMTP cannot carry it
    with pytest.raises(InvalidInput, match="not a deliverable") as refused:
        validate_address("\u017fales@example.com", field="to")

    assert refused.value.field == "to"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": ("ap@customer.example", "not an address")}, "to"),
        ({"to": ()}, "to"),
        ({"sender": "billing@acme.example\nBcc: eve@evil.example"}, "sender"),
        ({"reply_to": "ar@"}, "reply_to"),
        ({"subject": "Invoice\r\nBcc: eve@evil.example"}, "subject"),
        ({"message_id": "<delivery-1@billops>"}, "message_id"),
        ({"message_id": "../../etc/passwd@billops"}, "message_id"),
        ({"attachments": (Attachment("a\nb.pdf", b"%PDF", "application/pdf"),)}, "attachments"),
        ({"attachments": (Attachment("a.pdf", b"%PDF", "pdf"),)}, "attachments"),
    ],
)
def test_send_refuses_bad_fields_before_connecting(
    smtp_sink: SmtpSink, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        send_message(invoice_message(**changes))

    assert refused.value.field == field
    assert smtp_sink.messages == []


# --- SMTP URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.example", SmtpServer("mail.example", 25, "none")),
        (
            "smtp://u%40x:p%3Aw@mail.example:587?starttls=1",
            SmtpServer("mail.example", 587, "starttls", "u@x", "p:w"),
        ),
        ("smtps://mail.example", SmtpServer("mail.example", 465, "ssl")),
        ("smtps://user:pw@mail.example:2465", SmtpServer("mail.example", 2465, "ssl", "user", "pw")),
        ("smtp://mail.example:2525?starttls=0", SmtpServer("mail.example", 2525, "none")),
    ],
)
def test_smtp_url_forms(url: str, server: SmtpServer) -> None:
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize(
    "url",
    [
        "mail.example",
        "http://mail.example",
        "smtp://",
        "smtp://mail.example?startls=1",
        "smtps://mail.example?starttls=1",
    ],
)
def test_unusable_smtp_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_smtp_url(url)


# --- outbox ---------------------------------------------------------------------------------------


def test_outbox_holds_one_eml_that_parses_back_with_the_attachment(outbox_dir: Path) -> None:
    message = invoice_message(html="<p>Invoice INV-2026-0042</p>")

    result = send_message(message)

    path = outbox_dir / "delivery-6f1c2d3e@billops.eml"
    assert result.reply == f"written to {path}"
    assert result.accepted == ("ap@customer.example",)
    assert list(outbox_dir.iterdir()) == [path]  # no temporary file left behind
    email = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert email["Message-ID"] == "<delivery-6f1c2d3e@billops>"
    assert email["Subject"] == message.subject
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "INV-2026-0042.pdf"
    assert attachment.get_content() == message.attachments[0].content


def test_outbox_refuses_the_same_message_id_twice_and_keeps_the_first(outbox_dir: Path) -> None:
    send_message(invoice_message())
    path = outbox_dir / "delivery-6f1c2d3e@billops.eml"
    first = path.read_bytes()

    with pytest.raises(DuplicateMessage) as refused:
        send_message(invoice_message(subject="A different subject"))

    assert refused.value.temporary is False
    assert "delivery-6f1c2d3e@billops" in refused.value.message
    assert path.read_bytes() == first
    assert list(outbox_dir.iterdir()) == [path]


# --- retries --------------------------------------------------------------------------------------


def test_backoff_schedule() -> None:
    delays = [next_attempt_delay(attempt) for attempt in range(1, MAX_ATTEMPTS)]

    assert MAX_ATTEMPTS == 6
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
    ]


@pytest.mark.parametrize("attempt", [0, MAX_ATTEMPTS, MAX_ATTEMPTS + 1])
def test_no_delay_outside_the_attempts(attempt: int) -> None:
    with pytest.raises(ValueError, match="no next attempt"):
        next_attempt_delay(attempt)
