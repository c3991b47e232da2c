"""Load the demo population (``make demo``) into a running platform through its API.

Uses the development admin client of ``make run`` (``<var>/dev-admin.json``) to create a demo
job-centre client, then imports ``<var>/demo/candidates.csv`` as that centre and prints the
import's summary.
"""

from __future__ import annotations

import argparse
import json
import sys
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
        summary = None
        with http.stream("POST", "/api/v1/candidates:import", headers=headers,
                         content=(var / "demo" / "candidates.csv").read_bytes()) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                summary = json.loads(line).get("summary", summary)
    print(f"demo candidates: {summary['imported']} imported, {summary['failed']} rejected (see the import "
          f"{summary['import_id']}); demo centre client {centre.json()['client_id']} "
          f"secret {centre.json()['client_secret']}", file=sys.stderr)


if __name__ == "__main__":
    main()
