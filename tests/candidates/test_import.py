"""Bulk CSV import: good rows kept, bad rows reported, progress readable."""

from __future__ import annotations

import csv
import io
from datetime import date

import orjson
import pytest

from reference.population import CANDIDATE_COLUMNS, PopulationGenerator
from tests.candidates.conftest import Candidates

BAD = {
    0: {"phone": "01623456789"},
    1: {"ward_code": "99999", "legacy_district_code": "", "legacy_ward_code": ""},
    2: {"date_of_birth": "2020-01-01", "national_id": ""},
    3: {"trade_level": "9"},
    4: {"full_name": ""},
    5: {"national_id": "0310"},
}


def generated_csv(n: int, bom: bool) -> tuple[bytes, set[int]]:
    gen = PopulationGenerator(5, date(2026, 12, 1))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*CANDIDATE_COLUMNS, "address_detail"], lineterminator="\r\n")
    writer.writeheader()
    bad_rows = set()
    for i in range(n):
        row = gen.candidate(i)
        row["address_detail"] = f"Số {i}, ngõ 12, phố Lạch Tray"
        if i % 10 == 7:  # 10 % of the rows break one rule each
            row.update(BAD[(i // 10) % len(BAD)])
            bad_rows.add(i + 1)
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data if bom else data), bad_rows


async def test_import_keeps_good_rows_and_reports_bad_ones(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    data, bad_rows = generated_csv(300, bom=True)
    response = await candidates.http.post(
        "/api/v1/candidates:import", content=data, headers={**headers, "content-type": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    summary = lines[-1]["summary"]
    results = {line["row"]: line for line in lines[:-1]}
    assert sorted(results) == list(range(1, 301))
    failed = {row for row, line in results.items() if "errors" in line}
    assert failed == bad_rows
    assert (summary["rows"], summary["imported"], summary["failed"]) == (300, 270, 30)
    assert summary["status"] == "completed"
    phone_errors = [results[r]["errors"] for r in sorted(bad_rows) if "2018" in str(results[r]["errors"])]
    assert phone_errors and all(e[0]["field"] == "phone" for e in phone_errors)
    id_errors = [results[r]["errors"] for r in sorted(bad_rows) if "12 digits" in str(results[r]["errors"])]
    assert id_errors and all(e == [{"field": "national_id", "message": "a citizen ID has exactly 12 digits"}]
                             for e in id_errors)
    assert "0162345" not in response.text  # no personal data echoed

    progress = await candidates.http.get(response.headers["location"], headers=headers)
    assert progress.json()["imported"] == 270 and progress.json()["status"] == "completed"
    assert progress.json()["started_at"] <= progress.json()["progress_at"] <= progress.json()["finished_at"]
    some_id = next(line["id"] for line in lines[:-1] if "id" in line)
    assert (await candidates.http.get(f"/api/v1/candidates/{some_id}", headers=headers)).json()["centre_id"] == "centre-a"

    again = await candidates.http.post(
        "/api/v1/candidates:import", content=data, headers={**headers, "content-type": "text/csv"}
    )
    again_summary = orjson.loads(again.text.splitlines()[-1])["summary"]
    assert again_summary["imported"] == 0 and again_summary["failed"] == 300  # every row is now a duplicate
    other = await candidates.bearer(["candidates:write"], centre_id="centre-b")
    assert (await candidates.http.get(response.headers["location"], headers=other)).status_code == 404


async def test_a_row_with_a_nul_character_is_reported_and_its_batch_kept(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    data, _bad = generated_csv(20, bom=False)
    lines = data.decode().split("\r\n")
    lines[3] = lines[3].replace(",", ",\x00", 1)  # row 3's second column
    response = await candidates.http.post("/api/v1/candidates:import", content="\r\n".join(lines).encode(),
                                          headers={**headers, "content-type": "text/csv"})
    results = [orjson.loads(line) for line in response.text.splitlines()]
    summary = results[-1]["summary"]
    assert [r["row"] for r in results[:-1]] == list(range(1, 21))
    assert results[2]["errors"][0]["message"] == "text cannot contain NUL (U+0000)"
    assert (summary["rows"], summary["imported"], summary["failed"]) == (20, 17, 3)  # rows 8 and 18 break rules
    progress = await candidates.http.get(response.headers["location"], headers=headers)
    assert (progress.json()["rows"], progress.json()["failed"]) == (20, 3)


async def test_a_file_that_is_not_utf8_is_reported(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:write"], centre_id="centre-a")
    data = b"full_name,date_of_birth,ward_code\n\xff\xfe\n"
    response = await candidates.http.post("/api/v1/candidates:import", content=data, headers=headers)
    summary = orjson.loads(response.text.splitlines()[-1])["summary"]
    assert summary["status"] == "failed" and summary["error"].startswith("line 2: not UTF-8 text")


async def test_the_header_is_checked_a_misspelt_column_is_named_and_a_missing_one_stops_the_import(
    candidates: Candidates,
) -> None:
    headers = await candidates.bearer(["candidates:write"], centre_id="centre-a")
    data, _bad = generated_csv(20, bom=False)
    misspelt = data.replace(b"phone,", b"so_dien_thoai,", 1)
    response = await candidates.http.post("/api/v1/candidates:import", content=misspelt, headers=headers)
    summary = orjson.loads(response.text.splitlines()[-1])["summary"]
    assert summary["ignored_columns"] == ["so_dien_thoai"] and summary["status"] == "completed"
    job = (await candidates.http.get(response.headers["location"], headers=headers)).json()
    assert job["ignored_columns"] == ["so_dien_thoai"]

    nameless = data.replace(b"full_name,", b"name,", 1)
    response = await candidates.http.post("/api/v1/candidates:import", content=nameless, headers=headers)
    lines = response.text.splitlines()
    summary = orjson.loads(lines[-1])["summary"]
    assert len(lines) == 1 and (summary["status"], summary["rows"]) == ("failed", 0)
    assert summary["error"].startswith("line 1: the header has no full_name column (the columns read are: ")


async def test_a_file_saved_by_excel_with_vietnamese_settings_uses_semicolons(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    data, bad_rows = generated_csv(40, bom=True)
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    response = await candidates.http.post("/api/v1/candidates:import", content=b"\xef\xbb\xbf" + out.getvalue().encode(),
                                          headers=headers)
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert {line["row"] for line in lines[:-1] if "errors" in line} == bad_rows
    assert lines[-1]["summary"]["imported"] == 40 - len(bad_rows) and "ignored_columns" not in lines[-1]["summary"]
    cells = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    listed = next(line for line in lines[:-1] if "id" in line and ";" in cells[line["row"] - 1]["skills"])
    skills = (await candidates.http.get(f"/api/v1/candidates/{listed['id']}", headers=headers)).json()["skills"]
    assert len(skills) >= 2  # the quoted "skill;skill" cell, split into its entries


async def test_a_file_sent_as_a_form_is_refused_with_how_to_send_it(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:write"], centre_id="centre-a")
    data, _bad = generated_csv(3, bom=False)
    response = await candidates.http.post("/api/v1/candidates:import", files={"file": ("c.csv", data, "text/csv")},
                                          headers=headers)
    assert response.status_code == 415 and response.headers["content-type"] == "application/problem+json"
    assert "Content-Type: text/csv" in response.json()["detail"]
    as_json = await candidates.http.post("/api/v1/candidates:import", json=[{"full_name": "Nguyễn Văn An"}],
                                         headers=headers)
    assert as_json.status_code == 415 and "not JSON" in as_json.json()["detail"]


async def test_two_imports_of_the_same_people_at_once_register_each_person_once(candidates: Candidates) -> None:
    import asyncio

    headers = await candidates.bearer(["candidates:write"], centre_id="centre-a")
    data, bad_rows = generated_csv(120, bom=False)

    async def run() -> dict:
        response = await candidates.http.post("/api/v1/candidates:import", content=data, headers=headers)
        return orjson.loads(response.text.splitlines()[-1])["summary"]

    first, second = await asyncio.gather(run(), run())
    assert first["imported"] + second["imported"] == 120 - len(bad_rows)
    assert first["failed"] + second["failed"] == 120 + len(bad_rows)


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_lost_worker_process_costs_no_row(tmp_path, workers: int) -> None:  # noqa: ANN001
    """The preparing workers die (out of memory, killed): their batch is prepared here instead
    and the next import gets new workers (with two, each prepares half of a batch)."""
    import asyncio
    import os
    import signal

    from kit.auth import Principal
    from kit.db import Database
    from kit.migrations import upgrade
    from kit.outbox import Outbox
    from services.candidates.app import SPEC
    from services.candidates.events import registry
    from services.candidates.importing import CandidateImporter
    from services.candidates.models import outbox
    from services.candidates.personal import PersonalDataProtector
    from services.candidates.service import CandidateService

    url = f"sqlite+aiosqlite:///{tmp_path / 'candidates.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    db, key = Database(url), b"k" * 32
    importer = CandidateImporter(db, CandidateService(Outbox(outbox, registry), PersonalDataProtector(key)),
                                 workers=workers, master_key=key, batch=500)
    who = Principal("test", "centre-a", frozenset({"candidates:write"}))
    data, bad_rows = generated_csv(1200, bom=False)  # three batches

    async def run() -> dict:
        async def chunks():  # noqa: ANN202
            yield data

        lines = [line async for line in importer.run(await importer.start(who), who, chunks())]
        return lines[-1]["summary"]

    try:
        await importer.warm_up()
        for pid in list(importer._pool._processes):  # noqa: SLF001 - the test kills the worker
            os.kill(pid, signal.SIGKILL)
        summary = await run()
        assert (summary["status"], summary["rows"], summary["failed"]) == ("completed", 1200, len(bad_rows))
        data, _bad = generated_csv(1300, bom=False)  # the first 1,200 again (duplicates now) and 100 more
        assert (await run())["imported"] == 90  # 10 of the 100 new rows break a rule
        assert importer._pool is not None  # noqa: SLF001 - a new worker did it
    finally:
        importer.close()
        await db.dispose()


async def test_a_person_twice_in_one_file_is_imported_once_and_found_by_the_filters(candidates: Candidates) -> None:
    headers = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    gen = PopulationGenerator(9, date(2026, 12, 1))
    first = {k: str(v).lower() if isinstance(v, bool) else v for k, v in gen.candidate(0).items()}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CANDIDATE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows([first, {k: str(v).lower() if isinstance(v, bool) else v for k, v in gen.candidate(1).items()},
                      {**first, "national_id": ""}])  # the same person again: phone, name and birth date
    response = await candidates.http.post("/api/v1/candidates:import", content=out.getvalue().encode(),
                                          headers={**headers, "content-type": "text/csv"})
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert "id" in lines[0] and "id" in lines[1]
    assert lines[2]["errors"][0]["message"].endswith(f"({lines[0]['id']})")  # names the row it repeats
    occupation = first["occupations"].split(";")[0]
    found = await candidates.http.get("/api/v1/candidates", params={"occupation": occupation}, headers=headers)
    assert lines[0]["id"] in [c["id"] for c in found.json()["items"]]


async def test_an_import_whose_process_died_reads_as_failed_once_it_stalls(candidates: Candidates) -> None:
    """A process killed mid-import never finishes its job: once the job has made no progress for
    ten minutes, its GET says it failed, where it stopped, and that the counted rows stay."""
    from datetime import UTC, datetime, timedelta

    from kit.ids import new_id
    from services.candidates.models import CandidateImport

    headers = await candidates.bearer(["candidates:write"], centre_id="centre-a")
    now = datetime.now(UTC)
    jobs = {}
    async with candidates.db.transaction() as session:
        for name, last in (("alive", now - timedelta(seconds=30)), ("dead", now - timedelta(minutes=11))):
            jobs[name] = new_id()
            session.add(CandidateImport(id=jobs[name], centre_id="centre-a", started_by="centre-a-app", status="running",
                                        rows=1500, imported=1400, failed=100, started_at=now - timedelta(hours=1),
                                        progress_at=last))
    alive = (await candidates.http.get(f"/api/v1/candidates/imports/{jobs['alive']}", headers=headers)).json()
    assert (alive["status"], alive["error"]) == ("running", None)
    dead = (await candidates.http.get(f"/api/v1/candidates/imports/{jobs['dead']}", headers=headers)).json()
    assert (dead["status"], dead["rows"], dead["imported"]) == ("failed", 1500, 1400)
    assert dead["error"].startswith("the import stopped after row 1500: no progress since ")
    assert dead["progress_at"] is not None and dead["finished_at"] is None
