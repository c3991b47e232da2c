"""Labour-market statistics from events: supply against demand at any date, and the indicators of
the city's plan. Every fact is stamped with its event's time, so a question about a past date is
answered from what was known to hold then."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.bus import Bus
from kit.consumers import replay
from kit.db import Database, write_staged
from kit.events import Envelope, EventData, EventRegistry
from kit.reports import DrawnReports, fingerprint
from reference.geography import UnknownArea, geography
from reference.localtime import VIETNAM, local_date
from services.insights import events as ev
from services.insights import repository
from services.insights.forecasting import Forecast, add_months, forecast
from services.insights.models import Candidate, DemandFact, Invitation, SupplyFact, Versions


STAGED_ENTITIES = "insights.staged"
DIMENSIONS = ("occupation2", "occupation3", "occupation4", "ward", "district", "province", "trade_level",
              "qualification")
HANDLED = {ev.CANDIDATE_REGISTERED, ev.CANDIDATE_UPDATED, ev.CANDIDATE_ERASED, ev.VACANCY_OPENED,
           ev.VACANCY_UPDATED, ev.VACANCY_CLOSED, ev.INVITATION_ISSUED, ev.INVITATION_REVOKED,
           ev.INVITATION_RESPONDED, ev.OUTCOME_RECORDED}


def today() -> date:
    return local_date(datetime.now(UTC))


def end_of_day(day: date) -> datetime:
    """A date asked about means the end of that day in Vietnam."""
    return datetime.combine(day + timedelta(days=1), time(0), VIETNAM)


def area(ward_code: str | None, legacy_district_code: str | None) -> dict[str, str | None]:
    """Ward, legacy district and province of a place, whichever of the first two is known."""
    geo = geography()
    ward = district = province = None
    if ward_code:
        try:
            found = geo.ward(ward_code)
            ward, district, province = found.code, found.legacy_district_code, found.province_code
        except UnknownArea:
            pass
    if legacy_district_code:
        district = legacy_district_code
        if province is None:
            try:
                province = geo.legacy_district(legacy_district_code).province_code
            except UnknownArea:
                pass
    return {"ward_code": ward, "district_code": district, "province_code": province}


@dataclass(frozen=True)
class Row:
    keys: dict[str, Any]
    candidates: int
    vacancies: int
    openings: int

    @property
    def ratio(self) -> float | None:
        """Unfilled openings per seeking candidate."""
        return round(self.openings / self.candidates, 4) if self.candidates else None

    @property
    def shortage_index(self) -> float:
        """From −1 (only candidates: surplus) to +1 (only openings: shortage of workers)."""
        total = self.openings + self.candidates
        return round((self.openings - self.candidates) / total, 4) if total else 0.0


class Insights:
    def __init__(self, vocational_target: float = 0.40) -> None:
        self.vocational_target = vocational_target
        self._drawn = DrawnReports()

    # ---- events in ------------------------------------------------------------------------
    async def apply(self, session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        at = envelope.time
        if isinstance(payload, ev.CandidateProfile):
            await self._candidate(session, payload, at)
        elif isinstance(payload, ev.CandidateErased):
            if await self._newer(session, "candidate", payload.candidate_id, payload.version, closed=True):
                await repository.close_facts(session, SupplyFact, payload.candidate_id, at)
                row = await repository.candidate(session, payload.candidate_id)
                if row is not None:  # stays counted, anonymously, as it always was
                    row.erased, row.status, row.version = True, "inactive", payload.version
        elif isinstance(payload, ev.VacancyProfile):
            await self._vacancy(session, payload, at)
        elif isinstance(payload, ev.VacancyClosed):
            if await self._newer(session, "vacancy", payload.vacancy_id, payload.version, closed=True):
                await repository.close_facts(session, DemandFact, payload.vacancy_id, at)
        else:
            await self._funnel(session, payload, at)

    async def _newer(self, session: AsyncSession, kind: str, entity_id: str, number: int,
                     closed: bool) -> str | None:
        """Record ``number`` as the entity's version unless one as new was applied already:
        ``"new"`` (first seen: its rows are staged, written with the batch's), ``"newer"``, or
        None (nothing to do)."""
        staged: set[tuple[str, str]] = session.info.setdefault(STAGED_ENTITIES, set())
        if (kind, entity_id) in staged:  # seen earlier in this batch: its rows must be readable now
            await write_staged(session)
            staged.clear()
        known = await repository.version(session, kind, entity_id)
        if known is None:
            repository.stage_new(session, Versions, [{"kind": kind, "entity_id": entity_id, "version": number,
                                                      "closed": closed}])
            staged.add((kind, entity_id))
            return "new"
        if known.version >= number:
            return None
        known.version, known.closed = number, closed
        return "newer"

    async def _candidate(self, session: AsyncSession, data: ev.CandidateProfile, at: datetime) -> None:
        seen = await self._newer(session, "candidate", data.candidate_id, data.version, closed=False)
        if seen is None:
            return
        place = area(data.ward_code, data.legacy_district_code)
        facts = [{"candidate_id": data.candidate_id, "version": data.version, "occupation": occupation, **place,
                  "trade_level": data.trade_level, "qualification": data.qualification, "valid_from": at,
                  "valid_to": None}
                 for occupation in (dict.fromkeys(data.occupations) or [""])] if data.status == "seeking" else []
        profile = {"version": data.version, "status": data.status, "qualification": data.qualification,
                   "priority_groups": list(data.priority_groups), **place}
        if seen == "new":
            repository.stage_new(session, SupplyFact, facts)
            repository.stage_new(session, Candidate, [{"candidate_id": data.candidate_id, "registered_at": at,
                                                       "erased": False, **profile}])
            return
        await repository.close_facts(session, SupplyFact, data.candidate_id, at)
        await repository.add_facts(session, SupplyFact, facts)
        row = await repository.candidate(session, data.candidate_id)
        if row is None:  # its first event was an erasure
            row = Candidate(candidate_id=data.candidate_id, registered_at=at, erased=False)
            session.add(row)
        for name, value in profile.items():
            setattr(row, name, value)

    async def _vacancy(self, session: AsyncSession, data: ev.VacancyProfile, at: datetime) -> None:
        seen = await self._newer(session, "vacancy", data.vacancy_id, data.version, closed=data.status != "open")
        if seen is None:
            return
        unfilled = max(0, data.openings - data.hires)
        facts = [{
            "vacancy_id": data.vacancy_id, "version": data.version, "occupation": data.occupation,
            **area(data.ward_code, data.legacy_district_code), "trade_level": data.min_trade_level,
            "qualification": data.min_qualification, "openings": unfilled,
            "social_insurance": data.social_insurance, "valid_from": at, "valid_to": None,
        }] if data.status == "open" and unfilled else []
        if seen == "new":
            repository.stage_new(session, DemandFact, facts)
            return
        await repository.close_facts(session, DemandFact, data.vacancy_id, at)
        await repository.add_facts(session, DemandFact, facts)

    async def _funnel(self, session: AsyncSession, payload: EventData, at: datetime) -> None:
        invitation_id: str = payload.invitation_id  # type: ignore[attr-defined]
        invitation = await repository.invitation(session, invitation_id)
        if invitation is None:
            invitation = Invitation(invitation_id=invitation_id, revoked=False, answer=None, attended=False,
                                    hired_at=None)
            session.add(invitation)
        for name in ("job_fair_id", "candidate_id", "vacancy_id"):  # whichever event brings them
            if getattr(invitation, name) is None and getattr(payload, name, None):
                setattr(invitation, name, getattr(payload, name))
        if isinstance(payload, ev.InvitationIssued):
            invitation.invited_at = invitation.invited_at or at
        elif isinstance(payload, ev.InvitationRevoked):
            invitation.revoked = True
        elif isinstance(payload, ev.InvitationResponded):
            invitation.answer = payload.answer
        elif isinstance(payload, ev.OutcomeRecorded):
            invitation.attended = payload.outcome in ("attended", "hired")
            if payload.outcome == "hired":
                invitation.hired_at = payload.recorded_at or at

    async def rebuild(self, db: Database, bus: Bus, registry: EventRegistry, inbox: Table,
                      groups: dict[str, tuple[str, ...]], batch: int = 1000) -> int:
        """Forget everything and replay the topics from the beginning; the same events give the
        same numbers. Returns the number of events applied."""
        async with db.transaction() as session:
            await repository.clear(session, inbox, list(groups))
        # group by group: profiles before the invitations that refer to them
        return await replay(db, bus, registry, groups, HANDLED, self.apply, batch)

    # ---- questions ---------------------------------------------------------------------------
    async def supply_demand(self, session: AsyncSession, day: date, group_by: Sequence[str],
                            filters: dict[str, str]) -> list[Row]:
        """Seeking candidates, open vacancies and unfilled openings per group, as they stood at
        the end of ``day``; groups sorted by shortage, the largest first."""
        at = end_of_day(day)
        supply = await repository.supply_at(session, at, group_by, filters)
        demand = await repository.demand_at(session, at, group_by, filters)
        rows = [Row(dict(zip(group_by, key, strict=True)), supply.get(key, 0), *demand.get(key, (0, 0)))
                for key in {*supply, *demand}]
        return sorted(rows, key=lambda r: (-r.shortage_index, -r.openings, [str(v) for v in r.keys.values()]))

    async def monthly(self, session: AsyncSession, series: str, filters: dict[str, str],
                      until: date) -> tuple[date, list[float]]:
        """Openings posted (demand) or people who began seeking (supply) per calendar month, from
        the first month with any up to the last complete month before ``until``."""
        model = DemandFact if series == "demand" else SupplyFact
        events = await repository.first_facts(session, model, filters)
        last = add_months(date(until.year, until.month, 1), -1)
        totals: Counter[date] = Counter()
        for when, amount in events:
            local = when.astimezone(VIETNAM)
            totals[date(local.year, local.month, 1)] += amount
        months = [m for m in totals if m <= last]
        if not months:
            return last, []
        first = min(months)
        count = (last.year - first.year) * 12 + last.month - first.month + 1
        return first, [float(totals.get(add_months(first, k), 0)) for k in range(count)]

    async def forecast(self, session: AsyncSession, series: str, filters: dict[str, str], horizon: int,
                       until: date) -> tuple[date, list[float], Forecast | None]:
        first, history = await self.monthly(session, series, filters, until)
        return first, history, forecast(history, first, horizon) if history else None

    async def report(self, session: AsyncSession, day: date) -> tuple[str, str]:
        """The HTML report as things stood at the end of ``day``, and its fingerprint: drawn again
        only when a figure it shows has changed."""
        indicators = await self.indicators(session, day)
        rows = await self.supply_demand(session, day, ["occupation2", "district"], {})
        series = (("demand", "Chỗ làm việc mới"), ("supply", "Người tìm việc mới"))
        histories = [(label, *await self.monthly(session, name, {}, day)) for name, label in series]
        digest = fingerprint(day, indicators, rows, histories)
        # The forecasts and the charts are seconds of CPU (scikit-learn, matplotlib): drawn in a
        # thread, so that the service goes on answering and consuming events meanwhile.
        return await self._drawn.get(digest, lambda: _report_page(day, indicators, rows, histories)), digest

    async def indicators(self, session: AsyncSession, day: date) -> dict[str, Any]:
        """The plan's indicators as they stood at the end of ``day``."""
        at = end_of_day(day)
        seeking, qualified = await repository.qualified_share(session, at)
        vacancies, insured = await repository.insured_share(session, at)
        invitations = await repository.funnel(session, at)
        hires = [(i, c) for i, c in invitations if i.hired_at is not None and i.hired_at <= at]
        by_group: Counter[str] = Counter(g for _i, c in hires if c for g in c.priority_groups)
        waits = [(i.hired_at - c.registered_at).total_seconds() / 86400 for i, c in hires if c and i.hired_at]
        return {
            "at": day,
            "vocational_share": _share(qualified, seeking, self.vocational_target),
            "social_insurance_share": _share(insured, vacancies, None),
            "placements": {"hires": len(hires), "priority_hires": sum(1 for _i, c in hires if c and c.priority_groups),
                           "by_priority_group": dict(sorted(by_group.items()))},
            "median_days_to_hire": round(statistics.median(waits), 2) if waits else None,
            "job_fairs": self._funnels(invitations, at),
        }

    @staticmethod
    def _funnels(invitations: list[tuple[Invitation, Candidate | None]], at: datetime) -> list[dict[str, Any]]:
        """Per fair: invited → accepted → attended → hired, with the same steps by ward and by
        priority group."""
        fairs: dict[str, dict[str, Any]] = {}
        for invitation, person in invitations:
            if invitation.revoked:
                continue
            fair = fairs.setdefault(invitation.job_fair_id, {
                "job_fair_id": invitation.job_fair_id, **_steps(), "by_ward": defaultdict(_steps),
                "by_priority_group": defaultdict(_steps)})
            buckets = [fair, fair["by_ward"][(person.ward_code if person else None) or "unknown"]]
            buckets += [fair["by_priority_group"][g] for g in (person.priority_groups if person else [])]
            hired = invitation.hired_at is not None and invitation.hired_at <= at
            for bucket in buckets:
                bucket["invited"] += 1
                bucket["accepted"] += invitation.answer == "accept"
                bucket["attended"] += invitation.attended
                bucket["hired"] += hired
        for fair in fairs.values():
            fair["by_ward"] = dict(sorted(fair["by_ward"].items()))
            fair["by_priority_group"] = dict(sorted(fair["by_priority_group"].items()))
        return list(fairs.values())


def _steps() -> dict[str, int]:
    return {"invited": 0, "accepted": 0, "attended": 0, "hired": 0}


def _share(part: int, whole: int, target: float | None) -> dict[str, Any]:
    share = round(part / whole, 4) if whole else None
    return {"count": part, "of": whole, "share": share, "target": target,
            "met": None if target is None or share is None else share >= target}


def _report_page(day: date, indicators: dict[str, Any], rows: list[Row],
                 histories: list[tuple[str, date, list[float]]]) -> str:
    from services.insights import report  # matplotlib is loaded only for a report

    series = [(label, first, history, forecast(history, first, 6)) for label, first, history in histories if history]
    charts = {"shortage": report.shortage_map(rows), "indicators": report.indicator_gauges(indicators)}
    if indicators["job_fairs"]:
        charts["funnel"] = report.funnel_bars(indicators["job_fairs"])
    if series:
        charts["forecast"] = report.forecast_lines(series)
    return report.render(day, charts, indicators)
