"""An address as the API takes it: the area by the codes of the reference data (a post-2025
ward, or the legacy district and ward it replaced), and free text for the street."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ward_code: str | None = Field(None, pattern=r"^\d{5}$", description="post-2025 ward/commune code")
    legacy_district_code: str | None = Field(None, pattern=r"^\d{3}$", description="pre-2025 district code")
    legacy_ward_code: str | None = Field(None, pattern=r"^\d{5}$", description="pre-2025 ward code")
    detail: str | None = Field(None, max_length=300, description="street and house number")

    @model_validator(mode="after")
    def _some_area(self) -> AddressIn:
        if not (self.ward_code or self.legacy_district_code or self.legacy_ward_code):
            raise ValueError("give a ward_code (post-2025) or a legacy district/ward code")
        return self
