"""Request and response bodies of the vacancies API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reference.addresses import AddressIn
from reference.levels import Qualification
from reference.text import clean
from services.vacancies.validation import InvalidValue, normalise_tax_code

Status = Literal["open", "filled", "closed"]
SkillKind = Literal["must", "nice"]
# VSIC 2018 sections (Hệ thống ngành kinh tế Việt Nam, Decision 27/2018/QĐ-TTg).
VSIC_SECTIONS = "ABCDEFGHIJKLMNOPQRSTU"
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean(value)
    if not any(c.isalnum() for c in value):
        raise ValueError("has no letters or digits")
    return value


class Workplace(AddressIn):
    """Where an employer is, or where a vacancy's work is done."""


class EmployerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200, examples=["Công ty TNHH Điện tử Hải Long"])
    tax_code: str = Field(description="mã số thuế: 10 digits, or 10 + `-NNN` for a branch", examples=["0314409058"])
    industry: str | None = Field(None, description="VSIC 2018 section letter (C = manufacturing, …)")
    fdi: bool = Field(False, description="foreign-invested enterprise (doanh nghiệp FDI)")
    address: Workplace | None = None
    contact_email: str | None = Field(None, max_length=254, pattern=EMAIL)
    contact_phone: str | None = Field(None, max_length=20, pattern=r"^\+?[\d .()-]{8,20}$")

    @field_validator("name")
    @classmethod
    def _name_text(cls, value: str | None) -> str | None:
        return _clean_text(value)

    @field_validator("tax_code")
    @classmethod
    def _tax_code(cls, value: str) -> str:
        try:
            return normalise_tax_code(value)
        except InvalidValue as exc:
            raise ValueError(str(exc)) from None

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if len(value) != 1 or value not in VSIC_SECTIONS:
            raise ValueError("a VSIC 2018 section letter, A to U")
        return value


class AreaOut(BaseModel):
    ward_code: str | None
    legacy_district_code: str | None
    detail: str | None = None
    lat: float | None
    lon: float | None


class EmployerOut(BaseModel):
    id: str
    centre_id: str | None
    name: str
    tax_code: str
    industry: str | None
    fdi: bool
    address: AreaOut
    contact_email: str | None
    contact_phone: str | None
    created_at: datetime


class EmployerPage(BaseModel):
    items: list[EmployerOut]
    next_cursor: str | None


class RequiredSkillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skill: str = Field(min_length=1, max_length=100, description="a skill code or words", examples=["hàn điện"])
    kind: SkillKind = "must"

    @field_validator("skill")
    @classmethod
    def _skill_text(cls, value: str | None) -> str | None:
        return _clean_text(value)


class _VacancyFields(BaseModel):
    """Fields set on create and changeable later."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, min_length=2, max_length=200)
    description: str | None = Field(None, max_length=5000)
    occupation: str | None = Field(None, pattern=r"^\d{4}$", description="ISCO-08 / VSCO unit group")
    required_skills: list[RequiredSkillIn] | None = Field(None, max_length=30)
    min_trade_level: int | None = Field(None, ge=1, le=7, description="bậc thợ 1–7")
    min_qualification: Qualification | None = None
    openings: int | None = Field(None, ge=1, le=10_000)
    wage_min_vnd: int | None = Field(None, ge=0, le=1_000_000_000)
    wage_max_vnd: int | None = Field(None, ge=0, le=1_000_000_000)
    workplace: Workplace | None = None
    social_insurance: bool | None = Field(None, description="the employer pays social insurance (BHXH)")
    shifts: str | None = Field(None, max_length=100, examples=["2 ca"])
    accepts_priority_groups: bool | None = Field(None, description="welcomes priority-group candidates")
    deadline: date | None = Field(None, description="last day to apply; the vacancy closes after it")

    @field_validator("title")
    @classmethod
    def _title_text(cls, value: str | None) -> str | None:
        return _clean_text(value)

    @field_validator("wage_max_vnd")
    @classmethod
    def _wage_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("wage_min_vnd")  # (declared before it)
        if value is not None and low is not None and low > value:
            raise ValueError("is below wage_min_vnd")
        return value


class VacancyIn(_VacancyFields):
    employer_id: str = Field(min_length=1, max_length=36)
    title: str = Field(min_length=2, max_length=200, examples=["Thợ hàn điện"])
    occupation: str = Field(pattern=r"^\d{4}$", description="ISCO-08 / VSCO unit group", examples=["7212"])
    openings: int = Field(ge=1, le=10_000)
    workplace: Workplace | None = Field(None, description="defaults to the employer's address")
    deadline: date


class VacancyPatch(_VacancyFields):
    """The fields to change; a field left out keeps its value. ``null`` empties a field that may be
    empty; a null ``workplace`` is the employer's address again; ``title``, ``occupation``,
    ``openings``, ``deadline``, ``social_insurance`` and ``accepts_priority_groups`` may not be
    null."""


class RequiredSkillOut(BaseModel):
    code: str | None
    label_vi: str | None
    text: str
    kind: SkillKind


class VacancyOut(BaseModel):
    id: str
    employer_id: str
    centre_id: str | None
    status: Status
    close_reason: str | None
    version: int
    title: str
    description: str | None
    occupation: str
    required_skills: list[RequiredSkillOut]
    min_trade_level: int | None
    min_qualification: Qualification
    openings: int
    hires: int
    wage_min_vnd: int | None
    wage_max_vnd: int | None
    workplace: AreaOut
    social_insurance: bool
    shifts: str | None
    accepts_priority_groups: bool
    deadline: date
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class VacancyPage(BaseModel):
    items: list[VacancyOut]
    next_cursor: str | None
