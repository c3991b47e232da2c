"""Scoring: monotone in each factor, hard filters, explanations, empty profiles, fairness."""

from __future__ import annotations

import pytest

from services.matching import events as ev
from services.matching.index import MatchIndex
from services.matching.scoring import Weights, candidate_vector, vacancy_vector
from tests.matching.profiles import candidate, candidate_data, vacancy

W = Weights()
BOOSTS = {"poor_household": 0.15, "youth": 0.05, "ethnic_minority": 0.08}


def score(c_over: dict | None = None, v_over: dict | None = None, boosts: dict | None = None) -> float:
    index = MatchIndex(W, BOOSTS if boosts is None else boosts)
    return index.score_pair(candidate_vector(candidate(**(c_over or {}))), vacancy_vector(vacancy(**(v_over or {})), W)).score


def test_more_must_skills_matched_scores_higher() -> None:
    both = score()
    one = score({"skills": [{"code": "SK0101", "text": "hàn điện"}]})
    none = score({"skills": [{"code": "SK0601", "text": "xe nâng"}]})
    assert both > one > none > 0  # the occupation still counts when no skill does
    with_nice = score({"skills": [*candidate_data()["skills"], {"code": "SK0106", "text": "hàn ống"}]})
    assert with_nice > both


def test_farther_scores_lower() -> None:
    # same ward, 5 km, 12 km (both within a 15 km commute), 40 km and 80 km (beyond it)
    spots = [(20.8627, 106.6823, "11311", "303"), (20.8627, 106.7303, "X1", "X"), (20.8627, 106.7973, "X2", "X"),
             (20.8627, 107.0660, "X3", "X"), (20.8627, 107.4500, "X4", "X")]
    scores = [score({"lat": lat, "lon": lon, "ward_code": w, "legacy_district_code": d}) for lat, lon, w, d in spots]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)


def test_below_the_minimum_trade_level_scores_lower_the_further_below() -> None:
    levels = [score({"trade_level": level}) for level in (5, 3, 2, 1)]
    assert levels[0] == levels[1] > levels[2] > levels[3]


def test_wage_and_qualification_fit() -> None:
    assert score({"desired_wage_vnd": 20_000_000}) < score({"desired_wage_vnd": 12_000_000})
    assert score(v_over={"min_qualification": "college"}) < score()


def test_an_empty_profile_never_scores() -> None:
    assert score({"skills": [], "occupations": []}) == 0.0
    assert score({"skills": [], "occupations": [], "priority_groups": ["poor_household"], "trade_level": 7}) == 0.0


def test_explanation_names_the_reasons() -> None:
    index = MatchIndex(W, BOOSTS)
    c = candidate_vector(candidate(skills=[{"code": "SK0101", "text": "hàn điện"}], trade_level=2,
                                   priority_groups=["poor_household"], lat=20.8627, lon=106.7303, ward_code="X1"))
    match = index.score_pair(c, vacancy_vector(vacancy(), W))
    e = match.explanation
    assert [s["code"] for s in e["matched_must_skills"]] == ["SK0101"]
    assert [s["code"] for s in e["missing_must_skills"]] == ["SK0103"]
    assert e["missing_must_skills"][0]["label"] == "Hàn MIG/MAG"
    assert e["factors"]["must_skills"] == 0.5 and e["factors"]["nice_skills"] == 0.0
    assert e["occupation_match_depth"] == 4 and e["factors"]["occupation"] == 1.0
    assert e["trade_level_gap"] == -1 and e["factors"]["trade_level"] == 0.7
    assert e["distance_tier"] == "within_commute" and 4.5 < e["distance_km"] < 5.5
    assert e["priority_boost"] == {"groups": ["poor_household"], "boost": 0.15}
    assert e["model_version"] == "hand-set-1" and e["score"] == round(match.score, 4)


def test_occupation_credit_by_depth() -> None:
    depth = {}
    for code in ("7212", "7213", "7231", "8212"):
        index = MatchIndex(W, {})
        m = index.score_pair(candidate_vector(candidate(occupations=[code], skills=[])), vacancy_vector(vacancy(), W))
        depth[code] = (m.explanation["occupation_match_depth"], m.explanation["factors"]["occupation"])
    assert depth == {"7212": (4, 1.0), "7213": (3, 0.6), "7231": (2, 0.3), "8212": (None, 0.0)}


def test_uncoded_skills_match_through_character_ngrams() -> None:
    v_over = {"required_skills": [{"code": None, "text": "sơn tĩnh điện", "kind": "must"}]}
    close = score({"skills": [{"code": None, "text": "son tinh dien"}]}, v_over)  # typed without diacritics
    far = score({"skills": [{"code": None, "text": "nấu ăn"}]}, v_over)
    assert close > far
    index = MatchIndex(W, {})
    m = index.score_pair(candidate_vector(candidate(skills=[{"code": None, "text": "son tinh dien"}])),
                         vacancy_vector(vacancy(**v_over), W))
    assert m.explanation["matched_must_skills"] == [{"code": None, "label": "sơn tĩnh điện"}]
    assert m.explanation["factors"]["text_similarity"] > 0.5


def test_hard_filters_keep_people_and_jobs_out_of_the_pool() -> None:
    index = MatchIndex(W, BOOSTS)
    index.candidates.load([candidate_vector(candidate(candidate_id=f"c-{i}")) for i in range(3)])
    v = vacancy_vector(vacancy(), W)
    assert {m.candidate.candidate_id for m in index.candidates_for(v, 10)} == {"c-0", "c-1", "c-2"}
    index.candidates.remove("c-1")
    assert {m.candidate.candidate_id for m in index.candidates_for(v, 10)} == {"c-0", "c-2"}
    # a newer version replaces, an older one is ignored
    newer = candidate_vector(candidate(candidate_id="c-0", version=2, skills=[], occupations=["8212"]))
    assert index.candidates.upsert(newer)
    assert not index.candidates.upsert(candidate_vector(candidate(candidate_id="c-0", version=1)))
    assert {m.candidate.candidate_id for m in index.candidates_for(v, 10)} == {"c-2"}
    assert [m.candidate.candidate_id for m in index.candidates_for(v, 10, max_km=0.5)] == ["c-2"]


def test_filters_and_limit() -> None:
    index = MatchIndex(W, BOOSTS)
    far = {"lat": 21.2, "lon": 107.3, "ward_code": "X9", "legacy_district_code": "X"}
    index.candidates.load([
        candidate_vector(candidate(candidate_id="near")),
        candidate_vector(candidate(candidate_id="far", **far)),
        candidate_vector(candidate(candidate_id="poor", priority_groups=["poor_household"])),
    ])
    v = vacancy_vector(vacancy(), W)
    ranked = [m.candidate.candidate_id for m in index.candidates_for(v, 10)]
    assert ranked == ["poor", "near", "far"]  # the boost puts the poor household first
    assert [m.candidate.candidate_id for m in index.candidates_for(v, 1)] == ["poor"]
    assert [m.candidate.candidate_id for m in index.candidates_for(v, 10, priority_group="poor_household")] == ["poor"]
    assert "far" not in [m.candidate.candidate_id for m in index.candidates_for(v, 10, max_km=20)]
    v_no = vacancy_vector(vacancy(accepts_priority_groups=False), W)
    assert [m.score for m in index.candidates_for(v_no, 10)][0] == pytest.approx(
        index.score_pair(index.candidates.get("near"), v_no).score)


@pytest.mark.parametrize("trait", [
    {"gender": "female"}, {"date_of_birth": "1960-01-01"}, {"ethnicity": "Tày"}, {"gender": "other", "age": 17},
])
def test_protected_traits_never_change_a_score(trait: dict) -> None:
    """Traits added to the event are not read; ethnicity and age reach the score only through the
    priority groups a centre records (youth, ethnic minority), as a documented policy boost."""
    base = ev.CandidateProfile.model_validate(candidate_data())
    with_trait = ev.CandidateProfile.model_validate({**candidate_data(), **trait})
    assert with_trait == base
    no_policy = {"youth": 0.0, "ethnic_minority": 0.0}
    plain = score(boosts=no_policy)
    assert score({"priority_groups": ["youth", "ethnic_minority"]}, boosts=no_policy) == plain
    boosted = MatchIndex(W, BOOSTS).score_pair(candidate_vector(candidate(priority_groups=["ethnic_minority"])),
                                               vacancy_vector(vacancy(), W))
    assert boosted.explanation["relevance"] == round(MatchIndex(W, {}).score_pair(
        candidate_vector(candidate()), vacancy_vector(vacancy(), W)).explanation["relevance"], 4)
    assert boosted.explanation["priority_boost"]["boost"] == 0.08
