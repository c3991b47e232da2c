"""HTTP routes of the candidates service: translate requests to service calls and back."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from kit.app import Cursor, ServiceContext
from kit.auth import Principal, require
from kit.csvstream import ImportOut, SpooledUpload, job_report, ndjson_response
from kit.problems import Problem, invalid
from services.candidates.importing import CandidateImporter
from services.candidates.records import InvalidCandidate
from services.candidates.schemas import CandidateIn, CandidateOut, CandidatePage, CandidatePatch, Status
from services.candidates.service import (
    CandidateNotFound,
    CandidateService,
    DuplicateCandidate,
    Filters,
    NotOwner,
)

router = APIRouter(prefix="/api/v1", tags=["candidates"])


def _ctx(request: Request) -> tuple[ServiceContext, CandidateService]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["candidates"]


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, CandidateNotFound):
        return Problem(404, "candidate-not-found", "No such candidate.")
    if isinstance(exc, NotOwner):
        return Problem(403, "not-your-candidate", "Only the centre that registered this candidate may change it.")
    if isinstance(exc, DuplicateCandidate):
        extra = {"existing_id": exc.existing_id} if exc.existing_id else {}
        return Problem(409, "duplicate-candidate", exc.reason.capitalize() + ".", **extra)
    if isinstance(exc, InvalidCandidate):
        return invalid(exc.errors)
    raise exc


@router.post("/candidates", status_code=201, response_model=CandidateOut, summary="Register a candidate")
async def register(
    body: CandidateIn, request: Request, response: Response, who: Principal = require("candidates:write")
) -> CandidateOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            candidate = await service.register(session, who, body)
    except (DuplicateCandidate, InvalidCandidate) as exc:
        raise _problem(exc) from None
    response.headers["Location"] = f"/api/v1/candidates/{candidate.id}"
    return service.view(candidate, masked=False)


@router.post(
    "/candidates:import",
    summary="Import candidates from CSV",
    response_class=StreamingResponse,
    responses={200: {"description": "one JSON line per row (`{row, id}` or `{row, errors}`), then `{summary}`",
                     "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
    openapi_extra={"requestBody": {"required": True,  # a file picker in Swagger UI
                                    "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_csv(request: Request, who: Principal = require("candidates:write")) -> StreamingResponse:
    """UTF-8 CSV with a header row, separated by commas, semicolons (Excel with Vietnamese regional
    settings) or tabs. Columns: `full_name` and `date_of_birth` (required), `gender`, `phone`,
    `email`, `national_id`, `ward_code` or `legacy_district_code` + `legacy_ward_code`,
    `address_detail`, `trade_level`, `qualification`, `experience_years`, `desired_wage_vnd`,
    `max_commute_km`, `status`, `consent_matching|share_with_employers|notifications` (true/false);
    the lists `occupations`, `skills`, `priority_groups`, `certificates`, `contact_channels` hold
    their entries separated by `;`. Other columns are ignored and named in the summary.

    Valid rows are kept even when others fail; the response streams each row's result as it is
    committed, then a summary. A line that is not CSV (or not UTF-8) stops the import there."""
    ctx, _service = _ctx(request)
    importer: CandidateImporter = ctx.extras["importer"]
    upload = await SpooledUpload.of(request)
    job = await importer.start(who)
    return ndjson_response(upload, importer.run(job, who, upload.chunks()), f"/api/v1/candidates/imports/{job.id}")


@router.get("/candidates/imports/{import_id}", response_model=ImportOut, summary="Progress of an import")
async def read_import(import_id: str, request: Request, who: Principal = require("candidates:write")) -> ImportOut:
    ctx, _service = _ctx(request)
    importer: CandidateImporter = ctx.extras["importer"]
    async with ctx.db.reading() as session:
        job = await importer.read(session, who, import_id)
    if job is None:
        raise Problem(404, "import-not-found", "No such import.")
    return job_report(job, importer.clock())


@router.get("/candidates/{candidate_id}", response_model=CandidateOut, summary="A candidate (masked if not yours)")
async def read(candidate_id: str, request: Request, who: Principal = require("candidates:read")) -> CandidateOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            candidate, masked = await service.get(session, who, candidate_id)
    except CandidateNotFound as exc:
        raise _problem(exc) from None
    return service.view(candidate, masked)


@router.patch("/candidates/{candidate_id}", response_model=CandidateOut, summary="Update your candidate")
async def update(
    candidate_id: str, body: CandidatePatch, request: Request, who: Principal = require("candidates:write")
) -> CandidateOut:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            candidate = await service.update(session, who, candidate_id, body)
    except (CandidateNotFound, NotOwner, DuplicateCandidate, InvalidCandidate) as exc:
        raise _problem(exc) from None
    return service.view(candidate, masked=False)


@router.delete("/candidates/{candidate_id}", status_code=202, summary="Erase a candidate's personal data")
async def erase(candidate_id: str, request: Request, who: Principal = require("candidates:write")) -> JSONResponse:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            await service.erase(session, who, candidate_id)
    except (CandidateNotFound, NotOwner) as exc:
        raise _problem(exc) from None
    return JSONResponse({"id": candidate_id, "status": "erased"}, status_code=202)


@router.get("/candidates", response_model=CandidatePage, summary="Search your candidates")
async def search(
    request: Request,
    who: Principal = require("candidates:read"),
    occupation: str | None = Query(None, pattern=r"^\d{4}$"),
    skill: str | None = Query(None, min_length=1, max_length=100, description="a skill code or words"),
    ward: str | None = Query(None, pattern=r"^\d{5}$"),
    district: str | None = Query(None, pattern=r"^\d{3}$", description="legacy district code"),
    min_trade_level: int | None = Query(None, ge=1, le=7),
    priority_group: str | None = Query(None, max_length=40),
    status: Status | None = None,
    q: str | None = Query(None, min_length=1, max_length=100, description="name or skill words, any diacritics"),
    limit: int = Query(50, ge=1, le=200),
    cursor: Cursor = None,
) -> CandidatePage:
    ctx, service = _ctx(request)
    filters = Filters(occupation, skill, ward, district, min_trade_level, priority_group, status, q)
    async with ctx.db.reading() as session:
        rows, next_cursor = await service.search(session, who, filters, limit, cursor)
    return CandidatePage(items=[service.view(c, masked=False) for c in rows], next_cursor=next_cursor)
