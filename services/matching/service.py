"""Recommendations: the read models applied to the in-memory index, ranked matches with their
explanations, masking by caller, and the batch top-N used by job-fair allocation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import structlog
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.bus import Bus
from kit.consumers import replay
from kit.db import Database, after_commit
from kit.events import Envelope, EventRegistry
from services.matching import events as ev
from services.matching import readmodels, topn
from services.matching.index import Match, MatchIndex
from services.matching.models import CandidateProfile, VacancyProfile
from services.matching.scoring import (
    CandidateVector,
    VacancyVector,
    Weights,
    candidate_vector,
    feature_space,
    model_features,
    vacancy_vector,
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
    scored: int  # pairs scored in full to find them
    candidates: list[CandidateVector]  # the vectors ranked, by position (as ``candidate_ids``)
    vacancies: list[VacancyVector]  # the vectors of ``vacancy_ids``

    @property
    def ranked(self) -> dict[str, list[tuple[str, float]]]:
        """Per vacancy id, its list of (candidate id, score)."""
        return {vid: [(str(self.candidate_ids[r]), float(s)) for r, s in
                      zip(self.rows[self.indptr[i]:self.indptr[i + 1]], self.scores[self.indptr[i]:self.indptr[i + 1]], strict=True)]
                for i, vid in enumerate(self.vacancy_ids)}


class _Batch(NamedTuple):
    """The batch layout of one version of the index (its compiled blocks, places and weights)."""

    candidates: Any
    vacancies: Any
    km: np.ndarray
    weights: Weights
    ids: np.ndarray
    layout: topn.Layout

    def of(self, candidates: Any, vacancies: Any, km: np.ndarray, weights: Weights) -> bool:
        return self.candidates is candidates and self.vacancies is vacancies and self.km is km and self.weights == weights


class MatchingService:
    def __init__(self, weights: Weights, boosts: dict[str, float], compact_at: int = 1000) -> None:
        self.index = MatchIndex(weights, boosts, compact_at)
        self._batch: _Batch | None = None
        self._kernel = threading.Lock()  # one compiled pass at a time (not every threading layer takes two)

    @property
    def weights(self) -> Weights:
        return self.index.weights

    # ---- read models -> index --------------------------------------------------------------
    async def load(self, db: Database) -> None:
        """Fill the index from the read models (at start-up, after a rebuild or a new model)."""
        async with db.reading(stream=True) as session:
            candidates = [candidate_vector(row) async for row in readmodels.matchable_candidates(session)]
            vacancies = [vacancy_vector(row, self.weights) for row in await readmodels.open_vacancies(session)]
        self.index.candidates.load(candidates)
        self.index.vacancies.load(vacancies)
        log.info("match_index_loaded", candidates=len(candidates), vacancies=len(vacancies),
                 model_version=self.weights.version)

    def load_events(self, candidates: list[dict[str, Any]], vacancies: list[dict[str, Any]]) -> None:
        """Fill the index straight from events' data, as the read models would hold it, with no
        database: the kernel's warm-up and the benchmarks."""
        now = datetime.now(UTC)
        rows = [CandidateProfile(**readmodels.candidate_row(ev.CandidateProfile.model_validate(c), now)) for c in candidates]
        self.index.candidates.load([candidate_vector(r) for r in rows if readmodels.matchable(r)])
        opened = [VacancyProfile(**readmodels.vacancy_row(ev.VacancyProfile.model_validate(v), now)) for v in vacancies]
        self.index.vacancies.load([vacancy_vector(r, self.weights) for r in opened if r.status == "open"])

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
        # group by group: profiles before the outcomes that refer to them
        applied = await replay(db, bus, registry, consumers, handled, self.apply, batch)  # type: ignore[arg-type]
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
    def top_n(self, n: int = 50, threads: int = 2, vacancy_ids: list[str] | None = None) -> TopN:
        """The exact top-``n`` candidates of every open vacancy (or of those of ``vacancy_ids``
        that are open, in that order), as the online ranking orders them
        (services/matching/topn.py: one compiled pass that skips the candidates whose bound
        cannot reach a vacancy's n-th score). Its layout is prepared once per version of the
        index and reused by the next runs."""
        return self.ranking(n, threads, vacancy_ids)()

    def ranking(self, n: int = 50, threads: int = 2, vacancy_ids: list[str] | None = None) -> Callable[[], TopN]:
        """``top_n`` in two steps: this one reads the index (so it runs where the index is
        updated, on the event loop) and returns the compiled pass over what it captured, which
        touches nothing shared and releases the GIL: it may run in a thread."""
        index = self.index
        c_block, v_block = index.candidates.compacted(), index.vacancies.compacted()
        rows = np.arange(len(v_block.vectors))
        if vacancy_ids is not None:
            at = {v.vacancy_id: i for i, v in enumerate(v_block.vectors)}
            rows = np.array([at[v] for v in vacancy_ids if v in at], np.int64)
        listed = [v_block.vectors[i].vacancy_id for i in rows]
        vacancies = [v_block.vectors[i] for i in rows]
        if not listed or not c_block.vectors:
            empty = TopN(listed, np.array([c.candidate_id for c in c_block.vectors], dtype=object),
                         np.zeros(len(listed) + 1, np.int64), np.empty(0, np.int64), np.empty(0), 0,
                         c_block.vectors, vacancies)
            return lambda: empty
        km = index.places.table()
        batch = self._batch
        if batch is None or not batch.of(c_block, v_block, km, index.weights):
            batch = self._batch = _Batch(
                c_block, v_block, km, index.weights, np.array([c.candidate_id for c in c_block.vectors], dtype=object),
                topn.prepare(v_block.matrix.tocsr(), v_block.arrays, c_block.matrix, c_block.arrays,
                             feature_space().text_base, km, index.weights))

        def run() -> TopN:
            with self._kernel:
                indptr, found, scores, scored = topn.top_n(batch.layout, n, threads, rows)
            return TopN(listed, batch.ids, indptr, found, scores, int(scored.sum()), c_block.vectors, vacancies)

        return run


def owns(who: Principal, candidate: CandidateVector) -> bool:
    return who.is_admin or (candidate.centre_id is not None and candidate.centre_id == who.centre_id)


def training_features(match: Match) -> dict[str, float]:
    """The factor scores of an explained pair as the learning model's features."""
    return model_features(match.explanation["factors"], match.score)


def _masked_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """Another centre's candidate: the reasons stay, the priority groups (sensitive) do not."""
    return {**explanation, "priority_boost": {"groups": [], "boost": explanation["priority_boost"]["boost"]}}
