"""Bulk import of vacancies from CSV (UTF-8, with or without BOM, header row).

Columns: ``employer_tax_code`` or ``employer_id``, ``title``, ``occupation``, ``required_skills``
(``skill:kind`` entries separated by ``;``, kind ``must`` or ``nice``; a bare skill is a must),
``min_trade_level``, ``min_qualification``, ``openings``, ``wage_min_vnd``, ``wage_max_vnd``,
``ward_code`` (or ``legacy_ward_code`` / ``legacy_district_code``; empty = the employer's
address), ``social_insurance``, ``shifts``, ``accepts_priority_groups``, ``deadline``
(YYYY-MM-DD), ``description``. Other columns are ignored.

The upload is streamed. Rows go in batches: each row is checked (employer, body, reference data)
before anything is written, then the batch's valid rows are written together with their events,
so a bad row never takes its neighbours with it; every row gets a result, and the job's counters
are committed with each batch so progress can be read while it runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.csvstream import Columns, RowResult, field_errors, run_import, visible_to
from kit.db import Database
from kit.ids import new_id
from services.vacancies import repository
from services.vacancies.models import Employer, Vacancy, VacancyImport
from services.vacancies.schemas import VacancyIn
from services.vacancies.service import InvalidInput, NotOwner, VacancyService
from services.vacancies.validation import InvalidValue, normalise_tax_code

BATCH = 200
TRUE = ("true", "1", "yes", "có", "co", "x")
SCALARS = ("title", "description", "occupation", "min_trade_level", "min_qualification", "openings", "wage_min_vnd",
           "wage_max_vnd", "shifts", "deadline")
FLAGS = ("social_insurance", "accepts_priority_groups")
COLUMNS = Columns(frozenset((*SCALARS, *FLAGS, "ward_code", "legacy_ward_code", "legacy_district_code", "required_skills",
                             "employer_tax_code", "employer_id")),
                  required=frozenset(("title", "occupation", "openings", "deadline")))


def row_to_body(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON body of ``POST /vacancies`` (without ``employer_id``)."""
    def value(name: str) -> str | None:
        text = (row.get(name) or "").strip()
        return text or None

    body: dict[str, Any] = {name: value(name) for name in SCALARS if value(name) is not None}
    for flag in FLAGS:
        if value(flag) is not None:
            body[flag] = (value(flag) or "").lower() in TRUE
    if value("ward_code") or value("legacy_ward_code") or value("legacy_district_code"):
        body["workplace"] = {"ward_code": value("ward_code"), "legacy_ward_code": value("legacy_ward_code"),
                             "legacy_district_code": value("legacy_district_code")}
    skills = []
    for entry in (value("required_skills") or "").split(";"):
        name, _sep, kind = entry.strip().rpartition(":")
        if not _sep:
            name, kind = kind, "must"
        if name.strip():
            skills.append({"skill": name.strip(), "kind": kind.strip().lower() or "must"})
    if skills:
        body["required_skills"] = skills
    return body


class VacancyImporter:
    def __init__(self, db: Database, service: VacancyService,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.service = service
        self.clock = clock

    async def start(self, who: Principal) -> VacancyImport:
        job = VacancyImport(id=new_id(), centre_id=who.centre_id, started_by=who.client_id, status="running",
                            rows=0, imported=0, failed=0, started_at=self.clock())
        await self._save(job)
        return job

    async def read(self, session: AsyncSession, who: Principal, import_id: str) -> VacancyImport | None:
        """An import job, if the caller started it (or its centre did, or the caller is an admin)."""
        job = await repository.get_import(session, import_id)
        return job if job is not None and visible_to(who, job) else None

    async def run(self, job: VacancyImport, who: Principal, chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
        """Import the stream; yields each row's result, batch by batch, then the summary."""
        async def commit(rows: list[tuple[int, dict[str, str]]]) -> list[RowResult]:
            return await self._commit(job, who, rows)

        async for line in run_import(job, chunks, commit, lambda: self._save(job), BATCH, self.clock, COLUMNS):
            yield line

    async def _save(self, job: VacancyImport) -> None:
        async with self.db.transaction() as session:
            await repository.save_import(session, job)

    async def _commit(self, job: VacancyImport, who: Principal, batch: list[tuple[int, dict[str, str]]]) -> list[RowResult]:
        async with self.db.transaction() as session:
            employers = await self._employers(session, batch)
            checked = [(number, self._checked(who, number, row, employers)) for number, row in batch]
            await self.service.open_new(session, [outcome for _n, outcome in checked if not isinstance(outcome, RowResult)])
            results = [outcome if isinstance(outcome, RowResult) else RowResult(number, record_id=outcome[0].id)
                       for number, outcome in checked]
            job.rows += len(batch)
            job.imported += sum(1 for r in results if r.record_id)
            job.failed += sum(1 for r in results if not r.record_id)
            await repository.save_import(session, job)
        return results

    @staticmethod
    async def _employers(session: AsyncSession, batch: list[tuple[int, dict[str, str]]]) -> dict[str, Employer]:
        """The batch's employers by tax code and by id, in two queries."""
        codes = []
        for _n, row in batch:
            try:
                codes.append(normalise_tax_code(row.get("employer_tax_code") or ""))
            except InvalidValue:
                continue
        ids = [ident for _n, row in batch if (ident := (row.get("employer_id") or "").strip())]
        return {**await repository.employers_by_tax_codes(session, codes), **await repository.employers_by_ids(session, ids)}

    def _checked(self, who: Principal, number: int, row: dict[str, str],
                 employers: dict[str, Employer]) -> RowResult | tuple[Vacancy, list[str]]:
        """The row's vacancy and skill keys, ready to write, or its errors."""
        employer_ref = (row.get("employer_id") or "").strip()
        if not employer_ref:
            try:
                employer_ref = normalise_tax_code(row.get("employer_tax_code") or "")
            except InvalidValue as exc:
                return RowResult(number, errors=[{"field": "employer_tax_code", "message": str(exc)}])
        employer = employers.get(employer_ref)
        if employer is None:
            return RowResult(number, errors=[{"field": "employer_tax_code" if "employer_id" not in row else "employer_id",
                                              "message": "no employer registered with this tax code or id"}])
        try:
            body = VacancyIn.model_validate({**row_to_body(row), "employer_id": employer.id})
        except ValidationError as exc:
            return RowResult(number, errors=field_errors(exc))
        try:
            return self.service.new_vacancy(who, body, employer)
        except InvalidInput as exc:
            return RowResult(number, errors=exc.errors)
        except NotOwner:
            return RowResult(number, errors=[{"field": "employer_tax_code",
                                              "message": "the employer was registered by another centre"}])
