"""How a candidate–vacancy pair is scored, and why.

A score in [0, 1] is built from two parts:

* **relevance** R — what the person can do against what the job needs: coverage of the coded
  must-have skills, coverage of the nice-to-have ones, occupation match by depth (same 4-digit
  unit group 1.0, same 3-digit minor group 0.6, same 2-digit sub-major group 0.3), and, for the
  vacancy's skills the vocabulary could not code, character n-gram TF-IDF similarity with the
  candidate's skills (folded Vietnamese). The parts a vacancy does not specify drop out and the
  others are re-weighted. R is linear in sparse features: R = x_candidate · q_vacancy, which is
  what lets the index find every candidate with R > 0 by reading a few sparse columns.
* **fit** F — trade level against the minimum (short by n levels costs 0.3 each), qualification
  against the minimum (0.35 per step short), distance (same ward 1.0; within the candidate's
  commute limit 1.0 falling to 0.5 at the limit; same legacy district 0.4; farther at most 0.3,
  falling to 0 at 60 km; unknown 0.3), and wage (desired wage above the offer loses twice the
  shortfall's share).

score = R · (α + (1 − α) · F) · (1 + boost), capped at 1, where boost is the largest configured
boost of the candidate's priority groups (when the vacancy accepts priority groups). Without any
relevant skill or occupation R = 0, so an empty profile never scores. Protected traits (gender,
ethnicity, age) are not features: the events do not even carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from reference.geography import haversine_km
from reference.levels import Qualification
from reference.occupations import occupations
from reference.skills import skill_vocabulary
from reference.text import fold

RELEVANCE_PARTS = ("must", "nice", "occupation", "text")
FIT_PARTS = ("trade_level", "qualification", "distance", "wage")
OCCUPATION_CREDIT = {4: 1.0, 3: 0.6, 2: 0.3}
QUALIFICATION_RANK = {q.value: q.rank for q in Qualification}
DEFAULT_COMMUTE_KM = 10.0
FARTHEST_KM = 60.0


@dataclass(frozen=True)
class Weights:
    """Factor weights (each group is normalised to sum 1) and the relevance floor α."""

    must: float = 0.55
    nice: float = 0.15
    occupation: float = 0.20
    text: float = 0.10
    trade_level: float = 0.35
    qualification: float = 0.15
    distance: float = 0.35
    wage: float = 0.15
    alpha: float = 0.5
    version: str = "hand-set-1"

    def relevance(self) -> dict[str, float]:
        return {p: getattr(self, p) for p in RELEVANCE_PARTS}

    def fit(self) -> np.ndarray:
        values = np.array([getattr(self, p) for p in FIT_PARTS], dtype=np.float64)
        return values / values.sum()

    def as_dict(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in (*RELEVANCE_PARTS, *FIT_PARTS, "alpha", "version")}


# ---- the feature space ---------------------------------------------------------------------
class FeatureSpace:
    """Columns of the sparse vectors: skill codes, occupation groups at three depths, and the
    character n-grams of a TF-IDF model fitted once on the skill vocabulary (labels and
    aliases), so that vectors stay comparable however many profiles arrive."""

    def __init__(self) -> None:
        vocab = skill_vocabulary()
        self.skill_codes = sorted(vocab.skills)
        self.skill_col = {code: i for i, code in enumerate(self.skill_codes)}
        groups = [o.code for o in occupations().all() if o.level in (2, 3, 4)]
        base = len(self.skill_codes)
        self.occupation_col = {code: base + i for i, code in enumerate(groups)}
        corpus = [fold(name) for skill in vocab.skills.values() for name in (skill.label_vi, *skill.aliases)]
        self.tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, dtype=np.float32)
        self.tfidf.fit(corpus)
        self.text_base = base + len(groups)
        self.width = self.text_base + len(self.tfidf.vocabulary_)

    def label(self, code: str) -> str:
        skill = skill_vocabulary().skills.get(code)
        return skill.label_vi if skill else code

    def text_vector(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of several texts: the sum of each text's TF-IDF vector, l2-normalised
        (each text's vector is computed once per process, so repeated skills cost a lookup)."""
        parts = [self._text(t) for t in dict.fromkeys(texts)]
        if not parts:
            return np.empty(0, np.int32), np.empty(0, np.float32)
        cols = np.concatenate([c for c, _v in parts])
        vals = np.concatenate([v for _c, v in parts])
        cols, inverse = np.unique(cols, return_inverse=True)
        summed = np.bincount(inverse, weights=vals).astype(np.float32)
        norm = float(np.linalg.norm(summed))
        return cols.astype(np.int32), (summed / norm if norm else summed)

    @lru_cache(maxsize=65536)  # noqa: B019 - one FeatureSpace per process
    def _text(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        row = self.tfidf.transform([fold(text)])
        return (row.indices + self.text_base).astype(np.int32), row.data.astype(np.float32)

    def occupation_columns(self, codes: list[str]) -> dict[int, int]:
        """Column → depth for every group the codes belong to (a code gives 3 columns)."""
        out: dict[int, int] = {}
        for code in codes:
            for depth in (4, 3, 2):
                col = self.occupation_col.get(code[:depth])
                if col is not None:
                    out[col] = depth
        return out


@lru_cache(maxsize=1)
def feature_space() -> FeatureSpace:
    return FeatureSpace()


# ---- vectors ---------------------------------------------------------------------------------
@dataclass
class CandidateVector:
    """A candidate as the index holds it: sparse features plus the scalars of the fit factors."""

    candidate_id: str
    version: int
    centre_id: str | None
    cols: np.ndarray
    vals: np.ndarray
    skills: frozenset[str]          # coded skills
    occupations: tuple[str, ...]
    texts: tuple[str, ...]          # every skill as text (labels of coded ones), for explanations
    trade_level: int                # 0 = unknown
    qualification: int
    desired_wage: float             # NaN = not given
    commute_km: float
    lat: float                      # NaN = unknown
    lon: float
    ward: str | None
    district: str | None
    priority_groups: tuple[str, ...]


@dataclass
class VacancyVector:
    """A vacancy as the index holds it: its query vector q (R = x · q) and fit requirements."""

    vacancy_id: str
    version: int
    employer_id: str
    centre_id: str | None
    title: str
    occupation: str
    cols: np.ndarray
    vals: np.ndarray
    parts: dict[str, float]          # normalised weights of the relevance parts it specifies
    must: tuple[str, ...]
    nice: tuple[str, ...]
    free_texts: tuple[tuple[str, str], ...]  # (kind, text) of skills the vocabulary could not code
    min_level: int                   # 0 = none
    min_qualification: int
    wage_top: float                  # NaN = not given
    lat: float
    lon: float
    ward: str | None
    district: str | None
    accepts_priority: bool
    openings: int
    deadline: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def candidate_vector(profile: Any) -> CandidateVector:
    """From a candidate read-model row (or anything with the same attributes)."""
    space = feature_space()
    coded = [s["code"] for s in profile.skills if s.get("code") in space.skill_col]
    texts = [space.label(s["code"]) if s.get("code") in space.skill_col else s["text"] for s in profile.skills]
    cols: dict[int, float] = {space.skill_col[c]: 1.0 for c in coded}
    cols.update({col: 1.0 for col in space.occupation_columns(list(profile.occupations))})
    text_cols, text_vals = space.text_vector(texts)
    ordered = sorted(cols)
    return CandidateVector(
        candidate_id=profile.candidate_id,
        version=profile.version,
        centre_id=profile.centre_id,
        cols=np.concatenate([np.array(ordered, np.int32), text_cols]),
        vals=np.concatenate([np.ones(len(ordered), np.float32), text_vals]),
        skills=frozenset(coded),
        occupations=tuple(profile.occupations),
        texts=tuple(texts),
        trade_level=profile.trade_level or 0,
        qualification=QUALIFICATION_RANK.get(profile.qualification, 0),
        desired_wage=float(profile.desired_wage_vnd) if profile.desired_wage_vnd else np.nan,
        commute_km=float(profile.max_commute_km or DEFAULT_COMMUTE_KM),
        lat=np.nan if profile.lat is None else float(profile.lat),
        lon=np.nan if profile.lon is None else float(profile.lon),
        ward=profile.ward_code,
        district=profile.legacy_district_code,
        priority_groups=tuple(profile.priority_groups),
    )


def vacancy_vector(profile: Any, weights: Weights) -> VacancyVector:
    """From a vacancy read-model row; the relevance parts it does not specify drop out."""
    space = feature_space()
    must = tuple(dict.fromkeys(s["code"] for s in profile.required_skills
                               if s["kind"] == "must" and s.get("code") in space.skill_col))
    nice = tuple(dict.fromkeys(s["code"] for s in profile.required_skills
                               if s["kind"] == "nice" and s.get("code") in space.skill_col and s["code"] not in must))
    free = tuple((s["kind"], s["text"]) for s in profile.required_skills if s.get("code") not in space.skill_col)
    present = {"must": bool(must), "nice": bool(nice), "occupation": bool(profile.occupation), "text": bool(free)}
    raw = {p: w for p, w in weights.relevance().items() if present[p]}
    total = sum(raw.values()) or 1.0
    parts = {p: w / total for p, w in raw.items()}
    cols: dict[int, float] = {}
    for code in must:
        cols[space.skill_col[code]] = parts["must"] / len(must)
    for code in nice:
        cols[space.skill_col[code]] = parts["nice"] / len(nice)
    if profile.occupation:
        depth_cols = space.occupation_columns([profile.occupation])
        # increments, so that the deepest shared group gives its whole credit: 0.3 + 0.3 + 0.4
        increments = {2: OCCUPATION_CREDIT[2], 3: OCCUPATION_CREDIT[3] - OCCUPATION_CREDIT[2],
                      4: OCCUPATION_CREDIT[4] - OCCUPATION_CREDIT[3]}
        for col, depth in depth_cols.items():
            cols[col] = parts["occupation"] * increments[depth]
    text_cols, text_vals = space.text_vector([t for _k, t in free])
    ordered = sorted(cols)
    return VacancyVector(
        vacancy_id=profile.vacancy_id,
        version=profile.version,
        employer_id=profile.employer_id,
        centre_id=profile.centre_id,
        title=profile.title,
        occupation=profile.occupation,
        cols=np.concatenate([np.array(ordered, np.int32), text_cols]),
        vals=np.concatenate([np.array([cols[c] for c in ordered], np.float32), text_vals * parts.get("text", 0.0)]),
        parts=parts,
        must=must,
        nice=nice,
        free_texts=free,
        min_level=profile.min_trade_level or 0,
        min_qualification=QUALIFICATION_RANK.get(profile.min_qualification, 0),
        wage_top=float(profile.wage_max_vnd or profile.wage_min_vnd or 0) or np.nan,
        lat=np.nan if profile.lat is None else float(profile.lat),
        lon=np.nan if profile.lon is None else float(profile.lon),
        ward=profile.ward_code,
        district=profile.legacy_district_code,
        accepts_priority=bool(profile.accepts_priority_groups),
        openings=max(1, profile.openings - profile.hires),
        deadline=profile.deadline,
    )


# ---- fit factors, vectorised ------------------------------------------------------------------
def level_factor(candidate_level: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    gap = np.maximum(minimum - candidate_level, 0)
    return np.where(minimum > 0, np.clip(1.0 - 0.3 * gap, 0.0, 1.0), 1.0)


def qualification_factor(candidate_rank: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - 0.35 * np.maximum(minimum - candidate_rank, 0), 0.0, 1.0)


def distance_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    return haversine_km(lat1, lon1, lat2, lon2)


def distance_factor(km: np.ndarray, commute: np.ndarray, same_ward: np.ndarray, same_district: np.ndarray) -> np.ndarray:
    within = 1.0 - 0.5 * np.clip(km / commute, 0.0, 1.0)
    farther = 0.3 * np.clip(1.0 - km / FARTHEST_KM, 0.0, 1.0)
    out = np.where(km <= commute, within, np.where(same_district, np.maximum(0.4, farther), farther))
    out = np.where(same_ward, 1.0, out)
    return np.where(np.isnan(km), 0.3, out)


def distance_tier(km: float, commute: float, same_ward: bool, same_district: bool) -> str:
    if same_ward:
        return "same_ward"
    if np.isnan(km):
        return "unknown"
    if km <= commute:
        return "within_commute"
    return "same_district" if same_district else "farther"


def wage_factor(desired: np.ndarray, offered_top: np.ndarray) -> np.ndarray:
    short = np.clip((desired - offered_top) / desired, 0.0, 1.0)
    out = 1.0 - 2.0 * short
    return np.where(np.isnan(desired) | np.isnan(offered_top), 1.0, np.clip(out, 0.0, 1.0))


def fit_score(weights: Weights, factors: Any) -> Any:
    """F = the weighted sum of the fit factors (trade level, qualification, distance, wage), summed
    in this order everywhere — the batch (topn.py) too — so a pair scores the same to the bit."""
    w = weights.fit()
    return w[0] * factors[0] + w[1] * factors[1] + w[2] * factors[2] + w[3] * factors[3]


def combine(relevance: np.ndarray, fit: np.ndarray, boost: np.ndarray, alpha: float) -> np.ndarray:
    return np.minimum(1.0, relevance * (alpha + (1.0 - alpha) * fit) * (1.0 + boost))


# ---- explanation of one pair ------------------------------------------------------------------
def factor_scores(c: CandidateVector, v: VacancyVector, fit: dict[str, float]) -> dict[str, float | None]:
    """A pair's per-factor scores (an explanation's ``factors``): the shares of the vacancy's must
    and nice skills the candidate has, the occupation's credit, the similarity of the free-text
    skills (None where the vacancy asks for none of a kind), and the fit parts."""
    return {
        "must_skills": round(sum(code in c.skills for code in v.must) / len(v.must), 4) if v.must else None,
        "nice_skills": round(sum(code in c.skills for code in v.nice) / len(v.nice), 4) if v.nice else None,
        "occupation": OCCUPATION_CREDIT.get(occupation_depth(c, v) or 0, 0.0),
        "text_similarity": round(text_similarity(c, v), 4) if v.free_texts else None,
        **{p: round(fit[p], 4) for p in FIT_PARTS},
    }


def occupation_depth(c: CandidateVector, v: VacancyVector) -> int | None:
    """How many leading digits of the vacancy's occupation code one of the candidate's shares (4, 3, 2)."""
    return next((d for d in (4, 3, 2) if any(o[:d] == v.occupation[:d] for o in c.occupations)), None)


def model_features(factors: dict[str, float | None], score: float) -> dict[str, float]:
    """The factor scores of a pair as the learning model's features (never a protected trait:
    none is held); a factor the vacancy does not ask for counts as met (skills) or as nothing
    (nice skills, text)."""
    must, nice, text = factors["must_skills"], factors["nice_skills"], factors["text_similarity"]
    return {  # the fit parts (FIT_PARTS) spelled out: a run computes this for 100,000 pairs
        "must": 1.0 if must is None else must, "nice": 0.0 if nice is None else nice,
        "occupation": factors["occupation"], "text": text or 0.0, "trade_level": factors["trade_level"],
        "qualification": factors["qualification"], "distance": factors["distance"], "wage": factors["wage"],
        "score": score,
    }


def explain(c: CandidateVector, v: VacancyVector, relevance: float, factors: dict[str, float], km: float,
            boost: float, score: float, weights: Weights) -> dict[str, Any]:
    """Per-factor scores and the reasons behind them, for one pair."""
    space = feature_space()
    matched_must = [code for code in v.must if code in c.skills]
    missing_must = [code for code in v.must if code not in c.skills]
    matched_nice = [code for code in v.nice if code in c.skills]
    free_matched = [t for k, t in v.free_texts if _text_matches(t, c)]
    free_missing_must = [t for k, t in v.free_texts if k == "must" and t not in free_matched]
    depth = occupation_depth(c, v)
    gap = (c.trade_level - v.min_level) if v.min_level and c.trade_level else None
    groups = [g for g in c.priority_groups if boost > 0]
    return {
        "score": round(score, 4),
        "relevance": round(relevance, 4),
        "fit": round(float(fit_score(weights, [factors[p] for p in FIT_PARTS])), 4),
        "factors": factor_scores(c, v, factors),
        "matched_must_skills": [{"code": s, "label": space.label(s)} for s in matched_must]
        + [{"code": None, "label": t} for t in free_matched if ("must", t) in v.free_texts],
        "missing_must_skills": [{"code": s, "label": space.label(s)} for s in missing_must]
        + [{"code": None, "label": t} for t in free_missing_must],
        "matched_nice_skills": [{"code": s, "label": space.label(s)} for s in matched_nice]
        + [{"code": None, "label": t} for t in free_matched if ("nice", t) in v.free_texts],
        "occupation_match_depth": depth,
        "trade_level_gap": gap,
        "trade_level_required": v.min_level or None,
        "distance_km": None if np.isnan(km) else round(float(km), 2),
        "distance_tier": distance_tier(km, c.commute_km, c.ward is not None and c.ward == v.ward,
                                       c.district is not None and c.district == v.district),
        "priority_boost": {"groups": groups, "boost": round(boost, 4)},
        "model_version": weights.version,
    }


def text_similarity(c: CandidateVector, v: VacancyVector) -> float:
    if not v.free_texts:
        return 0.0
    space = feature_space()
    vc, vv = space.text_vector([t for _k, t in v.free_texts])
    return sparse_dot(vc, vv, c.cols, c.vals)


def _text_matches(text: str, c: CandidateVector) -> bool:
    cols, vals = feature_space().text_vector([text])
    return sparse_dot(cols, vals, c.cols, c.vals) >= 0.5


def sparse_dot(cols_a: np.ndarray, vals_a: np.ndarray, cols_b: np.ndarray, vals_b: np.ndarray) -> float:
    """x · y of two sparse vectors given as (columns, values)."""
    common, ia, ib = np.intersect1d(cols_a, cols_b, assume_unique=True, return_indices=True)
    return float(np.dot(vals_a[ia].astype(np.float64), vals_b[ib])) if len(common) else 0.0


def rows_matrix(vectors: list[Any], width: int) -> sparse.csr_matrix:
    """The sparse rows of vectors as one CSR matrix."""
    indptr = np.zeros(len(vectors) + 1, np.int64)
    if vectors:
        np.cumsum([len(v.cols) for v in vectors], out=indptr[1:])
        indices = np.concatenate([v.cols for v in vectors])
        data = np.concatenate([v.vals for v in vectors]).astype(np.float32)
    else:
        indices, data = np.empty(0, np.int32), np.empty(0, np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), width))
