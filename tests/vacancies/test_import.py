"""Bulk CSV import of vacancies: good rows kept, bad rows reported, progress readable."""

from __future__ import annotations

import csv
import io
from datetime import date

import orjson

from reference.population import PopulationGenerator
from tests.vacancies.conftest import Vacancies

BAD = {
    0: {"occupation": "9999"},
    1: {"openings": "0"},
    2: {"wage_min_vnd": "20000000", "wage_max_vnd": "10000000"},
    3: {"deadline": "2026-11-01"},
    4: {"employer_tax_code": "0300000000"},  # no such employer (check digit fine, never registered)
    5: {"required_skills": "hàn điện:maybe"},
}


async def test_import_keeps_good_rows_and_reports_bad_ones(vacancies: Vacancies) -> None:
    headers = await vacancies.bearer(["vacancies:read", "vacancies:write"], centre_id="centre-a")
    gen = PopulationGenerator(11, date(2026, 12, 1))
    employers = [gen.employer(i) for i in range(20)]
    for e in employers:
        r = await vacancies.http.post("/api/v1/employers", headers=headers, json={
            "name": e["name"], "tax_code": e["tax_code"], "industry": e["industry"], "fdi": e["fdi"],
            "address": {"ward_code": e["ward_code"]}})
        assert r.status_code == 201, r.text
    rows = [v for e in employers for v in gen.vacancies_of(e)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    bad_rows = set()
    for i, row in enumerate(rows):
        if i % 10 == 3:
            row.update(BAD[len(bad_rows) % len(BAD)])
            bad_rows.add(i + 1)
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    data = b"\xef\xbb\xbf" + out.getvalue().encode()

    response = await vacancies.http.post(
        "/api/v1/vacancies:import", content=data, headers={**headers, "content-type": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    summary = lines[-1]["summary"]
    results = {line["row"]: line for line in lines[:-1]}
    assert sorted(results) == list(range(1, len(rows) + 1))
    assert {row for row, line in results.items() if "errors" in line} == bad_rows
    assert (summary["rows"], summary["imported"], summary["failed"]) == (len(rows), len(rows) - len(bad_rows), len(bad_rows))
    assert "ignored_columns" not in summary  # the generator writes the import's own columns
    fields = {results[r]["errors"][0]["field"] for r in bad_rows}
    assert {"occupation", "openings", "deadline", "employer_tax_code", "required_skills.0.kind"} <= fields

    progress = await vacancies.http.get(response.headers["location"], headers=headers)
    assert progress.json()["imported"] == len(rows) - len(bad_rows) and progress.json()["status"] == "completed"
    good = next(line["id"] for line in lines[:-1] if "id" in line)
    read = await vacancies.http.get(f"/api/v1/vacancies/{good}", headers=headers)
    assert read.status_code == 200 and read.json()["required_skills"]
    assert any(s["kind"] == "must" for s in read.json()["required_skills"])

    other = await vacancies.bearer(["vacancies:read", "vacancies:write"], centre_id="centre-b")
    response = await vacancies.http.post(
        "/api/v1/vacancies:import", content=data, headers={**other, "content-type": "text/csv"}
    )
    summary = orjson.loads(response.text.splitlines()[-1])["summary"]
    assert summary["imported"] == 0  # the employers are centre A's
    assert (await vacancies.http.get(response.headers["location"], headers=headers)).status_code == 404


async def test_a_file_that_is_not_utf8_fails_clearly(vacancies: Vacancies) -> None:
    headers = await vacancies.bearer(["vacancies:write"], centre_id="centre-a")
    data = "employer_tax_code,title\n0314409058,Thợ hàn\n".encode("utf-16")
    response = await vacancies.http.post(
        "/api/v1/vacancies:import", content=data, headers={**headers, "content-type": "text/csv"}
    )
    summary = orjson.loads(response.text.splitlines()[-1])["summary"]
    assert summary["status"] == "failed" and "UTF-8" in summary["error"]


async def test_rows_may_name_their_employer_by_id(vacancies: Vacancies) -> None:
    headers = await vacancies.bearer(["vacancies:read", "vacancies:write"], centre_id="centre-a")
    gen = PopulationGenerator(12, date(2026, 12, 1))
    employers = [gen.employer(i) for i in range(3)]
    ids = []
    for e in employers:
        r = await vacancies.http.post("/api/v1/employers", headers=headers, json={
            "name": e["name"], "tax_code": e["tax_code"], "industry": e["industry"], "fdi": e["fdi"],
            "address": {"ward_code": e["ward_code"]}})
        ids.append(r.json()["id"])
    rows = [{**v, "employer_id": ids[n], "employer_tax_code": ""} for n, e in enumerate(employers) for v in gen.vacancies_of(e)]
    rows.append({**rows[0], "employer_id": "no-such-employer"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in rows)
    response = await vacancies.http.post("/api/v1/vacancies:import", content=out.getvalue().encode(), headers=headers)
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert all("id" in line for line in lines[:-2])
    assert lines[-2]["errors"] == [{"field": "employer_id", "message": "no employer registered with this tax code or id"}]
    some = await vacancies.http.get(f"/api/v1/vacancies/{lines[0]['id']}", headers=headers)
    assert some.json()["employer_id"] == ids[0]
