"""The ways a message leaves: e-mail over SMTP, SMS through an HTTP gateway, and a signed webhook to
the mobile-app backend — each a small adapter behind one interface. Every send carries the
delivery's idempotency key, the same on every attempt, so a receiver that saw it already does not
show the message twice (the SMS gateway and the app backend by the key, mail clients by the
Message-ID)."""

from __future__ import annotations

import asyncio
import hashlib
from abc import ABC, abstractmethod
import hmac
import time
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
from typing import Protocol

import aiosmtplib
import httpx
import orjson

from services.notifications.messages import Message


class SendFailed(Exception):
    """A send did not go through; ``transient`` says whether trying again later may help."""

    def __init__(self, detail: str, transient: bool) -> None:
        super().__init__(detail)
        self.transient = transient


@dataclass(frozen=True)
class Outgoing:
    key: str  # idempotency key: one per invitation and channel
    recipient: str  # address, E.164 number, or candidate id (app)
    message: Message


class Channel(Protocol):
    name: str

    async def send(self, outgoing: Outgoing) -> str:
        """Send; return the receiver's id for the message; raise SendFailed."""
        ...

    async def close(self) -> None: ...


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the receiver recomputes it and
    rejects stale timestamps (replays)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: bytes, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def _http_failure(response: httpx.Response) -> SendFailed:
    transient = response.status_code in (408, 409, 425, 429) or response.status_code >= 500
    return SendFailed(f"HTTP {response.status_code}", transient)


class HttpChannel(ABC):
    """A JSON POST with an ``Idempotency-Key``: 2xx sent; 408/425/429/5xx and network errors are
    transient; any other answer is permanent. Subclasses say what the body is."""

    name = "http"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    @abstractmethod
    def body(self, outgoing: Outgoing) -> dict[str, object]:
        """The JSON the receiver expects for one message."""

    def headers(self, body: bytes) -> dict[str, str]:
        return {}

    async def send(self, outgoing: Outgoing) -> str:
        body = orjson.dumps(self.body(outgoing))
        headers = {"content-type": "application/json", "idempotency-key": outgoing.key, **self.headers(body)}
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise SendFailed(f"{type(exc).__name__}", transient=True) from None
        if not response.is_success:
            raise _http_failure(response)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return str(answer.get("id") or outgoing.key) if isinstance(answer, dict) else outgoing.key

    async def close(self) -> None:
        await self.client.aclose()


class SmsChannel(HttpChannel):
    """An SMS gateway's HTTP API: ``{to, text, encoding, reference}`` with the configured
    ``Authorization`` header."""

    name = "sms"

    def __init__(self, url: str, client: httpx.AsyncClient, authorization: str | None = None) -> None:
        super().__init__(url, client)
        self.authorization = authorization

    def body(self, outgoing: Outgoing) -> dict[str, object]:
        return {"to": outgoing.recipient, "text": outgoing.message.text, "reference": outgoing.key,
                "segments": outgoing.message.segments}

    def headers(self, body: bytes) -> dict[str, str]:
        return {"authorization": self.authorization} if self.authorization else {}


class AppWebhookChannel(HttpChannel):
    """The mobile-app backend's webhook, which pushes to the worker's phone; the body is signed
    (``X-JobLink-Signature``) so the backend knows it came from us, unaltered and recent."""

    name = "app"

    def __init__(self, url: str, client: httpx.AsyncClient, secret: bytes) -> None:
        super().__init__(url, client)
        self.secret = secret

    def body(self, outgoing: Outgoing) -> dict[str, object]:
        return {"type": "invitation", "candidate_id": outgoing.recipient, "idempotency_key": outgoing.key,
                **outgoing.message.data}

    def headers(self, body: bytes) -> dict[str, str]:
        return {"x-joblink-signature": signature(self.secret, str(int(time.time())), body)}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout_s: float = 10.0


class EmailChannel:
    """SMTP with a few kept-open connections (a new TCP and SMTP handshake per message would
    cap the rate). 4xx replies and dropped connections are transient, 5xx permanent."""

    name = "email"

    def __init__(self, config: SmtpConfig, connections: int = 4) -> None:
        self.config = config
        name, self.sender_address = parseaddr(config.sender)
        self.sender = formataddr((name, self.sender_address), charset="utf-8")
        self.domain = self.sender_address.rpartition("@")[2] or "joblink.vn"
        self._idle: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # opened on first use

    def message_id(self, key: str) -> str:
        return f"<{key}@{self.domain}>"

    def compose(self, outgoing: Outgoing) -> bytes:
        """The message as sent (the legacy MIME classes: the modern ``EmailMessage`` API spends
        more time parsing and refolding its own headers than everything else a send costs)."""
        text = MIMEText(outgoing.message.text, "plain", "utf-8")
        if outgoing.message.html:
            mail = MIMEMultipart("alternative")
            mail.attach(text)
            mail.attach(MIMEText(outgoing.message.html, "html", "utf-8"))
        else:
            mail = text
        mail["From"] = self.sender
        mail["To"] = outgoing.recipient
        mail["Subject"] = Header(outgoing.message.subject or "", "utf-8")
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = self.message_id(outgoing.key)
        mail["Auto-Submitted"] = "auto-generated"
        return mail.as_bytes()

    async def send(self, outgoing: Outgoing) -> str:
        mail = self.compose(outgoing)
        client = await self._idle.get()
        try:
            if client is None or not client.is_connected:
                client = await self._connect()
            await client.sendmail(self.sender_address, [outgoing.recipient], mail)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            code = exc.recipients[0].code if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) else exc.code
            client = await self._reset(client)
            raise SendFailed(f"SMTP {code}", transient=400 <= code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client = await self._discard(client)
            raise SendFailed(type(exc).__name__, transient=True) from None
        finally:
            self._idle.put_nowait(client)
        return self.message_id(outgoing.key)

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        client = aiosmtplib.SMTP(hostname=c.host, port=c.port, timeout=c.timeout_s, use_tls=c.use_tls,
                                 start_tls=c.starttls)
        await client.connect()
        if c.username:
            await client.login(c.username, c.password or "")
        return client

    async def _reset(self, client: aiosmtplib.SMTP | None) -> aiosmtplib.SMTP | None:
        """After a refused message the session may sit mid-transaction: RSET, or start afresh."""
        if client is None:
            return None
        try:
            await client.rset()
            return client
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            return await self._discard(client)

    @staticmethod
    async def _discard(client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            client.close()
        return None

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
