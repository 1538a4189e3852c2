"""A real SMTP server for tests (aiosmtpd in a thread) that records what it receives and can be made to fail.

`reject(address)` answers that recipient's RCPT with 550, `fail_next(n)` answers the next n DATA with 451,
and `stop()` takes the server down so the port refuses connections.
"""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with the modern policy: get_body(), iter_attachments()
    raw: bytes


class _Handler:
    """aiosmtpd hooks; they run on the server's thread, so every shared value goes through the sink's lock."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self.sink.lock:
            if address.lower() in self.sink.rejected:
                return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.sink.lock:
            if self.sink.failures_left > 0:
                self.sink.failures_left -= 1
                return "451 4.3.0 mailbox temporarily unavailable, try again later"
            raw = cast(bytes, envelope.original_content)
            self.sink.received.append(
                ReceivedMessage(
                    mail_from=cast(str, envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    # SMTP lines end in CRLF; a mail client reads them as plain line ends
                    message=message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=default_policy),
                    raw=raw,
                )
            )
            reply = f"250 2.0.0 Ok: queued as Q{next(self.sink.queue_ids):06d}"
            self.sink.replies.append(reply)
            return reply


class SmtpSink:
    """Listens on 127.0.0.1 on a free port; `url` is what MAIL_SMTP_URL should be set to.

    With `tls` (a server context) it offers STARTTLS and insists on it, or with `implicit_tls` speaks TLS
    from the first byte, as smtps:// servers do.
    """

    def __init__(
        self,
        *,
        login: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.lock = threading.Lock()
        self.received: list[ReceivedMessage] = []
        self.replies: list[str] = []  # the final DATA replies sent, in order
        self.rejected: set[str] = set()
        self.failures_left = 0
        self.queue_ids = itertools.count(1)
        self.login = login
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.port = _free_port()
        extra: dict[str, Any] = {}
        if login:
            # AUTH without TLS is fine on the loopback interface of a test
            extra |= {"authenticator": self._authenticate, "auth_require_tls": False}
        if tls and implicit_tls:
            extra |= {"ssl_context": tls}
        elif tls:
            extra |= {"tls_context": tls, "require_starttls": True}
        self.controller = Controller(_Handler(self), hostname=HOST, port=self.port, **extra)
        self.running = False

    @property
    def url(self) -> str:
        credentials = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        if self.tls and self.implicit_tls:
            return f"smtps://{credentials}{HOST}:{self.port}"
        return f"smtp://{credentials}{HOST}:{self.port}" + ("?starttls=1" if self.tls else "")

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.lock:
            return list(self.received)

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        """Take the server down: from now on the port refuses connections."""
        if self.running:
            self.controller.stop()
            self.running = False

    def reject(self, address: str) -> None:
        """Answer RCPT TO for this address with 550 from now on."""
        with self.lock:
            self.rejected.add(address.lower())

    def fail_next(self, count: int) -> None:
        """Answer the next `count` DATA commands with 451 (a temporary failure) instead of accepting."""
        with self.lock:
            self.failures_left = count

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.login is not None
        given = (
            (auth_data.login.decode(), auth_data.password.decode())
            if isinstance(auth_data, LoginPassword)
            else None
        )
        # handled=False lets aiosmtpd send the standard 535 reply itself
        return AuthResult(success=given == self.login, handled=False)


def _free_port() -> int:
    """A port nobody listens on now; aiosmtpd's readiness probe cannot use port 0, so we pick one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
