"""A service app built by the kit: health, readiness, metrics and problem details."""

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from sqlalchemy import text

from kit.app import ServiceSpec, create_service_app
from kit.db import create_engine
from kit.bus.local import LocalBus
from kit.problems import Problem
from kit.settings import RuntimeSettings
from tests.kit.harness import create_tables
from tests.kit.ledger import LedgerBase, LedgerSettings, ledger_spec


class Body(BaseModel):
    full_name: str = Field(min_length=2)
    phone: str = Field(pattern=r"^\+84\d{9}$")


router = APIRouter()


@router.post("/api/v1/things")
async def make_thing(body: Body) -> dict[str, str]:
    return {"ok": "yes"}


@router.get("/api/v1/things/{thing_id}")
async def get_thing(thing_id: str) -> dict[str, str]:
    raise Problem(404, "thing-not-found", f"No thing {thing_id}.")


@router.get("/api/v1/elsewhere")
async def read_elsewhere() -> dict[str, str]:
    """Reads a PostgreSQL database that is not there (nothing listens on port 9)."""
    engine = create_engine("postgresql+asyncpg://joblink:joblink@127.0.0.1:9/joblink")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return {"ok": "yes"}


@pytest.fixture
async def app(tmp_path):  # noqa: ANN001, ANN201
    url = f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}"
    await create_tables(url, LedgerBase.metadata)
    spec: ServiceSpec = ledger_spec("test.things")
    spec.routers = [router]
    bus = LocalBus()
    await bus.start()
    app = create_service_app(spec, LedgerSettings(database_url=url), RuntimeSettings(), bus)
    async with app.router.lifespan_context(app):
        yield app
    await bus.stop()


@pytest.fixture
async def client(app):  # noqa: ANN001, ANN201
    # what a client gets for an error the app did not expect is its answer, not the exception
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        yield c


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "bus": "ok"}
    await client.get("/api/v1/things/abc-0912345678")
    metrics = (await client.get("/metrics")).text
    assert 'route="/api/v1/things/{thing_id}"' in metrics
    assert "0912345678" not in metrics


async def test_validation_errors_are_problem_details_without_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/things", json={"full_name": "A", "phone": "0912345678"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["type"].endswith("/validation-error")
    assert {e["field"] for e in body["errors"]} == {"full_name", "phone"}
    assert "0912345678" not in response.text


async def test_a_body_that_is_not_json_is_a_400_that_says_where(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/things", content=b'{"full_name": "An",\n "phone": }',
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/malformed-json")
    [error] = body["errors"]
    assert error["field"] == "body" and "Expecting value" in error["message"] and "character 30" in error["message"]
    # a well-formed body of the wrong shape is still a 422 with its fields
    wrong = await client.post("/api/v1/things", json=["An"])
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body"


async def test_domain_errors_and_unknown_paths_are_problem_details(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/things/x1")
    assert missing.status_code == 404 and missing.json()["type"].endswith("/thing-not-found")
    unknown = await client.get("/nowhere")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32


async def test_a_database_out_of_reach_is_a_503_to_retry_not_an_internal_error(app) -> None:  # noqa: ANN001
    # answered by the app, with no exception left over: a server closes the connection of a
    # request whose app raised, and one with an unread body then ends in a reset, not this answer
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as strict:
        response = await strict.get("/api/v1/elsewhere")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database-unavailable")
