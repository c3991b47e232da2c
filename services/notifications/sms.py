"""SMS length rules: GSM-7 (160 characters, 153 per part of a long message; the extension table
counts double) or UCS-2 (70 UTF-16 units, 67 per part) as soon as one character is outside
GSM-7 — which Vietnamese diacritics almost always are."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Punctuation that has a plain GSM-7 look-alike: typed by staff, it should not force UCS-2.
_PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " "})


@dataclass(frozen=True)
class Encoded:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets, or UTF-16 code units
    segments: int


def encode(text: str) -> Encoded:
    """How a message travels and in how many parts."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return Encoded("GSM-7", units, 1 if units <= 160 else math.ceil(units / 153))
    units = len(text.encode("utf-16-le")) // 2
    return Encoded("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


def unaccented(text: str) -> str:
    """Vietnamese without diacritics ("Hải Phòng" → "Hai Phong"), case kept: the way most SMS
    in Vietnam are written, so that a message fits GSM-7."""
    text = text.translate(_PLAIN).replace("đ", "d").replace("Đ", "D")
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)
