"""Vietnamese text handling: NFC normalisation, diacritics folding (đ → d), syllable tokens."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w+#]+")  # keeps C++ and C# apart from C
# Characters whose decomposition keeps no base letter plus marks (đ/Đ have none at all).
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def clean(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed: how Vietnamese text is stored."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS).lower())
    return "".join(c for c in text if not unicodedata.combining(c))


# Every precomposed Latin letter (Vietnamese uses U+00C0–U+01B0 and U+1EA0–U+1EF9) mapped to its
# folded form once, so folding Vietnamese text is one str.translate instead of a per-character loop.
_LATIN_FOLDS = str.maketrans({
    chr(c): _strip_marks(chr(c))
    for c in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if unicodedata.category(chr(c)).startswith("L")
})
_ASCII_LOWER = str.maketrans({chr(c): chr(c).lower() for c in range(0x41, 0x5B)})


def fold(text: str) -> str:
    """Lowercase without diacritics, for matching: "HÀN  Điện" → "han dien"."""
    folded = unicodedata.normalize("NFC", text).translate(_LATIN_FOLDS).translate(_ASCII_LOWER)
    if not folded.isascii():  # letters outside the table, or marks that did not compose
        folded = _strip_marks(folded)
    return _SPACES.sub(" ", folded).strip()


def tokens(text: str) -> list[str]:
    """Folded syllables (Vietnamese words are written as space-separated syllables)."""
    return [t for t in _NON_WORD.sub(" ", fold(text)).split(" ") if t]


@lru_cache(maxsize=1 << 16)  # skill names and labels come back again and again in an import
def key(text: str) -> str:
    """Folded syllables joined by single spaces, punctuation dropped: the lookup key."""
    return " ".join(tokens(text))
