"""The matching service behind a real gateway, fed by events on a shared bus; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from kit.bus import Message
from kit.bus.local import LocalBus
from kit.db import Database
from kit.events import Envelope, topic_for
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.matching.app import SPEC, create_app as create_matching
from services.matching.service import MatchingService
from services.matching.settings import MatchingSettings
from tests.conftest import PG_URL, PostgresDatabases, _need
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway


@dataclass
class Matching(Gateway):
    bus: LocalBus
    ctx: Any

    @property
    def matcher(self) -> MatchingService:
        return self.ctx.extras["matching"]

    @property
    def db(self) -> Database:
        return self.ctx.db

    async def publish(self, event_type: str, subject: str, data: dict[str, Any]) -> Envelope:
        envelope = Envelope(source="/tests", type=event_type, subject=subject, data=data)
        await self.bus.publish([Message(topic_for(event_type), subject, envelope.to_bytes())])
        return envelope

    async def until(self, check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await check():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"not within {timeout}s: {what}")


@pytest.fixture(params=["sqlite", "postgres"])
async def matching(request, tmp_path) -> AsyncIterator[Matching]:  # noqa: ANN001
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        url = await databases.create("matching")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    bus = LocalBus()
    service = create_matching(MatchingSettings(database_url=url, relay_poll_interval_s=0.02), runtime, bus)
    app = create_app(make_gateway_settings(), runtime, hosted={"matching": service}, bus=bus)
    try:
        async with app.router.lifespan_context(app):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
            ):
                yield Matching(http, direct, bus, service.state.ctx)
    finally:
        if databases:
            await databases.drop_all()
