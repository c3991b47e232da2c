"""Request and response bodies of the candidates API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reference.addresses import AddressIn
from reference.levels import PriorityGroup, Qualification
from reference.text import clean
from services.candidates.validation import InvalidValue, check_citizen_id, normalise_phone

Gender = Literal["male", "female", "other"]
Status = Literal["seeking", "employed", "inactive"]
Purpose = Literal["matching", "share_with_employers", "notifications"]
Channel = Literal["sms", "email", "app"]
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    granted: bool
    source: str = Field(min_length=1, max_length=100, examples=["phiếu đăng ký tại trung tâm"])


class ConsentOut(BaseModel):
    granted: bool
    source: str
    at: datetime


class AddressOut(BaseModel):
    ward_code: str | None
    legacy_district_code: str | None
    legacy_ward_code: str | None
    detail: str | None
    lat: float | None
    lon: float | None


class _Profile(BaseModel):
    """Fields a centre may set on create and change later."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    gender: Gender | None = None
    phone: str | None = Field(None, max_length=30)
    email: str | None = Field(None, max_length=254, pattern=EMAIL)
    address: AddressIn | None = None
    occupations: list[str] | None = Field(None, max_length=10, description="ISCO-08 / VSCO unit group codes")
    skills: list[str] | None = Field(None, max_length=30, description="skill codes or free text")
    trade_level: int | None = Field(None, ge=1, le=7, description="bậc thợ 1–7")
    qualification: Qualification | None = None
    certificates: list[str] | None = Field(None, max_length=20)
    experience_years: int | None = Field(None, ge=0, le=60)
    desired_wage_vnd: int | None = Field(None, ge=0, le=1_000_000_000)
    max_commute_km: float | None = Field(None, gt=0, le=300)
    priority_groups: list[PriorityGroup] | None = Field(None, max_length=9)
    consents: dict[Purpose, ConsentIn] | None = None
    contact_channels: list[Channel] | None = Field(
        None, max_length=3, description="how to reach the person for invitations, preferred first "
        "(app = the mobile app); empty: SMS, then e-mail")
    status: Status | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("contact_channels")
    @classmethod
    def _distinct_channels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each channel at most once")
        return value

    @field_validator("occupations")
    @classmethod
    def _occupation_codes(cls, value: list[str] | None) -> list[str] | None:
        for code in value or []:
            if len(code) != 4 or not code.isdigit():
                raise ValueError("occupation codes have 4 digits (ISCO-08 unit groups)")
        return value

    @field_validator("skills", "certificates")
    @classmethod
    def _texts(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [clean(v) for v in value]
        if any(not v or len(v) > 100 for v in cleaned):
            raise ValueError("each entry has 1 to 100 characters")
        return cleaned


def person_name(value: str) -> str:
    """A person's name cleaned (``reference.text.clean``); it must have letters."""
    value = clean(value)
    if not any(c.isalpha() for c in value):
        raise ValueError("a name has letters")
    return value


class CandidateIn(_Profile):
    full_name: str = Field(min_length=2, max_length=150)
    date_of_birth: date
    national_id: str | None = Field(None, description="12-digit citizen ID (CCCD); write-only")
    address: AddressIn

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return person_name(value)

    @field_validator("national_id")
    @classmethod
    def _citizen_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Checked against the date of birth and gender (declared before it), where they are valid."""
        if value:
            try:
                check_citizen_id(value, info.data.get("date_of_birth"), info.data.get("gender"))
            except InvalidValue as exc:
                raise ValueError(str(exc)) from None
        return value


class CandidatePatch(_Profile):
    """The fields to change; a field left out keeps its value. ``null`` empties a field that may be
    empty (lists, phone, e-mail, …); ``full_name``, ``date_of_birth``, ``address`` and ``status``
    may not be null."""

    full_name: str | None = Field(None, min_length=2, max_length=150)
    date_of_birth: date | None = None
    national_id: str | None = Field(None, description="12-digit citizen ID (CCCD); write-only")

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else person_name(value)


class SkillOut(BaseModel):
    code: str | None
    label_vi: str | None
    text: str


class CandidateOut(BaseModel):
    id: str
    centre_id: str | None
    status: Status
    version: int
    masked: bool = Field(description="personal fields hidden: the candidate belongs to another centre")
    full_name: str | None
    date_of_birth: date | None
    gender: Gender | None
    phone: str | None
    email: str | None
    national_id: str | None = Field(description="never returned in full: the last 3 digits at most")
    address: AddressOut
    occupations: list[str]
    skills: list[SkillOut]
    trade_level: int | None
    qualification: Qualification
    certificates: list[str]
    experience_years: int
    desired_wage_vnd: int | None
    max_commute_km: float | None
    priority_groups: list[PriorityGroup]
    consents: dict[Purpose, ConsentOut]
    contact_channels: list[Channel]
    created_at: datetime
    updated_at: datetime


class CandidatePage(BaseModel):
    items: list[CandidateOut]
    next_cursor: str | None
