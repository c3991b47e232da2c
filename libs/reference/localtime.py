"""Days as people in Việt Nam count them. Every date in the product (a birth date, a vacancy's
deadline, a job fair's day, a statistic's "at") is a calendar day in Việt Nam, while the clocks
of the services run in UTC: 17:00 UTC is already the next day in Hải Phòng."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(at: datetime) -> date:
    """The day in Việt Nam at the (time-zone aware) instant ``at``."""
    return at.astimezone(VIETNAM).date()
