"""HTTP routes of the vacancies service: translate requests to service calls and back."""

from __future__ import annotations


from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from kit.app import Cursor, ServiceContext
from kit.auth import Principal, require
from kit.csvstream import ImportOut, SpooledUpload, job_report, ndjson_response
from kit.problems import Problem, invalid
from services.vacancies.importing import VacancyImporter
from services.vacancies.records import employer_view, vacancy_view
from services.vacancies.schemas import (
    EmployerIn,
    EmployerOut,
    EmployerPage,
    Status,
    VacancyIn,
    VacancyOut,
    VacancyPage,
    VacancyPatch,
)
from services.vacancies.service import (
    DuplicateEmployer,
    InvalidInput,
    NotFound,
    NotOpen,
    NotOwner,
    VacancyFilters,
    VacancyService,
)

router = APIRouter(prefix="/api/v1")


def _ctx(request: Request) -> tuple[ServiceContext, VacancyService]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["vacancies"]


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, NotFound):
        return Problem(404, f"{exc.kind}-not-found", f"No such {exc.kind}.")
    if isinstance(exc, NotOwner):
        return Problem(403, f"not-your-{exc.kind}", f"Only the centre that registered this {exc.kind} may change it.")
    if isinstance(exc, DuplicateEmployer):
        return Problem(409, "duplicate-employer", "An employer with this tax code is registered.",
                       existing_id=exc.existing_id)
    if isinstance(exc, NotOpen):
        return Problem(409, "vacancy-not-open", f"The vacancy is {exc.status}; it can no longer be changed.",
                       status_now=exc.status)
    if isinstance(exc, InvalidInput):
        return invalid(exc.errors)
    raise exc


# ---- employers ---------------------------------------------------------------------------
@router.post("/employers", status_code=201, response_model=EmployerOut, tags=["employers"],
             summary="Register an employer")
async def register_employer(
    body: EmployerIn, request: Request, response: Response, who: Principal = require("vacancies:write")
) -> EmployerOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            employer = await service.register_employer(session, who, body)
    except (DuplicateEmployer, InvalidInput) as exc:
        raise _problem(exc) from None
    response.headers["Location"] = f"/api/v1/employers/{employer.id}"
    return employer_view(employer)


@router.get("/employers/{employer_id}", response_model=EmployerOut, tags=["employers"], summary="An employer")
async def read_employer(employer_id: str, request: Request, who: Principal = require("vacancies:read")) -> EmployerOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            employer = await service.employer(session, employer_id)
    except NotFound as exc:
        raise _problem(exc) from None
    return employer_view(employer)


@router.get("/employers", response_model=EmployerPage, tags=["employers"], summary="Search employers")
async def search_employers(
    request: Request,
    who: Principal = require("vacancies:read"),
    name: str | None = Query(None, min_length=1, max_length=100, description="words of the name, any diacritics"),
    tax_code: str | None = Query(None, pattern=r"^\d{10}(-\d{3})?$", description="a branch's, or a head office's and its branches'"),
    ward: str | None = Query(None, pattern=r"^\d{5}$"),
    industry: str | None = Query(None, pattern=r"^[A-Ua-u]$", description="VSIC 2018 section letter"),
    fdi: bool | None = None,
    limit: int = Query(50, ge=1, le=200),
    cursor: Cursor = None,
) -> EmployerPage:
    ctx, service = _ctx(request)
    async with ctx.db.reading() as session:
        rows, next_cursor = await service.search_employers(
            session, name=name, tax_code=tax_code, ward=ward, industry=industry, fdi=fdi, limit=limit, cursor=cursor
        )
    return EmployerPage(items=[employer_view(e) for e in rows], next_cursor=next_cursor)


# ---- vacancies ---------------------------------------------------------------------------
@router.post("/vacancies", status_code=201, response_model=VacancyOut, tags=["vacancies"], summary="Open a vacancy")
async def open_vacancy(
    body: VacancyIn, request: Request, response: Response, who: Principal = require("vacancies:write")
) -> VacancyOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            vacancy = await service.open_vacancy(session, who, body)
    except (InvalidInput, NotOwner) as exc:
        raise _problem(exc) from None
    response.headers["Location"] = f"/api/v1/vacancies/{vacancy.id}"
    return vacancy_view(vacancy)


@router.post(
    "/vacancies:import",
    tags=["vacancies"],
    summary="Import vacancies from CSV",
    response_class=StreamingResponse,
    responses={200: {"description": "one JSON line per row (`{row, id}` or `{row, errors}`), then `{summary}`",
                     "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
    openapi_extra={"requestBody": {"required": True,  # a file picker in Swagger UI
                                    "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_csv(request: Request, who: Principal = require("vacancies:write")) -> StreamingResponse:
    """UTF-8 CSV with a header row, separated by commas, semicolons or tabs (the columns of
    `make demo`'s vacancies.csv); `title`, `occupation`, `openings` and `deadline` are required,
    employers are named by `employer_tax_code` or `employer_id`, and `required_skills` holds
    `skill:must|nice` entries separated by `;`. Other columns are ignored and named in the
    summary. Valid rows are kept even when others fail; a line that is not CSV (or not UTF-8)
    stops the import there."""
    ctx, _service = _ctx(request)
    importer: VacancyImporter = ctx.extras["importer"]
    upload = await SpooledUpload.of(request)
    job = await importer.start(who)
    return ndjson_response(upload, importer.run(job, who, upload.chunks()), f"/api/v1/vacancies/imports/{job.id}")


@router.get("/vacancies/imports/{import_id}", response_model=ImportOut, tags=["vacancies"],
            summary="Progress of an import")
async def read_import(import_id: str, request: Request, who: Principal = require("vacancies:write")) -> ImportOut:
    ctx, _service = _ctx(request)
    importer: VacancyImporter = ctx.extras["importer"]
    async with ctx.db.reading() as session:
        job = await importer.read(session, who, import_id)
    if job is None:
        raise Problem(404, "import-not-found", "No such import.")
    return job_report(job, importer.clock())


@router.get("/vacancies/{vacancy_id}", response_model=VacancyOut, tags=["vacancies"], summary="A vacancy")
async def read_vacancy(vacancy_id: str, request: Request, who: Principal = require("vacancies:read")) -> VacancyOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            vacancy = await service.vacancy(session, vacancy_id)
    except NotFound as exc:
        raise _problem(exc) from None
    return vacancy_view(vacancy)


@router.patch("/vacancies/{vacancy_id}", response_model=VacancyOut, tags=["vacancies"],
              summary="Update your open vacancy")
async def update_vacancy(
    vacancy_id: str, body: VacancyPatch, request: Request, who: Principal = require("vacancies:write")
) -> VacancyOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            vacancy = await service.update_vacancy(session, who, vacancy_id, body)
    except (NotFound, NotOwner, NotOpen, InvalidInput) as exc:
        raise _problem(exc) from None
    return vacancy_view(vacancy)


@router.post("/vacancies/{vacancy_id}:close", response_model=VacancyOut, tags=["vacancies"],
             summary="Close your vacancy")
async def close_vacancy(vacancy_id: str, request: Request, who: Principal = require("vacancies:write")) -> VacancyOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            vacancy = await service.close_vacancy(session, who, vacancy_id)
    except (NotFound, NotOwner, NotOpen) as exc:
        raise _problem(exc) from None
    return vacancy_view(vacancy)


@router.get("/vacancies", response_model=VacancyPage, tags=["vacancies"], summary="Search vacancies")
async def search_vacancies(
    request: Request,
    who: Principal = require("vacancies:read"),
    occupation: str | None = Query(None, pattern=r"^\d{2,4}$", description="ISCO-08 group, 2 to 4 digits"),
    skill: str | None = Query(None, min_length=1, max_length=100, description="a skill code or words"),
    ward: str | None = Query(None, pattern=r"^\d{5}$"),
    district: str | None = Query(None, pattern=r"^\d{3}$", description="legacy district code"),
    min_trade_level: int | None = Query(None, ge=1, le=7, description="required trade level at least"),
    max_trade_level: int | None = Query(None, ge=1, le=7, description="required trade level at most"),
    min_wage_vnd: int | None = Query(None, ge=0, le=1_000_000_000, description="pays at least this (top of the range)"),
    status: Status | None = None,
    employer_id: str | None = Query(None, max_length=36),
    q: str | None = Query(None, min_length=1, max_length=100, description="title, employer or skill words, any diacritics"),
    limit: int = Query(50, ge=1, le=200),
    cursor: Cursor = None,
) -> VacancyPage:
    ctx, service = _ctx(request)
    filters = VacancyFilters(occupation, skill, ward, district, min_trade_level, max_trade_level, min_wage_vnd,
                             status, employer_id, q)
    async with ctx.db.reading() as session:
        rows, next_cursor = await service.search_vacancies(session, filters, limit, cursor)
    return VacancyPage(items=[vacancy_view(v) for v in rows], next_cursor=next_cursor)
