"""Vietnamese text handling: NFC normalisation, diacritics folding (đ → d), syllable tokens."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w+#]+")  # keeps C++ and C# apart from C
# Characters whose decomposition keeps no base letter plus marks (đ/Đ have none at all).
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def clean(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed: how Vietnamese text is stored."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lowercase without diacritics, for matching: "HÀN  Điện" → "han dien"."""
    text = unicodedata.normalize("NFD", text.translate(_EXTRA_FOLDS).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Folded syllables (Vietnamese words are written as space-separated syllables)."""
    return [t for t in _NON_WORD.sub(" ", fold(text)).split(" ") if t]


def key(text: str) -> str:
    """Folded syllables joined by single spaces, punctuation dropped: the lookup key."""
    return " ".join(tokens(text))
