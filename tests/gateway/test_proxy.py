"""The gateway forwards /api/v1 calls to the owning service, in-process and over HTTP."""

import httpx
from pydantic import SecretStr

from gateway.app import create_app
from kit.settings import RuntimeSettings
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway


async def test_forwards_path_query_body_and_request_id(gateway: Gateway) -> None:
    headers = await gateway.bearer(["candidates:read"], centre_id="hp-01")
    response = await gateway.http.post(
        "/api/v1/candidates/abc?q=Nguy%E1%BB%85n",
        content="Hải Phòng".encode(),
        headers={**headers, "x-request-id": "r-1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["path"], body["query"], body["body"], body["request_id"]) == (
        "/api/v1/candidates/abc", {"q": "Nguyễn"}, "Hải Phòng", "r-1",
    )
    assert body["centre_id"] == "hp-01" and body["scopes"] == ["candidates:read"]
    assert response.headers.get_list("x-request-id") == ["r-1"]


async def test_rejects_unknown_paths_and_large_bodies(gateway: Gateway) -> None:
    headers = await gateway.bearer(["candidates:read"])
    assert (await gateway.http.get("/api/v1/salaries", headers=headers)).status_code == 404
    too_big = await gateway.http.post("/api/v1/candidates/x", content=b"x" * 2000, headers=headers)
    assert too_big.status_code == 413 and too_big.headers["content-type"] == "application/problem+json"


async def test_readiness_lists_each_hosted_service(gateway: Gateway) -> None:
    assert (await gateway.http.get("/readyz")).json() == {"status": "ready", "services": {"candidates": "ready"}}


async def test_unreachable_service_is_a_502_problem(tmp_path) -> None:  # noqa: ANN001
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    app = create_app(make_gateway_settings(service_urls={"candidates": "http://127.0.0.1:9"}), runtime)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            gw = Gateway(client, client)
            response = await client.get("/api/v1/candidates/abc", headers=await gw.bearer(["candidates:read"]))
            assert response.status_code == 502
            assert response.json()["type"].endswith("/upstream-unreachable")
            assert (await client.get("/readyz")).status_code == 503
