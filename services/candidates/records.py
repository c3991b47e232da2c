"""A candidate's record made from a validated profile: the checks against the reference data, the
columns derived from others (name key, search text, encrypted national ID and blind indexes), the
filter tags and the events' payloads. No database and no session: the service uses it for one
candidate, an import's worker processes for thousands."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from kit.auth import Principal
from kit.ids import new_id
from reference.geography import geography
from reference.levels import Qualification
from reference.localtime import local_date
from reference.occupations import UnknownOccupation, occupations
from reference.skills import skill_vocabulary
from reference.text import key
from services.candidates.personal import PersonalDataProtector
from services.candidates.schemas import CandidateIn
from services.candidates.validation import age_on

if TYPE_CHECKING:
    from services.candidates.models import Candidate


class NewCandidate(SimpleNamespace):
    """The columns of a candidate about to be inserted (a plain object, not an ORM instance: an
    import makes thousands, and ORM instrumentation would cost more than the rest)."""


class InvalidCandidate(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class CandidateRecords:
    def __init__(self, protector: PersonalDataProtector, min_age_years: int = 15) -> None:
        self.protector = protector
        self.min_age_years = min_age_years

    def new(self, who: Principal, body: CandidateIn, now: datetime, candidate_id: str | None = None) -> NewCandidate:
        """A new candidate's columns from a validated body, checked against the reference data."""
        errors: list[dict[str, str]] = []
        self.check_age(body.date_of_birth, local_date(now), errors)
        location = locate(body.address.ward_code, body.address.legacy_ward_code, body.address.legacy_district_code,
                          errors)
        check_occupations(body.occupations or [], errors)
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
            skills=skills(body.skills or []),
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
        self.protect(candidate, body.national_id)
        candidate.search_text = search_text(candidate)
        return candidate

    def check_age(self, born: date, today: date, errors: list[dict[str, str]]) -> None:
        if born > today:
            errors.append({"field": "date_of_birth", "message": "is in the future"})
        elif age_on(born, today) < self.min_age_years:
            errors.append({"field": "date_of_birth", "message": f"under the labour age of {self.min_age_years}"})

    def protect(self, candidate: Candidate | NewCandidate, national_id: str | None, keep_national_id: bool = False) -> None:
        """The national ID encrypted and its blind index; the blind index of phone + name + birth date."""
        if not keep_national_id:
            candidate.national_id_enc = self.protector.encrypt(national_id, candidate.id) if national_id else None
            candidate.national_id_hash = self.protector.blind_index("national_id", national_id) if national_id else None
        candidate.person_hash = (
            self.protector.blind_index("person", candidate.phone, candidate.name_key or "",
                                       candidate.date_of_birth.isoformat())
            if candidate.phone and candidate.date_of_birth
            else None
        )


def locate(ward: str | None, legacy_ward: str | None, district: str | None, errors: list[dict[str, str]]) -> dict[str, Any]:
    """The location columns of an address given by its codes (or an error on ``errors``)."""
    location = geography().locate_address("address", errors, ward, legacy_ward, district)
    if location is None:
        return {}
    return {"ward_code": location.ward_code, "legacy_district_code": location.legacy_district_code,
            "legacy_ward_code": legacy_ward, "lat": location.lat, "lon": location.lon}


def check_occupations(codes: list[str], errors: list[dict[str, str]]) -> None:
    for i, code in enumerate(codes):
        try:
            occupations().unit_group(code)
        except UnknownOccupation as exc:
            errors.append({"field": f"occupations.{i}", "message": str(exc)})


def skills(entries: list[str]) -> list[dict[str, str | None]]:
    """Skills as written, matched to the vocabulary (free text where nothing matched)."""
    vocab = skill_vocabulary()
    found: dict[str, dict[str, str | None]] = {}
    for entry in entries:
        for match in vocab.normalise(entry):
            ident = match.code or "text:" + key(match.text)
            found.setdefault(ident, {"code": match.code, "text": match.text})
    return list(found.values())


def search_text(candidate: Candidate | NewCandidate) -> str:
    vocab = skill_vocabulary()
    words = [candidate.full_name or ""]
    words += [vocab.skills[s["code"]].label_vi if s["code"] in vocab.skills else s["text"] for s in candidate.skills]
    # One phrase per name or skill, separated so a phrase never spans two of them.
    return " " + " | ".join(key(w) for w in words if w) + " "


def tags(candidate: Candidate | NewCandidate) -> list[tuple[str, str]]:
    """What the search filters look up: occupations, skills (code or folded free text), priority groups."""
    found = [("occupation", o) for o in candidate.occupations]
    found += [("skill", s["code"] or ("text:" + key(s["text"]))[:64]) for s in candidate.skills]
    found += [("priority", g) for g in candidate.priority_groups]
    return found


def profile(candidate: Candidate | NewCandidate) -> dict[str, Any]:
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


def contact(candidate: Candidate | NewCandidate) -> dict[str, Any]:
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
