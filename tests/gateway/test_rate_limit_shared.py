"""Two gateway processes share one client's rate limit through PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from gateway.tokens import load_or_create_key
from tests.e2e.test_runtimes import free_port
from tests.gateway.harness import ADMIN_ID, ADMIN_SECRET, INTERNAL_KEY, migrate_gateway

REPO = Path(__file__).resolve().parents[2]
BURST = 5


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(log.read_text()[-3000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"gateway on {port} did not start:\n{log.read_text()[-3000:]}")


async def test_the_limit_holds_across_two_gateway_processes(pg_database, tmp_path: Path) -> None:  # noqa: ANN001
    url = await pg_database("gateway")
    await migrate_gateway(url)
    load_or_create_key(tmp_path / "signing.pem")  # replicas share one signing key
    env = {
        **os.environ,
        "JOBLINK_VAR": str(tmp_path),
        "JOBLINK_GATEWAY_DATABASE_URL": url,
        "JOBLINK_GATEWAY_SIGNING_KEY_FILE": str(tmp_path / "signing.pem"),
        "JOBLINK_GATEWAY_RATE_LIMIT_BURST": str(BURST),
        "JOBLINK_GATEWAY_RATE_LIMIT_PER_MINUTE": "0.5",
        "JOBLINK_INTERNAL_TOKEN_KEY": INTERNAL_KEY,
        "JOBLINK_ADMIN_CLIENT_ID": ADMIN_ID,
        "JOBLINK_ADMIN_CLIENT_SECRET": ADMIN_SECRET,
    }
    ports = [free_port(), free_port()]
    log = tmp_path / "gateways.log"
    processes = []
    try:
        with log.open("ab") as out:
            for port in ports:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "kit.cli", "serve", "gateway", "--port", str(port)],
                        env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                    )
                )
        for port, process in zip(ports, processes, strict=True):
            wait_healthy(port, process, log)
        async with httpx.AsyncClient() as http:
            token = (
                await http.post(
                    f"http://127.0.0.1:{ports[0]}/api/v1/auth/token",
                    data={"grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET},
                )
            ).json()["access_token"]
            headers = {"authorization": f"Bearer {token}"}
            statuses = [
                (await http.get(f"http://127.0.0.1:{ports[i % 2]}/api/v1/reference/enumerations", headers=headers))
                for i in range(BURST + 1)
            ]
        assert [r.status_code for r in statuses] == [200] * BURST + [429]
        assert int(statuses[-1].headers["retry-after"]) >= 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


async def test_concurrent_requests_take_no_more_than_the_burst(pg_database) -> None:  # noqa: ANN001
    from gateway.ratelimit import PostgresBuckets
    from kit.db import Database

    url = await pg_database("gateway")
    await migrate_gateway(url)
    db = Database(url)
    try:
        buckets = PostgresBuckets(db, capacity=BURST, per_second=0.001)
        decisions = await asyncio.gather(*(buckets.take("busy") for _ in range(4 * BURST)))
        assert sum(d.allowed for d in decisions) == BURST
        assert all(d.retry_after_s >= 999 for d in decisions if not d.allowed)  # 1 token at 0.001/s
        assert (await buckets.take("another")).allowed  # a bucket per client
        async with db.reading() as session:  # no WAL flushed for each request that passes
            persistence = await session.scalar(text("SELECT relpersistence::text FROM pg_class WHERE relname = 'rate_buckets'"))
        assert persistence == "u"
    finally:
        await db.dispose()


async def test_a_bucket_refills_with_time_up_to_its_capacity(pg_database) -> None:  # noqa: ANN001
    from gateway.ratelimit import PostgresBuckets
    from kit.db import Database

    url = await pg_database("gateway")
    await migrate_gateway(url)
    db = Database(url)
    try:
        buckets = PostgresBuckets(db, capacity=2, per_second=2)  # a token every 0.5 s
        assert [(await buckets.take("c")).allowed for _ in range(3)] == [True, True, False]
        await asyncio.sleep(1.5)  # three tokens' worth of time, capped at 2
        assert [(await buckets.take("c")).allowed for _ in range(3)] == [True, True, False]
        refused = await buckets.take("c")
        assert not refused.allowed and refused.retry_after_s == 1
    finally:
        await db.dispose()
