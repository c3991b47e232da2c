"""Learning weights from outcomes: adopted only when they rank past hires better."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.matching.learning import FEATURES, fit_weights, hire_rate_at, ndcg_at, score_with
from services.matching.models import Outcome
from services.matching.scoring import Weights
from services.matching.service import training_features
from tests.matching.conftest import Matching
from tests.matching.test_recommendations import seed

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def outcomes(hired_by, vacancies: int = 60, per_vacancy: int = 6, seed: int = 7) -> list[SimpleNamespace]:  # noqa: ANN001
    """Invitations of ``vacancies`` fairs over time; ``hired_by(rows)`` picks the hired one."""
    rng = random.Random(seed)
    rows = []
    for v in range(vacancies):
        group = []
        for i in range(per_vacancy):
            factors = {f: round(rng.random(), 3) for f in FEATURES}
            group.append(SimpleNamespace(invitation_id=f"inv-{v}-{i}", vacancy_id=f"v-{v}", candidate_id=f"c-{v}-{i}",
                                         factors=factors, outcome="attended",
                                         recorded_at=START + timedelta(days=v, minutes=i)))
        hired_by(group).outcome = "hired"
        rows += group
    return rows


def test_training_features_are_the_model_s_features_and_the_score() -> None:
    factors = {"must_skills": None, "nice_skills": 0.5, "occupation": 0.6, "text_similarity": None,
               "trade_level": 0.9, "qualification": 1.0, "distance": 0.7, "wage": 0.8}
    features = training_features(SimpleNamespace(explanation={"factors": factors}, score=0.42))
    assert list(features) == [*FEATURES, "score"]
    assert features == {"must": 1.0, "nice": 0.5, "occupation": 0.6, "text": 0.0, "trade_level": 0.9,
                        "qualification": 1.0, "distance": 0.7, "wage": 0.8, "score": 0.42}


def test_metrics() -> None:
    import numpy as np

    groups = [(np.array([0.9, 0.5, 0.1]), np.array([0.0, 1.0, 0.0]))]
    assert ndcg_at(10, groups) == 1 / np.log2(3)
    assert hire_rate_at(1, groups) == 0.0 and hire_rate_at(2, groups) == 1.0


def test_weights_that_rank_hires_better_are_adopted() -> None:
    # employers here hire whoever lives closest, whatever else: the hand-set weights under-rate distance
    rows = outcomes(lambda g: max(g, key=lambda r: r.factors["distance"]))
    current = Weights()
    fitted, evaluation = fit_weights(rows, current)
    assert evaluation["adopted"], evaluation
    assert evaluation["fitted"]["ndcg@10"] > evaluation["baseline"]["ndcg@10"]
    assert fitted.distance > current.distance and fitted.version.startswith("fitted-")
    assert evaluation["train"] == 252 and evaluation["test"] == 108  # a time split: the newest 30 % judge
    assert evaluation["split_at"] == rows[252].recorded_at.isoformat()


def test_weights_that_do_not_beat_the_current_ones_are_not_adopted() -> None:
    current = Weights()
    import numpy as np

    def best_by_current(group: list) -> SimpleNamespace:
        scores = score_with(current, np.array([[r.factors[f] for f in FEATURES] for r in group]))
        return group[int(np.argmax(scores))]

    fitted, evaluation = fit_weights(outcomes(best_by_current), current)
    assert evaluation["baseline"]["ndcg@10"] == 1.0
    assert not evaluation["adopted"]


async def test_training_through_the_api_switches_the_model_version_of_explanations(matching: Matching) -> None:
    await seed(matching)
    admin = await matching.bearer(["admin"])
    reader = await matching.bearer(["matching:read"], centre_id="centre-a")
    refused = await matching.http.post("/api/v1/matching/model:train", headers=admin)
    assert refused.status_code == 200 and refused.json()["evaluation"]["adopted"] is False
    assert "at least" in refused.json()["evaluation"]["reason"]
    assert (await matching.http.post("/api/v1/matching/model:train", headers=reader)).status_code == 403

    async with matching.db.transaction() as session:
        for row in outcomes(lambda g: max(g, key=lambda r: r.factors["distance"])):
            session.add(Outcome(**vars(row)))
    trained = await matching.http.post("/api/v1/matching/model:train", headers=admin)
    assert trained.status_code == 200, trained.text
    version = trained.json()["version"]
    assert version.startswith("fitted-") and trained.json()["evaluation"]["adopted"]
    assert (await matching.http.get("/api/v1/matching/model", headers=reader)).json()["version"] == version
    items = (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=reader)).json()["items"]
    assert items and all(i["explanation"]["model_version"] == version for i in items)
