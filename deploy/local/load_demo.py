"""Load the demo population (``make demo``) into a running platform through its API.

Uses the development admin client of ``make run`` (``<var>/dev-admin.json``) to create a demo
job-centre client, then, as that centre, imports ``<var>/demo/candidates.csv``, registers the
employers of ``<var>/demo/employers.csv`` and imports ``<var>/demo/vacancies.csv``; as the
admin, schedules a job fair next month with up to 30 of the vacancies and allocates it. It
prints the imports' summaries, the allocation's and where its report is.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx


def token(http: httpx.Client, client_id: str, secret: str) -> str:
    response = http.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
    })
    response.raise_for_status()
    return response.json()["access_token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--var", default="var")
    args = parser.parse_args()
    var = Path(args.var)
    admin = json.loads((var / "dev-admin.json").read_text())
    with httpx.Client(base_url=args.base, timeout=300) as http:
        admin_headers = {"authorization": "Bearer " + token(http, admin["client_id"], admin["client_secret"])}
        centre = http.post("/api/v1/clients", headers=admin_headers, json={
            "name": "Trung tâm Dịch vụ việc làm Hải Phòng (demo)",
            "scopes": ["candidates:read", "candidates:write", "vacancies:read", "vacancies:write", "matching:read"],
            "centre_id": "hp-demo",
        })
        centre.raise_for_status()
        headers = {"authorization": "Bearer " + token(http, centre.json()["client_id"], centre.json()["client_secret"]),
                   "content-type": "text/csv"}
        report("candidates", upload(http, "/api/v1/candidates:import", headers, var / "demo" / "candidates.csv"))
        with (var / "demo" / "employers.csv").open(encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                response = http.post("/api/v1/employers", headers={"authorization": headers["authorization"]}, json={
                    "name": row["name"], "tax_code": row["tax_code"], "industry": row["industry"],
                    "fdi": row["fdi"] == "true", "address": {"ward_code": row["ward_code"]},
                })
                if response.status_code not in (201, 409):  # 409: loaded by an earlier make demo
                    sys.exit(f"employer {row['ref']}: {response.status_code} {response.text}")
        report("vacancies", upload(http, "/api/v1/vacancies:import", headers, var / "demo" / "vacancies.csv"))
        job_fair(http, admin_headers, {"authorization": headers["authorization"]})
    print(f"demo centre client {centre.json()['client_id']} secret {centre.json()['client_secret']}", file=sys.stderr)


def job_fair(http: httpx.Client, admin: dict[str, str], centre: dict[str, str]) -> None:
    """Schedule a job fair next month with up to 30 of the demo vacancies and allocate it."""
    open_ids = [v["id"] for v in http.get("/api/v1/vacancies", params={"status": "open", "limit": 30},
                                          headers=centre).json()["items"]]
    body = {"name": "Phiên giao dịch việc làm (demo)", "date": (date.today() + timedelta(days=30)).isoformat(),
            "venue": {"ward_code": "11311", "detail": "Trung tâm Dịch vụ việc làm Hải Phòng"},
            "slots": [{"start": "08:00", "end": "10:00", "seats": 300}, {"start": "10:00", "end": "12:00", "seats": 300},
                      {"start": "13:30", "end": "16:00", "seats": 300}],
            "vacancies": [{"vacancy_id": i} for i in open_ids], "priority_min_share": 0.1}
    deadline = time.monotonic() + 120
    while True:  # the vacancies reach matching through events: wait until it knows them all
        fair = http.post("/api/v1/job-fairs", headers=admin, json=body)
        if fair.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    fair.raise_for_status()
    started = http.post(f"/api/v1/job-fairs/{fair.json()['id']}/allocations", headers=admin)
    started.raise_for_status()
    while (run := http.get(started.headers["location"], headers=admin).json())["status"] == "running":
        time.sleep(0.3)
    totals = run.get("totals") or {}
    print(f"demo job fair: {totals.get('invitations')} invitations ({run['status']}; {run['message']}); report at "
          f"{http.base_url}{started.headers['location']}/report", file=sys.stderr)


def upload(http: httpx.Client, path: str, headers: dict[str, str], csv_file: Path) -> dict:
    """Stream a CSV to an import endpoint; the import's summary."""
    summary: dict = {}
    with http.stream("POST", path, headers=headers, content=csv_file.read_bytes()) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            summary = json.loads(line).get("summary", summary)
    return summary


def report(what: str, summary: dict) -> None:
    print(f"demo {what}: {summary['imported']} imported, {summary['failed']} rejected "
          f"(import {summary['import_id']})", file=sys.stderr)


if __name__ == "__main__":
    main()
