"""A vacancy's record made from a validated body: the checks against the reference data, the
workplace's location, the required skills matched to the vocabulary, the search text, the
event's payload, and the views the API answers with. No database and no session: the service
uses it for one vacancy, an import for a batch it checks before writing it whole."""

from __future__ import annotations

from typing import Any

from reference.geography import geography
from reference.occupations import UnknownOccupation, occupations
from reference.skills import skill_vocabulary
from reference.text import key
from services.vacancies.models import Employer, Vacancy
from services.vacancies.schemas import AreaOut, EmployerOut, RequiredSkillIn, RequiredSkillOut, VacancyOut, Workplace


def skill_key(code: str | None, text: str) -> str:
    """The filter value of a skill: its code, or ``text:`` + its folded words."""
    return code or ("text:" + key(text))[:64]


def profile(vacancy: Vacancy) -> dict[str, Any]:
    """The fields of a ``VacancyProfile`` event: what matching needs to rank the vacancy."""
    return {
        "vacancy_id": vacancy.id, "version": vacancy.version, "employer_id": vacancy.employer_id,
        "centre_id": vacancy.centre_id, "status": vacancy.status, "title": vacancy.title,
        "occupation": vacancy.occupation, "required_skills": vacancy.required_skills,
        "min_trade_level": vacancy.min_trade_level, "min_qualification": vacancy.min_qualification,
        "openings": vacancy.openings, "hires": vacancy.hires, "wage_min_vnd": vacancy.wage_min_vnd,
        "wage_max_vnd": vacancy.wage_max_vnd, "ward_code": vacancy.ward_code,
        "legacy_district_code": vacancy.legacy_district_code, "lat": vacancy.lat, "lon": vacancy.lon,
        "social_insurance": vacancy.social_insurance, "shifts": vacancy.shifts,
        "accepts_priority_groups": vacancy.accepts_priority_groups, "deadline": vacancy.deadline,
    }


def check_occupation(code: str, errors: list[dict[str, str]]) -> None:
    try:
        occupations().unit_group(code)
    except UnknownOccupation as exc:
        errors.append({"field": "occupation", "message": str(exc)})


def workplace(given: Workplace | None, employer: Employer, errors: list[dict[str, str]]) -> dict[str, Any]:
    """The location of a vacancy's workplace: the one given, or the employer's address."""
    if given is not None:
        return locate(given, errors, "workplace")
    if employer.ward_code is None:
        errors.append({"field": "workplace", "message": "the employer has no address: give the workplace"})
        return {}
    return {"ward_code": employer.ward_code, "legacy_district_code": employer.legacy_district_code,
            "lat": employer.lat, "lon": employer.lon}


def locate(area: Workplace, errors: list[dict[str, str]], prefix: str, need_ward: bool = True) -> dict[str, Any]:
    """The location columns of an area given by its codes (or an error on ``errors``)."""
    found = geography().locate_address(prefix, errors, area.ward_code, area.legacy_ward_code, area.legacy_district_code,
                                       need_ward)
    if found is None:
        return {}
    return {"ward_code": found.ward_code, "legacy_district_code": found.legacy_district_code,
            "lat": found.lat, "lon": found.lon}


def required_skills(entries: list[RequiredSkillIn]) -> list[dict[str, str | None]]:
    """Normalised required skills; a skill named as both must and nice is a must."""
    vocab = skill_vocabulary()
    found: dict[str, dict[str, str | None]] = {}
    for entry in entries:
        for match in vocab.normalise(entry.skill):
            ident = skill_key(match.code, match.text)
            if ident not in found or entry.kind == "must":
                found[ident] = {"code": match.code, "text": match.text, "kind": entry.kind}
    return list(found.values())


def search_text(vacancy: Vacancy, employer: Employer | None) -> str:
    """What ``q`` searches: the title, the employer's name and the skills, folded."""
    vocab = skill_vocabulary()
    words = [vacancy.title, employer.name if employer else ""]
    words += [vocab.skills[s["code"]].label_vi if s["code"] in vocab.skills else s["text"]
              for s in vacancy.required_skills]
    # One phrase per title, name or skill, separated so a phrase never spans two of them.
    return " " + " | ".join(key(w) for w in words if w) + " "


def employer_view(employer: Employer) -> EmployerOut:
    """An employer as the API shows it."""
    return EmployerOut(
        id=employer.id, centre_id=employer.centre_id, name=employer.name, tax_code=employer.tax_code,
        industry=employer.industry, fdi=employer.fdi,
        address=AreaOut(ward_code=employer.ward_code, legacy_district_code=employer.legacy_district_code,
                        detail=employer.address_detail, lat=employer.lat, lon=employer.lon),
        contact_email=employer.contact_email, contact_phone=employer.contact_phone, created_at=employer.created_at,
    )


def vacancy_view(vacancy: Vacancy) -> VacancyOut:
    """A vacancy as the API shows it, its skills labelled from the vocabulary."""
    vocab = skill_vocabulary()
    return VacancyOut(
        id=vacancy.id,
        employer_id=vacancy.employer_id,
        centre_id=vacancy.centre_id,
        status=vacancy.status,
        close_reason=vacancy.close_reason,
        version=vacancy.version,
        title=vacancy.title,
        description=vacancy.description,
        occupation=vacancy.occupation,
        required_skills=[
            RequiredSkillOut(code=s["code"], text=s["text"], kind=s["kind"],
                             label_vi=vocab.skills[s["code"]].label_vi if s["code"] in vocab.skills else None)
            for s in vacancy.required_skills
        ],
        min_trade_level=vacancy.min_trade_level,
        min_qualification=vacancy.min_qualification,
        openings=vacancy.openings,
        hires=vacancy.hires,
        wage_min_vnd=vacancy.wage_min_vnd,
        wage_max_vnd=vacancy.wage_max_vnd,
        workplace=AreaOut(ward_code=vacancy.ward_code, legacy_district_code=vacancy.legacy_district_code,
                          lat=vacancy.lat, lon=vacancy.lon),
        social_insurance=vacancy.social_insurance,
        shifts=vacancy.shifts,
        accepts_priority_groups=vacancy.accepts_priority_groups,
        deadline=vacancy.deadline,
        created_at=vacancy.created_at,
        updated_at=vacancy.updated_at,
        closed_at=vacancy.closed_at,
    )
