"""Settings of the matching service (environment prefix ``JOBLINK_MATCHING_``).

Weights are nested: ``JOBLINK_MATCHING_WEIGHTS__MUST=0.6``; priority boosts are a JSON object:
``JOBLINK_MATCHING_PRIORITY_BOOSTS='{"poor_household": 0.15}'``.
"""

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings
from services.matching.scoring import Weights


class WeightSettings(BaseModel):
    """Hand-set factor weights (see services/matching/scoring.py); a fitted model that beats them
    on past outcomes replaces them."""

    must: float = Field(Weights.must, ge=0, description="relevance: coverage of the coded must-have skills")
    nice: float = Field(Weights.nice, ge=0, description="relevance: coverage of the nice-to-have skills")
    occupation: float = Field(Weights.occupation, ge=0, description="relevance: occupation group match (4/3/2 digits)")
    text: float = Field(Weights.text, ge=0, description="relevance: n-gram similarity for skills without a code")
    trade_level: float = Field(Weights.trade_level, ge=0, description="fit: trade level against the minimum")
    qualification: float = Field(Weights.qualification, ge=0, description="fit: qualification against the minimum")
    distance: float = Field(Weights.distance, ge=0, description="fit: distance and commute")
    wage: float = Field(Weights.wage, ge=0, description="fit: desired wage against the offer")
    alpha: float = Field(Weights.alpha, ge=0, le=1, description="share of the score relevance earns regardless of fit")

    def weights(self) -> Weights:
        return Weights(**self.model_dump(), version=Weights.version)


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_MATCHING_", env_nested_delimiter="__", extra="ignore")

    weights: WeightSettings = WeightSettings()
    priority_boosts: dict[str, float] = Field(
        {
            "poor_household": 0.15,
            "near_poor_household": 0.10,
            "recently_escaped_poverty": 0.05,
            "disabled": 0.15,
            "demobilised_soldier": 0.08,
            "youth": 0.05,
            "ethnic_minority": 0.08,
            "released_prisoner": 0.05,
            "rural_worker": 0.03,
        },
        description="score × (1 + the largest boost of the candidate's groups), when the vacancy accepts them",
    )
    top_n: int = Field(50, ge=1, le=1000, description="batch: candidates kept per open vacancy")
    index_sync_interval_s: float = Field(
        0.5, gt=0, description="without consumers in this process: how often the index reads changed rows")
    index_compact_at: int = Field(1000, ge=10, description="recent changes held aside before the index is recompiled")
    warm_up_kernel: bool = Field(
        True, description="at start, compile the job fairs' batch ranking kernel into numba's disk cache in a child "
                          "process (`services.matching.cli warm-up`), so that the first fair does not wait ~15 s for it")
