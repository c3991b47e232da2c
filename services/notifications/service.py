"""Delivering invitations and taking the answers.

An invitation waits in ``pending`` until the dispatcher claims it, picks the first of the person's
channels that is permitted and has not failed, and sends. Each attempt is written down (status
``sending``, the idempotency key fixed) *before* the message leaves and its result after, in two
short transactions, so a crash in between resends with the same key rather than sending a second,
different message. Transient failures are retried with exponential backoff and jitter; a channel
that fails for good hands over to the next; SMS waits out the quiet hours."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from prometheus_client import Counter

from kit.db import Database, write_staged
from kit.events import Envelope
from kit.ids import new_id
from kit.outbox import Outbox
from reference.localtime import VIETNAM, local_date
from services.notifications import events as ev
from services.notifications import repository
from services.notifications.channels import Channel, Outgoing, SendFailed
from services.notifications.messages import MessageTooLong, Templates
from services.notifications.models import Contact, Delivery, Invitation, OptOut
from services.notifications.sms import unaccented

log = structlog.get_logger("notifications")

SOURCE = "/services/notifications"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed on a phone
CODE_LENGTH = 8
CHANNELS = ("sms", "email", "app")

SENDS = Counter("joblink_notifications_sends_total", "Send attempts by channel and result", ["channel", "result"])


@dataclass(frozen=True)
class Policy:
    default_channels: tuple[str, ...] = ("sms", "email")
    max_attempts: int = 5
    backoff_s: float = 30.0
    backoff_max_s: float = 3600.0
    contact_wait_s: float = 900.0
    lease_s: float = 120.0
    send_timeout_s: float = 10.0
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)

    def backoff(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential, capped, with jitter (a half to the whole of it) so retries of a batch spread out."""
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempts - 1))
        return timedelta(seconds=delay * rng.uniform(0.5, 1.0))

    def quiet_until(self, now: datetime) -> datetime | None:
        """When SMS may go again, if ``now`` is in the quiet hours (Vietnam time)."""
        local = now.astimezone(VIETNAM)
        t = local.time()
        wraps = self.quiet_start > self.quiet_end
        quiet = (t >= self.quiet_start or t < self.quiet_end) if wraps else (self.quiet_start <= t < self.quiet_end)
        if not quiet:
            return None
        day = local.date() if t < self.quiet_end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.quiet_end, VIETNAM).astimezone(UTC)


class InvitationNotFound(Exception):
    pass


class InvitationClosed(Exception):
    """Revoked, or the fair is over: the answer can no longer change anything."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class SmsReply:
    result: str  # accepted, declined, opted_out, unknown_sender, no_open_invitation, not_understood, closed
    reply: str  # what to text back


@dataclass
class _Attempt:
    invitation_id: str
    channel: str
    outgoing: Outgoing


class Notifier:
    def __init__(
        self,
        outbox: Outbox,
        templates: Templates,
        channels: dict[str, Channel],
        policy: Policy = Policy(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.templates = templates
        self.channels = channels
        self.policy = policy
        self.clock = clock
        self.rng = rng or random.Random()

    # ---- events in ------------------------------------------------------------------------
    async def contact_changed(self, session: AsyncSession, data: ev.ContactChanged, erased: bool) -> None:
        now = self.clock()
        row = await repository.contact(session, data.candidate_id)
        if row is not None and (row.version > data.version or (row.erased and not erased)):
            return  # older than what we hold; nothing brings an erased person back
        if row is None:
            row = Contact(candidate_id=data.candidate_id)
            session.add(row)
        row.version, row.erased = data.version, erased
        keep = data.notifications and not row.erased
        row.notifications = keep
        row.full_name = data.full_name if keep else None
        row.phone = data.phone if keep else None
        row.email = data.email if keep else None
        row.channels = [c for c in data.channels if c in CHANNELS] if keep else []
        row.updated_at = now
        await session.flush()
        if row.erased:
            await write_staged(session)
            await repository.forget(session, data.candidate_id, now)

    async def employer_registered(self, session: AsyncSession, data: ev.EmployerRegistered) -> None:
        await repository.save_employer(session, data.employer_id, data.name)

    async def invitation_issued(self, session: AsyncSession, envelope: Envelope, data: ev.InvitationIssued) -> None:
        now = self.clock()
        repository.add_invitation(session, dict(  # issued again (a replay): one invitation, one delivery
            id=data.invitation_id, job_fair_id=data.job_fair_id, candidate_id=data.candidate_id,
            vacancy_id=data.vacancy_id, vacancy_title=data.vacancy_title, employer_id=data.employer_id,
            fair_date=data.fair_date, slot_start=data.slot.start, slot_end=data.slot.end,
            venue_ward_code=data.venue_ward_code, venue_detail=data.venue_detail, rsvp_code=new_code(),
            state="pending", reason=None, next_attempt_at=now, answer=None, answered_via=None, answered_at=None,
            issued_at=envelope.time, received_at=now, delivered_at=None, updated_at=now,
        ))

    async def invitation_revoked(self, session: AsyncSession, data: ev.InvitationRevoked) -> None:
        await write_staged(session)  # an invitation issued earlier in this batch of events
        invitation = await repository.invitation(session, data.invitation_id, for_update=True)
        if invitation is None or invitation.state == "revoked":
            return
        invitation.state, invitation.reason, invitation.next_attempt_at = "revoked", None, None
        invitation.updated_at = self.clock()

    # ---- delivery -------------------------------------------------------------------------
    async def dispatch(self, db: Database, batch: int, concurrency: int) -> int:
        """One pass: claim what is due, write down each attempt, send them all, write down the
        results (three transactions for the whole batch); the number of invitations claimed."""
        now = self.clock()
        async with db.transaction() as session:
            ids = await repository.claim_due(session, now, now + timedelta(seconds=self.policy.lease_s), batch)
            if not ids:
                return 0
            work = await repository.load_work(session, ids)
            events: list[Envelope] = []
            attempts = [a for i in ids if (a := self._plan(session, work, work.invitations[i], now, events))]
            await self.outbox.add(session, *events)
        gate = asyncio.Semaphore(concurrency)

        async def send(attempt: _Attempt) -> tuple[str | None, SendFailed | None]:
            async with gate:
                try:
                    provider_id = await asyncio.wait_for(
                        self.channels[attempt.channel].send(attempt.outgoing), self.policy.send_timeout_s)
                    result: tuple[str | None, SendFailed | None] = (provider_id, None)
                except SendFailed as exc:
                    result = (None, exc)
                except TimeoutError:
                    result = (None, SendFailed("timed out", transient=True))
            SENDS.labels(attempt.channel, "sent" if result[1] is None else
                         ("transient" if result[1].transient else "permanent")).inc()
            return result

        results = await asyncio.gather(*(send(a) for a in attempts))
        if attempts:
            async with db.transaction() as session:
                await self._record(session, list(zip(attempts, results, strict=True)))
        return len(ids)

    def _plan(self, session: AsyncSession, work: repository.Work, invitation: Invitation, now: datetime,
              events: list[Envelope]) -> _Attempt | None:
        """What to do with one claimed invitation: an attempt to send, or a decision taken here
        (wait, give up, nothing left to do)."""
        if invitation.state != "pending":
            return None
        contact = work.contacts.get(invitation.candidate_id)
        if contact is None:
            waited = (now - invitation.received_at).total_seconds()
            if waited < self.policy.contact_wait_s:
                invitation.next_attempt_at = now + timedelta(seconds=min(60.0, self.policy.contact_wait_s - waited))
                return None
            return self._give_up(invitation, "failed", "no_contact", [], now, events)
        if contact.erased or not contact.notifications:
            return self._give_up(invitation, "suppressed", "not_permitted", [], now, events)
        opted_out = work.opted_out.get(contact.candidate_id, set())
        wanted = [c for c in (contact.channels or self.policy.default_channels) if reachable(contact, c)]
        permitted = [c for c in wanted if c not in opted_out and "all" not in opted_out]
        usable = [c for c in permitted if c in self.channels]
        if not usable:
            if wanted and not permitted:
                return self._give_up(invitation, "suppressed", "not_permitted", [], now, events)
            return self._give_up(invitation, "failed", "no_channel", [], now, events)
        deliveries = work.deliveries.setdefault(invitation.id, {})
        for channel in usable:
            delivery = deliveries.get(channel)
            if delivery is not None and delivery.status == "failed":
                continue
            if delivery is not None and delivery.status == "sent":  # recorded, but not the invitation: mend it
                self._delivered(invitation, delivery, events)
                return None
            if channel == "sms" and (until := self.policy.quiet_until(now)) is not None:
                invitation.next_attempt_at = until
                return None
            if delivery is None:
                delivery = deliveries[channel] = self._new_delivery(invitation.id, channel, now)
                session.add(delivery)
            try:
                message = self.templates.render(channel, invitation, contact, work.employers.get(invitation.employer_id))
            except MessageTooLong as exc:
                delivery.status, delivery.error, delivery.updated_at = "failed", str(exc), now
                continue
            recipient = {"sms": contact.phone, "email": contact.email, "app": contact.candidate_id}[channel] or ""
            delivery.status, delivery.attempts, delivery.updated_at = "sending", delivery.attempts + 1, now
            delivery.recipient, delivery.segments = masked(channel, recipient), message.segments
            return _Attempt(invitation.id, channel, Outgoing(key=delivery.id, recipient=recipient, message=message))
        return self._give_up(invitation, "failed", "undeliverable", [c for c in usable if c in deliveries], now, events)

    async def _record(self, session: AsyncSession,
                      outcomes: list[tuple[_Attempt, tuple[str | None, SendFailed | None]]]) -> None:
        """Write each attempt's result. A channel that failed for good leaves the invitation due
        now, so the next pass tries the next channel."""
        now = self.clock()
        ids = [attempt.invitation_id for attempt, _ in outcomes]
        invitations = {i.id: i for i in await repository.invitations_by_id(session, ids, for_update=True)}
        deliveries = {(d.invitation_id, d.channel): d for d in await repository.deliveries_of(session, ids)}
        events: list[Envelope] = []
        for attempt, (provider_id, failure) in outcomes:
            invitation = invitations.get(attempt.invitation_id)
            delivery = deliveries[(attempt.invitation_id, attempt.channel)]
            pending = invitation is not None and invitation.state == "pending"
            delivery.updated_at = now
            if failure is None:
                delivery.status, delivery.provider_id, delivery.sent_at, delivery.error = "sent", provider_id, now, None
                if pending:
                    self._delivered(invitation, delivery, events)
                continue
            delivery.error = str(failure)
            log.info("send_failed", invitation_id=attempt.invitation_id, channel=attempt.channel,
                     error=str(failure), attempts=delivery.attempts, transient=failure.transient)
            if failure.transient and delivery.attempts < self.policy.max_attempts:
                delivery.status = "retrying"
                if pending:
                    invitation.next_attempt_at = now + self.policy.backoff(delivery.attempts, self.rng)
            else:
                delivery.status = "failed"
                if pending:
                    invitation.next_attempt_at = now
        await self.outbox.add(session, *events)

    def _delivered(self, invitation: Invitation, delivery: Delivery, events: list[Envelope]) -> None:
        invitation.state, invitation.reason, invitation.next_attempt_at = "delivered", None, None
        invitation.delivered_at = invitation.updated_at = delivery.sent_at or self.clock()
        events.append(ev.registry.envelope(SOURCE, invitation.id, ev.NotificationDelivered(
            invitation_id=invitation.id, job_fair_id=invitation.job_fair_id, candidate_id=invitation.candidate_id,
            channel=delivery.channel, delivered_at=invitation.delivered_at,  # type: ignore[arg-type]
        ), ev.DELIVERED))

    @staticmethod
    def _give_up(invitation: Invitation, state: str, reason: str, tried: list[str], now: datetime,
                 events: list[Envelope]) -> None:
        invitation.state, invitation.reason, invitation.next_attempt_at, invitation.updated_at = state, reason, None, now
        events.append(ev.registry.envelope(SOURCE, invitation.id, ev.NotificationFailed(
            invitation_id=invitation.id, job_fair_id=invitation.job_fair_id, candidate_id=invitation.candidate_id,
            reason=reason, channels_tried=tried, failed_at=now,  # type: ignore[arg-type]
        ), ev.FAILED))
        return None

    @staticmethod
    def _new_delivery(invitation_id: str, channel: str, now: datetime) -> Delivery:
        return Delivery(id=new_id(), invitation_id=invitation_id, channel=channel, status="sending", attempts=0,
                        recipient=None, segments=None, provider_id=None, error=None, created_at=now, updated_at=now,
                        sent_at=None)

    # ---- answers and opt-outs ---------------------------------------------------------------
    async def by_code(self, session: AsyncSession, code: str) -> tuple[Invitation, str | None]:
        invitation = await repository.invitation_by_code(session, code.strip().upper())
        if invitation is None:
            raise InvitationNotFound(code)
        return invitation, await repository.employer_name(session, invitation.employer_id)

    async def respond(self, session: AsyncSession, code: str, answer: str, via: str) -> Invitation:
        """Record the answer (it may change until the fair) and announce it."""
        invitation = await repository.invitation_by_code(session, code.strip().upper())
        if invitation is None:
            raise InvitationNotFound(code)
        self._check_open(invitation)
        if invitation.answer == answer:
            return invitation
        now = self.clock()
        invitation.answer, invitation.answered_via, invitation.answered_at, invitation.updated_at = answer, via, now, now
        await self.outbox.add(session, ev.registry.envelope(SOURCE, invitation.id, ev.InvitationResponded(
            invitation_id=invitation.id, job_fair_id=invitation.job_fair_id, candidate_id=invitation.candidate_id,
            answer=answer, via=via, responded_at=now,  # type: ignore[arg-type]
        ), ev.RESPONDED))
        return invitation

    def _check_open(self, invitation: Invitation) -> None:
        if invitation.state == "revoked":
            raise InvitationClosed("revoked")
        if invitation.fair_date < self.today():
            raise InvitationClosed("over")

    async def opt_out(self, session: AsyncSession, candidate_id: str, channel: str, source: str) -> bool:
        return await repository.add_opt_out(
            session, OptOut(candidate_id=candidate_id, channel=channel, source=source, at=self.clock()))

    async def opt_out_by_code(self, session: AsyncSession, code: str) -> None:
        invitation, _ = await self.by_code(session, code)
        await self.opt_out(session, invitation.candidate_id, "all", "web")

    async def sms_received(self, session: AsyncSession, phone: str, text: str) -> SmsReply:
        """A text from a phone: CO / KHONG (with the invitation's code, or for the latest open
        invitation of that number), or TU CHOI / HUY / STOP to receive no more SMS."""
        command, code = parse_reply(text)
        contacts = await repository.contacts_by_phone(session, phone)
        if not contacts:
            return SmsReply("unknown_sender", "JobLink: so dien thoai nay chua dang ky nhan tin.")
        if command == "stop":
            for contact in contacts:
                await self.opt_out(session, contact.candidate_id, "sms", "sms")
            return SmsReply("opted_out", "JobLink: ban se khong nhan tin nhan moi nua.")
        if command is None:
            return SmsReply("not_understood", "JobLink: nhan CO <ma> de nhan loi moi, KHONG <ma> de tu choi.")
        ids = [c.candidate_id for c in contacts]
        if code:
            invitation = await repository.invitation_by_code(session, code)
            if invitation is None or invitation.candidate_id not in ids:
                return SmsReply("no_open_invitation", f"JobLink: khong tim thay loi moi ma {code}.")
        else:
            open_ = await repository.open_invitations_of(session, ids, self.today())
            if not open_:
                return SmsReply("no_open_invitation", "JobLink: ban khong co loi moi nao dang cho tra loi.")
            invitation = open_[0]
        try:
            await self.respond(session, invitation.rsvp_code, command, "sms")
        except InvitationClosed:
            return SmsReply("closed", "JobLink: loi moi nay da het han hoac da huy.")
        if command == "accept":
            return SmsReply("accepted", f"JobLink: da ghi nhan ban se tham du ({invitation.slot_start} "
                                        f"{invitation.fair_date:%d/%m/%Y}).")
        return SmsReply("declined", "JobLink: da ghi nhan ban khong tham du. Cam on ban.")

    # ---- queries ----------------------------------------------------------------------------
    async def deliveries(
        self, session: AsyncSession, invitation_id: str | None, job_fair_id: str | None, state: str | None,
        cursor: str | None, limit: int,
    ) -> tuple[list[tuple[Invitation, list[Delivery]]], str | None]:
        rows = await repository.search(session, invitation_id, job_fair_id, state, cursor, limit + 1)
        page = rows[:limit]
        by_invitation: dict[str, list[Delivery]] = {i.id: [] for i in page}
        for delivery in await repository.deliveries_of(session, list(by_invitation)):
            by_invitation[delivery.invitation_id].append(delivery)
        return [(i, by_invitation[i.id]) for i in page], (page[-1].id if len(rows) > limit else None)

    def today(self) -> date:
        return local_date(self.clock())


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def reachable(contact: Contact, channel: str) -> bool:
    return {"sms": bool(contact.phone), "email": bool(contact.email), "app": True}.get(channel, False)


def masked(channel: str, recipient: str) -> str:
    """Enough to tell support which address it went to, not enough to contact the person."""
    if channel == "sms" and len(recipient) > 6:
        return recipient[:5] + "*" * (len(recipient) - 8) + recipient[-3:]
    if channel == "email" and "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"[:64]
    return recipient[:64]


ACCEPT = {"CO", "C", "YES", "Y", "DONG Y", "OK", "THAM DU"}
DECLINE = {"KHONG", "K", "KO", "NO", "N", "KHONG THAM DU"}
STOP = {"TU CHOI", "HUY", "STOP", "DUNG"}


def parse_reply(text: str) -> tuple[str | None, str | None]:
    """("accept" | "decline" | "stop" | None, code or None) from a reply such as "có ABCD2345"."""
    words = unaccented(text).upper().replace(",", " ").replace(".", " ").split()
    code = next((w for w in words if len(w) == CODE_LENGTH and all(c in CODE_ALPHABET for c in w)), None)
    rest = " ".join(w for w in words if w != code)
    if rest in ACCEPT:
        return "accept", code
    if rest in DECLINE:
        return "decline", code
    if rest in STOP:
        return "stop", None
    return None, code
