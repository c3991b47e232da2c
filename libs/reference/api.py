"""Read-only reference endpoints (served by the gateway itself: static data, no database)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kit.auth import require
from kit.problems import Problem
from reference.geography import HAI_PHONG, UnknownArea, geography
from reference.levels import PriorityGroup, Qualification, SkillLevel, TradeLevel
from reference.occupations import occupations
from reference.skills import skill_vocabulary

# Any authenticated client may read reference data; it holds no personal data.
router = APIRouter(prefix="/api/v1/reference", tags=["reference"], dependencies=[require()])


class Area(BaseModel):
    code: str
    name: str
    layout: Literal["current", "legacy"]
    level: Literal["ward", "district"]
    province_code: str
    lat: float
    lon: float
    legacy_district_code: str | None = None
    current_ward_codes: list[str] | None = Field(None, description="for legacy units: the wards it became part of")
    default_ward_code: str | None = None


class AreaList(BaseModel):
    items: list[Area]
    next_cursor: str | None = None


class OccupationOut(BaseModel):
    code: str
    level: int
    parent: str | None
    label_vi: str
    label_en: str


class SkillOut(BaseModel):
    code: str
    label_vi: str
    label_en: str
    occupations: list[str]
    aliases: list[str]


class NormaliseIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000, examples=["Hàn điện, lai xe nang, may công nghiệp"])


class SkillMatchOut(BaseModel):
    code: str | None
    label_vi: str | None
    text: str
    how: str
    score: float


class Enumerations(BaseModel):
    trade_levels: dict[int, str]
    skill_levels: dict[int, str]
    qualifications: dict[str, str]
    priority_groups: dict[str, str]


@router.get("/areas", response_model=AreaList, summary="Wards (current) or districts (legacy) of a province")
async def list_areas(
    province: str = Query(HAI_PHONG, pattern=r"^\d{2}$", description="province code (Hải Phòng = 31)"),
    layout: Literal["current", "legacy"] = "current",
) -> AreaList:
    geo = geography()
    try:
        if layout == "current":
            items = [
                Area(code=w.code, name=w.name, layout="current", level="ward", province_code=w.province_code,
                     lat=w.lat, lon=w.lon, legacy_district_code=w.legacy_district_code)
                for w in geo.wards_of_province(province)
            ]
        else:
            items = [_legacy(d.code, "district") for d in geo.legacy_districts_of_province(province)]
    except UnknownArea as exc:
        raise Problem(404, "unknown-area", str(exc)) from None
    return AreaList(items=items)


@router.get("/areas/{code}", response_model=Area, summary="One unit, with the current wards a legacy unit maps to")
async def get_area(
    code: str, layout: Literal["current", "legacy_ward", "legacy_district"] = "current"
) -> Area:
    geo = geography()
    try:
        if layout == "current":
            w = geo.ward(code)
            return Area(code=w.code, name=w.name, layout="current", level="ward", province_code=w.province_code,
                        lat=w.lat, lon=w.lon, legacy_district_code=w.legacy_district_code)
        return _legacy(code, "ward" if layout == "legacy_ward" else "district")
    except UnknownArea as exc:
        raise Problem(404, "unknown-area", str(exc)) from None


def _legacy(code: str, level: Literal["ward", "district"]) -> Area:
    geo = geography()
    unit = geo.legacy_ward(code) if level == "ward" else geo.legacy_district(code)
    conv = geo.convert_legacy_ward(code) if level == "ward" else geo.convert_legacy_district(code)
    return Area(code=unit.code, name=unit.name, layout="legacy", level=level, province_code=unit.province_code,
                lat=unit.lat, lon=unit.lon, legacy_district_code=unit.district_code,
                current_ward_codes=list(conv.ward_codes), default_ward_code=conv.default)


@router.get("/occupations", response_model=list[OccupationOut], summary="ISCO-08 / VSCO occupations")
async def list_occupations(
    q: str | None = Query(None, max_length=100, description="words of the title, any diacritics"),
    level: int | None = Query(None, ge=1, le=4),
    limit: int = Query(50, ge=1, le=500),
) -> list[OccupationOut]:
    occs = occupations()
    found = occs.search(q, limit=10_000) if q else occs.all()
    return [OccupationOut(**o.__dict__) for o in found if level is None or o.level == level][:limit]


@router.get("/skills", response_model=list[SkillOut], summary="The skill vocabulary")
async def list_skills(
    occupation: str | None = Query(None, pattern=r"^\d{4}$"), limit: int = Query(100, ge=1, le=1000)
) -> list[SkillOut]:
    vocab = skill_vocabulary()
    skills = [s for s in vocab.skills.values() if occupation is None or occupation in s.occupations]
    return [
        SkillOut(code=s.code, label_vi=s.label_vi, label_en=s.label_en, occupations=list(s.occupations),
                 aliases=list(s.aliases))
        for s in skills[:limit]
    ]


@router.post("/skills:normalise", response_model=list[SkillMatchOut], summary="Free text → skill codes")
async def normalise_skills(body: NormaliseIn) -> list[SkillMatchOut]:
    vocab = skill_vocabulary()
    return [
        SkillMatchOut(code=m.code, label_vi=vocab.skills[m.code].label_vi if m.code else None, text=m.text,
                      how=m.how, score=m.score)
        for m in vocab.normalise(body.text)
    ]


@router.get("/enumerations", response_model=Enumerations, summary="Trade levels, qualifications, priority groups")
async def enumerations() -> Enumerations:
    return Enumerations(
        trade_levels={t.value: t.label_vi for t in TradeLevel},
        skill_levels={s.value: s.label_vi for s in SkillLevel},
        qualifications={q.value: q.label_vi for q in Qualification},
        priority_groups={g.value: g.label_vi for g in PriorityGroup},
    )
