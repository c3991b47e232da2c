"""Response bodies of the statistics API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

Dimension = Literal["occupation2", "occupation3", "occupation4", "ward", "district", "province", "trade_level",
                    "qualification"]


class SupplyDemandRow(BaseModel):
    group: dict[str, Any] = Field(description="the value of each grouping dimension")
    candidates: int = Field(description="seeking candidates (each once per group)")
    vacancies: int = Field(description="open vacancies")
    openings: int = Field(description="their unfilled openings")
    ratio: float | None = Field(description="openings per candidate")
    shortage_index: float = Field(description="(openings − candidates) / (openings + candidates): +1 shortage of "
                                              "workers, −1 surplus")


class SupplyDemand(BaseModel):
    at: date
    group_by: list[Dimension]
    totals: SupplyDemandRow
    items: list[SupplyDemandRow]
    next_cursor: str | None


class Share(BaseModel):
    count: int
    of: int
    share: float | None
    target: float | None
    met: bool | None


class Steps(BaseModel):
    invited: int
    accepted: int
    attended: int
    hired: int


class FairFunnel(Steps):
    job_fair_id: str
    by_ward: dict[str, Steps]
    by_priority_group: dict[str, Steps]


class Placements(BaseModel):
    hires: int
    priority_hires: int
    by_priority_group: dict[str, int]


class Indicators(BaseModel):
    at: date
    vocational_share: Share = Field(description="seeking candidates with a vocational certificate or a degree "
                                                "(the plan's target: 40 %)")
    social_insurance_share: Share = Field(description="open vacancies that offer social insurance")
    placements: Placements = Field(description="hires through job fairs, and of priority-group candidates")
    median_days_to_hire: float | None = Field(description="registration to hire, over the hires so far")
    job_fairs: list[FairFunnel]


class MonthValue(BaseModel):
    month: date
    value: float


class ForecastPoint(MonthValue):
    lower: float
    upper: float


class Backtest(BaseModel):
    months: int = Field(description="the last months held out; 0 when the history is too short to test")
    mae_model: float | None = Field(description="mean absolute error of the ridge model (trend + month of year)")
    mae_seasonal_naive: float | None = Field(description="of the seasonal-naive baseline")


class ForecastOut(BaseModel):
    series: Literal["demand", "supply"] = Field(description="demand: openings posted; supply: people who began "
                                                           "seeking work — per month")
    filters: dict[str, str]
    method: Literal["ridge", "seasonal_naive"] = Field(description="the model only when it beat the baseline")
    backtest: Backtest
    history: list[MonthValue]
    forecast: list[ForecastPoint]

