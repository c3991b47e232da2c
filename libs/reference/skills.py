"""Skill vocabulary and the normaliser that turns free text into skill codes.

Matching runs on folded text (lowercase, no diacritics, đ → d), so "Hàn điện", "han dien" and
"HÀN  ĐIỆN" are one key. A phrase is looked up whole, then scanned for the longest known
aliases (Vietnamese is written as space-separated syllables, so syllable n-grams are the
tokens: a word segmenter such as pyvi is trained on accented text and splits unaccented input
badly, which is exactly the input partner centres send). What no alias covers is tried against
the vocabulary with rapidfuzz (typos), and what still matches nothing is kept as a free-text
skill, never dropped.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from reference.text import clean, fold, key

DATA = Path(__file__).parent / "data"
_SEPARATORS = re.compile(r"[,;/\n\r|•·]+|\s+[-+]\s+|\s+(?:và|va|hoặc|hoac)\s+", re.IGNORECASE)
_CODE = re.compile(r"^SK\d{4}$", re.IGNORECASE)
# Words around a skill that qualify it rather than name it ("biết hàn điện", "lái xe giỏi").
# Compared as written (lowercase), so "có" is a qualifier but "cờ" (chess) is not; the
# unaccented forms stand for input typed without diacritics.
_QUALIFIERS = (
    "biết có kinh nghiệm năm tháng thành thạo giỏi tốt khá làm được việc nghề kỹ năng về các những "
    "và hoặc với trong cho tại để một số"
)
STOPWORDS = frozenset(_QUALIFIERS.split()) | frozenset(fold(_QUALIFIERS).split())


class UnknownSkill(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"{code!r} is not a skill code")
        self.code = code


@dataclass(frozen=True)
class Skill:
    code: str
    label_vi: str
    label_en: str
    occupations: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class SkillMatch:
    """One skill found in free text: a code, or ``None`` for a free-text skill."""

    code: str | None
    text: str  # the words it was found in, as written (NFC)
    how: str  # "code" | "exact" | "alias" | "fuzzy" | "free_text"
    score: float  # 100 for exact matches, the fuzzy similarity otherwise


class SkillVocabulary:
    def __init__(self, path: Path = DATA / "skills.csv", fuzzy_threshold: float = 85.0) -> None:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        self.fuzzy_threshold = fuzzy_threshold
        self.skills: dict[str, Skill] = {}
        self._by_key: dict[str, str] = {}
        for r in rows:
            skill = Skill(
                r["code"],
                r["label_vi"],
                r["label_en"],
                tuple(o for o in r["occupations"].split(";") if o),
                tuple(a for a in r["aliases"].split("|") if a),
            )
            self.skills[skill.code] = skill
            for name in (skill.label_vi, *skill.aliases):
                self._by_key.setdefault(key(name), skill.code)
        self._by_key.pop("", None)
        self._keys = list(self._by_key)
        self._longest = max(len(k.split(" ")) for k in self._keys)

    def __len__(self) -> int:
        return len(self.skills)

    @property
    def alias_count(self) -> int:
        return sum(len(s.aliases) for s in self.skills.values())

    def get(self, code: str) -> Skill:
        try:
            return self.skills[code.upper()]
        except KeyError:
            raise UnknownSkill(code) from None

    def normalise(self, text: str) -> list[SkillMatch]:
        """Skills named in free text, in order of appearance, each code at most once."""
        return list(self._normalise(text))

    @lru_cache(maxsize=1 << 16)  # noqa: B019 - one vocabulary per process; imports repeat entries
    def _normalise(self, text: str) -> tuple[SkillMatch, ...]:
        found: list[SkillMatch] = []
        for phrase in _SEPARATORS.split(clean(text)):
            found.extend(self._phrase(phrase.strip()))
        seen: set[str] = set()
        unique = []
        for match in found:
            ident = match.code or "text:" + key(match.text)
            if ident not in seen:
                seen.add(ident)
                unique.append(match)
        return tuple(unique)

    def _phrase(self, phrase: str) -> list[SkillMatch]:
        if not phrase:
            return []
        if _CODE.match(phrase) and phrase.upper() in self.skills:
            return [SkillMatch(phrase.upper(), phrase, "code", 100.0)]
        whole = key(phrase)
        if not whole:
            return []
        if whole in self._by_key:
            return [SkillMatch(self._by_key[whole], phrase, "exact", 100.0)]
        words = phrase.split()
        folded = [key(w) for w in words]
        lowered = [w.lower().strip(".:()[]!?\"'") for w in words]
        matches: list[tuple[int, SkillMatch]] = []
        covered = [False] * len(words)
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                candidate = " ".join(t for t in folded[i : i + n] if t)
                if candidate and candidate in self._by_key and not (n == 1 and lowered[i] in STOPWORDS):
                    matches.append((i, SkillMatch(self._by_key[candidate], " ".join(words[i : i + n]), "alias", 100.0)))
                    covered[i : i + n] = [True] * n
                    i += n
                    break
            else:
                i += 1
        # Runs of words no alias covered: a typo of a known skill, or a skill we do not know.
        run: list[int] = []
        for j in range(len(words) + 1):
            if j < len(words) and not covered[j] and _meaningful(lowered[j], folded[j]):
                run.append(j)
                continue
            if run and len(" ".join(folded[k] for k in run)) >= 2:
                matches.append((run[0], self._unknown(" ".join(words[run[0] : run[-1] + 1]))))
            run = []
        return [m for _, m in sorted(matches, key=lambda pair: pair[0])]

    def _unknown(self, text: str) -> SkillMatch:
        folded = key(text)
        if len(folded) >= 4:
            best = process.extractOne(folded, self._keys_near(len(folded)), scorer=fuzz.ratio,
                                      score_cutoff=self.fuzzy_threshold)
            if best is not None:
                return SkillMatch(self._by_key[best[0]], text, "fuzzy", float(best[1]))
        return SkillMatch(None, text, "free_text", 0.0)

    @lru_cache(maxsize=256)  # noqa: B019 - one vocabulary per process
    def _keys_near(self, length: int) -> list[str]:
        """The keys whose length allows a ratio at the threshold with a text of ``length``
        characters, in vocabulary order (so ties resolve as over all keys): the ratio is at most
        1 − |a − b| / (a + b)."""
        slack = 1 - self.fuzzy_threshold / 100
        return [k for k in self._keys if abs(len(k) - length) <= slack * (len(k) + length)]


def _meaningful(word: str, folded: str) -> bool:
    """Words that can be part of a skill's name: not a qualifier, not a bare number."""
    return bool(folded) and word not in STOPWORDS and not folded.isdigit()


@lru_cache(maxsize=1)
def skill_vocabulary() -> SkillVocabulary:
    return SkillVocabulary()
