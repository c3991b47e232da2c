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


async def test_bodies_are_streamed_through_and_imports_may_be_larger(gateway: Gateway) -> None:
    """An import is a file (100,000 candidates are about 20 MB); other calls keep the small limit,
    whether the client states the length or sends the body in chunks."""
    headers = await gateway.bearer(["candidates:read"])
    rows = "".join(f"Nguyễn Văn {i},0912345{i:03d}\n" for i in range(200)).encode()  # > 1,000 bytes

    async def chunked(data: bytes):  # noqa: ANN202 - no content-length: the gateway counts as it goes
        for start in range(0, len(data), 100):
            yield data[start:start + 100]

    for content in (rows, chunked(rows)):
        response = await gateway.http.post("/api/v1/candidates/x:import", content=content, headers=headers)
        assert response.status_code == 200 and response.json()["body"] == rows.decode()
    too_big = await gateway.http.post("/api/v1/candidates/x", content=chunked(rows), headers=headers)
    assert too_big.status_code == 413 and too_big.json()["detail"] == "The request body is larger than 1,000 bytes."
    assert (await gateway.http.get("/api/v1/candidates/x", headers=headers)).json()["body"] == ""


async def test_a_body_over_the_limit_is_cut_off_before_a_service_over_http(tmp_path) -> None:  # noqa: ANN001
    """The same with the service in its own process: it sees the body break off, and the client
    gets the 413."""
    import asyncio
    import socket

    import uvicorn

    from kit.app import create_service_app
    from kit.bus.local import LocalBus
    from tests.gateway.harness import echo
    from tests.kit.harness import create_tables
    from tests.kit.ledger import LedgerBase, LedgerSettings, ledger_spec

    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await create_tables(url, LedgerBase.metadata)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    spec = ledger_spec("test.echo")
    spec.routers = [echo]
    service = create_service_app(spec, LedgerSettings(database_url=url), runtime, LocalBus())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(service, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    app = create_app(make_gateway_settings(service_urls={"candidates": f"http://127.0.0.1:{port}"},
                                           max_import_bytes=3000), runtime)
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
                headers = await Gateway(client, client).bearer(["candidates:read"])

                async def chunked(size: int):  # noqa: ANN202
                    for _ in range(size // 100):
                        yield b"x" * 100

                fits = await client.post("/api/v1/candidates/x:import", content=chunked(2900), headers=headers)
                assert fits.status_code == 200 and len(fits.json()["body"]) == 2900
                for path, size in (("/api/v1/candidates/x:import", 3100), ("/api/v1/candidates/x", 1100)):
                    cut = await client.post(path, content=chunked(size), headers=headers)
                    assert cut.status_code == 413 and cut.headers["content-type"] == "application/problem+json"
                stated = await client.post("/api/v1/candidates/x:import", content=b"x" * 3100, headers=headers)
                assert stated.status_code == 413
    finally:
        server.should_exit = True
        await serving


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
            assert response.headers["retry-after"] == "5"  # a restarting service: worth another try
            assert (await client.get("/readyz")).status_code == 503
