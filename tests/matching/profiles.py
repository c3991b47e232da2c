"""Candidate and vacancy read-model rows for matching tests, as the events would build them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.matching import events as ev
from services.matching.models import CandidateProfile, VacancyProfile
from services.matching.readmodels import candidate_row, vacancy_row

HONG_BANG = {"ward_code": "11311", "legacy_district_code": "303", "lat": 20.8627, "lon": 106.6823}


def candidate_data(candidate_id: str = "c-1", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "candidate_id": candidate_id, "version": 1, "centre_id": "centre-a", "status": "seeking",
        "occupations": ["7212"], "skills": [{"code": "SK0101", "text": "hàn điện"}, {"code": "SK0103", "text": "hàn TIG"}],
        "trade_level": 3, "qualification": "intermediate", "experience_years": 5, "desired_wage_vnd": 10_000_000,
        "max_commute_km": 15.0, **HONG_BANG, "priority_groups": [], "consents": {"matching": True},
    }
    data.update(overrides)
    return data


def vacancy_data(vacancy_id: str = "v-1", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vacancy_id": vacancy_id, "version": 1, "employer_id": "e-1", "centre_id": "centre-a", "status": "open",
        "title": "Thợ hàn", "occupation": "7212",
        "required_skills": [{"code": "SK0101", "text": "hàn điện", "kind": "must"},
                            {"code": "SK0103", "text": "hàn TIG", "kind": "must"},
                            {"code": "SK0106", "text": "hàn ống", "kind": "nice"}],
        "min_trade_level": 3, "min_qualification": "none", "openings": 3, "hires": 0,
        "wage_min_vnd": 9_000_000, "wage_max_vnd": 14_000_000, **HONG_BANG,
        "social_insurance": True, "accepts_priority_groups": True, "deadline": date(2026, 12, 31).isoformat(),
    }
    data.update(overrides)
    return data


def candidate(**overrides: Any) -> CandidateProfile:
    payload = ev.CandidateProfile.model_validate(candidate_data(**overrides))
    return CandidateProfile(**candidate_row(payload, datetime.now(UTC)))


def vacancy(**overrides: Any) -> VacancyProfile:
    payload = ev.VacancyProfile.model_validate(vacancy_data(**overrides))
    return VacancyProfile(**vacancy_row(payload, datetime.now(UTC)))
