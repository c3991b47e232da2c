"""SMS length rules and the Vietnamese messages of each channel."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.notifications.messages import MessageTooLong, Templates
from services.notifications.models import Contact, Invitation
from services.notifications.service import parse_reply
from services.notifications.sms import encode, unaccented


def test_gsm7_and_ucs2_segments() -> None:
    assert encode("a" * 160) == encode("a" * 160) and encode("a" * 160).segments == 1
    assert encode("a" * 161).segments == 2 and encode("a" * 306).segments == 2 and encode("a" * 307).segments == 3
    assert encode("€" * 80).units == 160 and encode("€" * 81).segments == 2  # the extension table counts double
    assert encode("é" * 160).encoding == "GSM-7"  # é is in the basic table
    vietnamese = "Mời bạn phỏng vấn"
    assert encode(vietnamese).encoding == "UCS-2"
    assert encode("ạ" * 70).segments == 1 and encode("ạ" * 71).segments == 2 and encode("ạ" * 134).segments == 2
    assert encode("ạ" * 135).segments == 3
    assert encode("😀" * 35).units == 70  # outside the BMP: two UTF-16 units each


def test_unaccented_keeps_case_and_fits_gsm7() -> None:
    text = "Đặng Thị Ánh Tuyết – Công ty Cơ khí Đông Hải, phường Lê Chân “Hải Phòng”…"
    plain = unaccented(text)
    assert plain == 'Dang Thi Anh Tuyet - Cong ty Co khi Dong Hai, phuong Le Chan "Hai Phong"...'
    assert encode(plain).encoding == "GSM-7"


def invitation(title: str = "Thợ hàn điện bậc 3", venue_detail: str | None = "Nhà văn hoá phường") -> Invitation:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return Invitation(id="inv-1", job_fair_id="f", candidate_id="c", vacancy_id="v", vacancy_title=title,
                      employer_id="e", fair_date=date(2026, 12, 10), slot_start="08:00", slot_end="10:00",
                      venue_ward_code="11311", venue_detail=venue_detail, rsvp_code="ABCD2345", state="pending",
                      issued_at=now, received_at=now, updated_at=now)


CONTACT = Contact(candidate_id="c", version=1, notifications=True, full_name="Nguyễn Thị Lan", phone="+84912345678",
                  email="lan@example.vn", channels=[], erased=False)
TEMPLATES = Templates("https://vieclam.haiphong.gov.vn")


def test_an_invitation_that_fits_keeps_its_diacritics(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "sms.txt.j2").write_text("Mời {{ given_name }} phỏng vấn {{ title }}, {{ start }} {{ date }}: {{ url }}")
    message = Templates("http://a.vn", tmp_path).render("sms", invitation("Phụ hồ", None), CONTACT, "Cty A")
    assert message.text == "Mời Lan phỏng vấn Phụ hồ, 08:00 10/12/2026: http://a.vn/rsvp/ABCD2345"
    assert message.segments == 1 and encode(message.text).encoding == "UCS-2"


def test_a_longer_invitation_goes_unaccented_in_two_parts() -> None:
    message = TEMPLATES.render("sms", invitation(), CONTACT, "Công ty TNHH Cơ khí Đông Hải")
    assert message.text.startswith("JobLink: Moi Lan phong van Tho han dien bac 3 - Cong ty TNHH Co khi Dong Hai")
    assert "08:00 T5 10/12/2026" in message.text and "CO ABCD2345/KHONG ABCD2345" in message.text
    assert message.text.endswith("https://vieclam.haiphong.gov.vn/rsvp/ABCD2345")
    assert encode(message.text).encoding == "GSM-7" and message.segments == encode(message.text).segments <= 2


def test_very_long_names_are_clipped_to_two_parts() -> None:
    title = "Kỹ sư thiết kế và giám sát thi công hệ thống điện nhẹ, điện lạnh và phòng cháy chữa cháy " * 3
    employer = "Tổng công ty Cổ phần Đầu tư Xây dựng và Thương mại Quốc tế Hải Phòng Việt Nam " * 3
    message = TEMPLATES.render("sms", invitation(title, "Trung tâm Hội nghị Thành phố, số 18 Hoàng Diệu " * 3),
                               CONTACT, employer)
    assert message.segments == 2 and encode(message.text).segments == 2
    assert "ABCD2345" in message.text and message.text.endswith("/rsvp/ABCD2345")


def test_what_cannot_fit_is_refused() -> None:
    with pytest.raises(MessageTooLong):
        Templates("https://" + "x" * 400).render("sms", invitation(), CONTACT, "Cty A")


def test_email_and_app_texts() -> None:
    mail = TEMPLATES.render("email", invitation(), CONTACT, "Công ty <Đông Hải>")
    assert mail.subject == "Thư mời phỏng vấn: Thợ hàn điện bậc 3 – Công ty <Đông Hải> (10/12/2026)"
    assert "Công ty &lt;Đông Hải&gt;" in mail.html and "Công ty <Đông Hải>" in mail.text  # escaped only in HTML
    push = TEMPLATES.render("app", invitation(), CONTACT, "Cty A")
    assert push.data["rsvp_url"].endswith("/rsvp/ABCD2345") and "Thứ Năm 10/12/2026" in push.text


@pytest.mark.parametrize(("text", "expected"), [
    ("CO", ("accept", None)), ("có", ("accept", None)), ("Co abcd2345", ("accept", "ABCD2345")),
    ("KHONG ABCD2345", ("decline", "ABCD2345")), ("không.", ("decline", None)), ("k", ("decline", None)),
    ("Từ chối", ("stop", None)), ("STOP", ("stop", None)), ("xin chào", (None, None)), ("ABCD2345", (None, "ABCD2345")),
])
def test_sms_replies_are_understood(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_reply(text) == expected
