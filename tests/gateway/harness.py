"""A gateway hosting one small service in process, with an admin client and helpers for tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import SecretStr

import gateway as gateway_package
from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit.app import create_service_app
from kit.auth import Principal, require
from kit.bus.local import LocalBus
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from tests.kit.harness import create_tables
from tests.kit.ledger import LedgerBase, LedgerSettings, ledger_spec

ADMIN_ID, ADMIN_SECRET = "admin-test", "admin-secret-for-tests-only"
INTERNAL_KEY = "internal-key-for-tests-0123456789abcdef"
GATEWAY_MIGRATIONS = Path(gateway_package.__file__).parent / "migrations"

echo = APIRouter()


async def echo_request(rest: str, request: Request, who: Principal = require("candidates:read")) -> dict[str, object]:
    return {
        "path": request.url.path,
        "query": dict(request.query_params),
        "body": (await request.body()).decode(),
        "request_id": request.headers.get("x-request-id"),
        "client_id": who.client_id,
        "centre_id": who.centre_id,
        "scopes": sorted(who.scopes),
    }


echo.add_api_route("/api/v1/candidates/{rest:path}", echo_request, methods=["GET"], operation_id="echo_get")
echo.add_api_route("/api/v1/candidates/{rest:path}", echo_request, methods=["POST"], operation_id="echo_post")


@echo.post("/api/v1/candidates")
async def write_something(who: Principal = require("candidates:write")) -> dict[str, str]:
    return {"written_by": who.client_id}


@dataclass
class Gateway:
    http: httpx.AsyncClient
    service: httpx.AsyncClient  # the hosted service, reached directly (bypassing the gateway)

    async def token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope:
            form["scope"] = scope
        response = await self.http.post("/api/v1/auth/token", data=form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def client(self, scopes: list[str], centre_id: str | None = None) -> tuple[str, str]:
        admin = await self.token(ADMIN_ID, ADMIN_SECRET)
        response = await self.http.post(
            "/api/v1/clients",
            json={"name": "test client", "scopes": scopes, "centre_id": centre_id},
            headers={"authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 201, response.text
        return response.json()["client_id"], response.json()["client_secret"]

    async def bearer(self, scopes: list[str], centre_id: str | None = None) -> dict[str, str]:
        client_id, secret = await self.client(scopes, centre_id)
        return {"authorization": f"Bearer {await self.token(client_id, secret)}"}


def make_gateway_settings(**overrides: object) -> GatewaySettings:
    values = {
        "admin_client_id": ADMIN_ID,
        "admin_client_secret": SecretStr(ADMIN_SECRET),
        "max_body_bytes": 1000,
        "rate_limit_burst": 1000,
        **overrides,
    }
    return GatewaySettings(**values)


async def migrate_gateway(url: str) -> None:
    await asyncio.to_thread(upgrade, GATEWAY_MIGRATIONS, url)


@pytest.fixture
async def gateway(tmp_path) -> AsyncIterator[Gateway]:  # noqa: ANN001
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await create_tables(url, LedgerBase.metadata)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    spec = ledger_spec("test.echo")
    spec.routers = [echo]
    bus = LocalBus()
    service = create_service_app(spec, LedgerSettings(database_url=url), runtime, bus)
    app = create_app(make_gateway_settings(), runtime, hosted={"candidates": service}, bus=bus)
    async with app.router.lifespan_context(app):
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
        ):
            yield Gateway(http, direct)
