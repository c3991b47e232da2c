"""Schemathesis against the merged OpenAPI of the running embedded platform: every operation,
generated inputs, all checks (server errors, status codes, content types, response schemas,
authentication enforced, invalid input rejected) except "schema-valid input accepted", which
business rules beyond the schema contradict on purpose. A bounded number of examples keeps it
inside CI's budget; JOBLINK_CONTRACT_EXAMPLES raises it for a deeper run by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.test_runtimes import free_port, wait_ready

REPO = Path(__file__).resolve().parents[2]
ADMIN_ID, ADMIN_SECRET = "contract-admin", "contract-admin-secret-for-tests"
EXAMPLES = int(os.environ.get("JOBLINK_CONTRACT_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    var = tmp_path_factory.mktemp("contract")
    env = {**os.environ, "JOBLINK_VAR": str(var), "JOBLINK_ADMIN_CLIENT_ID": ADMIN_ID,
           "JOBLINK_ADMIN_CLIENT_SECRET": ADMIN_SECRET, "JOBLINK_GATEWAY_RATE_LIMIT_BURST": "100000"}
    subprocess.run([sys.executable, "-m", "kit.cli", "migrate", "all"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    port = free_port()
    log = var / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "kit.cli", "serve", "embedded", "--port", str(port)],
                                  env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", server, log)
        token = httpx.post(f"{base}/api/v1/auth/token", data={
            "grant_type": "client_credentials", "client_id": ADMIN_ID, "client_secret": ADMIN_SECRET,
        }).json()["access_token"]
        yield base, token
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_every_operation_conforms(live) -> None:  # noqa: ANN001
    base, token = live
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # noqa: ANN001
            # Business rules (a ward code must exist, a citizen ID must match the birth date…) reject
            # some schema-valid inputs with 422 problem details by design; every other check runs.
            case.call_and_validate(headers=headers, excluded_checks=[schemathesis.checks.positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
