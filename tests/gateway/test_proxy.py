"""The gateway forwards /api/v1 calls to the owning service, in-process and over HTTP."""

import httpx
import pytest
from fastapi import APIRouter, Request

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit.app import create_service_app
from kit.bus.local import LocalBus
from kit.settings import RuntimeSettings
from tests.kit.harness import create_tables
from tests.kit.ledger import LedgerBase, LedgerSettings, ledger_spec

router = APIRouter()


@router.api_route("/api/v1/candidates/{rest:path}", methods=["GET", "POST"])
async def echo(rest: str, request: Request) -> dict[str, object]:
    return {
        "path": request.url.path,
        "query": dict(request.query_params),
        "body": (await request.body()).decode(),
        "request_id": request.headers.get("x-request-id"),
    }


@pytest.fixture
async def gateway(tmp_path):  # noqa: ANN001, ANN201
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await create_tables(url, LedgerBase.metadata)
    spec = ledger_spec("test.echo")
    spec.routers = [router]
    bus = LocalBus()
    service = create_service_app(spec, LedgerSettings(database_url=url), RuntimeSettings(), bus)
    app = create_app(GatewaySettings(max_body_bytes=1000), hosted={"candidates": service}, bus=bus)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client


async def test_forwards_path_query_body_and_request_id(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/api/v1/candidates/abc?q=Nguy%E1%BB%85n", content="Hải Phòng".encode(), headers={"x-request-id": "r-1"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "path": "/api/v1/candidates/abc",
        "query": {"q": "Nguyễn"},
        "body": "Hải Phòng",
        "request_id": "r-1",
    }
    assert response.headers.get_list("x-request-id") == ["r-1"]


async def test_rejects_unknown_paths_and_large_bodies(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/api/v1/salaries")).status_code == 404
    too_big = await gateway.post("/api/v1/candidates/x", content=b"x" * 2000)
    assert too_big.status_code == 413 and too_big.headers["content-type"] == "application/problem+json"


async def test_readiness_lists_each_hosted_service(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/readyz")).json() == {"status": "ready", "services": {"candidates": "ready"}}


async def test_unreachable_service_is_a_502_problem() -> None:
    settings = GatewaySettings(service_urls={"candidates": "http://127.0.0.1:9"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            response = await client.get("/api/v1/candidates/abc")
            assert response.status_code == 502
            assert response.json()["type"].endswith("/upstream-unreachable")
            ready = await client.get("/readyz")
            assert ready.status_code == 503
