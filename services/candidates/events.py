"""Events the candidates service publishes (topic ``candidates.v1``). They carry what matching
and statistics need — never the name, phone, e-mail, address detail or national ID."""

from typing import Literal

from kit.events import EventData, EventRegistry


class SkillRef(EventData):
    code: str | None  # None: free text the vocabulary did not recognise
    text: str


class CandidateProfile(EventData):
    """Body of ``candidate.registered`` and ``candidate.updated``; ``version`` orders updates."""

    candidate_id: str
    version: int
    centre_id: str | None
    status: Literal["seeking", "employed", "inactive"]
    occupations: list[str]
    skills: list[SkillRef]
    trade_level: int | None
    qualification: str
    experience_years: int
    desired_wage_vnd: int | None
    max_commute_km: float | None
    ward_code: str | None
    legacy_district_code: str | None
    lat: float | None
    lon: float | None
    priority_groups: list[str]
    consents: dict[str, bool]


class CandidateErased(EventData):
    candidate_id: str
    version: int


REGISTERED, UPDATED, ERASED = "candidate.registered", "candidate.updated", "candidate.erased"

registry = EventRegistry()
registry.register(REGISTERED, CandidateProfile)
registry.register(UPDATED, CandidateProfile)
registry.register(ERASED, CandidateErased)
