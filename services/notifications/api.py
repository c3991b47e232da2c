"""HTTP routes of the notifications service: the delivery log and opt-outs for staff (``/api/v1``),
the RSVP page people open from their invitation (``/rsvp/{code}``) and the SMS gateway's reply
webhook (``/hooks/sms``) — the last two public, behind the gateway's per-address rate limit."""

from __future__ import annotations

from typing import Any

import phonenumbers
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from kit.app import Cursor, ServiceContext
from kit.auth import Principal, require
from kit.problems import Problem, invalid
from services.notifications.channels import verify_signature
from services.notifications.messages import WEEKDAYS, venue
from services.notifications.models import Delivery, Invitation
from services.notifications.schemas import (
    DeliveryOut,
    DeliveryPage,
    InboundSms,
    InvitationDeliveries,
    OptOutIn,
    OptOutOut,
    SmsReplyOut,
    State,
)
from services.notifications.service import InvitationClosed, InvitationNotFound, Notifier
from services.notifications.settings import NotificationsSettings

router = APIRouter(prefix="/api/v1")
public = APIRouter()

# The page's own rules: its inline style, and forms that post back to it; nothing else loads.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
CODE = r"^[A-Za-z0-9]{4,12}$"


def _ctx(request: Request) -> tuple[ServiceContext, Notifier]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["notifier"]


@router.get("/deliveries", response_model=DeliveryPage, tags=["notifications"],
            summary="Deliveries of invitations: state, each channel's attempts, answers")
async def list_deliveries(
    request: Request,
    invitation_id: str | None = Query(None, max_length=36),
    job_fair_id: str | None = Query(None, max_length=36),
    state: State | None = None,
    limit: int = Query(100, ge=1, le=500),
    cursor: Cursor = None,
    who: Principal = require("jobfairs:admin"),
) -> DeliveryPage:
    ctx, notifier = _ctx(request)
    async with ctx.db.reading() as session:
        rows, next_cursor = await notifier.deliveries(session, invitation_id, job_fair_id, state, cursor, limit)
    return DeliveryPage(items=[_view(i, ds) for i, ds in rows], next_cursor=next_cursor)


@router.post("/notifications/opt-outs", response_model=OptOutOut, tags=["notifications"],
             summary="Record that a person wants no more messages on a channel (or any)")
async def add_opt_out(body: OptOutIn, request: Request, who: Principal = require("candidates:write")) -> OptOutOut:
    ctx, notifier = _ctx(request)
    async with ctx.db.transaction() as session:
        created = await notifier.opt_out(session, body.candidate_id, body.channel, "staff")
    return OptOutOut(candidate_id=body.candidate_id, channel=body.channel, created=created)


def _view(invitation: Invitation, deliveries: list[Delivery]) -> InvitationDeliveries:
    return InvitationDeliveries(
        invitation_id=invitation.id, job_fair_id=invitation.job_fair_id, candidate_id=invitation.candidate_id,
        fair_date=invitation.fair_date, state=invitation.state, reason=invitation.reason,  # type: ignore[arg-type]
        next_attempt_at=invitation.next_attempt_at, answer=invitation.answer,  # type: ignore[arg-type]
        answered_via=invitation.answered_via, answered_at=invitation.answered_at,  # type: ignore[arg-type]
        issued_at=invitation.issued_at, delivered_at=invitation.delivered_at,
        deliveries=[DeliveryOut(channel=d.channel, status=d.status, attempts=d.attempts,  # type: ignore[arg-type]
                                recipient=d.recipient, segments=d.segments, error=d.error, created_at=d.created_at,
                                sent_at=d.sent_at) for d in deliveries],
    )


# ---- the RSVP page ------------------------------------------------------------------------
def _page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    notifier: Notifier = request.app.state.ctx.extras["notifier"]
    values = {"note": None, "warn": False, "invitation": None, "can_answer": False, "opt_out": False, **values}
    html = notifier.templates.env.get_template("rsvp.html.j2").render(values)
    return HTMLResponse(html, status, headers={"content-security-policy": PAGE_CSP, "cache-control": "no-store"})


def _details(notifier: Notifier, invitation: Invitation, employer: str | None) -> dict[str, str]:
    return {
        "title": invitation.vacancy_title, "employer": employer or "", "start": invitation.slot_start,
        "end": invitation.slot_end, "weekday": WEEKDAYS[invitation.fair_date.weekday()],
        "date": invitation.fair_date.strftime("%d/%m/%Y"), "venue": venue(invitation), "code": invitation.rsvp_code,
        "url": notifier.templates.rsvp_url(invitation.rsvp_code),
    }


ANSWERED = {"accept": "Bạn đã xác nhận sẽ tham dự. Hẹn gặp bạn tại phiên giao dịch việc làm!",
            "decline": "Bạn đã báo không tham dự. Cảm ơn bạn đã trả lời."}


async def _invitation_page(request: Request, code: str, note: str | None = None, status: int = 200) -> HTMLResponse:
    ctx, notifier = _ctx(request)
    async with ctx.db.reading() as session:
        try:
            invitation, employer = await notifier.by_code(session, code)
        except InvitationNotFound:
            return _page(request, 404, heading="Không tìm thấy thư mời",
                         note="Mã thư mời không đúng. Hãy kiểm tra lại đường link trong tin nhắn.", warn=True)
    closed = invitation.state == "revoked" or invitation.fair_date < notifier.today()
    if note is None and invitation.answer:
        note = ANSWERED[invitation.answer] + " Bạn vẫn có thể đổi câu trả lời." if not closed else ANSWERED[invitation.answer]
    if closed:
        note = "Thư mời này đã bị huỷ." if invitation.state == "revoked" else "Phiên giao dịch việc làm này đã diễn ra."
    return _page(request, status, heading="Thư mời phỏng vấn", invitation=_details(notifier, invitation, employer),
                 can_answer=not closed, note=note, warn=closed)


@public.get("/rsvp/{code}", response_class=HTMLResponse, include_in_schema=False)
async def rsvp_page(code: str, request: Request) -> HTMLResponse:
    if not _valid_code(code):
        return _page(request, 404, heading="Không tìm thấy thư mời", note="Mã thư mời không đúng.", warn=True)
    return await _invitation_page(request, code)


@public.post("/rsvp/{code}", response_class=HTMLResponse, include_in_schema=False)
async def rsvp_answer(code: str, request: Request) -> HTMLResponse:
    if not _valid_code(code):
        return _page(request, 404, heading="Không tìm thấy thư mời", note="Mã thư mời không đúng.", warn=True)
    answer = (await request.form()).get("answer")
    if answer not in ("accept", "decline"):
        return await _invitation_page(request, code, "Hãy chọn một trong hai nút bên dưới.", status=422)
    ctx, notifier = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            await notifier.respond(session, code, str(answer), "web")
    except InvitationNotFound:
        return _page(request, 404, heading="Không tìm thấy thư mời", note="Mã thư mời không đúng.", warn=True)
    except InvitationClosed:
        return await _invitation_page(request, code, status=409)
    return await _invitation_page(request, code, ANSWERED[str(answer)])


@public.get("/rsvp/{code}/opt-out", response_class=HTMLResponse, include_in_schema=False)
async def opt_out_page(code: str, request: Request) -> HTMLResponse:
    return _page(request, heading="Không nhận thư mời nữa", opt_out=_valid_code(code),
                 note="Bạn sẽ không nhận tin nhắn, thư điện tử hay thông báo mời phỏng vấn nào nữa. "
                      "Có thể đăng ký lại tại trung tâm dịch vụ việc làm.")


@public.post("/rsvp/{code}/opt-out", response_class=HTMLResponse, include_in_schema=False)
async def opt_out_confirm(code: str, request: Request) -> HTMLResponse:
    ctx, notifier = _ctx(request)
    try:
        if not _valid_code(code):
            raise InvitationNotFound(code)
        async with ctx.db.transaction() as session:
            await notifier.opt_out_by_code(session, code)
    except InvitationNotFound:
        return _page(request, 404, heading="Không tìm thấy thư mời", note="Mã thư mời không đúng.", warn=True)
    return _page(request, heading="Đã huỷ đăng ký", note="Bạn sẽ không nhận thư mời nào nữa.")


def _valid_code(code: str) -> bool:
    return 4 <= len(code) <= 12 and code.isascii() and code.isalnum()


# ---- replies by SMS -------------------------------------------------------------------------
@public.post("/hooks/sms", response_model=SmsReplyOut, include_in_schema=False)
async def sms_reply(request: Request) -> SmsReplyOut:
    """A reply forwarded by the SMS gateway, signed with the shared key (``X-JobLink-Signature``)."""
    ctx, notifier = _ctx(request)
    settings: NotificationsSettings = ctx.settings  # type: ignore[assignment]
    if settings.sms_inbound_secret is None:
        raise Problem(503, "sms-replies-not-configured", "Replies by SMS are not configured.")
    raw = await request.body()
    secret = settings.sms_inbound_secret.get_secret_value().encode()
    if not verify_signature(secret, request.headers.get("x-joblink-signature", ""), raw):
        raise Problem(401, "invalid-signature", "The request is not signed with the SMS gateway's key.")
    try:
        body = InboundSms.model_validate_json(raw)
    except ValueError:
        raise invalid([{"field": "body", "message": "expected {\"from\": phone, \"text\": reply}"}],
                      "Expected {\"from\": phone, \"text\": reply}.") from None
    async with ctx.db.transaction() as session:
        reply = await notifier.sms_received(session, e164(body.sender), body.text)
    return SmsReplyOut(result=reply.result, reply=reply.reply)


def e164(raw: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(raw if raw.startswith("+") or raw.startswith("0")
                                                             else "+" + raw, "VN"),
                                          phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return raw
