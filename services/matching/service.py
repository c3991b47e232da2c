"""Recommendations: the read models applied to the in-memory index, ranked matches with their
explanations, masking by caller, and the batch top-N used by job-fair allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import structlog
from scipy import sparse
from sparse_dot_topn import sp_matmul_topn
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.bus import Bus
from kit.db import Database, after_commit
from kit.events import Envelope, EventRegistry
from services.matching import events as ev
from services.matching import readmodels
from services.matching.index import Match, MatchIndex
from services.matching.models import CandidateProfile, VacancyProfile
from services.matching.scoring import (
    CandidateVector,
    Weights,
    candidate_vector,
    combine,
    feature_space,
    distance_factor,
    level_factor,
    qualification_factor,
    vacancy_vector,
    wage_factor,
)

log = structlog.get_logger("matching")


class NotFound(LookupError):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class NotMatchable(Exception):
    """The candidate or vacancy exists but is out of the matching pool (and why)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class TopN:
    """Batch result, as arrays: vacancy i's best candidates are rows[indptr[i]:indptr[i+1]]
    (positions in ``candidate_ids``) with their scores, best first."""

    vacancy_ids: list[str]
    candidate_ids: np.ndarray
    indptr: np.ndarray
    rows: np.ndarray
    scores: np.ndarray
    retrieved_per_vacancy: int
    exact_share: float  # share of vacancies whose top-N is provably the exact top-N

    @property
    def ranked(self) -> dict[str, list[tuple[str, float]]]:
        """Per vacancy id, its list of (candidate id, score)."""
        return {vid: [(str(self.candidate_ids[r]), float(s)) for r, s in
                      zip(self.rows[self.indptr[i]:self.indptr[i + 1]], self.scores[self.indptr[i]:self.indptr[i + 1]], strict=True)]
                for i, vid in enumerate(self.vacancy_ids)}


class MatchingService:
    def __init__(self, weights: Weights, boosts: dict[str, float], compact_at: int = 1000) -> None:
        self.index = MatchIndex(weights, boosts, compact_at)

    @property
    def weights(self) -> Weights:
        return self.index.weights

    # ---- read models -> index --------------------------------------------------------------
    async def load(self, db: Database) -> None:
        """Fill the index from the read models (at start-up, after a rebuild or a new model)."""
        async with db.reading() as session:
            candidates = [candidate_vector(row) async for row in readmodels.matchable_candidates(session)]
            vacancies = [vacancy_vector(row, self.weights) for row in await readmodels.open_vacancies(session)]
        self.index.candidates.load(candidates)
        self.index.vacancies.load(vacancies)
        log.info("match_index_loaded", candidates=len(candidates), vacancies=len(vacancies),
                 model_version=self.weights.version)

    async def sync(self, db: Database, since: datetime) -> datetime:
        """Bring the index up to the read models' rows changed since ``since`` (replicas whose
        consumers run elsewhere); the index ignores versions it already holds. Returns the
        next ``since``: a few seconds back, so a transaction that committed late is not missed."""
        started = datetime.now(UTC)
        async with db.reading() as session:
            candidates, vacancies = await readmodels.changed_since(session, since)
        for row in candidates:
            if readmodels.matchable(row):
                self.index.candidates.upsert(candidate_vector(row))
            else:
                self.index.candidates.remove(row.candidate_id)
        for row in vacancies:
            if row.status == "open":
                self.index.vacancies.upsert(vacancy_vector(row, self.weights))
            else:
                self.index.vacancies.remove(row.vacancy_id)
        return started - timedelta(seconds=5)

    async def use_weights(self, db: Database, weights: Weights) -> None:
        """Score with other weights from now on (vacancy vectors depend on them)."""
        self.index.weights = weights
        await self.load(db)

    async def apply(self, session: AsyncSession, envelope: Envelope, payload: ev.ReadEventData) -> None:
        """Apply one event to the read models; the index follows once the transaction commits."""
        index = self.index
        if isinstance(payload, ev.CandidateProfile):
            row = await readmodels.apply_candidate(session, payload)
            if row is not None:
                ident = payload.candidate_id
                if readmodels.matchable(row):
                    vector = candidate_vector(CandidateProfile(**row))
                    after_commit(session, lambda: index.candidates.upsert(vector))
                else:
                    after_commit(session, lambda: index.candidates.remove(ident))
        elif isinstance(payload, ev.CandidateErased):
            await readmodels.erase_candidate(session, payload)
            ident = payload.candidate_id
            after_commit(session, lambda: index.candidates.remove(ident))
        elif isinstance(payload, ev.VacancyProfile):
            row = await readmodels.apply_vacancy(session, payload)
            if row is not None:
                ident = payload.vacancy_id
                if row["status"] == "open":
                    vector = vacancy_vector(VacancyProfile(**row), self.weights)
                    after_commit(session, lambda: index.vacancies.upsert(vector))
                else:
                    after_commit(session, lambda: index.vacancies.remove(ident))
        elif isinstance(payload, ev.VacancyClosed):
            if await readmodels.close_vacancy(session, payload):
                ident = payload.vacancy_id
                after_commit(session, lambda: index.vacancies.remove(ident))
        elif isinstance(payload, ev.InvitationOutcome):
            factors = payload.factors or await self.pair_factors(session, payload)
            await readmodels.record_outcome(session, payload, factors, envelope.time)
        else:
            raise TypeError(f"matching does not handle {envelope.type}")

    async def pair_factors(self, session: AsyncSession, outcome: ev.InvitationOutcome) -> dict[str, float] | None:
        """The factor scores of an outcome's pair now (training features), or None if unknown."""
        c_row = await readmodels.candidate(session, outcome.candidate_id)
        v_row = await readmodels.vacancy(session, outcome.vacancy_id)
        if c_row is None or v_row is None or c_row.erased:
            return None
        match = self.index.score_pair(candidate_vector(c_row), vacancy_vector(v_row, self.weights))
        return training_features(match)

    async def rebuild(self, db: Database, bus: Bus, registry: EventRegistry, inbox: Table,
                      consumers: dict[str, tuple[str, ...]], batch: int = 1000) -> int:
        """Empty the read models and replay the topics from the beginning into them; the same
        events give the same state. Returns the number of events applied."""
        async with db.transaction() as session:
            await readmodels.clear(session, inbox, list(consumers))
        handled = {ev.CANDIDATE_REGISTERED, ev.CANDIDATE_UPDATED, ev.CANDIDATE_ERASED, ev.VACANCY_OPENED,
                   ev.VACANCY_UPDATED, ev.VACANCY_CLOSED, ev.OUTCOME_RECORDED}
        applied = 0
        for topics in consumers.values():  # group by group: profiles before the outcomes that refer to them
            async for messages in bus.replay(topics, batch):
                envelopes = [e for e in map(Envelope.from_bytes, (m.value for m in messages)) if e.type in handled]
                async with db.transaction() as session:
                    for envelope in envelopes:
                        await self.apply(session, envelope, registry.parse(envelope))  # type: ignore[arg-type]
                applied += len(envelopes)
                log.info("rebuild_progress", events=applied)
        await self.load(db)
        return applied

    # ---- recommendations --------------------------------------------------------------------
    async def for_vacancy(self, session: AsyncSession, who: Principal, vacancy_id: str, limit: int,
                          max_km: float | None, priority_group: str | None) -> list[dict[str, Any]]:
        vector = self.index.vacancies.get(vacancy_id)
        if vector is None:
            row = await readmodels.vacancy(session, vacancy_id)
            if row is None:
                raise NotFound("vacancy")
            raise NotMatchable("vacancy", f"the vacancy is {row.status}")
        return [self.view(who, m, side="candidate")
                for m in self.index.candidates_for(vector, limit, max_km, priority_group)]

    async def for_candidate(self, session: AsyncSession, who: Principal, candidate_id: str, limit: int,
                            max_km: float | None) -> list[dict[str, Any]]:
        vector = self.index.candidates.get(candidate_id)
        if vector is None:
            row = await readmodels.candidate(session, candidate_id)
            if row is None or row.erased:
                raise NotFound("candidate")
            reason = ("the candidate has not consented to matching" if not row.matching_consent
                      else f"the candidate's status is {row.status}")
            raise NotMatchable("candidate", reason)
        if not owns(who, vector):
            # a centre sees recommendations for its own candidates only
            raise NotFound("candidate")
        return [self.view(who, m, side="vacancy") for m in self.index.vacancies_for(vector, limit, max_km)]

    @staticmethod
    def view(who: Principal, match: Match, side: str) -> dict[str, Any]:
        if side == "vacancy":
            v = match.vacancy
            return {"vacancy_id": v.vacancy_id, "employer_id": v.employer_id, "title": v.title,
                    "occupation": v.occupation, "ward_code": v.ward, "score": round(match.score, 4),
                    "explanation": match.explanation}
        c = match.candidate
        mine = owns(who, c)
        return {
            "candidate_id": c.candidate_id,
            "centre_id": c.centre_id,
            "masked": not mine,
            # another centre's candidate: the ward is too precise to share, the district is not
            "ward_code": c.ward if mine else None,
            "legacy_district_code": c.district,
            "trade_level": c.trade_level or None,
            "priority_groups": list(c.priority_groups) if mine else [],
            "score": round(match.score, 4),
            "explanation": match.explanation if mine else _masked_explanation(match.explanation),
        }

    # ---- batch -----------------------------------------------------------------------------
    def top_n(self, n: int = 50, retrieve: int = 400, threads: int = 2) -> TopN:
        """Top-``n`` candidates of every open vacancy as one vectorised job: the ``retrieve`` best
        by relevance (one sparse product, ``sp_matmul_topn``), re-ranked by the full score over
        all retrieved pairs at once. A vacancy's list is provably exact when every candidate with
        R > 0 was retrieved, or when its n-th score beats anything a candidate left out could
        reach (the smallest retrieved R × (1 + the largest boost))."""
        index = self.index
        c_block, v_block = index.candidates.compacted(), index.vacancies.compacted()
        vacancies, candidates = v_block.vectors, c_block.vectors
        ids = np.array([c.candidate_id for c in candidates], dtype=object)
        empty = np.empty(0, np.int64)
        if not vacancies or not candidates:
            return TopN([v.vacancy_id for v in vacancies], ids, np.zeros(len(vacancies) + 1, np.int64), empty,
                        np.empty(0), retrieve, 1.0)
        # Retrieval by relevance R without the broad 2-digit occupation groups (dense columns,
        # added back per pair below), ties broken towards the same ward: R is made of a few
        # discrete parts, so many candidates can share the best R and an arbitrary cut among
        # them would lose the nearest. (In float64: the tie-break is taken back out exactly.)
        narrow = sparse.diags((~feature_space().broad).astype(np.float64))
        q = sparse.hstack([v_block.matrix @ narrow, _wards(v_block.arrays, TIE_BREAK)], format="csr")
        xt = sparse.vstack([narrow @ c_block.matrix.T, _wards(c_block.arrays, 1.0).T], format="csr")
        product = sp_matmul_topn(q, xt, top_n=retrieve, n_threads=threads if threads > 1 else None)
        counts = np.diff(product.indptr)
        pair_vacancy = np.repeat(np.arange(len(vacancies)), counts)
        rows = product.indices.astype(np.int64)
        c = {k: arr[rows] for k, arr in c_block.arrays.items()}
        v = {k: arr[pair_vacancy] for k, arr in v_block.arrays.items()}
        same_ward = (c["ward"] == v["ward"]) & (c["ward"] >= 0)
        same_district = (c["district"] == v["district"]) & (c["district"] >= 0)
        narrow_r = np.maximum(product.data - TIE_BREAK * same_ward, 0.0)
        broad_match = (c["o2"] == v["o2"][:, None]).any(axis=1)
        relevance = narrow_r + v["o2_credit"] * broad_match
        km = index.places.km(c["place"], v["place"])
        fit = index.weights.fit() @ np.vstack([
            level_factor(c["level"], v["min_level"]),
            qualification_factor(c["qualification"], v["min_qualification"]),
            distance_factor(km, c["commute"], same_ward, same_district),
            wage_factor(c["wage"], v["wage_top"]),
        ])
        scores = np.where(relevance > 1e-9, combine(relevance, fit, c["boost"] * v["accepts_priority"], index.weights.alpha), 0.0)
        order = _rank_within_vacancy(pair_vacancy, scores, c["id_rank"])
        position = np.arange(len(order)) - np.repeat(product.indptr[:-1], counts)
        keep = order[position < n]
        kept_counts = np.minimum(counts, n)
        indptr = np.concatenate([[0], np.cumsum(kept_counts)])
        # provable exactness per vacancy
        # a candidate left out has at most the smallest retrieved narrow R (none when all with
        # R > 0 were retrieved) plus the broad-group credit
        nonempty = counts > 0
        min_r = np.zeros(len(vacancies))
        min_r[nonempty] = np.minimum.reduceat(narrow_r, product.indptr[:-1][nonempty])
        min_r[counts < retrieve] = 0.0
        nth = np.full(len(vacancies), -1.0)
        full = kept_counts == n
        nth[full] = scores[order[product.indptr[:-1][full] + n - 1]]
        max_boost = max(index.boosts.values(), default=0.0)
        bound = (min_r + v_block.arrays["o2_credit"]) * (1 + max_boost)
        exact = nth >= bound
        return TopN([x.vacancy_id for x in vacancies], ids, indptr, rows[keep], scores[keep], retrieve,
                    float(exact.mean()))


TIE_BREAK = 1e-4  # far below any difference in relevance between two distinct skill profiles


def _wards(arrays: dict[str, np.ndarray], weight: float) -> sparse.csr_matrix:
    """One-hot ward columns of a block's rows."""
    n = len(arrays["ward"])
    known = arrays["ward"] >= 0
    return sparse.csr_matrix((np.full(int(known.sum()), weight), (np.arange(n)[known], arrays["ward"][known])),
                             shape=(n, PLACE_COLUMNS))


PLACE_COLUMNS = 1 << 16  # room for every ward and district code of the country (about 11,000)


def _rank_within_vacancy(vacancy: np.ndarray, scores: np.ndarray, candidate_rank: np.ndarray) -> np.ndarray:
    """Pair positions sorted by vacancy, then score (high first), then candidate id: one sort of
    63-bit keys when they fit (scores to 2⁻²⁹), else a lexsort."""
    if len(vacancy) and vacancy.max() < 2**16 and candidate_rank.max() < 2**18:
        quantised = np.rint((1.0 - np.clip(scores, 0.0, 1.0)) * (2**29 - 1)).astype(np.int64)
        return np.argsort((vacancy.astype(np.int64) << 47) | (quantised << 18) | candidate_rank, kind="stable")
    return np.lexsort((candidate_rank, -scores, vacancy))


def owns(who: Principal, candidate: CandidateVector) -> bool:
    return who.is_admin or (candidate.centre_id is not None and candidate.centre_id == who.centre_id)


def training_features(match: Match) -> dict[str, float]:
    """The factor scores of a pair as model features (never a protected trait: none is held)."""
    f = match.explanation["factors"]
    must, nice, text = f["must_skills"], f["nice_skills"], f["text_similarity"]
    return {  # the fit parts (FIT_PARTS) spelled out: a run computes this for 100,000 pairs
        "must": 1.0 if must is None else must, "nice": 0.0 if nice is None else nice,
        "occupation": f["occupation"], "text": text or 0.0, "trade_level": f["trade_level"],
        "qualification": f["qualification"], "distance": f["distance"], "wage": f["wage"], "score": match.score,
    }


def _masked_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """Another centre's candidate: the reasons stay, the priority groups (sensitive) do not."""
    return {**explanation, "priority_boost": {"groups": [], "boost": explanation["priority_boost"]["boost"]}}
