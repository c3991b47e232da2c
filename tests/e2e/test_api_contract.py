"""Schemathesis against the merged OpenAPI of the running embedded platform: every operation,
generated inputs, all checks (server errors, status codes, content types, response schemas,
authentication enforced, invalid input rejected) except "schema-valid input accepted", which
business rules beyond the schema contradict on purpose. A bounded number of examples keeps it
inside CI's budget; JOBLINK_CONTRACT_EXAMPLES raises it for a deeper run by hand.

The platform first gets the demo population (``deploy/local/load_demo.py``: a centre's
candidates, employers and vacancies, a job fair allocated), and about half the generated calls
name its records in their paths, as the admin or as the centre that owns them: generated ids
alone only ever reach "not found", never the code that reads, changes or shows a record."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        yield base, seeded(base, var, env)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def seeded(base: str, var: Path, env: dict[str, str]) -> dict[str, object]:
    """Load a small demo population; the admin's and the centre's tokens and the ids of one record
    of each kind, by path parameter."""
    (var / "demo").mkdir()
    for what, count in (("candidates", 60), ("employers", 6), ("vacancies", 6)):
        subprocess.run([sys.executable, "-m", "reference.population", what, "--count", str(count), "--seed", "3",
                        "-o", str(var / "demo" / f"{what}.csv")], env=env, cwd=REPO, check=True, capture_output=True)
    (var / "dev-admin.json").write_text(json.dumps({"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET}))
    loaded = subprocess.run([sys.executable, "deploy/local/load_demo.py", "--base", base, "--var", str(var)], env=env,
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    centre_id, centre_secret = re.search(r"demo centre client (\S+) secret (\S+)", loaded.stderr).groups()
    imports = re.findall(r"\(import ([0-9a-f-]{36})\)", loaded.stderr)
    fair_id, run_id = re.search(r"job-fairs/([0-9a-f-]{36})/allocations/([0-9a-f-]{36})/report", loaded.stderr).groups()
    admin, centre = token(base, ADMIN_ID, ADMIN_SECRET), token(base, centre_id, centre_secret)
    invitation = httpx.get(f"{base}/api/v1/job-fairs/{fair_id}/invitations", params={"limit": 1},
                           headers={"Authorization": f"Bearer {admin}"}).json()["items"][0]
    ids = {"candidate_id": invitation["candidate_id"], "vacancy_id": invitation["vacancy_id"],
           "employer_id": invitation["employer_id"], "fair_id": fair_id, "run_id": run_id,
           "invitation_id": invitation["id"], "import_id": imports[0]}
    return {"tokens": (admin, centre), "ids": ids}


def token(base: str, client_id: str, secret: str) -> str:
    return httpx.post(f"{base}/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
    }).json()["access_token"]


def test_every_operation_conforms(live) -> None:  # noqa: ANN001
    base, seed = live
    api = schemathesis.openapi.from_url(f"{base}/openapi.json")
    ids: dict[str, str] = seed["ids"]
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        # A deletion is left to generated ids: erasing the seeded records would leave the
        # operations after it only "not found" to answer.
        pin = operation.method.upper() != "DELETE"

        @given(case=operation.as_strategy(), real=st.booleans(), who=st.sampled_from(seed["tokens"]))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case, real: bool, who: str) -> None:  # noqa: ANN001
            if pin and real and case.path_parameters:
                case.path_parameters.update({k: ids[k] for k in case.path_parameters if k in ids})
            # Business rules (a ward code must exist, a citizen ID must match the birth date…) reject
            # some schema-valid inputs with 422 problem details by design; every other check runs.
            # The generous timeout: the allocation runs this test starts (each renders its report)
            # share the machine's two cores with the calls after them.
            case.call_and_validate(headers={"Authorization": f"Bearer {who}"}, timeout=60,
                                   excluded_checks=[schemathesis.checks.positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            causes = getattr(exc, "exceptions", "")  # a flaky outcome carries what failed the first time
            failures.append(f"{operation.method.upper()} {operation.path}: {exc} {causes!r}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
