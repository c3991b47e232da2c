"""The two runtimes started by their real commands: `make run` (embedded) and `make up`."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gateway.routes import SERVICES
from reference.localtime import local_date

REPO = Path(__file__).resolve().parents[2]
FAR_WARD = "31825"  # Phường Bạc Liêu, Cà Mau


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def wait_for_matches(base: str, vacancy_id: str, headers: dict[str, str], timeout: float = 60) -> list[dict]:
    """The vacancy's ranked candidates once matching has them (events travel asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{base}/api/v1/vacancies/{vacancy_id}/matches", headers=headers, timeout=10)
        if r.status_code == 200 and r.json()["items"]:
            return r.json()["items"]
        time.sleep(0.2)
    pytest.fail(f"no matches for {vacancy_id} within {timeout}s")


class SmsGateway:
    """A local SMS gateway: keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        sent = self.sent

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                sent.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def code_sent_to(self, phone: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.sent):
                if message["to"] == phone and (found := re.search(r"/rsvp/([A-Z0-9]{8})", message["text"])):
                    return found.group(1)
            time.sleep(0.2)
        raise AssertionError(f"no SMS to the invited person within {timeout} s")


def assert_authenticated_call(base: str, client_id: str, secret: str) -> None:
    assert httpx.get(f"{base}/api/v1/reference/areas").status_code == 401
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    areas = httpx.get(f"{base}/api/v1/reference/areas", headers={"authorization": f"Bearer {token}"})
    assert areas.status_code == 200 and len(areas.json()["items"]) == 114


def test_make_run_serves_swagger_ui_and_every_service(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=REPO,
            env={**os.environ, "JOBLINK_VAR": str(tmp_path / "var")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", process, log)
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        spec = httpx.get(f"{base}/openapi.json").json()
        assert spec["info"]["title"] == "JobLink API"
        for service in SERVICES:
            assert httpx.get(f"{base}/services/{service}/healthz").status_code == 200
            assert httpx.get(f"{base}/services/{service}/readyz").json()["status"] == "ready"
        for service in SERVICES:  # each service keeps its own SQLite file
            assert (tmp_path / "var" / f"{service}.db").exists()
        admin = json.loads((tmp_path / "var" / "dev-admin.json").read_text())
        assert admin["client_secret"] in log.read_text()  # printed for the developer
        assert_authenticated_call(base, admin["client_id"], admin["client_secret"])
        demo = subprocess.run(
            ["make", "demo", f"PORT={port}"], cwd=REPO, capture_output=True, text=True, timeout=300,
            env={**os.environ, "JOBLINK_VAR": str(tmp_path / "var")},
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        imported = int(demo.stderr.split("demo candidates: ")[1].split(" imported")[0])
        assert imported >= 450  # the generator's few invalid rows are rejected, the rest load
        vacancies = int(demo.stderr.split("demo vacancies: ")[1].split(" imported")[0])
        assert vacancies >= 40
        client_id, secret = demo.stderr.split("demo centre client ")[1].split(" secret ")
        headers = {"authorization": "Bearer " + token(base, client_id, secret.split()[0])}
        some = httpx.get(f"{base}/api/v1/vacancies", params={"limit": 5}, headers=headers).json()["items"]
        ranked = wait_for_matches(base, some[0]["id"], headers)
        assert ranked and ranked[0]["explanation"]["model_version"] and 0 < ranked[0]["score"] <= 1
        invited = int(demo.stderr.split("demo job fair: ")[1].split(" invitations")[0])
        assert invited > 30 and "(completed;" in demo.stderr
        report = demo.stderr.split("report at ")[1].split()[0]
        admin_headers = {"authorization": "Bearer " + token(base, admin["client_id"], admin["client_secret"])}
        page = httpx.get(report, headers=admin_headers, timeout=60)
        assert page.status_code == 200 and "Báo cáo phân bổ lời mời" in page.text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_make_up_runs_every_service_as_its_own_process(tmp_path: Path) -> None:
    for infra in ("postgres", "kafka"):
        if subprocess.run([REPO / "deploy/local" / f"{infra}.sh", "status"], capture_output=True).returncode:
            pytest.skip(f"the local {infra} server is not the one in use")
    sms = SmsGateway()  # the notifications process sends its SMS here
    env = {**os.environ, "JOBLINK_NOTIFICATIONS_SMS_URL": sms.url, "JOBLINK_NOTIFICATIONS_QUIET_START": "00:00",
           "JOBLINK_NOTIFICATIONS_QUIET_END": "00:00"}
    up = subprocess.run(["make", "up"], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        ready = httpx.get("http://127.0.0.1:8000/readyz", timeout=10).json()
        assert ready == {"status": "ready", "services": {s: "ready" for s in SERVICES}}
        pids = set()
        for port in (8101, 8102, 8103, 8104):
            body = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
            assert body["checks"] == {"database": "ok", "bus": "ok"}
        for name in (*SERVICES, "gateway"):
            pids.add((REPO / "var/up" / f"{name}.pid").read_text().strip())
        assert len(pids) == len(SERVICES) + 1
        secret = (REPO / "var/up/admin-client.secret").read_text().strip()
        base = "http://127.0.0.1:8000"
        assert_authenticated_call(base, "local-admin", secret)
        # one flow across processes: candidates and vacancies announce through Kafka, matching ranks.
        # It happens far from Hải Phòng (a ward of Cà Mau), so that a demo population loaded into
        # this stack (`make demo`) never outranks her.
        admin = {"authorization": "Bearer " + token(base, "local-admin", secret)}
        centre = httpx.post(f"{base}/api/v1/clients", headers=admin, json={
            "name": "Trung tâm thử", "centre_id": "e2e", "scopes": [
                "candidates:read", "candidates:write", "vacancies:read", "vacancies:write", "matching:read"]}).json()
        headers = {"authorization": "Bearer " + token(base, centre["client_id"], centre["client_secret"])}
        person = httpx.post(f"{base}/api/v1/candidates", headers=headers, json={
            "full_name": "Trần Thị Bình", "date_of_birth": "1998-05-02", "gender": "female",
            "address": {"ward_code": FAR_WARD}, "occupations": ["7212"], "skills": ["hàn điện"], "trade_level": 3,
            "phone": f"09{random.randrange(10**8):08d}", "contact_channels": ["sms"],
            "consents": {"matching": {"granted": True, "source": "e2e"},
                         "notifications": {"granted": True, "source": "e2e"}}})
        assert person.status_code == 201, person.text
        employer = httpx.post(f"{base}/api/v1/employers", headers=headers, json={
            "name": "Công ty Cơ khí Thử", "tax_code": "0314409058", "address": {"ward_code": FAR_WARD}})
        assert employer.status_code in (201, 409), employer.text
        employer_id = employer.json().get("id") or employer.json()["existing_id"]
        job = httpx.post(f"{base}/api/v1/vacancies", headers=headers, json={
            "employer_id": employer_id, "title": "Thợ hàn", "occupation": "7212", "openings": 1,
            "required_skills": [{"skill": "hàn điện"}], "deadline": "2099-12-31",
            "workplace": {"ward_code": FAR_WARD}})
        assert job.status_code == 201, job.text
        ranked = wait_for_matches(base, job.json()["id"], headers)
        assert person.json()["id"] in [i["candidate_id"] for i in ranked]
        # a job fair: the allocation invites her, the hire recorded in matching fills the vacancy
        # in the vacancies service (invitation.outcome_recorded over Kafka)
        fair = httpx.post(f"{base}/api/v1/job-fairs", headers=admin, json={
            "name": "Phiên thử", "date": local_date(datetime.now(UTC)).isoformat(), "venue": {"ward_code": FAR_WARD},
            "slots": [{"start": "08:00", "end": "11:00", "seats": 50}], "vacancies": [{"vacancy_id": job.json()["id"]}]})
        assert fair.status_code == 201, fair.text
        started = httpx.post(f"{base}/api/v1/job-fairs/{fair.json()['id']}/allocations", headers=admin)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}{started.headers['location']}", headers=admin).json()["status"] == "running":
            assert time.monotonic() < deadline, "allocation did not finish"
            time.sleep(0.2)
        invitations = httpx.get(f"{base}/api/v1/job-fairs/{fair.json()['id']}/invitations", headers=admin).json()["items"]
        assert invitations  # (earlier local runs may have left people who tie with her)
        mine = next((i for i in invitations if i["candidate_id"] == person.json()["id"]), invitations[0])
        # notifications (its own process, contacts and invitations over Kafka) texts her; she
        # accepts on the RSVP page through the gateway; matching hears both over Kafka
        phone = httpx.get(f"{base}/api/v1/candidates/{mine['candidate_id']}", headers=headers).json()["phone"]
        code = sms.code_sent_to(phone)
        answered = httpx.post(f"{base}/rsvp/{code}", data={"answer": "accept"})
        assert answered.status_code == 200 and "Bạn đã xác nhận sẽ tham dự" in answered.text, answered.text
        deadline = time.monotonic() + 60
        while (status := next(i["status"] for i in httpx.get(
                f"{base}/api/v1/job-fairs/{fair.json()['id']}/invitations", headers=admin).json()["items"]
                if i["id"] == mine["id"])) != "accepted":
            assert time.monotonic() < deadline, f"the invitation is {status}, not accepted"
            time.sleep(0.2)
        hired = httpx.post(f"{base}/api/v1/invitations/{mine['id']}/outcome", headers=admin, json={"outcome": "hired"})
        assert hired.status_code == 200, hired.text
        deadline = time.monotonic() + 60
        while (v := httpx.get(f"{base}/api/v1/vacancies/{job.json()['id']}", headers=headers).json())["status"] != "filled":
            assert time.monotonic() < deadline, f"the vacancy was not filled: {v}"
            time.sleep(0.2)
        assert v["hires"] == 1
    finally:
        sms.server.shutdown()
        down = subprocess.run(["make", "down"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr
