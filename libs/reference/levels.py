"""Trade levels (bậc thợ), national vocational skill levels and qualifications, with Vietnamese
labels and an order, as used in candidate profiles and vacancy requirements."""

from __future__ import annotations

from enum import Enum, IntEnum


class TradeLevel(IntEnum):
    """Bậc thợ 1–7 (the seven-grade worker scale still used by employers in industry)."""

    BAC_1 = 1
    BAC_2 = 2
    BAC_3 = 3
    BAC_4 = 4
    BAC_5 = 5
    BAC_6 = 6
    BAC_7 = 7

    @property
    def label_vi(self) -> str:
        return f"Thợ bậc {self.value}/7"


class SkillLevel(IntEnum):
    """Bậc trình độ kỹ năng nghề quốc gia 1–5 (national occupational skill certificates)."""

    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4
    LEVEL_5 = 5

    @property
    def label_vi(self) -> str:
        return f"Kỹ năng nghề quốc gia bậc {self.value}"


class Qualification(str, Enum):
    """Highest education or vocational training completed, in increasing order."""

    NONE = "none"
    PRIMARY_VOCATIONAL = "primary_vocational"
    INTERMEDIATE = "intermediate"
    COLLEGE = "college"
    UNIVERSITY = "university"

    @property
    def rank(self) -> int:
        return _QUALIFICATION_ORDER.index(self)

    @property
    def label_vi(self) -> str:
        return _QUALIFICATION_LABELS[self]


_QUALIFICATION_ORDER = list(Qualification)
_QUALIFICATION_LABELS = {
    Qualification.NONE: "Chưa qua đào tạo",
    Qualification.PRIMARY_VOCATIONAL: "Sơ cấp nghề",
    Qualification.INTERMEDIATE: "Trung cấp",
    Qualification.COLLEGE: "Cao đẳng",
    Qualification.UNIVERSITY: "Đại học trở lên",
}


class PriorityGroup(str, Enum):
    """Groups the employment service deliberately favours (SPEC §4)."""

    POOR_HOUSEHOLD = "poor_household"
    NEAR_POOR_HOUSEHOLD = "near_poor_household"
    RECENTLY_ESCAPED_POVERTY = "recently_escaped_poverty"
    YOUTH = "youth"
    DEMOBILISED_SOLDIER = "demobilised_soldier"
    DISABLED = "disabled"
    ETHNIC_MINORITY = "ethnic_minority"
    RELEASED_PRISONER = "released_prisoner"
    RURAL_WORKER = "rural_worker"

    @property
    def label_vi(self) -> str:
        return _PRIORITY_LABELS[self]


_PRIORITY_LABELS = {
    PriorityGroup.POOR_HOUSEHOLD: "Hộ nghèo",
    PriorityGroup.NEAR_POOR_HOUSEHOLD: "Hộ cận nghèo",
    PriorityGroup.RECENTLY_ESCAPED_POVERTY: "Hộ mới thoát nghèo",
    PriorityGroup.YOUTH: "Thanh niên",
    PriorityGroup.DEMOBILISED_SOLDIER: "Bộ đội xuất ngũ",
    PriorityGroup.DISABLED: "Người khuyết tật",
    PriorityGroup.ETHNIC_MINORITY: "Người dân tộc thiểu số",
    PriorityGroup.RELEASED_PRISONER: "Người chấp hành xong án phạt tù",
    PriorityGroup.RURAL_WORKER: "Lao động nông thôn",
}
