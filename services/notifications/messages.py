"""The invitation as each channel says it, from the Vietnamese templates in ``templates/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reference.geography import UnknownArea, geography
from services.notifications import sms
from services.notifications.models import Contact, Invitation

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAYS_SHORT = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
MAX_SMS_SEGMENTS = 2


@dataclass(frozen=True)
class Message:
    """What one channel sends: ``text`` always; ``subject`` and ``html`` for e-mail; ``data``
    (structured fields) for the mobile app."""

    text: str
    subject: str | None = None
    html: str | None = None
    segments: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


class MessageTooLong(ValueError):
    """Even the shortest SMS form is longer than the allowed number of parts."""


class Templates:
    def __init__(self, public_url: str, directory: Path | None = None) -> None:
        self.public_url = public_url.rstrip("/")
        self.env = Environment(
            loader=FileSystemLoader(directory or Path(__file__).parent / "templates"),
            autoescape=select_autoescape(["html.j2"], default_for_string=False, default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )

    def rsvp_url(self, code: str) -> str:
        return f"{self.public_url}/rsvp/{code}"

    def values(self, invitation: Invitation, contact: Contact | None, employer: str | None) -> dict[str, Any]:
        full_name = (contact.full_name if contact else None) or "bạn"
        day: date = invitation.fair_date
        return {
            "full_name": full_name,
            "given_name": full_name.split()[-1] if contact and contact.full_name else "bạn",
            "title": invitation.vacancy_title,
            "employer": employer or "doanh nghiệp tuyển dụng",
            "date": day.strftime("%d/%m/%Y"),
            "weekday": WEEKDAYS[day.weekday()],
            "weekday_short": WEEKDAYS_SHORT[day.weekday()],
            "start": invitation.slot_start,
            "end": invitation.slot_end,
            "venue": venue(invitation),
            "code": invitation.rsvp_code,
            "url": self.rsvp_url(invitation.rsvp_code),
        }

    def render(self, channel: str, invitation: Invitation, contact: Contact | None, employer: str | None) -> Message:
        values = self.values(invitation, contact, employer)
        if channel == "sms":
            return self.sms(values)
        if channel == "email":
            return Message(
                text=self._render("email.txt.j2", values),
                subject=" ".join(self._render("email_subject.txt.j2", values).split()),
                html=self._render("email.html.j2", values),
            )
        text = self._render("app.txt.j2", values)
        return Message(text=text, data={
            "title": "Thư mời phỏng vấn", "body": text, "rsvp_url": values["url"], "rsvp_code": values["code"],
            "vacancy_title": values["title"], "employer": values["employer"], "date": invitation.fair_date.isoformat(),
            "start": values["start"], "end": values["end"], "venue": values["venue"],
        })

    def sms(self, values: dict[str, Any]) -> Message:
        """With diacritics when that fits in two parts; otherwise without (GSM-7 carries more than
        twice as many characters per part), shortening the longest fields as a last resort."""
        text = self._render("sms.txt.j2", values)
        encoded = sms.encode(text)
        if encoded.segments <= MAX_SMS_SEGMENTS:
            return Message(text=text, segments=encoded.segments)
        shorter = dict(values)
        for limit in (60, 40, 25, 15):
            text = sms.unaccented(self._render("sms.txt.j2", shorter))
            encoded = sms.encode(text)
            if encoded.segments <= MAX_SMS_SEGMENTS:
                return Message(text=text, segments=encoded.segments)
            for name in ("title", "employer", "venue"):
                shorter[name] = clip(values[name], limit)
        raise MessageTooLong(f"{encoded.units} {encoded.encoding} units in {encoded.segments} parts")

    def _render(self, name: str, values: dict[str, Any]) -> str:
        return self.env.get_template(name).render(values).strip()


def venue(invitation: Invitation) -> str:
    """Where, in words: the detail given, then the ward's name."""
    try:
        ward = geography().ward(invitation.venue_ward_code).name
    except UnknownArea:
        ward = None
    parts = [p for p in (invitation.venue_detail, ward) if p]
    return ", ".join(parts) or invitation.venue_ward_code


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
