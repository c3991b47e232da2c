"""Candidate registration, updates, erasure and search: the domain rules, no HTTP, no SQL (a new
candidate's columns, tags and event payloads are made by ``records``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.events import Envelope
from kit.outbox import Outbox
from reference.levels import Qualification
from reference.localtime import local_date
from reference.skills import skill_vocabulary
from reference.text import fold, key
from services.candidates import repository
from services.candidates.events import (
    CONTACT_CHANGED,
    CONTACT_ERASED,
    ERASED,
    REGISTERED,
    UPDATED,
    CandidateErased,
    CandidateProfile,
    ContactChanged,
    registry,
)
from services.candidates.models import Candidate
from services.candidates.personal import PersonalDataProtector
from services.candidates.records import (
    CandidateRecords,
    InvalidCandidate,
    check_occupations,
    contact,
    locate,
    notifiable,
    profile,
    search_text,
    skills,
    tags,
)
from services.candidates.schemas import AddressOut, CandidateIn, CandidateOut, CandidatePatch, ConsentOut, SkillOut
from services.candidates.validation import InvalidValue, check_citizen_id

SOURCE = "/joblink/candidates"


class CandidateNotFound(LookupError):
    pass


class NotOwner(PermissionError):
    pass


class DuplicateCandidate(Exception):
    def __init__(self, reason: str, existing_id: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.existing_id = existing_id  # None when the caller may not learn it


@dataclass(frozen=True)
class Filters:
    occupation: str | None = None
    skill: str | None = None
    ward: str | None = None
    district: str | None = None
    min_trade_level: int | None = None
    priority_group: str | None = None
    status: str | None = None
    q: str | None = None


def owns(who: Principal, candidate: Candidate) -> bool:
    """Full access: admins, the centre that registered the candidate, or the client that did."""
    return (
        who.is_admin
        or (candidate.centre_id is not None and candidate.centre_id == who.centre_id)
        or candidate.registered_by == who.client_id
    )


def duplicate_of(candidate: Any, existing: Any, visible: bool) -> DuplicateCandidate:
    """Why ``candidate`` duplicates ``existing`` (each with ``id`` and the two blind indexes);
    the existing id only if the caller may see it."""
    reason = (
        "a candidate with this national ID is registered"
        if candidate.national_id_hash and existing.national_id_hash == candidate.national_id_hash
        else "a candidate with this phone, name and date of birth is registered"
    )
    return DuplicateCandidate(reason, existing.id if visible else None)


class CandidateService:
    def __init__(
        self,
        outbox: Outbox,
        protector: PersonalDataProtector,
        min_age_years: int = 15,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox = outbox
        self.protector = protector
        self.records = CandidateRecords(protector, min_age_years)
        self.clock = clock

    # ---- commands -------------------------------------------------------------------------
    async def register(self, session: AsyncSession, who: Principal, body: CandidateIn) -> Candidate:
        candidate = Candidate(**vars(self.records.new(who, body, self.clock())))
        await self._refuse_duplicates(session, who, candidate)
        await repository.add(session, candidate, tags(candidate))
        await self._announce(session, REGISTERED, candidate)
        if notifiable(candidate):
            await self.outbox.add(session, self._contact_event(candidate))
        return candidate

    async def update(self, session: AsyncSession, who: Principal, candidate_id: str, patch: CandidatePatch) -> Candidate:
        candidate = await repository.get(session, candidate_id, for_update=True)
        if candidate is None:
            raise CandidateNotFound(candidate_id)
        if not owns(who, candidate):
            raise NotOwner(candidate_id)
        before = tags(candidate)
        now = self.clock()
        changes = patch.model_dump(exclude_unset=True)
        errors = [{"field": name, "message": "may not be null"}
                  for name in ("full_name", "date_of_birth", "address", "status")
                  if name in changes and changes[name] is None]
        if "date_of_birth" in changes and patch.date_of_birth:
            self.records.check_age(patch.date_of_birth, local_date(now), errors)
        if "address" in changes and patch.address is not None:
            candidate.address_detail = patch.address.detail
            location = locate(patch.address.ward_code, patch.address.legacy_ward_code, patch.address.legacy_district_code,
                              errors)
            for name, value in location.items():
                setattr(candidate, name, value)
        if "occupations" in changes:
            check_occupations(patch.occupations or [], errors)
        if errors:
            raise InvalidCandidate(errors)
        simple = ("full_name", "date_of_birth", "gender", "phone", "email", "trade_level", "desired_wage_vnd",
                  "max_commute_km", "status")
        for name in simple:
            if name in changes:
                setattr(candidate, name, getattr(patch, name))
        if "full_name" in changes:
            candidate.name_key = key(candidate.full_name)
        if "certificates" in changes:
            candidate.certificates = patch.certificates or []
        if "experience_years" in changes:
            candidate.experience_years = patch.experience_years or 0
        if "occupations" in changes:
            candidate.occupations = list(dict.fromkeys(patch.occupations or []))
        if "skills" in changes:
            candidate.skills = skills(patch.skills or [])
        if "qualification" in changes:
            candidate.qualification = (patch.qualification or Qualification.NONE).value
        if "contact_channels" in changes:
            candidate.contact_channels = patch.contact_channels or []
        if "priority_groups" in changes:
            candidate.priority_groups = [g.value for g in patch.priority_groups or []]
        if "consents" in changes and patch.consents is not None:
            consents = dict(candidate.consents)
            for purpose, consent in patch.consents.items():
                consents[purpose] = {"granted": consent.granted, "source": consent.source, "at": now.isoformat()}
            candidate.consents = consents
        if "national_id" in changes:
            if patch.national_id:
                try:
                    check_citizen_id(patch.national_id, candidate.date_of_birth, candidate.gender)
                except InvalidValue as exc:
                    raise InvalidCandidate([{"field": "national_id", "message": str(exc)}]) from None
            self.records.protect(candidate, patch.national_id)
        elif {"phone", "full_name", "date_of_birth"} & changes.keys():
            self.records.protect(candidate, None, keep_national_id=True)
        await self._refuse_duplicates(session, who, candidate)
        candidate.search_text = search_text(candidate)
        candidate.version += 1
        candidate.updated_at = now
        await repository.replace_tags(session, candidate.id, before, tags(candidate))
        await self._announce(session, UPDATED, candidate)
        if {"full_name", "phone", "email", "consents", "contact_channels"} & changes.keys():
            await self.outbox.add(session, self._contact_event(candidate))
        return candidate

    async def erase(self, session: AsyncSession, who: Principal, candidate_id: str) -> None:
        """Remove the person's data; an anonymous tombstone stays for statistics."""
        candidate = await repository.get(session, candidate_id, for_update=True)
        if candidate is None:
            raise CandidateNotFound(candidate_id)
        if not owns(who, candidate):
            raise NotOwner(candidate_id)
        before = tags(candidate)
        now = self.clock()
        for name in ("full_name", "name_key", "date_of_birth", "gender", "phone", "email", "national_id_enc",
                     "national_id_hash", "person_hash", "address_detail", "legacy_ward_code"):
            setattr(candidate, name, None)
        candidate.skills = [{"code": s["code"], "text": ""} for s in candidate.skills if s.get("code")]
        candidate.certificates = []
        candidate.consents = {}
        candidate.contact_channels = []
        candidate.search_text = ""
        candidate.status = "inactive"
        candidate.version += 1
        candidate.updated_at = candidate.erased_at = now
        await repository.replace_tags(session, candidate.id, before, tags(candidate))  # free-text skills go
        payload = CandidateErased(candidate_id=candidate.id, version=candidate.version)
        await self.outbox.add(session, registry.envelope(SOURCE, candidate.id, payload, ERASED),
                              self._contact_event(candidate, CONTACT_ERASED))

    # ---- queries --------------------------------------------------------------------------
    async def get(self, session: AsyncSession, who: Principal, candidate_id: str) -> tuple[Candidate, bool]:
        candidate = await repository.get(session, candidate_id)
        if candidate is None:
            raise CandidateNotFound(candidate_id)
        return candidate, not owns(who, candidate)

    async def search(
        self, session: AsyncSession, who: Principal, filters: Filters, limit: int, cursor: str | None
    ) -> tuple[list[Candidate], str | None]:
        """A centre searches its own candidates (others' only appear, masked, in matches)."""
        tags = [(k, v) for k, v in (("occupation", filters.occupation), ("priority", filters.priority_group)) if v]
        if filters.skill:
            matches = skill_vocabulary().normalise(filters.skill)
            tags.append(("skill", matches[0].code if matches and matches[0].code else "text:" + key(filters.skill)))
        rows = await repository.search(
            session,
            owner_centre=None if who.is_admin else who.centre_id,
            owner_client=None if who.is_admin else who.client_id,
            tags=tags,
            ward_code=filters.ward,
            district_code=filters.district,
            min_trade_level=filters.min_trade_level,
            status=filters.status,
            words=fold(filters.q).split() if filters.q else [],
            after=cursor,
            limit=limit + 1,
        )
        next_cursor = rows[limit - 1].id if len(rows) > limit else None
        return rows[:limit], next_cursor

    # ---- views ----------------------------------------------------------------------------
    def view(self, candidate: Candidate, masked: bool) -> CandidateOut:
        national_id = None
        if not masked and candidate.national_id_enc:
            national_id = "*********" + self.protector.decrypt(candidate.national_id_enc, candidate.id)[-3:]
        vocab = skill_vocabulary()
        return CandidateOut(
            id=candidate.id,
            centre_id=candidate.centre_id,
            status=candidate.status,
            version=candidate.version,
            masked=masked,
            full_name=mask_name(candidate.full_name) if masked else candidate.full_name,
            date_of_birth=None if masked else candidate.date_of_birth,
            gender=candidate.gender,
            phone=mask_phone(candidate.phone) if masked else candidate.phone,
            email=mask_email(candidate.email) if masked else candidate.email,
            national_id=national_id,
            address=AddressOut(
                ward_code=candidate.ward_code,
                legacy_district_code=candidate.legacy_district_code,
                legacy_ward_code=None if masked else candidate.legacy_ward_code,
                detail=None if masked else candidate.address_detail,
                lat=candidate.lat,
                lon=candidate.lon,
            ),
            occupations=candidate.occupations,
            skills=[
                SkillOut(code=s["code"], label_vi=vocab.skills[s["code"]].label_vi if s["code"] in vocab.skills else None,
                         text=s["text"])
                for s in candidate.skills
            ],
            trade_level=candidate.trade_level,
            qualification=candidate.qualification,
            certificates=[] if masked else candidate.certificates,
            experience_years=candidate.experience_years,
            desired_wage_vnd=candidate.desired_wage_vnd,
            max_commute_km=candidate.max_commute_km,
            priority_groups=[] if masked else candidate.priority_groups,
            consents={p: ConsentOut(granted=c["granted"], source=c["source"], at=datetime.fromisoformat(c["at"]))
                      for p, c in candidate.consents.items()},
            contact_channels=[] if masked else candidate.contact_channels,
            created_at=candidate.created_at,
            updated_at=candidate.updated_at,
        )

    # ---- helpers --------------------------------------------------------------------------
    async def _refuse_duplicates(self, session: AsyncSession, who: Principal, candidate: Candidate) -> None:
        existing = await repository.find_duplicate(
            session, candidate.national_id_hash, candidate.person_hash, exclude=candidate.id
        )
        if existing is not None:
            raise duplicate_of(candidate, existing, owns(who, existing))

    async def _announce(self, session: AsyncSession, event_type: str, candidate: Candidate) -> None:
        await self.outbox.add(session, self._event(event_type, candidate))

    @classmethod
    def _event(cls, event_type: str, candidate: Candidate) -> Envelope:
        return registry.envelope(SOURCE, candidate.id, CandidateProfile(**profile(candidate)), event_type)

    @classmethod
    def _contact_event(cls, candidate: Candidate, event_type: str = CONTACT_CHANGED) -> Envelope:
        return registry.envelope(SOURCE, candidate.id, ContactChanged(**contact(candidate)), event_type)

def mask_name(name: str | None) -> str | None:
    """"Nguyễn Văn An" → "Nguyễn V. A."."""
    if not name:
        return None
    parts = name.split()
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])


def mask_phone(phone: str | None) -> str | None:
    return phone[:5] + "*" * (len(phone) - 7) + phone[-2:] if phone else None


def mask_email(email: str | None) -> str | None:
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[0]}***@{domain}"
