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
from operator import attrgetter
from typing import Any, NamedTuple

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.csvstream import Columns, RowResult, field_errors, run_import, visible_to
from kit.db import Database
from kit.events import EncodedEnvelope
from kit.ids import new_id, new_ids
from kit.memory import paused_gc
import reference
from services.candidates import repository
from services.candidates.events import CONTACT_CHANGED, REGISTERED, registry
from services.candidates.models import Candidate, CandidateImport
from services.candidates.personal import PersonalDataProtector
from services.candidates.records import CandidateRecords, InvalidCandidate, NewCandidate, contact, notifiable, profile, tags
from services.candidates.schemas import CandidateIn
from services.candidates.service import SOURCE, CandidateService, DuplicateCandidate, duplicate_of, owns

log = structlog.get_logger("candidates.import")


class Ready(NamedTuple):
    """A new candidate as the bulk write takes it: its row (``repository.CANDIDATE_COLUMNS``),
    tags and encoded events."""

    id: str
    national_id_hash: str | None
    person_hash: str | None
    row: tuple[Any, ...]
    tags: tuple[tuple[str, str], ...]
    events: tuple[EncodedEnvelope, ...]


# A row after preparation: its number, the CSV row (for the row-by-row fallback) and the
# prepared candidate or the row's errors.
Prepared = tuple[int, dict[str, str], Ready | list[dict[str, str]]]
LISTS = ("occupations", "skills", "priority_groups", "certificates", "contact_channels")
CONSENTS = ("matching", "share_with_employers", "notifications")
BATCH = 2000  # rows per transaction: 500 cost 10–20 % more CPU per row in every process (fixed costs per batch)
SCALARS = ("full_name", "date_of_birth", "gender", "phone", "email", "national_id", "trade_level", "qualification",
           "experience_years", "desired_wage_vnd", "max_commute_km", "status")
ADDRESS = ("ward_code", "legacy_district_code", "legacy_ward_code", "address_detail")
COLUMNS = Columns(frozenset((*SCALARS, *ADDRESS, *LISTS, *(f"consent_{purpose}" for purpose in CONSENTS))),
                  required=frozenset(("full_name", "date_of_birth")))
GRANTED = frozenset(("true", "1", "yes", "có", "x"))


def row_to_body(row: dict[str, str], source: str) -> dict[str, Any]:
    """A CSV row (the import columns) as the JSON body of a registration."""
    cells = {name: cell for name, raw in row.items() if raw and (cell := raw.strip())}
    body: dict[str, Any] = {name: cells[name] for name in SCALARS if name in cells}
    body["address"] = {
        "ward_code": cells.get("ward_code"),
        "legacy_district_code": cells.get("legacy_district_code"),
        "legacy_ward_code": cells.get("legacy_ward_code"),
        "detail": cells.get("address_detail"),
    }
    for name in LISTS:
        if name in cells:
            body[name] = [part for piece in cells[name].split(";") if (part := piece.strip())]
    consents = {purpose: {"granted": cells[f"consent_{purpose}"].lower() in GRANTED, "source": source}
                for purpose in CONSENTS if f"consent_{purpose}" in cells}
    if consents:
        body["consents"] = consents
    return body


def prepare_rows(records: CandidateRecords, who: Principal, source: str, now: datetime,
                 rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, Ready | list[dict[str, str]]]]:
    """The first stage: each row validated and made ready to write, or its errors."""
    outcomes: list[tuple[int, list[dict[str, str]] | None]] = []
    fresh: list[NewCandidate] = []
    with paused_gc():  # thousands of acyclic objects: collections on the way would scan the reference data
        ids = iter(new_ids(len(rows)))
        for number, row in rows:
            try:
                fresh.append(records.new(who, CandidateIn.model_validate(row_to_body(row, source)), now, next(ids)))
                outcomes.append((number, None))
            except ValidationError as exc:
                outcomes.append((number, field_errors(exc)))
            except InvalidCandidate as exc:
                outcomes.append((number, exc.errors))
        ready = iter(ready_many(fresh))
        return [(number, next(ready) if errors is None else errors) for number, errors in outcomes]


def ready_many(candidates: list[NewCandidate]) -> list[Ready]:
    """New candidates as the bulk write takes them: each one's row, tags and encoded events
    (plain tuples: a worker process sends them back cheaply)."""
    registered = registry.encode_many(SOURCE, REGISTERED, ((c.id, profile(c)) for c in candidates))
    contacts = iter(registry.encode_many(SOURCE, CONTACT_CHANGED,
                                         ((c.id, contact(c)) for c in candidates if notifiable(c))))
    row = attrgetter(*repository.CANDIDATE_COLUMNS)
    return [
        Ready(c.id, c.national_id_hash, c.person_hash, row(c), tuple(dict.fromkeys(tags(c))),
              (event, next(contacts)) if notifiable(c) else (event,))
        for c, event in zip(candidates, registered, strict=True)
    ]


async def register_ready(session: AsyncSession, who: Principal, outbox: Any,
                         prepared: list[Ready]) -> list[Ready | DuplicateCandidate]:
    """Register a batch ``ready_many`` made (maybe in another process) with one duplicate lookup
    and bulk writes; each entry of the result is the candidate or why it was refused. A duplicate
    created concurrently by another writer makes the write fail: the caller then retries row by
    row."""
    existing = await repository.find_duplicates(
        session,
        [c.national_id_hash for c in prepared if c.national_id_hash],
        [c.person_hash for c in prepared if c.person_hash],
    )
    seen: dict[str, Candidate | Ready] = {row_hash: row for row in existing for row_hash in
                                          (row.national_id_hash, row.person_hash) if row_hash}
    results: list[Ready | DuplicateCandidate] = []
    for candidate in prepared:
        clash = next((seen[h] for h in (candidate.national_id_hash, candidate.person_hash) if h and h in seen), None)
        if clash is not None:  # an earlier row of this import is the caller's to see
            results.append(duplicate_of(candidate, clash, isinstance(clash, Ready) or owns(who, clash)))
            continue
        for h in (candidate.national_id_hash, candidate.person_hash):
            if h:
                seen[h] = candidate
        results.append(candidate)
    accepted = [c for c in results if isinstance(c, Ready)]
    await repository.add_ready(session, accepted)
    await outbox.add_all(session, (event for c in accepted for event in c.events))
    return results


_worker_records: CandidateRecords | None = None  # in a worker process: what it prepares rows with


def _start_worker(master_key: bytes, min_age_years: int) -> None:
    global _worker_records
    reference.load()
    gc.freeze()  # the reference data lives as long as the process: no collection need scan it
    _worker_records = CandidateRecords(PersonalDataProtector(master_key), min_age_years)


def _prepare_in_worker(who: Principal, source: str, now: datetime,
                       rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, tuple[Any, ...] | list[dict[str, str]]]]:
    """``prepare_rows`` in a worker; what it sends back is plain tuples (``_unpacked`` makes them
    ``Ready`` again): pickling a named tuple costs several times more, and this is half of what
    crosses between the processes."""
    assert _worker_records is not None
    return [(number, outcome if isinstance(outcome, list) else (*outcome[:5], tuple(map(tuple, outcome.events))))
            for number, outcome in prepare_rows(_worker_records, who, source, now, rows)]


def _unpacked(outcome: tuple[Any, ...] | list[dict[str, str]]) -> Ready | list[dict[str, str]]:
    if isinstance(outcome, list):
        return outcome
    *fields, events = outcome
    return Ready(*fields, tuple(EncodedEnvelope(*event) for event in events))


class CandidateImporter:
    def __init__(self, db: Database, service: CandidateService, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 workers: int = 0, master_key: bytes | None = None, batch: int = BATCH):
        """``workers`` > 0 prepares rows in that many worker processes (they need the personal-data
        ``master_key`` to encrypt); 0 prepares them in this process."""
        self.db = db
        self.batch = batch
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
                                                 (self._master_key, self.service.records.min_age_years))
            loop, share = asyncio.get_running_loop(), -(-len(rows) // self.workers) or 1
            try:  # the batch shared between the workers
                parts = await asyncio.gather(*(loop.run_in_executor(self._pool, _prepare_in_worker, who, source, now,
                                                                    rows[start:start + share])
                                               for start in range(0, max(len(rows), 1), share)))
                done = [(number, _unpacked(outcome)) for part in parts for number, outcome in part]
            # A worker died (memory?): this batch here, a new pool next. Replacing a killed worker can
            # also fail in the pool itself (ValueError "bad value(s) in fds_to_keep", OSError).
            except (BrokenProcessPool, OSError, ValueError) as exc:
                log.warning("import_worker_lost", error=repr(exc))
                self.close()
                done = prepare_rows(self.service.records, who, source, now, rows)
        else:
            done = prepare_rows(self.service.records, who, source, now, rows)
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

        async for line in run_import(job, chunks, commit, lambda: self._save(job), self.batch, self.clock, COLUMNS, prepare):
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
                outcomes = await register_ready(session, who, self.service.outbox, [c for _n, c in fresh])
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


def _result(number: int, outcome: Ready | DuplicateCandidate) -> RowResult:
    if isinstance(outcome, DuplicateCandidate):
        message = outcome.reason + (f" ({outcome.existing_id})" if outcome.existing_id else "")
        return RowResult(number, errors=[{"field": "row", "message": message}])
    return RowResult(number, record_id=outcome.id)
