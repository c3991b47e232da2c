"""The candidates service behind a real gateway, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from kit.bus import Message
from kit.bus.local import LocalBus
from kit.db import Database
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.candidates.app import SPEC, create_app as create_candidates
from services.candidates.settings import CandidatesSettings
from tests.conftest import PG_URL, PostgresDatabases, _need
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway


@dataclass
class Candidates(Gateway):
    db: Database
    events: list[Message]
    contacts: list[Message]  # candidates.contacts.v1, which only notifications reads

    async def events_of(self, candidate_id: str, at_least: int) -> list[dict]:
        import orjson

        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            found = [orjson.loads(m.value) for m in self.events if m.key == candidate_id]
            if len(found) >= at_least:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {at_least} events for {candidate_id} within 20 s")


@pytest.fixture(params=["sqlite", "postgres"])
async def candidates(request, tmp_path) -> AsyncIterator[Candidates]:  # noqa: ANN001
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        url = await databases.create("candidates")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'candidates.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    bus = LocalBus()
    events: list[Message] = []

    async def collect(message: Message) -> None:
        events.append(message)

    await bus.subscribe("test-collector", ["candidates.v1"], collect)
    contacts: list[Message] = []

    async def collect_contact(message: Message) -> None:
        contacts.append(message)

    await bus.subscribe("test-contacts", ["candidates.contacts.v1"], collect_contact)
    service = create_candidates(
        CandidatesSettings(database_url=url, pii_key=SecretStr("k" * 40), relay_poll_interval_s=0.02), runtime, bus
    )
    app = create_app(make_gateway_settings(max_body_bytes=10_000_000), runtime, hosted={"candidates": service}, bus=bus)
    try:
        async with app.router.lifespan_context(app):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
            ):
                db = Database(url)
                yield Candidates(http, direct, db, events, contacts)
                await db.dispose()
    finally:
        if databases:
            await databases.drop_all()
