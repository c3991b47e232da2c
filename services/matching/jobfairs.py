"""Job fairs: scheduling, the allocation run, invitations and their life (RSVP, outcome).

An allocation run takes every participating open vacancy's exact ranked candidates from the
index, solves the allocation (allocation.py), and publishes the result as a change set against
the fair's live invitations: pairs kept stay as they are, pairs dropped are revoked
(``invitation.revoked``), new pairs are issued (``invitation.issued``) — all in one transaction
with their outbox rows, so a run is published whole or not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.db import Database
from kit.ids import new_id, new_ids
from kit.memory import paused_gc
from kit.outbox import Outbox
from kit.reports import DrawnReports
from reference.localtime import local_date
from services.matching import events as ev
from services.matching import readmodels, repository
from services.matching.allocation import Allocation, Problem, allocate
from services.matching.models import AllocationRun, Invitation, JobFair
from services.matching.report import fingerprint, render
from services.matching.service import MatchingService, TopN

SOURCE = "/joblink/matching"
LIVE = ("issued", "delivered", "accepted")  # an invitation a re-run may still revoke
log = structlog.get_logger("jobfairs")

# invitation status → the statuses it may move to
TRANSITIONS = {
    "issued": {"delivered", "accepted", "declined", "revoked", "attended", "hired", "no_show"},
    "delivered": {"accepted", "declined", "revoked", "attended", "hired", "no_show"},
    "accepted": {"declined", "revoked", "attended", "hired", "no_show"},
    "declined": {"accepted"},
    "attended": {"hired"},
    "hired": set(),
    "no_show": set(),
    "revoked": set(),
}


class FairNotFound(LookupError):
    pass


class InvitationNotFound(LookupError):
    pass


class InvalidFair(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


class WrongDay(Exception):
    """What the fair's day does not allow yet, or any more (invitations after it, outcomes before)."""


class InvalidTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an invitation that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class JobFairs:
    def __init__(self, db: Database, outbox: Outbox, matching: MatchingService, reports: Path,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.outbox = outbox
        self.matching = matching
        self.reports = reports
        self.clock = clock
        self._drawn = DrawnReports()

    # ---- fairs --------------------------------------------------------------------------------
    async def schedule(self, session: AsyncSession, who: Principal, body: Any) -> JobFair:
        """A new fair; every vacancy must be open (in the matching pool) and every slot named."""
        errors: list[dict[str, str]] = []
        if body.date < (today := local_date(self.clock())):
            errors.append({"field": "date", "message": f"is before today ({today:%d/%m/%Y} in Việt Nam)"})
        slots = [{"id": s.id or f"s{i + 1}", "start": s.start, "end": s.end, "seats": s.seats}
                 for i, s in enumerate(body.slots)]
        slot_ids = [s["id"] for s in slots]
        if len(set(slot_ids)) != len(slot_ids):
            errors.append({"field": "slots", "message": "slot ids must be unique"})
        load = {s["id"]: 0 for s in slots}
        seats = {s["id"]: s["seats"] for s in slots}
        vacancies = []
        for i, entry in enumerate(body.vacancies):
            vector = self.matching.index.vacancies.get(entry.vacancy_id)
            if vector is None:
                row = await readmodels.vacancy(session, entry.vacancy_id)
                errors.append({"field": f"vacancies.{i}.vacancy_id",
                               "message": "no such vacancy" if row is None else f"the vacancy is {row.status}"})
                continue
            slot = entry.slot_id
            if slot is None:  # the slot with the most free seats per invitation already placed
                slot = max(slot_ids, key=lambda s: (seats[s] - load[s], -slot_ids.index(s))) if slot_ids else None
            elif slot not in seats:
                errors.append({"field": f"vacancies.{i}.slot_id", "message": "no slot with this id"})
                continue
            if slot is not None:
                load[slot] += vector.openings * body.invites_per_opening
            vacancies.append({"vacancy_id": entry.vacancy_id, "slot_id": slot})
        if len({v["vacancy_id"] for v in vacancies}) != len(vacancies):
            errors.append({"field": "vacancies", "message": "a vacancy is listed twice"})
        if errors:
            raise InvalidFair(errors)
        fair = JobFair(id=new_id(), name=body.name, fair_date=body.date, venue_ward_code=body.venue.ward_code,
                       venue_detail=body.venue.detail, slots=slots, vacancies=vacancies,
                       invites_per_opening=body.invites_per_opening,
                       max_invites_per_candidate=body.max_invites_per_candidate,
                       priority_min_share=body.priority_min_share, priority_groups=list(body.priority_groups),
                       created_by=who.client_id, created_at=self.clock())
        session.add(fair)
        payload = ev.JobFairScheduled(job_fair_id=fair.id, name=fair.name, date=fair.fair_date,
                                      venue_ward_code=fair.venue_ward_code, venue_detail=fair.venue_detail,
                                      slots=[ev.Slot(**s) for s in slots],
                                      vacancy_ids=[v["vacancy_id"] for v in vacancies])
        await self.outbox.add(session, ev.registry.envelope(SOURCE, fair.id, payload, ev.JOBFAIR_SCHEDULED))
        await session.flush()
        return fair

    async def fair(self, session: AsyncSession, fair_id: str) -> JobFair:
        fair = await session.get(JobFair, fair_id)
        if fair is None:
            raise FairNotFound(fair_id)
        return fair

    async def fairs(self, session: AsyncSession, limit: int, cursor: str | None) -> tuple[list[JobFair], str | None]:
        rows = await repository.fairs(session, limit + 1, cursor)
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)

    # ---- allocation ---------------------------------------------------------------------------
    async def start_run(self, fair_id: str) -> AllocationRun:
        async with self.db.transaction() as session:
            fair = await self.fair(session, fair_id)
            if fair.fair_date < local_date(self.clock()):
                raise WrongDay(f"The job fair was on {fair.fair_date:%d/%m/%Y}: it is too late to invite anyone to it.")
            run = AllocationRun(id=new_id(), fair_id=fair.id, status="running", progress="queued",
                                parameters=_parameters(fair), started_at=self.clock())
            session.add(run)
        return run

    async def run(self, run_id: str, progress: Callable[[str], None] = lambda _m: None) -> AllocationRun:
        """Allocate and publish; the run row records each step, its outcome or its failure."""
        try:
            async with self.db.reading() as session:
                run = await session.get(AllocationRun, run_id)
                fair = await self.fair(session, run.fair_id)
            await self._progress(run_id, "ranking candidates", progress)
            # What reads the index runs here, where events update it; the compiled ranking, the solve
            # and the explanations work on what was captured, nothing shared: in a thread, so that
            # the service keeps answering while a city's fair takes its seconds.
            listed = self._listed(fair)
            ranked = await asyncio.to_thread(self._ranking(listed))
            problem, pairs_by_key = self._problem(fair, listed, ranked)
            await self._progress(run_id, f"solving over {len(problem.score):,} scored pairs", progress)
            result = await asyncio.to_thread(allocate, problem)
            await self._progress(run_id, f"publishing {len(result.chosen):,} invitations", progress)
            # the invited pairs' features computed before the transaction opens, not while it is held
            features = await asyncio.to_thread(pairs_by_key.features, [(p.candidate_id, p.vacancy_id) for p in result.chosen],
                                               [p.score for p in result.chosen])
            async with self.db.transaction() as session:
                changes = await self._publish(session, fair, run_id, result, pairs_by_key, features)
                run = await session.get(AllocationRun, run_id)
                # completed with its invitations: the report, drawn next, shows the run as it is
                run.status, run.progress, run.finished_at = "completed", "writing the report", self.clock()
                run.input_hash, run.objective, run.message = problem.digest(), round(result.objective, 6), result.message
                run.totals = {**result.totals, **changes, "invitations": len(result.chosen),
                              "priority_share": round(result.priority_share, 4),
                              "priority_share_target": fair.priority_min_share,
                              "priority_share_met": result.share_target_met}
        except Exception as exc:
            log.exception("allocation_failed", run_id=run_id)
            async with self.db.transaction() as session:
                run = await session.get(AllocationRun, run_id)
                run.status, run.message, run.finished_at = "failed", f"{type(exc).__name__}: {exc}", self.clock()
            raise
        progress("writing the report")
        try:
            path = await self.write_report(fair.id, run_id)
        except Exception:  # the invitations are out; a missing report must not hide that
            log.exception("report_failed", run_id=run_id)
            path = None
        async with self.db.transaction() as session:
            run = await session.get(AllocationRun, run_id)
            run.progress = "done"
            if path is None:
                run.message = f"{run.message}; the report could not be written (see the logs)"
        progress(f"done: {path}")
        return run

    def problem(self, fair: JobFair) -> tuple[Problem, _Explained]:
        """The allocation input from the index: each open vacancy's exact ranked candidates, from
        the batch top-N (services/matching/topn.py). ``run`` does the same in three steps, the
        compiled ranking in a thread."""
        listed = self._listed(fair)
        return self._problem(fair, listed, self._ranking(listed)())

    def _listed(self, fair: JobFair) -> dict[str, tuple[int, int, str]]:
        """The fair's open vacancies: vacancy id → (list length, capacity, slot)."""
        listed = {}
        for entry in fair.vacancies:
            vector = self.matching.index.vacancies.get(entry["vacancy_id"])
            if vector is None or entry["slot_id"] is None:  # closed or filled since the fair was scheduled
                continue
            cap = vector.openings * fair.invites_per_opening
            listed[vector.vacancy_id] = (min(500, max(50, 4 * cap)), cap, entry["slot_id"])
        return listed

    def _ranking(self, listed: dict[str, tuple[int, int, str]]) -> Callable[[], TopN]:
        return self.matching.ranking(max((n for n, _c, _s in listed.values()), default=1), vacancy_ids=list(listed))

    def _problem(self, fair: JobFair, listed: dict[str, tuple[int, int, str]], ranked: TopN) -> tuple[Problem, _Explained]:
        """The problem as arrays straight from the ranking (a city's fair ranks millions of pairs:
        one Python object each would cost ten times the ranking), with the vectors the ranking
        saw, so that a pair is explained, if it is invited, as it was scored."""
        groups = set(fair.priority_groups)
        counts = np.diff(ranked.indptr)
        place = np.arange(len(ranked.rows)) - np.repeat(ranked.indptr[:-1], counts)
        keep = place < np.repeat(np.array([listed[v][0] for v in ranked.vacancy_ids], np.int64), counts)
        used, candidate = np.unique(ranked.rows[keep], return_inverse=True)
        candidates = {vector.candidate_id: vector for vector in (ranked.candidates[r] for r in used)}
        candidate_ids = np.array(list(candidates), dtype=object)
        priority = np.array([bool(groups & set(vector.priority_groups)) for vector in candidates.values()], bool)
        seats = {s["id"]: s["seats"] for s in fair.slots}
        slot_ids = sorted(seats)
        slot_index = {s: i for i, s in enumerate(slot_ids)}
        problem = Problem(
            candidate=candidate.astype(np.int64),
            vacancy=np.repeat(np.arange(len(ranked.vacancy_ids)), counts)[keep],
            score=ranked.scores[keep].astype(np.float64),
            priority=priority[candidate],
            candidate_ids=candidate_ids,
            vacancy_ids=np.array(ranked.vacancy_ids, dtype=object),
            vacancy_cap=np.array([listed[v][1] for v in ranked.vacancy_ids], np.int64),
            vacancy_slot=np.array([slot_index.get(listed[v][2], -1) for v in ranked.vacancy_ids], np.int64),
            slot_ids=slot_ids,
            slot_seats=np.array([seats[s] for s in slot_ids], np.int64),
            max_per_candidate=fair.max_invites_per_candidate,
            min_priority_share=fair.priority_min_share,
        )
        vacancies = {vector.vacancy_id: vector for vector in ranked.vacancies}
        return problem, _Explained(self.matching.index, candidates, vacancies)

    async def _publish(self, session: AsyncSession, fair: JobFair, run_id: str, result: Allocation,
                       pairs: _Explained, features: dict[tuple[str, str], dict[str, float]]) -> dict[str, int]:
        with paused_gc():  # up to hundreds of thousands of rows and events built
            return await self._write_run(session, fair, run_id, result, pairs, features)

    async def _write_run(self, session: AsyncSession, fair: JobFair, run_id: str, result: Allocation,
                         pairs: _Explained, features: dict[tuple[str, str], dict[str, float]]) -> dict[str, int]:
        live = await repository.live_pairs(session, fair.id, LIVE)
        slots = {s["id"]: ev.Slot.model_validate(s) for s in fair.slots}  # validated once, not per event
        slot_of = {v["vacancy_id"]: v["slot_id"] for v in fair.vacancies}
        now = self.clock()
        wanted = {(p.candidate_id, p.vacancy_id): p for p in result.chosen}
        kept, revoked = set(), []
        for invitation in live:
            key = (invitation.candidate_id, invitation.vacancy_id)
            if key in wanted and invitation.slot_id == slot_of[key[1]]:
                kept.add(key)
                continue
            revoked.append((invitation.id, {
                "invitation_id": invitation.id, "job_fair_id": fair.id, "candidate_id": invitation.candidate_id or "",
                "reason": "the fair's allocation was run again"}))  # "": erased when erasure kept live invitations
        await repository.revoke_invitations(session, [id_ for id_, _ in revoked], now)  # before the new rows
        to_issue = [pair for key, pair in sorted(wanted.items()) if key not in kept]
        ids = new_ids(len(to_issue))
        envelopes = ev.registry.encode_many(SOURCE, ev.INVITATION_REVOKED, revoked)

        def rows() -> Iterator[tuple[Any, ...]]:
            """The new invitations' rows (``repository.INVITATION_COLUMNS``), for the COPY to take
            as they come; each slice's events are encoded while PostgreSQL stores the slice's rows
            (its COPY is the slower side)."""
            for start in range(0, len(to_issue), 5000):
                payloads = []
                for pair, invitation_id in zip(to_issue[start:start + 5000], ids[start:start + 5000], strict=True):
                    key = (pair.candidate_id, pair.vacancy_id)
                    vacancy, slot_id = pairs.vacancies[pair.vacancy_id], slot_of[pair.vacancy_id]
                    yield (invitation_id, fair.id, run_id, pair.candidate_id, pairs.candidates[pair.candidate_id].centre_id,
                           pair.vacancy_id, vacancy.employer_id, slot_id, round(pair.score, 6), features[key], pair.priority,
                           "issued", now, now)
                    payloads.append((invitation_id, {
                        "invitation_id": invitation_id, "job_fair_id": fair.id, "candidate_id": pair.candidate_id,
                        "vacancy_id": pair.vacancy_id, "vacancy_title": vacancy.title, "employer_id": vacancy.employer_id,
                        "fair_date": fair.fair_date, "slot": slots[slot_id], "venue_ward_code": fair.venue_ward_code,
                        "venue_detail": fair.venue_detail}))
                envelopes.extend(ev.registry.encode_many(SOURCE, ev.INVITATION_ISSUED, payloads))

        await session.flush()  # the session's pending changes, before the COPYs that bypass it
        await repository.add_invitations(session, rows())
        await self.outbox.add_all(session, envelopes)
        return {"issued": len(to_issue), "revoked": len(revoked), "kept": len(kept)}

    async def _progress(self, run_id: str, message: str, progress: Callable[[str], None]) -> None:
        progress(message)
        async with self.db.transaction() as session:
            (await session.get(AllocationRun, run_id)).progress = message

    async def abandon_interrupted_runs(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Runs still "running" long after any run ends (a process stopped mid-way; another
        replica's current run is younger): they published nothing, the publication being one
        transaction, so they are marked failed and can simply be run again."""
        async with self.db.transaction() as session:
            runs = await repository.stale_runs(session, self.clock() - older_than)
            for run in runs:
                run.status, run.finished_at = "failed", self.clock()
                run.message = "interrupted: the process stopped during the run; nothing was published, run it again"
        return len(runs)

    async def run_of(self, session: AsyncSession, fair_id: str, run_id: str) -> AllocationRun:
        run = await session.get(AllocationRun, run_id)
        if run is None or run.fair_id != fair_id:
            raise FairNotFound(run_id)
        return run

    async def report(self, fair_id: str, run_id: str) -> tuple[str, str]:
        """The run's HTML report (the fair's live invitations after it) as it is now, and its
        fingerprint: drawn again only when something it shows has changed."""
        async with self.db.reading() as session:
            fair = await self.fair(session, fair_id)
            run = await self.run_of(session, fair_id, run_id)
            live = await repository.invitations(session, fair_id, not_status="revoked")
        index = self.matching.index
        digest = fingerprint(fair, run, live, index)
        return await self._drawn.get(digest, lambda: render(fair, run, live, index)), digest

    async def write_report(self, fair_id: str, run_id: str) -> Path:
        page, _digest = await self.report(fair_id, run_id)
        self.reports.mkdir(parents=True, exist_ok=True)
        path = self.reports / f"jobfair-{fair_id}-{run_id}.html"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)  # readers never see half a file
        return path

    # ---- invitations --------------------------------------------------------------------------
    async def invitations(self, session: AsyncSession, fair_id: str, status: str | None, vacancy_id: str | None,
                          limit: int, cursor: str | None) -> tuple[list[Invitation], str | None]:
        rows = await repository.invitations(session, fair_id, statuses=[status] if status else None,
                                            vacancy_id=vacancy_id, after=cursor, limit=limit + 1)
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)

    async def counts(self, session: AsyncSession, fair_id: str) -> dict[str, int]:
        return await repository.invitation_counts(session, fair_id)

    async def respond(self, session: AsyncSession, invitation_id: str, answer: str, who: Principal | None) -> Invitation:
        """RSVP: from the API (the candidate's centre or a fair admin) or from notifications."""
        invitation = await self._invitation(session, invitation_id, who)
        wanted = "accepted" if answer == "accept" else "declined"
        if invitation.status != wanted:
            if who is not None:  # (an answer by message may arrive late: notifications judged it in time)
                fair_date = await self._fair_date(session, invitation)
                if fair_date < local_date(self.clock()):
                    raise WrongDay(f"The job fair was on {fair_date:%d/%m/%Y}: answers are no longer taken.")
            self._move(invitation, wanted)
        return invitation

    async def delivered(self, session: AsyncSession, invitation_id: str) -> None:
        invitation = await session.get(Invitation, invitation_id)
        if invitation is not None and invitation.status == "issued":
            self._move(invitation, "delivered")

    async def record_outcome(self, session: AsyncSession, invitation_id: str, outcome: str, who: Principal) -> Invitation:
        invitation = await self._invitation(session, invitation_id, who)
        if invitation.status == outcome:
            return invitation  # recorded already: idempotent
        fair_date = await self._fair_date(session, invitation)
        if local_date(self.clock()) < fair_date:
            raise WrongDay(f"The job fair is on {fair_date:%d/%m/%Y}: attendance and hires are recorded from that day.")
        self._move(invitation, outcome)
        payload = ev.InvitationOutcome(invitation_id=invitation.id, job_fair_id=invitation.fair_id,
                                       vacancy_id=invitation.vacancy_id, employer_id=invitation.employer_id,
                                       candidate_id=invitation.candidate_id or "", outcome=outcome,
                                       recorded_at=invitation.updated_at, factors=invitation.factors)
        await self.outbox.add(session, ev.registry.envelope(SOURCE, invitation.id, payload, ev.OUTCOME_RECORDED))
        return invitation

    async def forget_candidate(self, session: AsyncSession, candidate_id: str) -> None:
        """Erasure: invitations keep their facts (vacancy, slot, status) but lose the person; the
        live ones are revoked (announced, so no message goes out and the place is free)."""
        now = self.clock()
        for invitation in await repository.invitations_of_candidate(session, candidate_id):
            if invitation.status in LIVE:
                invitation.status, invitation.updated_at = "revoked", now
                await self.outbox.add(session, ev.registry.envelope(SOURCE, invitation.id, ev.InvitationRevoked(
                    invitation_id=invitation.id, job_fair_id=invitation.fair_id, candidate_id=candidate_id,
                    reason="the person's data was erased"), ev.INVITATION_REVOKED))
            invitation.candidate_id = None
            invitation.candidate_centre_id = None

    async def _invitation(self, session: AsyncSession, invitation_id: str, who: Principal | None) -> Invitation:
        invitation = await session.get(Invitation, invitation_id, with_for_update=True)
        if invitation is None or (who is not None and not (
                who.is_admin or "jobfairs:admin" in who.scopes
                or (invitation.candidate_centre_id is not None and invitation.candidate_centre_id == who.centre_id))):
            raise InvitationNotFound(invitation_id)
        return invitation

    @staticmethod
    async def _fair_date(session: AsyncSession, invitation: Invitation) -> date:
        fair = await session.get(JobFair, invitation.fair_id)
        assert fair is not None  # an invitation's fair is never deleted
        return fair.fair_date

    def _move(self, invitation: Invitation, wanted: str) -> None:
        if wanted not in TRANSITIONS[invitation.status]:
            raise InvalidTransition(invitation.status, wanted)
        invitation.status, invitation.updated_at = wanted, self.clock()


class _Explained(dict):
    """Pair → its Match with the explanation, computed when first asked for, from the vectors the
    ranking saw; a run records only the features (``features``) of the pairs it invites."""

    def __init__(self, index: Any, candidates: dict[str, Any], vacancies: dict[str, Any]) -> None:
        super().__init__()
        self.index = index
        self.candidates = candidates
        self.vacancies = vacancies

    def __missing__(self, key: tuple[str, str]) -> Any:
        return self.explain([key])[key]

    def explain(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """These pairs' matches, those not yet explained computed together (``score_pairs``)."""
        missing = [key for key in keys if key not in self]
        matches = self.index.score_pairs([(self.candidates[c], self.vacancies[v]) for c, v in missing])
        self.update(zip(missing, matches, strict=True))
        return {key: self[key] for key in keys}

    def features(self, keys: list[tuple[str, str]], scores: list[float]) -> dict[tuple[str, str], dict[str, float]]:
        """These pairs' ``training_features``, from the scores the ranking gave them, without the
        rest of their explanations (what an invitation records)."""
        found = self.index.pair_features([(self.candidates[c], self.vacancies[v]) for c, v in keys], scores)
        return dict(zip(keys, found, strict=True))


def _parameters(fair: JobFair) -> dict[str, Any]:
    return {"invites_per_opening": fair.invites_per_opening, "max_invites_per_candidate": fair.max_invites_per_candidate,
            "priority_min_share": fair.priority_min_share, "priority_groups": fair.priority_groups,
            "slots": fair.slots, "vacancies": fair.vacancies}
