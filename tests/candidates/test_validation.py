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
