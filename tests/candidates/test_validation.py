"""Phone numbers: the fast path for plainly written Vietnamese numbers decides exactly as the
general parser does."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from services.candidates.validation import InvalidValue, normalise_phone


def by_parser(raw: str) -> str | None:
    """The general parser's answer: E.164, or None when it refuses the number."""
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def written(rng: random.Random) -> str:
    """A number as people write it: a prefix, 7 to 11 digits, grouped or not."""
    digits = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
    separator = rng.choice(["", " ", ".", "-"])
    groups = [digits[i:i + rng.randint(2, 4)] for i in range(0, len(digits), 3)]
    body = separator.join(groups) if separator else digits
    return rng.choice(["0", "+84", "+84 ", "0 ", "84", "+840", "0084"]) + body


def outcome(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except InvalidValue:
        return None


def test_plain_numbers_are_decided_as_the_parser_decides() -> None:
    rng = random.Random(7)
    samples = [written(rng) for _ in range(20_000)]
    # the prefixes of every Vietnamese operator, so valid numbers are common in the sample
    samples += [f"0{p}{rng.randrange(10**7):07d}" for p in ("32", "39", "56", "70", "77", "81", "86", "91", "98", "99")
                for _ in range(100)]
    samples += ["0225 3822 111", "+84 225 3822 111", "02253822111", "0912.345.678", "+84-91-234-5678"]
    valid = 0
    for raw in samples:
        digits = "".join(c for c in raw if c.isdigit())
        national = "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits
        if len(national) == 11 and national[:4] in ("0120", "0162", "0168"):
            continue  # the renumbered prefixes get their own message
        expected = by_parser(raw)
        assert outcome(raw) == expected, raw
        valid += expected is not None
    assert valid > 1000  # the sample is not only refusals


@pytest.mark.parametrize("raw", ["0912 345 678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"])
def test_common_forms_give_one_number(raw: str) -> None:
    assert normalise_phone(raw) == "+84912345678"


def test_validity_depends_only_on_the_first_four_digits_and_the_length() -> None:
    """What lets the fast path ask the parser once per prefix and length: for every four-digit
    prefix and every length of the plan, numbers that differ after the prefix get one answer."""
    rng = random.Random(11)
    for length in range(7, 11):
        for prefix in range(1000, 10000):
            answers = {phonenumbers.is_valid_number(phonenumbers.PhoneNumber(
                country_code=84, national_number=int(f"{prefix}{rng.randrange(10 ** (length - 4)):0{length - 4}d}")))
                for _ in range(3)}
            ends = (int(f"{prefix}{'0' * (length - 4)}"), int(f"{prefix}{'9' * (length - 4)}"))
            answers |= {phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=84, national_number=n))
                        for n in ends}
            assert len(answers) == 1, (prefix, length)


def test_the_labour_age_is_reached_on_the_birthday_in_viet_nam_not_in_utc() -> None:
    from datetime import UTC, datetime

    import reference
    from kit.auth import Principal
    from services.candidates.personal import PersonalDataProtector
    from services.candidates.records import CandidateRecords, InvalidCandidate
    from services.candidates.schemas import CandidateIn

    reference.load()
    records = CandidateRecords(PersonalDataProtector(b"k" * 32), min_age_years=15)
    who = Principal("c", "centre-a", frozenset())
    body = CandidateIn.model_validate({"full_name": "Vũ Thị Lan", "date_of_birth": "2011-11-27",
                                       "address": {"ward_code": "11311"}})
    # 01:00 on her 15th birthday in Hải Phòng, still the 26th in UTC
    assert records.new(who, body, datetime(2026, 11, 26, 18, 0, tzinfo=UTC)).date_of_birth.isoformat() == "2011-11-27"
    with pytest.raises(InvalidCandidate, match="labour age"):  # 06:59 the day before, in Việt Nam
        records.new(who, body, datetime(2026, 11, 25, 23, 59, tzinfo=UTC))
