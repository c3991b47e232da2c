"""Candidate registration, updates, erasure and search: the domain rules, no HTTP, no SQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.events import EncodedEnvelope, Envelope
from kit.ids import new_id
from kit.outbox import Outbox
from reference.geography import UnknownArea, geography
from reference.levels import Qualification
from reference.occupations import UnknownOccupation, occupations
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
from services.candidates.schemas import (
    AddressOut,
    CandidateIn,
    CandidateOut,
    CandidatePatch,
    ConsentOut,
    SkillOut,
)
from services.candidates.validation import InvalidValue, age_on, check_citizen_id

SOURCE = "/joblink/candidates"


class NewCandidate(SimpleNamespace):
    """The columns of a candidate about to be inserted."""


class Ready(NamedTuple):
    """A new candidate as a bulk write takes it: its row (``repository.CANDIDATE_COLUMNS``), tags
    and encoded events."""

    id: str
    national_id_hash: str | None
    person_hash: str | None
    row: tuple[Any, ...]
    tags: tuple[tuple[str, str], ...]
    events: tuple[EncodedEnvelope, ...]


class CandidateNotFound(LookupError):
    pass


class NotOwner(PermissionError):
    pass


class DuplicateCandidate(Exception):
    def __init__(self, reason: str, existing_id: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.existing_id = existing_id  # None when the caller may not learn it


class InvalidCandidate(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


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


def duplicate_of(who: Principal, candidate: Candidate | Ready, existing: Candidate | Ready) -> DuplicateCandidate:
    """Why ``candidate`` duplicates ``existing``; the existing id only if the caller may see it
    (it may: an earlier row of the caller's own batch)."""
    reason = (
        "a candidate with this national ID is registered"
        if candidate.national_id_hash and existing.national_id_hash == candidate.national_id_hash
        else "a candidate with this phone, name and date of birth is registered"
    )
    return DuplicateCandidate(reason, existing.id if isinstance(existing, Ready) or owns(who, existing) else None)


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
        self.min_age_years = min_age_years
        self.clock = clock

    # ---- commands -------------------------------------------------------------------------
    async def register(self, session: AsyncSession, who: Principal, body: CandidateIn) -> Candidate:
        candidate = Candidate(**vars(self.prepare(who, body)))
        await self._refuse_duplicates(session, who, candidate)
        await repository.add(session, candidate, self._tags(candidate))
        await self._announce(session, REGISTERED, candidate)
        if notifiable(candidate):
            await self.outbox.add(session, self._contact_event(candidate))
        return candidate

    async def register_prepared(
        self, session: AsyncSession, who: Principal, prepared: list[Ready]
    ) -> list[Ready | DuplicateCandidate]:
        """Register a batch ``ready_many`` made (maybe in another process) with one duplicate
        lookup and bulk writes; each entry of the result is the candidate or why it was refused.
        A duplicate created concurrently by another writer makes the write fail: the caller then
        retries row by row."""
        existing = await repository.find_duplicates(
            session,
            [c.national_id_hash for c in prepared if c.national_id_hash],
            [c.person_hash for c in prepared if c.person_hash],
        )
        seen: dict[str, Candidate | Ready] = {row_hash: row for row in existing for row_hash in
                                              (row.national_id_hash, row.person_hash) if row_hash}
        results: list[Ready | DuplicateCandidate] = []
        for candidate in prepared:
            clash = next((seen[h] for h in (candidate.national_id_hash, candidate.person_hash) if h and h in seen), None)
            if clash is not None:
                results.append(duplicate_of(who, candidate, clash))
                continue
            for h in (candidate.national_id_hash, candidate.person_hash):
                if h:
                    seen[h] = candidate
            results.append(candidate)
        accepted = [c for c in results if isinstance(c, Ready)]
        await repository.add_ready(session, accepted)
        await self.outbox.add_all(session, (event for c in accepted for event in c.events))
        return results

    def ready_many(self, candidates: list[NewCandidate]) -> list[Ready]:
        """Prepared candidates as the batch path writes them: each one's row, tags and encoded
        events (plain tuples: a worker process sends them back cheaply)."""
        registered = registry.encode_many(SOURCE, REGISTERED, ((c.id, self._profile(c)) for c in candidates))
        contacts = iter(registry.encode_many(SOURCE, CONTACT_CHANGED,
                                             ((c.id, self._contact(c)) for c in candidates if notifiable(c))))
        row = attrgetter(*repository.CANDIDATE_COLUMNS)
        return [
            Ready(c.id, c.national_id_hash, c.person_hash, row(c), tuple(dict.fromkeys(self._tags(c))),
                  (event, next(contacts)) if notifiable(c) else (event,))
            for c, event in zip(candidates, registered, strict=True)
        ]

    def prepare(self, who: Principal, body: CandidateIn, now: datetime | None = None,
                candidate_id: str | None = None) -> NewCandidate:
        """A new candidate's row from a validated body, checked against the reference data (a
        plain object, not yet an ORM instance: the batch path writes thousands with COPY, and
        ORM instrumentation would cost more than the rest of the preparation). Needs no
        database: an import runs it in a worker process."""
        now = now or self.clock()
        errors: list[dict[str, str]] = []
        self._check_age(body.date_of_birth, now.date(), errors)
        location = self._locate(body.address.ward_code, body.address.legacy_ward_code,
                                body.address.legacy_district_code, errors)
        self._check_occupations(body.occupations or [], errors)
        if errors:
            raise InvalidCandidate(errors)
        at = now.isoformat()
        candidate = NewCandidate(
            erased_at=None,
            id=candidate_id or new_id(),
            centre_id=who.centre_id,
            registered_by=who.client_id,
            status=body.status or "seeking",
            version=1,
            full_name=body.full_name,
            name_key=key(body.full_name),
            date_of_birth=body.date_of_birth,
            gender=body.gender,
            phone=body.phone,
            email=body.email,
            address_detail=body.address.detail,
            occupations=list(dict.fromkeys(body.occupations or [])),
            skills=self._skills(body.skills or []),
            trade_level=body.trade_level,
            qualification=(body.qualification or Qualification.NONE).value,
            certificates=body.certificates or [],
            experience_years=body.experience_years or 0,
            desired_wage_vnd=body.desired_wage_vnd,
            max_commute_km=body.max_commute_km,
            priority_groups=[g.value for g in body.priority_groups or []],
            consents={p: {"granted": c.granted, "source": c.source, "at": at}
                      for p, c in (body.consents or {}).items()},
            contact_channels=body.contact_channels or [],
            created_at=now,
            updated_at=now,
            **location,
        )
        self._protect(candidate, body.national_id)
        candidate.search_text = self._search_text(candidate)
        return candidate

    async def update(self, session: AsyncSession, who: Principal, candidate_id: str, patch: CandidatePatch) -> Candidate:
        candidate = await repository.get(session, candidate_id, for_update=True)
        if candidate is None:
            raise CandidateNotFound(candidate_id)
        if not owns(who, candidate):
            raise NotOwner(candidate_id)
        tags = self._tags(candidate)
        now = self.clock()
        changes = patch.model_dump(exclude_unset=True)
        errors: list[dict[str, str]] = []
        if "date_of_birth" in changes and patch.date_of_birth:
            self._check_age(patch.date_of_birth, now.date(), errors)
        if "address" in changes and patch.address is not None:
            candidate.address_detail = patch.address.detail
            location = self._locate(patch.address.ward_code, patch.address.legacy_ward_code,
                                    patch.address.legacy_district_code, errors)
            for name, value in location.items():
                setattr(candidate, name, value)
        if "occupations" in changes:
            self._check_occupations(patch.occupations or [], errors)
        if errors:
            raise InvalidCandidate(errors)
        simple = ("full_name", "date_of_birth", "gender", "phone", "email", "trade_level", "certificates",
                  "experience_years", "desired_wage_vnd", "max_commute_km", "status")
        for name in simple:
            if name in changes:
                setattr(candidate, name, getattr(patch, name))
        if "full_name" in changes and patch.full_name:
            candidate.name_key = key(patch.full_name)
        if "occupations" in changes:
            candidate.occupations = list(dict.fromkeys(patch.occupations or []))
        if "skills" in changes:
            candidate.skills = self._skills(patch.skills or [])
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
            self._protect(candidate, patch.national_id)
        elif {"phone", "full_name", "date_of_birth"} & changes.keys():
            self._protect(candidate, None, keep_national_id=True)
        await self._refuse_duplicates(session, who, candidate)
        candidate.search_text = self._search_text(candidate)
        candidate.version += 1
        candidate.updated_at = now
        await repository.replace_tags(session, candidate.id, tags, self._tags(candidate))
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
        tags = self._tags(candidate)
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
        await repository.replace_tags(session, candidate.id, tags, self._tags(candidate))  # free-text skills go
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
    def _check_age(self, born: date, today: date, errors: list[dict[str, str]]) -> None:
        if born > today:
            errors.append({"field": "date_of_birth", "message": "is in the future"})
        elif age_on(born, today) < self.min_age_years:
            errors.append({"field": "date_of_birth", "message": f"under the labour age of {self.min_age_years}"})

    @staticmethod
    def _locate(ward: str | None, legacy_ward: str | None, district: str | None,
                errors: list[dict[str, str]]) -> dict[str, Any]:
        try:
            location = geography().locate(ward_code=ward, legacy_ward_code=legacy_ward, legacy_district_code=district)
        except UnknownArea as exc:
            field = {"ward": "ward_code", "legacy ward": "legacy_ward_code", "legacy district": "legacy_district_code"}
            errors.append({"field": "address." + field.get(exc.kind, "ward_code"), "message": str(exc)})
            return {}
        return {"ward_code": location.ward_code, "legacy_district_code": location.legacy_district_code,
                "legacy_ward_code": legacy_ward, "lat": location.lat, "lon": location.lon}

    @staticmethod
    def _check_occupations(codes: list[str], errors: list[dict[str, str]]) -> None:
        for i, code in enumerate(codes):
            try:
                if occupations().get(code).level != 4:
                    raise UnknownOccupation(code)
            except UnknownOccupation as exc:
                errors.append({"field": f"occupations.{i}", "message": str(exc)})

    @staticmethod
    def _skills(entries: list[str]) -> list[dict[str, str | None]]:
        vocab = skill_vocabulary()
        found: dict[str, dict[str, str | None]] = {}
        for entry in entries:
            for match in vocab.normalise(entry):
                ident = match.code or "text:" + key(match.text)
                found.setdefault(ident, {"code": match.code, "text": match.text})
        return list(found.values())

    def _protect(self, candidate: Candidate, national_id: str | None, keep_national_id: bool = False) -> None:
        if not keep_national_id:
            candidate.national_id_enc = self.protector.encrypt(national_id, candidate.id) if national_id else None
            candidate.national_id_hash = self.protector.blind_index("national_id", national_id) if national_id else None
        candidate.person_hash = (
            self.protector.blind_index("person", candidate.phone, candidate.name_key or "",
                                       candidate.date_of_birth.isoformat())
            if candidate.phone and candidate.date_of_birth
            else None
        )

    async def _refuse_duplicates(self, session: AsyncSession, who: Principal, candidate: Candidate) -> None:
        existing = await repository.find_duplicate(
            session, candidate.national_id_hash, candidate.person_hash, exclude=candidate.id
        )
        if existing is not None:
            raise duplicate_of(who, candidate, existing)

    @staticmethod
    def _search_text(candidate: Candidate) -> str:
        vocab = skill_vocabulary()
        words = [candidate.full_name or ""]
        words += [vocab.skills[s["code"]].label_vi if s["code"] in vocab.skills else s["text"] for s in candidate.skills]
        # One phrase per name or skill, separated so a phrase never spans two of them.
        return " " + " | ".join(key(w) for w in words if w) + " "

    @staticmethod
    def _tags(candidate: Candidate) -> list[tuple[str, str]]:
        tags = [("occupation", o) for o in candidate.occupations]
        tags += [("skill", s["code"] or ("text:" + key(s["text"]))[:64]) for s in candidate.skills]
        tags += [("priority", g) for g in candidate.priority_groups]
        return tags

    async def _announce(self, session: AsyncSession, event_type: str, candidate: Candidate) -> None:
        await self.outbox.add(session, self._event(event_type, candidate))

    @classmethod
    def _event(cls, event_type: str, candidate: Candidate) -> Envelope:
        return registry.envelope(SOURCE, candidate.id, CandidateProfile(**cls._profile(candidate)), event_type)

    @staticmethod
    def _profile(candidate: Candidate | NewCandidate) -> dict[str, Any]:
        """The fields of a ``CandidateProfile`` event: what matching needs, no personal data."""
        return {
            "candidate_id": candidate.id,
            "version": candidate.version,
            "centre_id": candidate.centre_id,
            "status": candidate.status,
            "occupations": candidate.occupations,
            "skills": [{"code": s["code"], "text": s["text"]} for s in candidate.skills],
            "trade_level": candidate.trade_level,
            "qualification": candidate.qualification,
            "experience_years": candidate.experience_years,
            "desired_wage_vnd": candidate.desired_wage_vnd,
            "max_commute_km": candidate.max_commute_km,
            "ward_code": candidate.ward_code,
            "legacy_district_code": candidate.legacy_district_code,
            "lat": candidate.lat,
            "lon": candidate.lon,
            "priority_groups": candidate.priority_groups,
            "consents": {p: bool(c["granted"]) for p, c in candidate.consents.items()},
        }

    @classmethod
    def _contact_event(cls, candidate: Candidate | NewCandidate, event_type: str = CONTACT_CHANGED) -> Envelope:
        return registry.envelope(SOURCE, candidate.id, ContactChanged(**cls._contact(candidate)), event_type)

    @staticmethod
    def _contact(candidate: Candidate | NewCandidate) -> dict[str, Any]:
        """The fields of a ``ContactChanged`` event; contact details only with consent."""
        consented = notifiable(candidate)
        return {
            "candidate_id": candidate.id,
            "version": candidate.version,
            "notifications": consented,
            "full_name": candidate.full_name if consented else None,
            "phone": candidate.phone if consented else None,
            "email": candidate.email if consented else None,
            "channels": candidate.contact_channels,
        }


def notifiable(candidate: Candidate | NewCandidate) -> bool:
    """The person agreed to receive notifications (invitations to job fairs)."""
    return bool(candidate.consents.get("notifications", {}).get("granted"))


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
