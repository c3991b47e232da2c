"""Candidate CSV import throughput on PostgreSQL, against a bare COPY of the same rows.

    DATABASE_URL=postgresql+asyncpg://…/postgres python -m bench.candidates_import [--rows 20000]

The import path is the real one (CSV parsing, validation with the reference data, national-ID
encryption and keyed duplicate checks, one savepoint per row, tags, outbox events, job progress);
the baseline loads the same CSV's columns as text with COPY into an unindexed table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import time
from datetime import date

import asyncpg
from sqlalchemy.engine import make_url

from kit.auth import Principal
from kit.db import Database
from kit.migrations import upgrade
from kit.outbox import Outbox
from reference.population import CANDIDATE_COLUMNS, PopulationGenerator
from services.candidates.app import SPEC
from services.candidates.events import registry
from services.candidates.importing import CandidateImporter
from services.candidates.models import outbox
from services.candidates.personal import PersonalDataProtector
from services.candidates.service import CandidateService
from tests.conftest import PostgresDatabases


def generate(rows: int) -> bytes:
    gen = PopulationGenerator(42, date(2026, 12, 1))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CANDIDATE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for i in range(rows):
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in gen.candidate(i).items()})
    return out.getvalue().encode()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    data = generate(args.rows)
    databases = PostgresDatabases(os.environ["DATABASE_URL"])
    try:
        url = await databases.create("bench_import")
        await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)

        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE copy_baseline (" + ", ".join(f"{c} text" for c in CANDIDATE_COLUMNS) + ")")
        records = [tuple(r.values()) for r in csv.DictReader(io.StringIO(data.decode()))]
        started = time.perf_counter()
        await conn.copy_records_to_table("copy_baseline", records=records, columns=list(CANDIDATE_COLUMNS))
        copy_s = time.perf_counter() - started
        await conn.close()

        db = Database(url)
        service = CandidateService(Outbox(outbox, registry), PersonalDataProtector(b"b" * 32))
        importer = CandidateImporter(db, service)
        who = Principal("bench", "centre-bench", frozenset({"candidates:write"}))
        job = await importer.start(who)

        async def chunks():  # noqa: ANN202
            for start in range(0, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]

        started = time.perf_counter()
        summary = {}
        async for line in importer.run(job, who, chunks()):
            summary = line.get("summary", summary)
        import_s = time.perf_counter() - started
        await db.dispose()
    finally:
        await databases.drop_all()
    print(f"\n{args.rows:,} generated candidates ({len(data) / 1e6:.1f} MB CSV), PostgreSQL, {os.cpu_count()} cores\n")
    print("| path | rows | seconds | rows/s |\n| --- | ---: | ---: | ---: |")
    print(f"| bare COPY of the columns as text (baseline) | {args.rows:,} | {copy_s:.2f} | {args.rows / copy_s:,.0f} |")
    print(f"| import: validate, encrypt, dedupe, insert, tags, events | {summary['imported']:,} imported, "
          f"{summary['failed']:,} rejected | {import_s:.2f} | {args.rows / import_s:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
