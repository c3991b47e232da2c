"""Occupations: ISCO-08 as adopted by Vietnam's VSCO 2020 (identical to four digits), with
Vietnamese and English titles, from ``data/occupations.csv`` (see ``data/SOURCES.md``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reference.text import fold

DATA = Path(__file__).parent / "data"


class UnknownOccupation(ValueError):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or f"{code!r} is not an ISCO-08 / VSCO occupation code")
        self.code = code


@dataclass(frozen=True)
class Occupation:
    code: str
    level: int  # 1 major group … 4 unit group
    parent: str | None
    label_vi: str
    label_en: str


class Occupations:
    def __init__(self, path: Path = DATA / "occupations.csv") -> None:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        self._by_code = {
            r["code"]: Occupation(r["code"], int(r["level"]), r["parent"] or None, r["label_vi"], r["label_en"])
            for r in rows
        }
        self._folded = {code: fold(o.label_vi) + " | " + o.label_en.lower() for code, o in self._by_code.items()}

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Occupation:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownOccupation(code) from None

    def unit_group(self, code: str) -> Occupation:
        """An occupation a person or a vacancy can have: a 4-digit unit group, not a group of
        them; raises ``UnknownOccupation``."""
        occupation = self.get(code)
        if occupation.level != 4:
            raise UnknownOccupation(code, f"{code!r} is a group of occupations ({occupation.label_vi}): "
                                          "give one of its 4-digit unit groups")
        return occupation

    def all(self) -> list[Occupation]:
        return [self._by_code[c] for c in sorted(self._by_code)]

    def unit_groups(self) -> list[Occupation]:
        return [o for o in self._by_code.values() if o.level == 4]

    def count(self, level: int) -> int:
        return sum(1 for o in self._by_code.values() if o.level == level)

    def search(self, text: str, limit: int = 20) -> list[Occupation]:
        """Occupations whose Vietnamese or English title contains the text (diacritics-insensitive)."""
        needle = fold(text)
        return [self._by_code[c] for c, hay in self._folded.items() if needle in hay][:limit]


def match_depth(a: str, b: str) -> int:
    """How many leading digits two occupation codes share (4 = same unit group, 0 = none)."""
    depth = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        depth += 1
    return depth


@lru_cache(maxsize=1)
def occupations() -> Occupations:
    return Occupations()
