"""HTTP routes of the insights service (``/api/v1/stats``): JSON, and CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from kit import reports
from kit.app import ServiceContext
from kit.auth import Principal, require
from kit.problems import Problem, invalid
from services.insights.forecasting import add_months
from services.insights.schemas import (
    Backtest,
    Dimension,
    ForecastOut,
    ForecastPoint,
    Indicators,
    MonthValue,
    SupplyDemand,
    SupplyDemandRow,
)
from services.insights.service import Insights, Row, today

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])


def _ctx(request: Request) -> tuple[ServiceContext, Insights]:
    ctx: ServiceContext = request.app.state.ctx
    return ctx, ctx.extras["insights"]


def _day(at: date | None) -> date:
    """The day asked about (today by default), within the years the platform can hold."""
    if at is None:
        return today()
    if not date(2000, 1, 1) <= at <= date(2100, 12, 31):
        raise invalid([{"field": "at", "message": "between 2000-01-01 and 2100-12-31"}], "The date is out of range.")
    return at


def _row(row: Row) -> SupplyDemandRow:
    return SupplyDemandRow(group=row.keys, candidates=row.candidates, vacancies=row.vacancies, openings=row.openings,
                           ratio=row.ratio, shortage_index=row.shortage_index)


@router.get("/supply-demand", response_model=SupplyDemand, summary="Supply against demand, at any date",
            responses={200: {"content": {"text/csv": {}}}})
async def supply_demand(
    request: Request,
    at: date | None = Query(None, description="as it stood at the end of this day (Vietnam time); default today"),
    group_by: list[Dimension] = Query(["occupation2"], max_length=4),
    occupation: str | None = Query(None, pattern=r"^\d{1,4}$", description="only this ISCO-08 group (1–4 digits)"),
    ward: str | None = Query(None, pattern=r"^\d{5}$"),
    district: str | None = Query(None, pattern=r"^\d{3}$", description="legacy district"),
    province: str | None = Query(None, pattern=r"^\d{2}$"),
    format: str = Query("json", pattern="^(json|csv)$"),  # noqa: A002 - the query parameter's name
    limit: int = Query(1000, ge=1, le=10000),
    cursor: str | None = Query(None, pattern=r"^\d{1,7}$"),
    who: Principal = require("stats:read"),
) -> SupplyDemand | Response:
    ctx, insights = _ctx(request)
    day = _day(at)
    if len(set(group_by)) != len(group_by):
        raise invalid([{"field": "group_by", "message": "repeated dimension"}],
                      "Each dimension at most once in group_by.")
    filters = {k: v for k, v in (("occupation", occupation), ("ward", ward), ("district", district),
                                 ("province", province)) if v}
    async with ctx.db.reading() as session:
        rows = await insights.supply_demand(session, day, group_by, filters)
        [total] = await insights.supply_demand(session, day, [], filters) or [Row({}, 0, 0, 0)]
    if format == "csv":
        return Response(_csv(group_by, rows), media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="supply-demand-{day.isoformat()}.csv"'})
    start = int(cursor or 0)
    page = rows[start:start + limit]
    next_cursor = str(start + limit) if start + limit < len(rows) else None
    return SupplyDemand(at=day, group_by=group_by, totals=_row(total), items=[_row(r) for r in page],
                        next_cursor=next_cursor)


def _csv(group_by: list[str], rows: list[Row]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*group_by, "candidates", "vacancies", "openings", "ratio", "shortage_index"])
    for row in rows:
        writer.writerow([*(row.keys[g] for g in group_by), row.candidates, row.vacancies, row.openings,
                         "" if row.ratio is None else row.ratio, row.shortage_index])
    return out.getvalue()


@router.get("/indicators", response_model=Indicators, summary="The plan's indicators, at any date")
async def indicators(
    request: Request,
    at: date | None = Query(None, description="as they stood at the end of this day (Vietnam time); default today"),
    who: Principal = require("stats:read"),
) -> Indicators:
    ctx, insights = _ctx(request)
    async with ctx.db.reading() as session:
        return Indicators.model_validate(await insights.indicators(session, _day(at)))


@router.get("/forecast", response_model=ForecastOut, summary="Demand or supply for the next months")
async def forecast(
    request: Request,
    series: Literal["demand", "supply"] = "demand",
    occupation: str | None = Query(None, pattern=r"^\d{1,4}$", description="only this ISCO-08 group (1–4 digits)"),
    ward: str | None = Query(None, pattern=r"^\d{5}$"),
    district: str | None = Query(None, pattern=r"^\d{3}$", description="legacy district"),
    province: str | None = Query(None, pattern=r"^\d{2}$"),
    horizon: int = Query(6, ge=3, le=6, description="months ahead"),
    who: Principal = require("stats:read"),
) -> ForecastOut:
    ctx, insights = _ctx(request)
    filters = {k: v for k, v in (("occupation", occupation), ("ward", ward), ("district", district),
                                 ("province", province)) if v}
    async with ctx.db.reading() as session:
        first, history, result = await insights.forecast(session, series, filters, horizon, today())
    if result is None:
        raise Problem(404, "no-history", "No month before this one has any of this series to forecast from.")
    return ForecastOut(
        series=series, filters=filters, method=result.method,  # type: ignore[arg-type]
        backtest=Backtest(months=result.backtest_months, mae_model=result.mae_model,
                          mae_seasonal_naive=result.mae_seasonal_naive),
        history=[MonthValue(month=add_months(first, k), value=v) for k, v in enumerate(history)],
        forecast=[ForecastPoint(month=m, value=v, lower=lo, upper=hi)
                  for m, v, lo, hi in zip(result.months, result.values, result.lower, result.upper, strict=True)],
    )


@router.get("/report", response_class=HTMLResponse, summary="The labour-market report (HTML with charts)",
            description=reports.ETAG_NOTE, responses=reports.RESPONSES)
async def report(
    request: Request,
    at: date | None = Query(None, description="as things stood at the end of this day (Vietnam time); default today"),
    who: Principal = require("stats:read"),
) -> Response:
    ctx, insights = _ctx(request)
    day = _day(at)
    async with ctx.db.reading() as session:
        page, digest = await insights.report(session, day)
    return reports.report_response(request, page, digest, f"thi-truong-lao-dong-{day}.html")

