"""E-mail transport for invoice and statement delivery: SMTP when configured, an outbox folder otherwise.

This module only sends one message and says what happened; it keeps no state and never retries. The
caller records each attempt and schedules the next with `next_attempt_delay` when `MailNotSent.temporary`.
docs/operations.md ("E-mail") describes the settings.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import EmailValidator

from billops.core.errors import DomainError, InvalidInput

# --- messages -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str  # as the recipient sees it: "INV-2026-0042.pdf"
    content: bytes
    mimetype: str  # "application/pdf"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: str  # without angle brackets: "delivery-<uuid>@billops"; also the outbox file name
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""  # sent as an alternative to `text` when set
    attachments: tuple[Attachment, ...] = ()
    reply_to: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    accepted: tuple[str, ...]  # every recipient: a send is all or nothing
    reply: str  # the server's final reply ("250 2.0.0 Ok: queued as 4F2A…") or "written to <path>"


# --- errors ---------------------------------------------------------------------------------------


class MailNotSent(DomainError):
    """A message was not handed over; `temporary` says whether trying again later can help."""

    code = "mail_not_sent"
    http_status = 502
    temporary = False

    def __init__(self, message: str, *, smtp_code: int | None = None, smtp_reply: str = "") -> None:
        super().__init__(message, smtp_code=smtp_code, smtp_reply=smtp_reply)
        self.smtp_code = smtp_code  # None when no reply came (connection refused, timeout, disk full)
        self.smtp_reply = smtp_reply


class MailServerUnavailable(MailNotSent):
    """The server could not be reached, refused us (TLS, login) or answered 4xx: try again later."""

    code = "mail_server_unavailable"
    http_status = 503
    temporary = True


class MailRejected(MailNotSent):
    """The server refused this message for good (5xx to the sender, a recipient or the content)."""

    code = "mail_rejected"
    http_status = 502
    temporary = False


class DuplicateMessage(MailNotSent):
    """The outbox already holds this message_id: it was handed over before, so it is not written again."""

    code = "duplicate_message"
    http_status = 409
    temporary = False


# --- addresses ------------------------------------------------------------------------------------

_validate_email = EmailValidator()
# a Message-ID is also the outbox file name, so it is kept to characters that are safe in both
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


def validate_address(address: str, *, field: str = "email") -> str:
    """Return a plain address (no display name) with its domain in lower case, or raise InvalidInput."""
    if "\r" in address or "\n" in address:  # a line break would let the value add headers
        raise InvalidInput(f"an e-mail address cannot contain a line break: {address!r}", field=field)
    candidate = address.strip()
    try:
        _validate_email(candidate)
    except ValidationError:
        raise InvalidInput(f"not a valid e-mail address: {address!r}", field=field) from None
    local, _, domain = candidate.rpartition("@")
    try:
        # SMTP without SMTPUTF8 carries an ASCII local part and a punycode domain, nothing else
        local.encode("ascii")
        domain.encode("idna")
    except UnicodeError:
        raise InvalidInput(f"not a deliverable e-mail address: {address!r}", field=field) from None
    return f"{local}@{domain.lower()}"


def _ascii_address(address: str) -> str:
    """The address with an internationalised domain in its ASCII (punycode) form, as SMTP needs it."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


# --- building the message -------------------------------------------------------------------------


def _checked(message: OutgoingMessage) -> OutgoingMessage:
    """The message with validated, normalised addresses; InvalidInput names the field at fault."""
    if not _MESSAGE_ID.fullmatch(message.message_id):
        raise InvalidInput(
            f"a message id looks like 'delivery-1234@billops' (no angle brackets): {message.message_id!r}",
            field="message_id",
        )
    if not message.to:
        raise InvalidInput("a message needs at least one recipient", field="to")
    if "\r" in message.subject or "\n" in message.subject:
        raise InvalidInput("a subject cannot contain a line break", field="subject")
    for attachment in message.attachments:
        if not attachment.filename or "\r" in attachment.filename or "\n" in attachment.filename:
            raise InvalidInput(
                f"not a usable attachment file name: {attachment.filename!r}", field="attachments"
            )
        if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", attachment.mimetype):
            raise InvalidInput(f"not a MIME type: {attachment.mimetype!r}", field="attachments")
    return replace(
        message,
        sender=validate_address(message.sender, field="sender"),
        to=tuple(validate_address(address, field="to") for address in message.to),
        reply_to=validate_address(message.reply_to, field="reply_to") if message.reply_to else "",
    )


def _as_bytes(message: OutgoingMessage) -> bytes:
    """The full RFC 5322 message with CRLF line ends, as it goes over SMTP and into the outbox."""
    # 7bit: non-ASCII text goes quoted-printable or base64, so no server needs 8BITMIME
    email = EmailMessage(policy=SMTP_POLICY.clone(cte_type="7bit"))
    email["Message-ID"] = f"<{message.message_id}>"
    email["Date"] = format_datetime(datetime.now(UTC))
    email["From"] = _ascii_address(message.sender)
    email["To"] = ", ".join(_ascii_address(address) for address in message.to)
    if message.reply_to:
        email["Reply-To"] = _ascii_address(message.reply_to)
    email["Subject"] = message.subject
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, subtype = attachment.mimetype.split("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email.as_bytes()


# --- sending --------------------------------------------------------------------------------------


def send_message(message: OutgoingMessage) -> SendResult:
    """Hand one message to the SMTP server in MAIL_SMTP_URL, or write it to the outbox when that is empty.

    Raises InvalidInput for a bad address or header, a MailNotSent subclass when it was not handed over,
    and ImproperlyConfigured for an unusable MAIL_SMTP_URL.
    """
    checked = _checked(message)
    content = _as_bytes(checked)
    if settings.MAIL_SMTP_URL:
        return _send_smtp(checked, content, parse_smtp_url(settings.MAIL_SMTP_URL))
    return _write_outbox(checked, content, Path(settings.MAIL_OUTBOX_DIR))


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    username: str = ""
    password: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def parse_smtp_url(url: str) -> SmtpServer:
    """Read `smtp://user:pass@host:587?starttls=1` or `smtps://host:465`; ImproperlyConfigured otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(
            "BILLOPS_SMTP_URL must look like smtp://host:25, smtp://user:password@host:587?starttls=1 "
            "or smtps://user:password@host:465"
        )
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    # an unknown or misspelt option must not quietly send credentials without TLS
    if set(options) - {"starttls"} or options.get("starttls", "0").lower() not in _TRUE | _FALSE:
        raise ImproperlyConfigured(
            f"BILLOPS_SMTP_URL: the only option is starttls=1 or starttls=0, got {parts.query!r}"
        )
    starttls = options.get("starttls", "0").lower() in _TRUE
    if parts.scheme == "smtps" and starttls:
        raise ImproperlyConfigured(
            "BILLOPS_SMTP_URL: smtps:// is TLS from the start; starttls=1 is for smtp://"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("BILLOPS_SMTP_URL: the port is not a number") from None
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        security="ssl" if parts.scheme == "smtps" else "starttls" if starttls else "none",
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


@functools.cache
def _local_hostname() -> str:
    # smtplib looks the EHLO name up on every connection; a slow resolver would delay each send
    return socket.getfqdn()


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".rstrip()


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__  # a bare timeout or disconnect can have no text


def _refused(code: int, text: bytes | str, what: str) -> MailNotSent:
    """4xx is temporary, anything else that is not success is permanent (RFC 5321, 4.2.1)."""
    reply = _reply(code, text)
    error = MailServerUnavailable if 400 <= code < 500 else MailRejected
    return error(f"{what}: {reply}", smtp_code=code, smtp_reply=reply)


def _send_smtp(message: OutgoingMessage, content: bytes, server: SmtpServer) -> SendResult:
    """Run one SMTP transaction by hand, because smtplib.sendmail drops the final reply we must keep."""
    where = f"the mail server at {server.address}"
    timeout = float(settings.MAIL_TIMEOUT_SECONDS)
    context = ssl.create_default_context()
    try:
        if server.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, local_hostname=_local_hostname(), timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, local_hostname=_local_hostname(), timeout=timeout)
    except smtplib.SMTPResponseException as exc:  # the greeting was not 220
        reply = _reply(exc.smtp_code, exc.smtp_error)
        raise MailServerUnavailable(
            f"{where} refused the connection: {reply}", smtp_code=exc.smtp_code, smtp_reply=reply
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out, TLS handshake failed
        raise MailServerUnavailable(f"{where} could not be reached: {_describe(exc)}") from exc

    try:
        return _transaction(client, message, content, server, where, context)
    except smtplib.SMTPResponseException as exc:  # EHLO, STARTTLS or AUTH answered with an error
        reply = _reply(exc.smtp_code, exc.smtp_error)
        # a server-side refusal before the message (TLS, login) is the operator's to fix, not the message's
        raise MailServerUnavailable(
            f"{where} refused the session: {reply}", smtp_code=exc.smtp_code, smtp_reply=reply
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:  # disconnected or timed out mid-way, STARTTLS missing
        raise MailServerUnavailable(f"{where} failed during the session: {_describe(exc)}") from exc
    finally:
        client.close()


def _transaction(
    client: smtplib.SMTP,
    message: OutgoingMessage,
    content: bytes,
    server: SmtpServer,
    where: str,
    context: ssl.SSLContext,
) -> SendResult:
    """EHLO, STARTTLS, AUTH, MAIL, RCPT for each recipient, DATA; any refusal aborts the whole message."""
    client.ehlo_or_helo_if_needed()
    if server.security == "starttls":
        client.starttls(context=context)  # raises when the server does not offer it: never fall back to plain
        client.ehlo()
    if server.username:
        client.login(server.username, server.password)

    code, text = client.mail(_ascii_address(message.sender))
    if code != 250:
        _abandon(client)
        raise _refused(code, text, f"{where} refused sender {message.sender}")
    for recipient in message.to:
        code, text = client.rcpt(_ascii_address(recipient))
        if code not in (250, 251):
            # all or nothing: a retry must not send a second copy to the recipients that were accepted
            _abandon(client)
            raise _refused(code, text, f"{where} refused recipient {recipient}")
    try:
        code, text = client.data(content)
    except smtplib.SMTPDataError as exc:  # DATA itself was refused, before any content went out
        _abandon(client)
        raise _refused(
            exc.smtp_code, exc.smtp_error, f"{where} did not accept message {message.message_id}"
        ) from exc
    if code != 250:
        raise _refused(code, text, f"{where} did not accept message {message.message_id}")
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.quit()  # the 250 above is the acceptance; a lost goodbye changes nothing
    return SendResult(accepted=message.to, reply=_reply(code, text))


def _abandon(client: smtplib.SMTP) -> None:
    # the refusal is what the caller needs to hear, even if the server has already hung up
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.rset()


def _write_outbox(message: OutgoingMessage, content: bytes, outbox: Path) -> SendResult:
    """Write `<outbox>/<message_id>.eml` whole or not at all, and never over an earlier one."""
    target = outbox / f"{message.message_id}.eml"
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        descriptor, temporary_name = tempfile.mkstemp(dir=outbox, prefix=".", suffix=".tmp")
        temporary = Path(temporary_name)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            try:
                # link, unlike replace, refuses an existing target atomically: two writers cannot both win
                os.link(temporary, target)
            except FileExistsError:
                raise DuplicateMessage(
                    f"the outbox already holds message {message.message_id} ({target})"
                ) from None
        finally:
            temporary.unlink(missing_ok=True)
        _sync_folder(outbox)
    except OSError as exc:
        raise MailServerUnavailable(f"the outbox folder {outbox} could not be written: {exc}") from exc
    return SendResult(accepted=message.to, reply=f"written to {target}")


def _sync_folder(folder: Path) -> None:
    # the new name is only durable once the folder itself is on disk
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- retries --------------------------------------------------------------------------------------

# After failed attempt n (1-based) wait RETRY_DELAYS[n - 1]; attempt MAX_ATTEMPTS is the last, so a
# delivery that keeps failing temporarily is given up about 8 h 36 min (the sum) after its first attempt.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # 6: the first attempt and five retries


def next_attempt_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt `attempt` (1-based); there is none after MAX_ATTEMPTS."""
    if not 1 <= attempt < MAX_ATTEMPTS:
        raise ValueError(f"attempt {attempt} has no next attempt: attempts run from 1 to {MAX_ATTEMPTS}")
    return RETRY_DELAYS[attempt - 1]
