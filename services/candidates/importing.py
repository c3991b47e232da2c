"""Bulk import of candidates from CSV (UTF-8, with or without BOM, header row).

The upload is read as a stream and parsed row by row, never held whole in memory. Valid rows are
registered in batches, one transaction per batch, each row inside its own savepoint, so a row that
fails (invalid, duplicate) never takes its neighbours with it. Every row gets a result: the new
candidate's id, or its errors. The job's counters are committed with each batch, so its progress
can be read while it runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.db import Database
from kit.csvstream import RowResult, field_errors, run_import, visible_to
from kit.ids import new_id
from services.candidates import repository
from services.candidates.models import Candidate, CandidateImport
from services.candidates.schemas import CandidateIn
from services.candidates.service import CandidateService, DuplicateCandidate, InvalidCandidate

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


class CandidateImporter:
    def __init__(self, db: Database, service: CandidateService, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.db = db
        self.service = service
        self.clock = clock

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

        async def commit(rows: list[tuple[int, dict[str, str]]]) -> list[RowResult]:
            return await self._commit(job, who, [(number, row_to_body(row, source)) for number, row in rows])

        async for line in run_import(job, chunks, commit, lambda: self._save(job), BATCH, self.clock):
            yield line

    async def _save(self, job: CandidateImport) -> None:
        async with self.db.transaction() as session:
            await repository.save_import(session, job)

    async def _commit(self, job: CandidateImport, who: Principal, batch: list[tuple[int, dict[str, Any]]]) -> list[RowResult]:
        parsed: list[tuple[int, CandidateIn]] = []
        results: dict[int, RowResult] = {}
        for number, body in batch:
            try:
                parsed.append((number, CandidateIn.model_validate(body)))
            except ValidationError as exc:
                results[number] = RowResult(number, errors=field_errors(exc))
        counters = (job.rows, job.imported, job.failed)
        try:
            async with self.db.transaction() as session:
                outcomes = await self.service.register_many(session, who, [body for _n, body in parsed])
                for (number, _body), outcome in zip(parsed, outcomes, strict=True):
                    results[number] = _result(number, outcome)
                self._count(job, batch, results)
                await repository.save_import(session, job)
        except IntegrityError:
            # Another writer registered one of these people meanwhile: row by row, each in a savepoint.
            job.rows, job.imported, job.failed = counters
            results = {n: r for n, r in results.items() if not r.record_id}
            async with self.db.transaction() as session:
                for number, body in batch:
                    if number not in results:
                        results[number] = await self._one(session, who, number, body)
                self._count(job, batch, results)
                await repository.save_import(session, job)
        return [results[number] for number, _body in batch]

    @staticmethod
    def _count(job: CandidateImport, batch: list[tuple[int, dict[str, Any]]], results: dict[int, RowResult]) -> None:
        done = [results[number] for number, _body in batch]
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
