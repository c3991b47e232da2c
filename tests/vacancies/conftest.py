"""The vacancies service behind a real gateway, on SQLite and on PostgreSQL, with a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from pydantic import SecretStr
from stdnum.vn import mst

from gateway.app import create_app
from kit.bus import Message
from kit.bus.local import LocalBus
from kit.events import Envelope
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.vacancies.app import SPEC, create_app as create_vacancies
from services.vacancies.service import VacancyService
from services.vacancies.settings import VacanciesSettings
from tests.conftest import PG_URL, PostgresDatabases, _need
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway


def tax_code(serial: int, branch: int | None = None) -> str:
    """A valid mã số thuế of Hải Phòng (03…) with its check digit."""
    base = f"03{serial:07d}"
    return base + mst.calc_check_digit(base) + (f"-{branch:03d}" if branch else "")


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 3, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Vacancies(Gateway):
    bus: LocalBus
    service_ctx: object
    clock: FakeClock
    events: list[Message]

    async def events_of(self, subject: str, at_least: int) -> list[dict]:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            found = [orjson.loads(m.value) for m in self.events if m.key == subject]
            if len(found) >= at_least:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {at_least} events for {subject} within 20 s")

    @property
    def domain(self) -> VacancyService:
        return self.service_ctx.extras["vacancies"]  # type: ignore[attr-defined]

    async def close_expired(self) -> int:
        async with self.service_ctx.db.transaction() as session:  # type: ignore[attr-defined]
            return await self.domain.close_expired(session)

    async def publish(self, envelope: Envelope) -> None:
        await self.bus.publish([Message("jobfairs.v1", envelope.subject, envelope.to_bytes())])


@pytest.fixture(params=["sqlite", "postgres"])
async def vacancies(request, tmp_path) -> AsyncIterator[Vacancies]:  # noqa: ANN001
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        url = await databases.create("vacancies")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'vacancies.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    bus = LocalBus()
    events: list[Message] = []

    async def collect(message: Message) -> None:
        events.append(message)

    await bus.subscribe("test-collector", ["vacancies.v1"], collect)
    settings = VacanciesSettings(database_url=url, relay_poll_interval_s=0.02, deadline_check_interval_s=0.05)
    service = create_vacancies(settings, runtime, bus)
    app = create_app(make_gateway_settings(max_body_bytes=10_000_000), runtime, hosted={"vacancies": service}, bus=bus)
    clock = FakeClock()
    try:
        async with app.router.lifespan_context(app):
            ctx = service.state.ctx
            ctx.extras["vacancies"].clock = clock
            ctx.extras["importer"].clock = clock
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
            ):
                yield Vacancies(http, direct, bus, ctx, clock, events)
    finally:
        if databases:
            await databases.drop_all()
