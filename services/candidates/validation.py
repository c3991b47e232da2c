"""Rules for Vietnamese personal data: phone numbers, citizen ID numbers, labour age."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

# Mobile prefixes that had 11 digits until the 2018 renumbering, and what they became.
OLD_MOBILE_PREFIXES = {
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039", "0186": "056", "0188": "058", "0199": "059",
}
# Province part of the 12-digit citizen ID (Circular 07/2016/TT-BCA): 0 + the legacy province code.
PROVINCE_CODES = frozenset(
    f"0{c:02d}" for c in (
        1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
        38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
        79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
    )
)


# A number written the plain Vietnamese way — 0 or +84, then digits, maybe grouped by spaces, dots
# or dashes — needs none of the general parser's work (≈ 20 µs a number, most of an import row's
# phone cost): the national number is its digits after the prefix.
_PLAIN = re.compile(r"(?:\+84|0)([ .-]?[1-9][0-9 .-]{6,16})")
_SEPARATORS = re.compile(r"[ .-]")


class InvalidValue(ValueError):
    """A value that breaks a rule; the message is safe to show (it never repeats the value)."""


def normalise_phone(raw: str) -> str:
    """A Vietnamese phone number in E.164 (+84…)."""
    digits = "".join(c for c in raw if c.isdigit())
    if digits.startswith("84") and len(digits) >= 11:
        national = "0" + digits[2:]
    else:
        national = digits if digits.startswith("0") else "0" + digits
    if len(national) == 11 and national[:4] in OLD_MOBILE_PREFIXES:
        raise InvalidValue(
            f"11-digit mobile numbers ({national[:4]}…) were renumbered in 2018; "
            f"use the 10-digit form starting {OLD_MOBILE_PREFIXES[national[:4]]}"
        )
    plain = _PLAIN.fullmatch(raw.strip())
    if plain:
        national = _SEPARATORS.sub("", plain[1])
        if not _valid_national(national):
            raise InvalidValue("not a valid Vietnamese phone number")
        return "+84" + national
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        raise InvalidValue("not a phone number") from None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        raise InvalidValue("not a valid Vietnamese phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_VALID_BY_PREFIX: dict[tuple[str, int], bool] = {}


def _valid_national(national: str) -> bool:
    """Whether a Vietnamese national number (no leading 0) is valid, as the general parser says.
    In Vietnam's numbering plan a number's validity depends only on its first four digits and its
    length (every pattern of the metadata is a prefix of at most four digits followed by a run of
    any digits; a test checks all prefixes), so one answer per prefix and length serves every
    number: the parser's check costs about 20 µs, an import asks it for each row."""
    prefix = (national[:4], len(national))
    valid = _VALID_BY_PREFIX.get(prefix)
    if valid is None:
        number = phonenumbers.PhoneNumber(country_code=84, national_number=int(national))
        valid = _VALID_BY_PREFIX[prefix] = phonenumbers.is_valid_number(number)
    return valid


def check_citizen_id(value: str, born: date | None, gender: str | None) -> str:
    """The 12-digit citizen ID (CCCD): province code, century/sex digit, year of birth."""
    if len(value) != 12 or not value.isdigit():
        raise InvalidValue("a citizen ID has exactly 12 digits")
    if value[:3] not in PROVINCE_CODES:
        raise InvalidValue("the first three digits are not a province code")
    century_sex = int(value[3])
    if born is not None:
        century = (born.year // 100) - 19  # 1900s → 0, 2000s → 1, …
        if century_sex // 2 != century:
            raise InvalidValue("the century digit does not match the date of birth")
        if value[4:6] != f"{born.year % 100:02d}":
            raise InvalidValue("the year-of-birth digits do not match the date of birth")
    if gender in ("male", "female") and century_sex % 2 != (1 if gender == "female" else 0):
        raise InvalidValue("the sex digit does not match the gender")
    return value


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
