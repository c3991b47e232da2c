"""Recommendations: the read models applied to the in-memory index, ranked matches with their
explanations, masking by caller, and the batch top-N used by job-fair allocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog
from sparse_dot_topn import sp_matmul_topn
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.bus import Bus
from kit.db import Database, after_commit
from kit.events import Envelope, EventRegistry
from services.matching import events as ev
from services.matching import readmodels
from services.matching.index import Match, MatchIndex, code_of
from services.matching.models import CandidateProfile, VacancyProfile
from services.matching.scoring import (
    FIT_PARTS,
    CandidateVector,
    VacancyVector,
    Weights,
    candidate_vector,
    combine,
    distance_factor,
    distance_km,
    feature_space,
    level_factor,
    qualification_factor,
    rows_matrix,
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
    """Batch result: per open vacancy, its best candidates as (candidate id, score)."""

    ranked: dict[str, list[tuple[str, float]]]
    retrieved_per_vacancy: int
    exact_share: float  # share of vacancies whose top-N is provably the exact top-N


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
        handled = set(registry.types())
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
    def top_n(self, n: int = 50, retrieve: int = 400, vacancy_ids: list[str] | None = None,
              threads: int = 2) -> TopN:
        """Top-``n`` candidates of every open vacancy as one vectorised job: the ``retrieve`` best
        by relevance (one sparse product, ``sp_matmul_topn``), re-ranked by the full score.
        A vacancy's list is exact when its n-th score beats anything a candidate left out could
        reach (R of the last retrieved × (1 + the largest boost))."""
        index = self.index
        vacancies = [v for v in (index.vacancies.rows.values() if vacancy_ids is None
                                 else (index.vacancies.rows[i] for i in vacancy_ids if i in index.vacancies.rows))]
        candidates = list(index.candidates.rows.values())
        if not vacancies or not candidates:
            return TopN({v.vacancy_id: [] for v in vacancies}, retrieve, 1.0)
        width = feature_space().width
        q = rows_matrix(vacancies, width)
        x = rows_matrix(candidates, width)
        relevance = sp_matmul_topn(q, x.T.tocsr(), top_n=retrieve, n_threads=threads if threads > 1 else None)
        arrays = index.candidate_arrays(candidates)
        ids = np.array([c.candidate_id for c in candidates])
        max_boost = max(index.boosts.values(), default=0.0)
        ranked: dict[str, list[tuple[str, float]]] = {}
        exact = 0
        fit_w = index.weights.fit()
        for i, v in enumerate(vacancies):
            start, end = relevance.indptr[i], relevance.indptr[i + 1]
            rows, r = relevance.indices[start:end], relevance.data[start:end].astype(np.float64)
            if not len(rows):
                ranked[v.vacancy_id] = []
                exact += 1
                continue
            a = {k: arr[rows] for k, arr in arrays.items()}
            km = distance_km(a["lat"], a["lon"], v.lat, v.lon)
            fit = fit_w @ np.vstack([
                level_factor(a["level"], v.min_level),
                qualification_factor(a["qualification"], v.min_qualification),
                distance_factor(km, a["commute"], a["ward"] == code_of(v.ward),
                                (a["district"] == code_of(v.district)) & (a["district"] >= 0)),
                wage_factor(a["wage"], v.wage_top),
            ])
            scores = combine(r, fit, a["boost"] * (1.0 if v.accepts_priority else 0.0), index.weights.alpha)
            order = np.lexsort((ids[rows], -scores))[:n]  # ties in id order, as online
            ranked[v.vacancy_id] = [(candidates[rows[j]].candidate_id, float(scores[j])) for j in order]
            complete = len(rows) < retrieve  # every candidate with R > 0 was retrieved
            if complete or (len(order) == n and scores[order[-1]] >= r.min() * (1 + max_boost)):
                exact += 1
        return TopN(ranked, retrieve, exact / len(vacancies))


def owns(who: Principal, candidate: CandidateVector) -> bool:
    return who.is_admin or (candidate.centre_id is not None and candidate.centre_id == who.centre_id)


def training_features(match: Match) -> dict[str, float]:
    """The factor scores of a pair as model features (never a protected trait: none is held)."""
    f = match.explanation["factors"]
    return {
        "must": f["must_skills"] if f["must_skills"] is not None else 1.0,
        "nice": f["nice_skills"] if f["nice_skills"] is not None else 0.0,
        "occupation": f["occupation"],
        "text": f["text_similarity"] or 0.0,
        **{p: f[p] for p in FIT_PARTS},
        "score": match.score,
    }


def _masked_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """Another centre's candidate: the reasons stay, the priority groups (sensitive) do not."""
    return {**explanation, "priority_boost": {"groups": [], "boost": explanation["priority_boost"]["boost"]}}
