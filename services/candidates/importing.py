"""Bulk import of candidates from CSV (UTF-8, with or without BOM, header row).

The upload is read as a stream and parsed row by row, never held whole in memory. Rows go in
batches through two stages: *preparation* (validation, reference data, encryption — no database),
in a worker process when ``import_workers`` > 0, and *registration* (duplicate checks, writes,
events), one transaction per batch. A batch is prepared while the one before it is registered,
so the two processes work at once. A row that fails (invalid, duplicate) never takes its
neighbours with it, and every row gets a result: the new candidate's id, or its errors. The job's
counters are committed with each batch, so its progress can be read while it runs.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.csvstream import RowResult, field_errors, run_import, visible_to
from kit.db import Database
from kit.ids import new_id
from kit.memory import paused_gc
import reference
from services.candidates import repository
from services.candidates.models import Candidate, CandidateImport
from services.candidates.personal import PersonalDataProtector
from services.candidates.schemas import CandidateIn
from services.candidates.service import CandidateService, DuplicateCandidate, InvalidCandidate, NewCandidate

log = structlog.get_logger("candidates.import")
# A row after preparation: its number, the CSV row (for the row-by-row fallback) and the
# prepared candidate or the row's errors.
Prepared = tuple[int, dict[str, str], NewCandidate | list[dict[str, str]]]
LISTS = ("occupations", "skills", "priority_groups", "certificates", "contact_channels")
CONSENTS = ("matching", "share_with_employers", "notifications")
BATCH = 500


def row_to_body(row: dict[str, str], source: str) -> dict[str, Any]:
    """A CSV row (the import columns) as the JSON body of a registration."""
    def value(name: str) -> str | None:
        text = (row.get(name) or "").strip()
        return text or None

    body: dict[str, Any] = {
        name: value(name)
        for name in ("full_name", "date_of_birth", "gender", "phone", "email", "national_id", "trade_level",
                     "qualification", "experience_years", "desired_wage_vnd", "max_commute_km", "status")
        if value(name) is not None
    }
    body["address"] = {
        "ward_code": value("ward_code"),
        "legacy_district_code": value("legacy_district_code"),
        "legacy_ward_code": value("legacy_ward_code"),
        "detail": value("address_detail"),
    }
    for name in LISTS:
        if value(name):
            body[name] = [part.strip() for part in value(name).split(";") if part.strip()]
    consents = {}
    for purpose in CONSENTS:
        flag = (value(f"consent_{purpose}") or "").lower()
        if flag:
            consents[purpose] = {"granted": flag in ("true", "1", "yes", "có", "x"), "source": source}
    if consents:
        body["consents"] = consents
    return body


def prepare_rows(service: CandidateService, who: Principal, source: str, now: datetime,
                 rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, NewCandidate | list[dict[str, str]]]]:
    """The first stage: each row validated and prepared, or its errors."""
    prepared: list[tuple[int, NewCandidate | list[dict[str, str]]]] = []
    with paused_gc():  # thousands of acyclic objects: collections on the way would scan the reference data
        for number, row in rows:
            try:
                prepared.append((number, service.prepare(who, CandidateIn.model_validate(row_to_body(row, source)), now)))
            except ValidationError as exc:
                prepared.append((number, field_errors(exc)))
            except InvalidCandidate as exc:
                prepared.append((number, exc.errors))
    return prepared


_worker_service: CandidateService | None = None  # in a worker process: its own service


def _start_worker(master_key: bytes, min_age_years: int) -> None:
    global _worker_service
    reference.load()
    gc.freeze()  # the reference data lives as long as the process: no collection need scan it
    _worker_service = CandidateService(None, PersonalDataProtector(master_key), min_age_years)  # prepares only


def _prepare_in_worker(who: Principal, source: str, now: datetime,
                       rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, NewCandidate | list[dict[str, str]]]]:
    assert _worker_service is not None
    return prepare_rows(_worker_service, who, source, now, rows)


class CandidateImporter:
    def __init__(self, db: Database, service: CandidateService, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 workers: int = 0, master_key: bytes | None = None):
        """``workers`` > 0 prepares rows in that many worker processes (they need the personal-data
        ``master_key`` to encrypt); 0 prepares them in this process."""
        self.db = db
        self.service = service
        self.clock = clock
        self.workers = workers if master_key else 0
        self._master_key = master_key
        self._pool: ProcessPoolExecutor | None = None

    async def warm_up(self) -> None:
        """Start the worker processes now (they load the reference data) rather than on the
        first import."""
        await self._prepare(Principal("warm-up", None, frozenset()), "warm-up", [])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def _prepare(self, who: Principal, source: str, rows: list[tuple[int, dict[str, str]]]) -> list[Prepared]:
        now = self.clock()
        if self.workers:
            if self._pool is None:
                # spawn, not fork: this process runs threads (database drivers, the bus)
                self._pool = ProcessPoolExecutor(self.workers, multiprocessing.get_context("spawn"), _start_worker,
                                                 (self._master_key, self.service.min_age_years))
            loop, share = asyncio.get_running_loop(), -(-len(rows) // self.workers) or 1
            try:  # the batch shared between the workers
                parts = await asyncio.gather(*(loop.run_in_executor(self._pool, _prepare_in_worker, who, source, now,
                                                                    rows[start:start + share])
                                               for start in range(0, max(len(rows), 1), share)))
                done = [prepared for part in parts for prepared in part]
            except BrokenProcessPool:
                log.warning("import_worker_lost")  # a worker died (memory?): this batch here, a new pool next
                self.close()
                done = prepare_rows(self.service, who, source, now, rows)
        else:
            done = prepare_rows(self.service, who, source, now, rows)
        return [(number, row, outcome) for (number, row), (_n, outcome) in zip(rows, done, strict=True)]

    async def start(self, who: Principal) -> CandidateImport:
        job = CandidateImport(id=new_id(), centre_id=who.centre_id, started_by=who.client_id, status="running",
                              rows=0, imported=0, failed=0, started_at=self.clock())
        await self._save(job)
        return job

    async def read(self, session: AsyncSession, who: Principal, import_id: str) -> CandidateImport | None:
        """An import job, if the caller started it (or its centre did, or the caller is an admin)."""
        job = await repository.get_import(session, import_id)
        return job if job is not None and visible_to(who, job) else None

    async def run(self, job: CandidateImport, who: Principal, chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
        """Import the stream; yields each row's result, batch by batch, then the summary."""
        source = f"import {job.id}"

        async def prepare(rows: list[tuple[int, dict[str, str]]]) -> list[Prepared]:
            return await self._prepare(who, source, rows)

        async def commit(prepared: list[Prepared]) -> list[RowResult]:
            return await self._commit(job, who, source, prepared)

        async for line in run_import(job, chunks, commit, lambda: self._save(job), BATCH, self.clock, prepare):
            yield line

    async def _save(self, job: CandidateImport) -> None:
        async with self.db.transaction() as session:
            await repository.save_import(session, job)

    async def _commit(self, job: CandidateImport, who: Principal, source: str, batch: list[Prepared]) -> list[RowResult]:
        results = {number: RowResult(number, errors=outcome) for number, _row, outcome in batch if isinstance(outcome, list)}
        fresh = [(number, outcome) for number, _row, outcome in batch if not isinstance(outcome, list)]
        counters = (job.rows, job.imported, job.failed)
        try:
            async with self.db.transaction() as session:
                outcomes = await self.service.register_prepared(session, who, [c for _n, c in fresh])
                for (number, _candidate), outcome in zip(fresh, outcomes, strict=True):
                    results[number] = _result(number, outcome)
                self._count(job, batch, results)
                await repository.save_import(session, job)
        except IntegrityError:
            # Another writer registered one of these people meanwhile: row by row, each in a savepoint.
            job.rows, job.imported, job.failed = counters
            results = {n: r for n, r in results.items() if not r.record_id}
            async with self.db.transaction() as session:
                for number, row, _outcome in batch:
                    if number not in results:
                        results[number] = await self._one(session, who, number, row_to_body(row, source))
                self._count(job, batch, results)
                await repository.save_import(session, job)
        return [results[number] for number, _row, _outcome in batch]

    @staticmethod
    def _count(job: CandidateImport, batch: list[Prepared], results: dict[int, RowResult]) -> None:
        done = [results[number] for number, _row, _outcome in batch]
        job.rows += len(batch)
        job.imported += sum(1 for r in done if r.record_id)
        job.failed += sum(1 for r in done if not r.record_id)

    async def _one(self, session: AsyncSession, who: Principal, number: int, body: dict[str, Any]) -> RowResult:
        try:
            candidate_in = CandidateIn.model_validate(body)
        except ValidationError as exc:
            return RowResult(number, errors=field_errors(exc))
        try:
            async with session.begin_nested():
                candidate = await self.service.register(session, who, candidate_in)
        except InvalidCandidate as exc:
            return RowResult(number, errors=exc.errors)
        except DuplicateCandidate as exc:
            message = exc.reason + (f" ({exc.existing_id})" if exc.existing_id else "")
            return RowResult(number, errors=[{"field": "row", "message": message}])
        return RowResult(number, record_id=candidate.id)


def _result(number: int, outcome: Candidate | InvalidCandidate | DuplicateCandidate) -> RowResult:
    if isinstance(outcome, InvalidCandidate):
        return RowResult(number, errors=outcome.errors)
    if isinstance(outcome, DuplicateCandidate):
        message = outcome.reason + (f" ({outcome.existing_id})" if outcome.existing_id else "")
        return RowResult(number, errors=[{"field": "row", "message": message}])
    return RowResult(number, record_id=outcome.id)
