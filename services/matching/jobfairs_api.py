"""HTTP routes of job fairs, allocation runs and invitations."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from kit import reports
from kit.app import Cursor, ServiceContext
from kit.auth import Principal, require
from kit.problems import Problem, invalid
from services.matching.jobfairs import FairNotFound, InvalidFair, InvalidTransition, InvitationNotFound, JobFairs, WrongDay
from services.matching.models import JobFair
from services.matching.schemas import (
    InvitationOut,
    InvitationPage,
    InvitationStatus,
    JobFairIn,
    JobFairOut,
    JobFairPage,
    OutcomeIn,
    RsvpIn,
    RunOut,
)

router = APIRouter(prefix="/api/v1", tags=["job fairs"])


def _ctx(request: Request) -> tuple[ServiceContext, JobFairs]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["jobfairs"]


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, FairNotFound):
        return Problem(404, "job-fair-not-found", "No such job fair or allocation run.")
    if isinstance(exc, InvitationNotFound):
        return Problem(404, "invitation-not-found", "No such invitation.")
    if isinstance(exc, InvalidFair):
        return invalid(exc.errors)
    if isinstance(exc, InvalidTransition):
        return Problem(409, "invitation-state", str(exc).capitalize() + ".", current=exc.current)
    if isinstance(exc, WrongDay):
        return Problem(409, "job-fair-day", str(exc))
    raise exc


def _view(fair: JobFair, counts: dict[str, int]) -> JobFairOut:
    return JobFairOut(id=fair.id, name=fair.name, date=fair.fair_date,
                      venue={"ward_code": fair.venue_ward_code, "detail": fair.venue_detail}, slots=fair.slots,
                      vacancies=fair.vacancies, invites_per_opening=fair.invites_per_opening,
                      max_invites_per_candidate=fair.max_invites_per_candidate,
                      priority_min_share=fair.priority_min_share, priority_groups=fair.priority_groups,
                      invitations=counts, created_at=fair.created_at)


@router.post("/job-fairs", status_code=201, response_model=JobFairOut, summary="Schedule a job fair")
async def schedule(body: JobFairIn, request: Request, response: Response,
                   who: Principal = require("jobfairs:admin")) -> JobFairOut:
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            fair = await fairs.schedule(session, who, body)
    except InvalidFair as exc:
        raise _problem(exc) from None
    response.headers["Location"] = f"/api/v1/job-fairs/{fair.id}"
    return _view(fair, {})


@router.get("/job-fairs", response_model=JobFairPage, summary="Job fairs")
async def list_fairs(request: Request, who: Principal = require("jobfairs:admin"),
                     limit: int = Query(50, ge=1, le=200), cursor: Cursor = None) -> JobFairPage:
    ctx, fairs = _ctx(request)
    async with ctx.db.reading() as session:
        rows, next_cursor = await fairs.fairs(session, limit, cursor)
        items = [_view(f, await fairs.counts(session, f.id)) for f in rows]
    return JobFairPage(items=items, next_cursor=next_cursor)


@router.get("/job-fairs/{fair_id}", response_model=JobFairOut, summary="A job fair")
async def read_fair(fair_id: str, request: Request, who: Principal = require("jobfairs:admin")) -> JobFairOut:
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            fair = await fairs.fair(session, fair_id)
            counts = await fairs.counts(session, fair_id)
    except FairNotFound as exc:
        raise _problem(exc) from None
    return _view(fair, counts)


@router.post("/job-fairs/{fair_id}/allocations", status_code=202, response_model=RunOut,
             summary="Run the invitation allocation")
async def allocate(fair_id: str, request: Request, who: Principal = require("jobfairs:admin")) -> JSONResponse:
    """Starts an allocation run and answers at once; follow it at the `Location`. A completed run
    has published its invitations (and revoked what a previous run issued that it no longer wants)."""
    ctx, fairs = _ctx(request)
    try:
        run = await fairs.start_run(fair_id)
    except (FairNotFound, WrongDay) as exc:
        raise _problem(exc) from None
    task = asyncio.create_task(fairs.run(run.id))
    ctx.extras.setdefault("runs", set()).add(task)
    task.add_done_callback(ctx.extras["runs"].discard)
    body = RunOut.model_validate(run, from_attributes=True).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/job-fairs/{fair_id}/allocations/{run.id}"})


@router.get("/job-fairs/{fair_id}/allocations/{run_id}", response_model=RunOut, summary="An allocation run")
async def read_run(fair_id: str, run_id: str, request: Request, who: Principal = require("jobfairs:admin")) -> RunOut:
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            run = await fairs.run_of(session, fair_id, run_id)
    except FairNotFound as exc:
        raise _problem(exc) from None
    return RunOut.model_validate(run, from_attributes=True)


@router.get("/job-fairs/{fair_id}/allocations/{run_id}/report", response_class=HTMLResponse,
            summary="The run's report (HTML with charts)",
            description=f"Drawn from the fair's live invitations as they are now. {reports.ETAG_NOTE}",
            responses=reports.RESPONSES)
async def read_report(fair_id: str, run_id: str, request: Request, who: Principal = require("jobfairs:admin")) -> Response:
    _ctx_, fairs = _ctx(request)
    try:
        page, digest = await fairs.report(fair_id, run_id)
    except FairNotFound as exc:
        raise _problem(exc) from None
    return reports.report_response(request, page, digest, f"jobfair-{fair_id}-{run_id}.html")


@router.get("/job-fairs/{fair_id}/invitations", response_model=InvitationPage, summary="Invitations of a fair")
async def list_invitations(fair_id: str, request: Request, who: Principal = require("jobfairs:admin"),
                           status: InvitationStatus | None = None, vacancy_id: str | None = Query(None, max_length=36),
                           limit: int = Query(100, ge=1, le=1000),
                           cursor: Cursor = None) -> InvitationPage:
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            await fairs.fair(session, fair_id)
            rows, next_cursor = await fairs.invitations(session, fair_id, status, vacancy_id, limit, cursor)
    except FairNotFound as exc:
        raise _problem(exc) from None
    return InvitationPage(items=[InvitationOut.model_validate(i, from_attributes=True) for i in rows],
                          next_cursor=next_cursor)


@router.post("/invitations/{invitation_id}/rsvp", response_model=InvitationOut, summary="The candidate's answer")
async def rsvp(invitation_id: str, body: RsvpIn, request: Request,
               who: Principal = require("candidates:write")) -> InvitationOut:
    """For the centre of the invited candidate (or an admin); candidates answering through an
    SMS or the RSVP page reach this through notifications' `invitation.responded` events."""
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            invitation = await fairs.respond(session, invitation_id, body.answer, who)
    except (InvitationNotFound, InvalidTransition, WrongDay) as exc:
        raise _problem(exc) from None
    return InvitationOut.model_validate(invitation, from_attributes=True)


@router.post("/invitations/{invitation_id}/outcome", response_model=InvitationOut,
             summary="Record attendance or hiring")
async def outcome(invitation_id: str, body: OutcomeIn, request: Request,
                  who: Principal = require("jobfairs:admin")) -> InvitationOut:
    ctx, fairs = _ctx(request)
    try:
        async with ctx.db.transaction() as session:
            invitation = await fairs.record_outcome(session, invitation_id, body.outcome, who)
    except (InvitationNotFound, InvalidTransition, WrongDay) as exc:
        raise _problem(exc) from None
    return InvitationOut.model_validate(invitation, from_attributes=True)
