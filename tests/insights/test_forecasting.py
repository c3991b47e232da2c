"""Forecasts: the model is used only when it beats the seasonal-naive baseline on the backtest."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, timedelta

from services.insights.forecasting import add_months, forecast
from services.insights.service import today
from tests.insights.conftest import Insights, at

START = date(2023, 1, 1)


def test_a_trend_the_baseline_misses_is_left_to_the_model() -> None:
    rng = random.Random(1)
    truth = [100 + 5 * k + 20 * math.sin(2 * math.pi * k / 12) for k in range(42)]
    history = [t + rng.gauss(0, 2) for t in truth[:36]]
    result = forecast(history, START, 6)
    assert result.method == "ridge" and result.backtest_months == 6
    assert result.mae_model < result.mae_seasonal_naive
    assert result.months == [add_months(START, 36 + k) for k in range(6)]
    assert all(abs(v - t) < 12 for v, t in zip(result.values, truth[36:], strict=True))
    assert all(lo <= v <= hi for lo, v, hi in zip(result.lower, result.values, result.upper, strict=True))


def test_a_pure_seasonal_pattern_falls_back_to_seasonal_naive() -> None:
    year = [30, 25, 40, 55, 60, 58, 50, 45, 70, 80, 65, 35]
    result = forecast(year * 3, START, 6)
    assert result.method == "seasonal_naive" and result.mae_seasonal_naive == 0
    assert result.mae_model > 0
    assert result.values == [float(v) for v in year[:6]] and result.lower == result.values == result.upper


def test_a_short_history_gives_the_last_value_without_a_backtest() -> None:
    result = forecast([3, 5, 4, 6], START, 3)
    assert result.method == "seasonal_naive" and result.backtest_months == 0 and result.mae_model is None
    assert result.values == [6.0, 6.0, 6.0]


async def test_the_forecast_endpoint_counts_months_from_the_events(insights: Insights) -> None:
    a = await insights.bearer(["stats:read"])
    rng = random.Random(4)
    first = date(2024, 11, 1)
    expected: Counter[date] = Counter()
    for k in range(24):
        month = add_months(first, k)
        for n in range(rng.randint(1, 4)):
            openings = rng.randint(1, 20)
            vacancy = {"vacancy_id": f"v{k}-{n}", "version": 1, "status": "open", "occupation": "7212",
                       "openings": openings, "ward_code": "11311"}
            await insights.publish("vacancy.opened", vacancy["vacancy_id"], vacancy, at(month + timedelta(days=n * 3)))
            expected[month] += openings
    await insights.publish("vacancy.opened", "elsewhere", {"vacancy_id": "elsewhere", "version": 1, "status": "open",
                           "occupation": "5120", "openings": 99, "ward_code": "11311"}, at(first))
    await insights.settled()

    response = await insights.http.get("/api/v1/stats/forecast", headers=a,
                                       params={"series": "demand", "occupation": "72", "horizon": 4})
    assert response.status_code == 200, response.text
    body = response.json()
    history = {date.fromisoformat(h["month"]): h["value"] for h in body["history"]}
    last = add_months(today().replace(day=1), -1)
    assert min(history) == first and max(history) == last
    assert all(history[m] == expected.get(m, 0) for m in history)
    assert [f["month"] for f in body["forecast"]] == [add_months(last, k).isoformat() for k in (1, 2, 3, 4)]
    assert body["method"] in ("ridge", "seasonal_naive") and body["backtest"]["months"] == 4
    chosen = body["backtest"]["mae_model"] if body["method"] == "ridge" else body["backtest"]["mae_seasonal_naive"]
    assert chosen <= min(body["backtest"]["mae_model"], body["backtest"]["mae_seasonal_naive"])
    nothing = await insights.http.get("/api/v1/stats/forecast", headers=a, params={"series": "supply"})
    assert nothing.status_code == 404 and nothing.json()["type"].endswith("/no-history")
    report = await insights.http.get("/api/v1/stats/report", headers=a)
    assert report.status_code == 200 and "Dự báo cung – cầu" in report.text
    assert report.text.count('src="data:image/png;base64,') == 3  # shortage, indicators, forecast (no fair yet)
