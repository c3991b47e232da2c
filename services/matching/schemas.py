"""Response bodies of the matching API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SkillRef(BaseModel):
    code: str | None
    label: str


class Factors(BaseModel):
    must_skills: float | None = Field(description="share of the coded must-have skills the candidate has")
    nice_skills: float | None
    occupation: float = Field(description="1.0 same unit group, 0.6 same minor group, 0.3 same sub-major group")
    text_similarity: float | None = Field(description="n-gram similarity for the vacancy's uncoded skills")
    trade_level: float
    qualification: float
    distance: float
    wage: float


class PriorityBoost(BaseModel):
    groups: list[str]
    boost: float


class Explanation(BaseModel):
    score: float
    relevance: float = Field(description="what the person can do against what the job needs, 0–1")
    fit: float = Field(description="trade level, qualification, distance and wage together, 0–1")
    factors: Factors
    matched_must_skills: list[SkillRef]
    missing_must_skills: list[SkillRef]
    matched_nice_skills: list[SkillRef]
    occupation_match_depth: int | None
    trade_level_gap: int | None = Field(description="candidate's level minus the required one")
    trade_level_required: int | None
    distance_km: float | None
    distance_tier: str = Field(description="same_ward | within_commute | same_district | farther | unknown")
    priority_boost: PriorityBoost
    model_version: str


class CandidateMatch(BaseModel):
    candidate_id: str
    centre_id: str | None
    masked: bool = Field(description="another centre's candidate: ward and priority groups hidden")
    ward_code: str | None
    legacy_district_code: str | None
    trade_level: int | None
    priority_groups: list[str]
    score: float
    explanation: Explanation


class VacancyMatch(BaseModel):
    vacancy_id: str
    employer_id: str
    title: str
    occupation: str
    ward_code: str | None
    score: float
    explanation: Explanation


class CandidateMatches(BaseModel):
    vacancy_id: str
    items: list[CandidateMatch]


class VacancyMatches(BaseModel):
    candidate_id: str
    items: list[VacancyMatch]


class ModelOut(BaseModel):
    version: str
    weights: dict[str, Any]
    evaluation: dict[str, Any] | None = None
