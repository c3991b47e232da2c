"""Events the candidates service publishes. ``candidates.v1`` carries what matching and statistics
need — never the name, phone, e-mail, address detail or national ID. ``candidates.contacts.v1``,
read by the notifications service alone, carries how to reach a person who agreed to be
notified, and nothing when they have not."""

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


class ContactChanged(EventData):
    """Body of ``candidate.contact_changed`` and ``candidate.contact_erased`` (all contact fields
    empty); ``version`` is the candidate's, so a late change never revives an erased contact."""

    candidate_id: str
    version: int
    notifications: bool  # consent to be notified; without it the contact fields are empty
    full_name: str | None
    phone: str | None
    email: str | None
    channels: list[str]


REGISTERED, UPDATED, ERASED = "candidate.registered", "candidate.updated", "candidate.erased"
CONTACT_CHANGED, CONTACT_ERASED = "candidate.contact_changed", "candidate.contact_erased"

registry = EventRegistry()
registry.register(REGISTERED, CandidateProfile)
registry.register(UPDATED, CandidateProfile)
registry.register(ERASED, CandidateErased)
registry.register(CONTACT_CHANGED, ContactChanged)
registry.register(CONTACT_ERASED, ContactChanged)
