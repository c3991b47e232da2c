"""Batch top-N (services/matching/topn.py): every vacancy's list is exactly the online ranking —
the same candidates in the same order with the same scores to the bit — however its bounds
prune, on a generated population with the awkward cases added by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache

import pytest

from reference.population import PopulationGenerator, candidate_event, vacancy_event
from services.matching import events as ev
from services.matching.models import CandidateProfile, VacancyProfile
from services.matching.readmodels import candidate_row, vacancy_row
from services.matching.scoring import Weights, candidate_vector, vacancy_vector
from services.matching.service import MatchingService, training_features
from tests.matching.profiles import candidate, vacancy

W = Weights()
BOOSTS = {"poor_household": 0.15, "near_poor_household": 0.10, "youth": 0.05, "disabled": 0.15,
          "demobilised_soldier": 0.08, "ethnic_minority": 0.08}
# a skill text the vocabulary cannot code, so that it is matched through character n-grams
FREE = [{"code": None, "text": "sơn tĩnh điện", "kind": "must"}, {"code": None, "text": "lái máy xúc", "kind": "nice"}]
MANY_SKILLS = [{"code": f"SK01{i:02d}", "text": f"kỹ năng {i}"} for i in range(1, 10)]


@cache
def population() -> tuple[list, list]:
    """2,000 generated candidates and 200 vacancies, plus: uncoded skills on both sides, rows
    longer than the kernel holds inline, unknown places, exact duplicates (ties broken by id)."""
    gen = PopulationGenerator(7, date(2026, 12, 1))
    now = datetime.now(UTC)
    candidates = []
    for i in range(2000):
        record = {k: str(v).lower() if isinstance(v, bool) else ("" if v is None else str(v))
                  for k, v in gen.candidate(i).items()}
        payload = ev.CandidateProfile.model_validate(candidate_event(record, f"g{i:05d}", centre_id=f"centre-{i % 3}"))
        row = CandidateProfile(**candidate_row(payload, now))
        if row.status == "seeking" and row.matching_consent:
            candidates.append(candidate_vector(row))
    for i in range(40):
        candidates += [
            candidate_vector(candidate(candidate_id=f"h{i:02d}-free", skills=[{"code": None, "text": "son tinh dien"}],
                                       priority_groups=["poor_household"] if i % 2 else [])),
            candidate_vector(candidate(candidate_id=f"h{i:02d}-many", skills=MANY_SKILLS, trade_level=1 + i % 7)),
            candidate_vector(candidate(candidate_id=f"h{i:02d}-nowhere", lat=None, lon=None, ward_code=None,
                                       legacy_district_code=None)),
            candidate_vector(candidate(candidate_id=f"h{i:02d}-twin")),  # forty identical profiles
        ]
    vacancies = []
    e = 0
    while len(vacancies) < 200:
        employer = gen.employer(e)
        for k, record in enumerate(gen.vacancies_of(employer)):
            payload = ev.VacancyProfile.model_validate(vacancy_event(record, f"v{e:04d}-{k}", str(employer["ref"])))
            vacancies.append(vacancy_vector(VacancyProfile(**vacancy_row(payload, now)), W))
        e += 1
    vacancies = vacancies[:200] + [
        vacancy_vector(vacancy(vacancy_id="x-free", required_skills=FREE), W),
        vacancy_vector(vacancy(vacancy_id="x-mixed", required_skills=[*FREE, {"code": "SK0101", "text": "hàn", "kind": "must"}]), W),
        vacancy_vector(vacancy(vacancy_id="x-many", required_skills=[{**s, "kind": "must"} for s in MANY_SKILLS]), W),
        vacancy_vector(vacancy(vacancy_id="x-closed-to-boosts", accepts_priority_groups=False), W),
        vacancy_vector(vacancy(vacancy_id="x-nowhere", lat=None, lon=None, ward_code=None, legacy_district_code=None), W),
        vacancy_vector(vacancy(vacancy_id="x-twins"), W),
    ]
    return candidates, vacancies


def service() -> MatchingService:
    candidates, vacancies = population()
    s = MatchingService(W, BOOSTS)
    s.index.candidates.load(candidates)
    s.index.vacancies.load(vacancies)
    return s


@pytest.mark.parametrize(("n", "threads"), [(50, 2), (10, 1), (1, 2), (500, 2)])
def test_every_list_is_the_online_ranking_to_the_bit(n: int, threads: int) -> None:
    s = service()
    result = s.top_n(n, threads=threads)
    ranked = result.ranked
    assert len(ranked) == len(s.index.vacancies)
    for vacancy_id, listed in ranked.items():
        online = s.index.candidates_for(s.index.vacancies.get(vacancy_id), n)
        assert listed == [(m.candidate.candidate_id, m.score) for m in online], vacancy_id


def test_the_bounds_skip_most_pairs_and_the_awkward_cases_are_covered() -> None:
    s = service()
    result = s.top_n(10)
    ranked = result.ranked
    with_r = sum(len(s.index.candidates_for(v, 10_000)) for v in s.index.vacancies.rows.values())
    assert result.scored < with_r / 2  # pairs sharing a feature: most are never scored in full
    assert any(c.startswith("h") and c.endswith("-free") for c, _s in ranked["x-free"])  # through n-grams only
    assert all(c.endswith("-many") for c, _s in ranked["x-many"])
    assert [c for c, _s in ranked["x-twins"]][:3] == sorted(c for c, _s in ranked["x-twins"])[:3]


def test_an_empty_side_gives_empty_lists() -> None:
    s = MatchingService(W, BOOSTS)
    s.index.vacancies.load([vacancy_vector(vacancy(), W)])
    assert s.top_n(5).ranked == {"v-1": []}
    s = MatchingService(W, BOOSTS)
    s.index.candidates.load([candidate_vector(candidate())])
    assert s.top_n(5).ranked == {}


def test_a_change_to_the_index_is_in_the_next_run() -> None:
    s = service()
    first = s.top_n(5)
    assert s.top_n(5).ranked == first.ranked  # the same index: its prepared layout is reused
    best = candidate_vector(candidate(candidate_id="a-newcomer", skills=MANY_SKILLS, priority_groups=["poor_household"]))
    s.index.candidates.upsert(best)
    s.index.candidates.remove(first.ranked["x-many"][0][0])
    ranked = s.top_n(5).ranked
    assert ranked["x-many"][0][0] == "a-newcomer"
    for vacancy_id in ("x-many", "x-twins", "x-free"):
        online = s.index.candidates_for(s.index.vacancies.get(vacancy_id), 5)
        assert ranked[vacancy_id] == [(m.candidate.candidate_id, m.score) for m in online]


def test_a_job_fair_ranks_its_vacancies_with_the_batch_and_explains_what_it_invites() -> None:
    from pathlib import Path
    from types import SimpleNamespace

    from services.matching.jobfairs import JobFairs

    s = service()
    fair_vacancies = ["x-many", "x-twins", "x-free", sorted(s.index.vacancies.rows)[0], "gone"]
    fair = SimpleNamespace(
        vacancies=[{"vacancy_id": v, "slot_id": "s1"} for v in fair_vacancies], invites_per_opening=20,
        priority_groups=["poor_household"], slots=[{"id": "s1", "seats": 100}], max_invites_per_candidate=2,
        priority_min_share=None)
    problem, matches = JobFairs(None, None, s, Path()).problem(fair)  # type: ignore[arg-type]
    assert sorted(problem.vacancy_ids) == sorted(fair_vacancies[:4])  # "gone" is not open
    for v, vacancy_id in enumerate(problem.vacancy_ids):
        vacancy = s.index.vacancies.get(vacancy_id)
        limit = min(500, max(50, 4 * vacancy.openings * 20))
        mine = problem.vacancy == v
        listed = sorted(zip(problem.candidate_ids[problem.candidate[mine]], problem.score[mine], strict=True),
                        key=lambda p: (-p[1], p[0]))
        online = s.index.candidates_for(vacancy, limit)
        assert listed == [(m.candidate.candidate_id, m.score) for m in online]
    assert len(matches) == 0  # nothing explained before it is asked for
    candidate_id = str(problem.candidate_ids[problem.candidate[0]])
    vacancy_id = str(problem.vacancy_ids[problem.vacancy[0]])
    match = matches[(candidate_id, vacancy_id)]
    assert match.explanation["score"] == round(float(problem.score[0]), 4)
    keys = [(str(problem.candidate_ids[c]), str(problem.vacancy_ids[v]))
            for c, v in zip(problem.candidate[:40], problem.vacancy[:40], strict=True)]
    together = matches.explain(keys)  # explained in one go
    for key in keys:
        alone = s.index.score_pair(s.index.candidates.get(key[0]), s.index.vacancies.get(key[1]))
        assert (together[key].score, together[key].explanation) == (alone.score, alone.explanation)
    every = [(str(problem.candidate_ids[c]), str(problem.vacancy_ids[v]))
             for c, v in zip(problem.candidate, problem.vacancy, strict=True)]
    features = matches.features(every, problem.score.tolist())  # what a run records, from the ranking's scores
    assert any(f["text"] > 0 for f in features.values()) and any(f["nice"] > 0 for f in features.values())
    explained = {key: training_features(match) for key, match in matches.explain(every).items()}
    for key, score in zip(every, problem.score.tolist(), strict=True):
        # the score is the ranking's, within 1e-6 of the one the explanation computes again
        assert features[key]["score"] == score and abs(score - explained[key]["score"]) < 1e-6
        assert {**features[key], "score": 0} == {**explained[key], "score": 0}
