"""The in-memory match index: candidates and vacancies as sparse matrices plus scalar arrays,
kept in step with the read models, so a recommendation never scans the database.

Each side is a large compiled *base* block and a small *delta* of recent changes (compiled on
demand); a change marks the old row dead in the base and puts the new one in the delta; when the
delta grows past ``compact_at`` rows, base and delta are merged. Relevance R = x · q of every
row with a non-zero feature in common is read off a few columns of the base's CSC matrix, then
the fit factors are computed for those rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from scipy import sparse

from services.matching.scoring import (
    FIT_PARTS,
    CandidateVector,
    VacancyVector,
    Weights,
    combine,
    distance_factor,
    distance_km,
    explain,
    factor_scores,
    feature_space,
    fit_score,
    level_factor,
    model_features,
    qualification_factor,
    rows_matrix,
    sparse_dot,
    wage_factor,
)

V = TypeVar("V", CandidateVector, VacancyVector)
_codes: dict[str | None, int] = {None: -1}


class Places:
    """Distinct coordinates (ward or district centres) and the distances between them, so a
    distance is a table lookup rather than a haversine per pair."""

    def __init__(self) -> None:
        self._index: dict[tuple[float, float], int] = {}
        self._coords: list[tuple[float, float]] = []
        self._km: np.ndarray = np.full((1, 1), np.nan)
        self._built = 0

    def of(self, lat: float, lon: float) -> int:
        if np.isnan(lat) or np.isnan(lon):
            return -1
        key = (round(lat, 6), round(lon, 6))
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self._coords)
            self._coords.append(key)
        return found

    def km(self, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        """Distances between place indexes (broadcast); NaN where a place is unknown (-1)."""
        return self.table()[a, b]

    def table(self) -> np.ndarray:
        """Distances between every two places, with a last row and column of NaN for index -1."""
        if self._built != len(self._coords):
            self._built = len(self._coords)
            coords = np.array(self._coords, np.float64).reshape(-1, 2)
            self._km = distance_km(coords[:, None, 0], coords[:, None, 1], coords[None, :, 0], coords[None, :, 1])
            self._km = np.vstack([np.hstack([self._km, np.full((len(coords), 1), np.nan)]),
                                  np.full((1, len(coords) + 1), np.nan)])  # index -1: unknown
        return self._km


def code_of(value: str | None) -> int:
    """A small integer per ward/district code, so equality is vectorised."""
    if value not in _codes:
        _codes[value] = len(_codes)
    return _codes[value]


@dataclass
class Block(Generic[V]):
    """Rows compiled for vectorised scoring: a CSC matrix and one array per scalar."""

    vectors: list[V]
    matrix: sparse.csc_matrix
    alive: np.ndarray
    arrays: dict[str, np.ndarray]

    @classmethod
    def build(cls, vectors: list[V], scalars: Callable[[list[V]], dict[str, np.ndarray]]) -> Block[V]:
        matrix = rows_matrix(vectors, feature_space().width).tocsc()
        return cls(vectors, matrix, np.ones(len(vectors), bool), scalars(vectors))

    def relevance(self, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        if len(self.vectors) == 0 or len(cols) == 0:
            return np.zeros(len(self.vectors), np.float32)
        return np.asarray(self.matrix[:, cols] @ vals).ravel()


class Side(Generic[V]):
    """One side of the index (candidates or vacancies): base + delta, keyed by id."""

    def __init__(self, key: Callable[[V], str], scalars: Callable[[list[V]], dict[str, np.ndarray]],
                 compact_at: int = 1000) -> None:
        self.key = key
        self.scalars = scalars
        self.compact_at = compact_at
        self.rows: dict[str, V] = {}
        self.base: Block[V] = Block.build([], scalars)
        self.base_row: dict[str, int] = {}
        self.delta: dict[str, V] = {}
        self._delta_block: Block[V] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, ident: str) -> V | None:
        return self.rows.get(ident)

    def load(self, vectors: Iterable[V]) -> None:
        """Replace everything (start-up, rebuild)."""
        self.rows = {self.key(v): v for v in vectors}
        self.delta = {}
        self._compile_base()

    def upsert(self, vector: V) -> bool:
        """Put a newer version of a row in; an older or equal version is ignored."""
        ident = self.key(vector)
        current = self.rows.get(ident)
        if current is not None and current.version >= vector.version:
            return False
        self._kill(ident)
        self.rows[ident] = vector
        self.delta[ident] = vector
        self._delta_block = None
        if len(self.delta) >= self.compact_at:
            self._compile_base()
        return True

    def remove(self, ident: str) -> None:
        if self.rows.pop(ident, None) is not None:
            self._kill(ident)

    def compacted(self) -> Block[V]:
        """The base block with every change merged in (all its rows alive)."""
        if self.delta or not self.base.alive.all():
            self._compile_base()
        return self.base

    def blocks(self) -> list[Block[V]]:
        if self.delta and self._delta_block is None:
            self._delta_block = Block.build(list(self.delta.values()), self.scalars)
        return [self.base] + ([self._delta_block] if self.delta and self._delta_block else [])

    def _kill(self, ident: str) -> None:
        row = self.base_row.get(ident)
        if row is not None:
            self.base.alive[row] = False
        if self.delta.pop(ident, None) is not None:
            self._delta_block = None

    def _compile_base(self) -> None:
        vectors = list(self.rows.values())
        self.base = Block.build(vectors, self.scalars)
        self.base_row = {self.key(v): i for i, v in enumerate(vectors)}
        self.delta = {}
        self._delta_block = None


@dataclass(frozen=True)
class Match:
    candidate: CandidateVector
    vacancy: VacancyVector
    score: float
    explanation: dict[str, Any]


class MatchIndex:
    """Ranks candidates for a vacancy and vacancies for a candidate, with explanations."""

    def __init__(self, weights: Weights, boosts: dict[str, float], compact_at: int = 1000) -> None:
        self.weights = weights
        self.boosts = boosts
        self.places = Places()
        self.candidates: Side[CandidateVector] = Side(lambda c: c.candidate_id, self.candidate_arrays, compact_at)
        self.vacancies: Side[VacancyVector] = Side(lambda v: v.vacancy_id, self.vacancy_arrays, compact_at)

    def boost_of(self, groups: Iterable[str]) -> float:
        return max((self.boosts.get(g, 0.0) for g in groups), default=0.0)

    # ---- queries --------------------------------------------------------------------------
    def candidates_for(self, v: VacancyVector, limit: int, max_km: float | None = None,
                       priority_group: str | None = None) -> list[Match]:
        """The best ``limit`` candidates for a vacancy (exact: every candidate with R > 0 is scored)."""
        found: list[tuple[float, CandidateVector, float, dict[str, float], float, float]] = []
        for block in self.candidates.blocks():
            relevance = block.relevance(v.cols, v.vals)
            rows = np.flatnonzero((relevance > 0) & block.alive)
            if priority_group is not None and len(rows):
                rows = rows[[priority_group in block.vectors[i].priority_groups for i in rows]]
            if not len(rows):
                continue
            a = {k: arr[rows] for k, arr in block.arrays.items()}
            km = self.places.km(a["place"], self.places.of(v.lat, v.lon))
            if max_km is not None:
                keep = km <= max_km
                rows, km, relevance_rows = rows[keep], km[keep], relevance[rows][keep]
                a = {k: arr[keep] for k, arr in a.items()}
            else:
                relevance_rows = relevance[rows]
            factors = np.vstack([
                level_factor(a["level"], v.min_level),
                qualification_factor(a["qualification"], v.min_qualification),
                distance_factor(km, a["commute"], (a["ward"] == code_of(v.ward)) & (a["ward"] >= 0),
                                (a["district"] == code_of(v.district)) & (a["district"] >= 0)),
                wage_factor(a["wage"], v.wage_top),
            ])
            boost = a["boost"] * (1.0 if v.accepts_priority else 0.0)
            scores = combine(relevance_rows, fit_score(self.weights, factors), boost, self.weights.alpha)
            top = _top(scores, limit)
            found += [(float(scores[i]), block.vectors[rows[i]], float(relevance_rows[i]),
                       dict(zip(("trade_level", "qualification", "distance", "wage"), factors[:, i].tolist(), strict=True)),
                       float(km[i]), float(boost[i])) for i in top]
        return self._matches(sorted(found, key=lambda f: (-f[0], f[1].candidate_id))[:limit], v=v)

    def vacancies_for(self, c: CandidateVector, limit: int, max_km: float | None = None) -> list[Match]:
        """The best ``limit`` open vacancies for a candidate."""
        found: list[tuple[float, VacancyVector, float, dict[str, float], float, float]] = []
        boost_c = self.boost_of(c.priority_groups)
        for block in self.vacancies.blocks():
            relevance = block.relevance(c.cols, c.vals)
            rows = np.flatnonzero((relevance > 0) & block.alive)
            if not len(rows):
                continue
            a = {k: arr[rows] for k, arr in block.arrays.items()}
            km = self.places.km(self.places.of(c.lat, c.lon), a["place"])
            relevance_rows = relevance[rows]
            if max_km is not None:
                keep = km <= max_km
                rows, km, relevance_rows = rows[keep], km[keep], relevance_rows[keep]
                a = {k: arr[keep] for k, arr in a.items()}
            factors = np.vstack([
                level_factor(np.full(len(rows), c.trade_level), a["min_level"]),
                qualification_factor(np.full(len(rows), c.qualification), a["min_qualification"]),
                distance_factor(km, c.commute_km, (a["ward"] == code_of(c.ward)) & (a["ward"] >= 0),
                                (a["district"] == code_of(c.district)) & (a["district"] >= 0)),
                wage_factor(np.full(len(rows), c.desired_wage), a["wage_top"]),
            ])
            boost = boost_c * a["accepts_priority"]
            scores = combine(relevance_rows, fit_score(self.weights, factors), boost, self.weights.alpha)
            top = _top(scores, limit)
            found += [(float(scores[i]), block.vectors[rows[i]], float(relevance_rows[i]),
                       dict(zip(("trade_level", "qualification", "distance", "wage"), factors[:, i].tolist(), strict=True)),
                       float(km[i]), float(boost[i])) for i in top]
        return self._matches(sorted(found, key=lambda f: (-f[0], f[1].vacancy_id))[:limit], c=c)

    def score_pair(self, c: CandidateVector, v: VacancyVector) -> Match:
        """One pair, scored as the ranked lists score it (also for pairs with R = 0)."""
        return self.score_pairs([(c, v)])[0]

    def score_pairs(self, pairs: list[tuple[CandidateVector, VacancyVector]]) -> list[Match]:
        """Many pairs scored and explained, as ``score_pair`` would one by one: the factors are
        computed for all of them at once."""
        if not pairs:
            return []
        relevance = [sparse_dot(c.cols, c.vals, v.cols, v.vals) for c, v in pairs]
        columns, km, boost = self._fit_parts(pairs)
        fit = fit_score(self.weights, [columns[p] for p in FIT_PARTS])
        scores = combine(np.array(relevance), fit, boost, self.weights.alpha).tolist()
        factors = [dict(zip(columns, values, strict=True)) for values in zip(*(f.tolist() for f in columns.values()))]
        return [Match(c, v, score, explain(c, v, r, f, d, b, score, self.weights)) for (c, v), r, f, d, b, score
                in zip(pairs, relevance, factors, km.tolist(), boost.tolist(), scores, strict=True)]

    def pair_features(self, pairs: list[tuple[CandidateVector, VacancyVector]],
                      scores: list[float]) -> list[dict[str, float]]:
        """What ``training_features`` gives of these pairs' explanations, given their scores (as
        the ranking computed them), without the rest of the explanations (skill labels, reasons):
        a job fair records it for each invitation it issues."""
        if not pairs:
            return []
        columns, _km, _boost = self._fit_parts(pairs)
        factors = [dict(zip(columns, values, strict=True)) for values in zip(*(f.tolist() for f in columns.values()))]
        return [model_features(factor_scores(c, v, f), score)
                for (c, v), f, score in zip(pairs, factors, scores, strict=True)]

    def _fit_parts(self, pairs: list[tuple[CandidateVector, VacancyVector]]) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                                                       np.ndarray]:
        """The pairs' fit parts (``FIT_PARTS``), distances and priority boosts, computed together."""
        cs, vs = [c for c, _v in pairs], [v for _c, v in pairs]
        km = distance_km(np.array([c.lat for c in cs], np.float64), np.array([c.lon for c in cs], np.float64),
                         np.array([v.lat for v in vs], np.float64), np.array([v.lon for v in vs], np.float64))
        same_ward = np.array([c.ward is not None and c.ward == v.ward for c, v in pairs])
        same_district = np.array([c.district is not None and c.district == v.district for c, v in pairs])
        columns = {
            "trade_level": level_factor(np.array([c.trade_level for c in cs]), np.array([v.min_level for v in vs])),
            "qualification": qualification_factor(np.array([c.qualification for c in cs]),
                                                  np.array([v.min_qualification for v in vs])),
            "distance": distance_factor(km, np.array([c.commute_km for c in cs]), same_ward, same_district),
            "wage": wage_factor(np.array([c.desired_wage for c in cs]), np.array([v.wage_top for v in vs])),
        }
        boost = np.array([self.boost_of(c.priority_groups) if v.accepts_priority else 0.0 for c, v in pairs])
        return columns, km, boost

    # ---- internals ------------------------------------------------------------------------
    def _matches(self, found: list, v: VacancyVector | None = None, c: CandidateVector | None = None) -> list[Match]:
        out = []
        for score, other, relevance, factors, km, boost in found:
            cand = other if v is not None else c
            vac = v if v is not None else other
            out.append(Match(cand, vac, score, explain(cand, vac, relevance, factors, km, boost, score, self.weights)))
        return out

    def candidate_arrays(self, vectors: list[CandidateVector]) -> dict[str, np.ndarray]:
        return {
            "level": np.array([c.trade_level for c in vectors], np.float64),
            "qualification": np.array([c.qualification for c in vectors], np.float64),
            "wage": np.array([c.desired_wage for c in vectors], np.float64),
            "commute": np.array([c.commute_km for c in vectors], np.float64),
            "place": np.array([self.places.of(c.lat, c.lon) for c in vectors], np.int32),
            "ward": np.array([code_of(c.ward) for c in vectors], np.int32),
            "district": np.array([code_of(c.district) for c in vectors], np.int32),
            "boost": np.array([self.boost_of(c.priority_groups) for c in vectors], np.float64),
            # position of the id in sorted order: ties in score are broken by id, as online
            "id_rank": np.argsort(np.argsort(np.array([c.candidate_id for c in vectors], dtype=object))).astype(np.int64),
        }

    def vacancy_arrays(self, vectors: list[VacancyVector]) -> dict[str, np.ndarray]:
        return {
            "min_level": np.array([v.min_level for v in vectors], np.float64),
            "min_qualification": np.array([v.min_qualification for v in vectors], np.float64),
            "wage_top": np.array([v.wage_top for v in vectors], np.float64),
            "place": np.array([self.places.of(v.lat, v.lon) for v in vectors], np.int32),
            "ward": np.array([code_of(v.ward) for v in vectors], np.int32),
            "district": np.array([code_of(v.district) for v in vectors], np.int32),
            "accepts_priority": np.array([1.0 if v.accepts_priority else 0.0 for v in vectors], np.float64),
        }


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """Rows that can be among the best ``limit``: every row scoring at least the limit-th best
    (ties at the boundary included, so the caller's id tie-break sees them all)."""
    if len(scores) <= limit:
        return np.arange(len(scores))
    threshold = -np.partition(-scores, limit - 1)[limit - 1]
    return np.flatnonzero(scores >= threshold)
