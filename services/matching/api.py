"""HTTP routes of the matching service: translate requests to service calls and back."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from kit.app import ServiceContext
from kit.auth import Principal, require
from kit.problems import Problem
from reference.levels import PriorityGroup
from services.matching.learning import train
from services.matching.schemas import CandidateMatches, ModelOut, VacancyMatches
from services.matching.service import MatchingService, NotFound, NotMatchable

router = APIRouter(prefix="/api/v1", tags=["matching"])


def _ctx(request: Request) -> tuple[ServiceContext, MatchingService]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["matching"]


def _problem(exc: Exception) -> Problem:
    if isinstance(exc, NotFound):
        return Problem(404, f"{exc.kind}-not-found", f"No such {exc.kind} in matching.")
    if isinstance(exc, NotMatchable):
        return Problem(409, f"{exc.kind}-not-matchable", exc.reason.capitalize() + ".")
    raise exc


@router.get("/vacancies/{vacancy_id}/matches", response_model=CandidateMatches,
            summary="Ranked candidates for a vacancy, explained")
async def candidates_for_vacancy(
    vacancy_id: str,
    request: Request,
    who: Principal = require("matching:read"),
    limit: int = Query(20, ge=1, le=200),
    max_km: float | None = Query(None, gt=0, le=500, description="only candidates this close to the workplace"),
    priority_group: PriorityGroup | None = Query(None, description="only candidates of this priority group"),
) -> CandidateMatches:
    """Every seeking candidate who consented to matching is considered. Candidates of other
    centres come masked (no ward, no priority groups)."""
    ctx, service = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            items = await service.for_vacancy(session, who, vacancy_id, limit, max_km,
                                              priority_group.value if priority_group else None)
    except (NotFound, NotMatchable) as exc:
        raise _problem(exc) from None
    return CandidateMatches.model_validate({"vacancy_id": vacancy_id, "items": items})


@router.get("/candidates/{candidate_id}/matches", response_model=VacancyMatches,
            summary="Ranked open vacancies for your candidate, explained")
async def vacancies_for_candidate(
    candidate_id: str,
    request: Request,
    who: Principal = require("matching:read"),
    limit: int = Query(20, ge=1, le=200),
    max_km: float | None = Query(None, gt=0, le=500, description="only vacancies this close to the candidate"),
) -> VacancyMatches:
    ctx, service = _ctx(request)
    try:
        async with ctx.db.reading() as session:
            items = await service.for_candidate(session, who, candidate_id, limit, max_km)
    except (NotFound, NotMatchable) as exc:
        raise _problem(exc) from None
    return VacancyMatches.model_validate({"candidate_id": candidate_id, "items": items})


@router.get("/matching/model", response_model=ModelOut, summary="The scoring weights in use")
async def current_model(request: Request, who: Principal = require("matching:read")) -> ModelOut:
    _ctx_, service = _ctx(request)
    weights = service.weights
    return ModelOut(version=weights.version, weights=weights.as_dict(),
                    evaluation=_ctx_.extras.get("model_evaluation"))


@router.post("/matching/model:train", response_model=ModelOut, summary="Fit weights on past outcomes (admin)")
async def train_model(request: Request, who: Principal = require("admin")) -> ModelOut:
    """Fits factor weights on the recorded job-fair outcomes and adopts them only if they beat the
    weights in use on the most recent outcomes; the response says what was decided and why."""
    ctx, service = _ctx(request)
    adopted, evaluation = await train(ctx.db, service.weights)
    if adopted is not None:
        await service.use_weights(ctx.db, adopted)
        ctx.extras["model_evaluation"] = evaluation
    weights = service.weights
    return ModelOut(version=weights.version, weights=weights.as_dict(), evaluation=evaluation)
