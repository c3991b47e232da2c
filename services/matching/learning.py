"""Learning factor weights from job-fair outcomes.

Each recorded outcome keeps the factor scores of its pair (must and nice coverage, occupation,
text similarity, trade level, qualification, distance, wage). A logistic regression on those
factors (hired = 1; attended without hire and no-show = 0) says how much each factor predicts a
hire; its non-negative coefficients, normalised within the relevance and the fit groups, become
candidate weights. They are compared with the weights in use on the most recent outcomes (a time
split: the model never sees the future it is judged on) by NDCG@10 and hire-rate@k of the
invitations of each vacancy, and adopted only if they do better on NDCG@10 without losing
hire-rate@k. Protected traits are not features: the outcomes do not hold any.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from kit.db import Database
from services.matching import readmodels, repository
from services.matching.models import Outcome, ScoringModel
from services.matching.scoring import FIT_PARTS, RELEVANCE_PARTS, Weights

FEATURES = (*RELEVANCE_PARTS, *FIT_PARTS)
MIN_OUTCOMES = 50
MIN_HIRES = 5


def score_with(weights: Weights, features: np.ndarray) -> np.ndarray:
    """The score formula of scoring.py over stored factor rows (columns in FEATURES order)."""
    rel_w = np.array([getattr(weights, p) for p in RELEVANCE_PARTS], np.float64)
    fit_w = weights.fit()
    relevance = features[:, : len(RELEVANCE_PARTS)] @ (rel_w / rel_w.sum())
    fit = features[:, len(RELEVANCE_PARTS):] @ fit_w
    return relevance * (weights.alpha + (1 - weights.alpha) * fit)


def ndcg_at(k: int, groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean NDCG@k over groups (scores, hired flags) that have at least one hire."""
    values = []
    for scores, hired in groups:
        if hired.sum() == 0:
            continue
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        gains = hired[order] / np.log2(np.arange(2, len(order) + 2))
        ideal = np.sort(hired)[::-1][:k] / np.log2(np.arange(2, min(k, len(hired)) + 2))
        values.append(gains.sum() / ideal.sum())
    return float(np.mean(values)) if values else 0.0


def hire_rate_at(k: int, groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Share of the hires that are among each vacancy's k best-ranked invitations."""
    found = total = 0
    for scores, hired in groups:
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        found += int(hired[order].sum())
        total += int(hired.sum())
    return found / total if total else 0.0


def fit_weights(rows: list[Outcome], current: Weights, test_share: float = 0.3, k: int = 3,
                now: datetime | None = None) -> tuple[Weights, dict[str, Any]]:
    """Candidate weights fitted on the older outcomes and their evaluation on the newer ones."""
    rows = sorted(rows, key=lambda r: (r.recorded_at, r.invitation_id))
    features = np.array([[float(r.factors.get(f, 0.0)) for f in FEATURES] for r in rows], np.float64)
    hired = np.array([1.0 if r.outcome == "hired" else 0.0 for r in rows])
    cut = len(rows) - round(len(rows) * test_share)
    evaluation: dict[str, Any] = {"outcomes": len(rows), "hires": int(hired.sum()), "train": cut,
                                  "test": len(rows) - cut, "split_at": rows[cut].recorded_at.isoformat() if rows[cut:] else None,
                                  "baseline_version": current.version}
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(features[:cut], hired[:cut])
    coef = np.clip(model.coef_[0], 0.0, None)
    values = current.as_dict()
    rel, fit = coef[: len(RELEVANCE_PARTS)], coef[len(RELEVANCE_PARTS):]
    if rel.sum() > 0:
        values.update({p: float(w / rel.sum()) for p, w in zip(RELEVANCE_PARTS, rel, strict=True)})
    if fit.sum() > 0:
        values.update({p: float(w / fit.sum()) for p, w in zip(FIT_PARTS, fit, strict=True)})
    digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:8]
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    values["version"] = f"fitted-{stamp}-{digest}"
    candidate = replace(current, **{k2: v for k2, v in values.items() if k2 != "version"}, version=values["version"])

    by_vacancy: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows[cut:], start=cut):
        by_vacancy[r.vacancy_id].append(i)
    for name, weights in (("baseline", current), ("fitted", candidate)):
        scores = score_with(weights, features)
        groups = [(scores[idx], hired[idx]) for idx in map(np.array, by_vacancy.values())]
        evaluation[name] = {"version": weights.version, "ndcg@10": round(ndcg_at(10, groups), 4),
                            f"hire_rate@{k}": round(hire_rate_at(k, groups), 4)}
    better = evaluation["fitted"]["ndcg@10"] > evaluation["baseline"]["ndcg@10"]
    not_worse = evaluation["fitted"][f"hire_rate@{k}"] >= evaluation["baseline"][f"hire_rate@{k}"]
    evaluation["adopted"] = bool(better and not_worse)
    evaluation["fitted_weights"] = {p: round(getattr(candidate, p), 4) for p in FEATURES}
    return candidate, evaluation


async def train(db: Database, current: Weights, now: datetime | None = None) -> tuple[Weights | None, dict[str, Any]]:
    """Fit on every outcome held; record the attempt; the new weights if they are adopted."""
    async with db.reading() as session:
        rows = await readmodels.outcomes(session)
    hires = sum(1 for r in rows if r.outcome == "hired")
    if len(rows) < MIN_OUTCOMES or hires < MIN_HIRES:
        return None, {"adopted": False, "outcomes": len(rows), "hires": hires,
                      "reason": f"needs at least {MIN_OUTCOMES} outcomes with {MIN_HIRES} hires"}
    # in a thread: a year of city-sized fairs is hundreds of thousands of outcomes (200,000 take
    # about 1.4 s to fit), during which the service goes on serving and consuming events
    candidate, evaluation = await asyncio.to_thread(fit_weights, rows, current, now=now)
    async with db.transaction() as session:
        session.add(ScoringModel(version=candidate.version, created_at=now or datetime.now(UTC),
                                 adopted=evaluation["adopted"], weights=candidate.as_dict(), evaluation=evaluation))
    return (candidate if evaluation["adopted"] else None), evaluation


async def adopted_weights(db: Database) -> tuple[Weights, dict[str, Any]] | None:
    """The newest adopted weights and their evaluation, if a fitted model was ever adopted."""
    async with db.reading() as session:
        row = await repository.newest_adopted_model(session)
    if row is None:
        return None
    return Weights(**row.weights), row.evaluation
