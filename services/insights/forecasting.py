"""Monthly forecasts of demand (openings posted) and supply (people registering to seek work).

Two methods compete on a backtest — the last ``horizon`` months held out, each method fitted on
what came before: the seasonal-naive baseline (the same month a year earlier; the last month
when there is less than a year of history) and a ridge regression on a linear trend and the
month of the year. The model is used only when its backtest error is lower; either way the
errors of both are part of the answer, and the interval comes from the chosen method's backtest
residuals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sklearn.linear_model import Ridge

SEASON = 12


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Forecast:
    method: str  # "ridge" or "seasonal_naive"
    months: list[date]
    values: list[float]
    lower: list[float]
    upper: list[float]
    mae_model: float | None  # None: too little history to backtest
    mae_seasonal_naive: float | None
    backtest_months: int


def seasonal_naive(history: np.ndarray, steps: int) -> np.ndarray:
    if len(history) >= SEASON:
        return np.array([history[len(history) - SEASON + (k % SEASON)] for k in range(steps)], dtype=float)
    return np.full(steps, float(history[-1]) if len(history) else 0.0)


def _features(start: int, months: list[int], steps: int) -> np.ndarray:
    """Trend index and month-of-year indicators for positions start … start+steps−1."""
    rows = np.zeros((steps, 1 + SEASON))
    for k in range(steps):
        rows[k, 0] = start + k
        rows[k, 1 + months[k] - 1] = 1.0
    return rows


def ridge(history: np.ndarray, first_month: date, steps: int) -> np.ndarray:
    months = [add_months(first_month, k).month for k in range(len(history) + steps)]
    model = Ridge(alpha=1.0).fit(_features(0, months[: len(history)], len(history)), history)
    return np.clip(model.predict(_features(len(history), months[len(history):], steps)), 0, None)


def forecast(history: list[float], first_month: date, horizon: int) -> Forecast:
    """Forecast ``horizon`` months after ``history`` (monthly values from ``first_month``)."""
    y = np.asarray(history, dtype=float)
    future = [add_months(first_month, len(y) + k) for k in range(horizon)]
    back = min(horizon, len(y) - 6)  # keep at least six months to fit on
    mae_model = mae_naive = None
    residuals = np.zeros(0)
    method = "seasonal_naive"
    if back >= 1:
        train, test = y[:-back], y[-back:]
        model_errors = test - ridge(train, first_month, back)
        naive_errors = test - seasonal_naive(train, back)
        mae_model, mae_naive = float(np.abs(model_errors).mean()), float(np.abs(naive_errors).mean())
        if mae_model < mae_naive:
            method, residuals = "ridge", model_errors
        else:
            residuals = naive_errors
    values = ridge(y, first_month, horizon) if method == "ridge" else seasonal_naive(y, horizon)
    spread = 1.96 * float(np.sqrt(np.mean(residuals ** 2))) if len(residuals) else 0.0
    return Forecast(
        method=method, months=future, values=[round(float(v), 2) for v in values],
        lower=[round(max(0.0, float(v) - spread), 2) for v in values],
        upper=[round(float(v) + spread, 2) for v in values],
        mae_model=None if mae_model is None else round(mae_model, 3),
        mae_seasonal_naive=None if mae_naive is None else round(mae_naive, 3), backtest_months=max(0, back),
    )
