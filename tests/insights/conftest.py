"""The insights service behind a real gateway (SQLite and PostgreSQL), fed with events whose times
the test chooses, as the other services would have published them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from gateway.app import create_app
from kit.bus import Message
from kit.bus.local import LocalBus
from kit.events import Envelope, EventData, topic_for
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.insights.app import SPEC, create_app as create_insights
from services.insights.models import inbox
from services.insights.settings import InsightsSettings
from tests.conftest import PG_URL, PostgresDatabases, _need
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway


def at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in Vietnam on ``day``."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


@dataclass
class Insights(Gateway):
    bus: LocalBus
    ctx: Any
    published: int = 0

    async def publish(self, event_type: str, subject: str, data: dict[str, Any] | EventData, when: datetime) -> None:
        body = data.model_dump(mode="json") if isinstance(data, EventData) else data
        envelope = Envelope(source="/tests", type=event_type, subject=subject, time=when, data=body)
        await self.bus.publish([Message(topic_for(event_type), subject, envelope.to_bytes())])
        self.published += 1

    async def settled(self, timeout: float = 30) -> None:
        """Wait until every event published so far has been applied (each leaves one inbox row)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.ctx.db.reading() as session:
                applied = await session.scalar(select(func.count()).select_from(inbox))
            if applied >= self.published:
                return
            assert asyncio.get_running_loop().time() < deadline, f"{applied} of {self.published} events applied"
            await asyncio.sleep(0.05)

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        response = await self.http.get(f"/api/v1/stats/{path}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(params=["sqlite", "postgres"])
async def insights(request, tmp_path) -> AsyncIterator[Insights]:  # noqa: ANN001
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        url = await databases.create("insights")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'insights.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    bus = LocalBus(str(tmp_path / "bus.db"))  # a durable log: a rebuild replays it
    service = create_insights(InsightsSettings(database_url=url, relay_poll_interval_s=0.02), runtime, bus)
    app = create_app(make_gateway_settings(), runtime, hosted={"insights": service}, bus=bus)
    try:
        async with app.router.lifespan_context(app):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
            ):
                yield Insights(http, direct, bus, service.state.ctx)
    finally:
        if databases:
            await databases.drop_all()
