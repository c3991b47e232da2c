"""Candidate CSV import throughput on PostgreSQL, against a bare COPY of the same rows.

    DATABASE_URL=postgresql+asyncpg://…/postgres python -m bench.candidates_import [--rows 20000]

The import path is the real one (CSV parsing, validation with the reference data, national-ID
encryption and keyed duplicate checks, one savepoint per row, tags, outbox events, job progress);
the baseline loads the same CSV's columns as text with COPY into an unindexed table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import csv
import io
import os
import statistics
import time
from datetime import date
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

import reference
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
    parser.add_argument("--workers", type=lambda text: [int(w) for w in text.split(",")], default=[0, 1],
                        help="worker processes preparing rows, one configuration each (comma-separated)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each configuration, alternated")
    args = parser.parse_args()
    data = generate(args.rows)
    databases = PostgresDatabases(os.environ["DATABASE_URL"])
    try:
        url = await databases.create("bench_import")
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE copy_baseline (" + ", ".join(f"{c} text" for c in CANDIDATE_COLUMNS) + ")")
        records = [tuple(r.values()) for r in csv.DictReader(io.StringIO(data.decode()))]
        started = time.perf_counter()
        await conn.copy_records_to_table("copy_baseline", records=records, columns=list(CANDIDATE_COLUMNS))
        copy_s = time.perf_counter() - started
        await conn.close()

        runs: dict[int, list[tuple[float, dict, dict[str, float]]]] = {workers: [] for workers in args.workers}
        floors: list[tuple[float, float]] = []  # (seconds, PostgreSQL CPU seconds) of writes_alone
        for repeat in range(args.repeat):  # the configurations alternate; each run into an empty database
            for workers in args.workers:
                url = await databases.create(f"bench_import_{workers}_{repeat}")
                await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
                runs[workers].append(await import_once(url, data, workers))
                floors.append(await writes_alone(databases, url))
                await databases.drop_all()
    finally:
        await databases.drop_all()
    print(f"\n{args.rows:,} generated candidates ({len(data) / 1e6:.1f} MB CSV), PostgreSQL, {os.cpu_count()} cores\n")
    print(f"Imports: median of {args.repeat} alternated runs (rows/s of each run in brackets).\n")
    print("| path | rows | seconds | rows/s | CPU µs per row: service, workers, PostgreSQL |\n"
          "| --- | ---: | ---: | ---: | --- |")
    print(f"| bare COPY of the columns as text (baseline) | {args.rows:,} | {copy_s:.2f} | {args.rows / copy_s:,.0f} | |")
    floor_s, floor_cpu = statistics.median(s for s, _cpu in floors), statistics.median(c for _s, c in floors)
    print(f"| PostgreSQL alone: the import's own rows (candidates, tags, events) copied into an empty database of the "
          f"same schema | {args.rows:,} | {floor_s:.2f} | {args.rows / floor_s:,.0f} | –, –, "
          f"{floor_cpu / args.rows * 1e6:.0f} |")
    for workers, done in runs.items():
        where = f"rows prepared in {workers} worker process{'es' if workers > 1 else ''}" if workers else "all in one process"
        import_s = statistics.median(seconds for seconds, _summary, _cpu in done)
        summary = done[-1][1]
        each = ", ".join(f"{args.rows / seconds:,.0f}" for seconds, _summary, _cpu in done)
        per_row = ", ".join(f"{statistics.median(cpu[name] for _s, _summary, cpu in done) / args.rows * 1e6:.0f}"
                            for name in ("service", "workers", "postgresql"))
        print(f"| import: validate, encrypt, dedupe, insert, tags, events ({where}) | {summary['imported']:,} imported, "
              f"{summary['failed']:,} rejected | {import_s:.2f} | {args.rows / import_s:,.0f} ({each}) | {per_row} |")


async def writes_alone(databases: PostgresDatabases, url: str) -> tuple[float, float]:
    """What PostgreSQL alone spends on what an import stores: the rows an import wrote (its
    candidates, their tags, its events) copied out, then into a new database of the same schema
    and indexes, one table after the other in one transaction: (seconds, its backend's CPU
    seconds). No Python prepares anything; the import's rows cannot go in faster than this."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    target_url = await databases.create("bench_import_floor")
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, target_url)
    source = await asyncpg.connect(dsn)
    target_dsn = make_url(target_url).set(drivername="postgresql").render_as_string(hide_password=False)
    target = await asyncpg.connect(target_dsn)
    try:
        tables = {}
        for table in ("candidates", "candidate_tags", "outbox"):
            out = io.BytesIO()
            await source.copy_from_table(table, output=out, format="binary")
            tables[table] = out.getvalue()
        backend = await target.fetchval("SELECT pg_backend_pid()")
        cpu, started = cpu_seconds(backend), time.perf_counter()
        async with target.transaction():
            for table, rows in tables.items():
                await target.copy_to_table(table, source=io.BytesIO(rows), format="binary")
        return time.perf_counter() - started, cpu_seconds(backend) - cpu
    finally:
        await source.close()
        await target.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def import_once(url: str, data: bytes, workers: int) -> tuple[float, dict, dict[str, float]]:
    """The import path of the service on ``data``: (seconds, summary, CPU seconds by process:
    this service process, its workers, and PostgreSQL's backends serving it)."""
    db = Database(url)
    reference.load()
    gc.freeze()  # as the service's start-up does (kit.app)
    key = b"b" * 32
    service = CandidateService(Outbox(outbox, registry), PersonalDataProtector(key))
    importer = CandidateImporter(db, service, workers=workers, master_key=key)
    who = Principal("bench", "centre-bench", frozenset({"candidates:write"}))
    monitor = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))

    async def cpu() -> dict[str, float]:
        backends = await monitor.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()")
        processes = importer._pool._processes if importer._pool is not None else {}  # noqa: SLF001
        return {"service": sum(os.times()[:2]), "workers": sum(cpu_seconds(pid) for pid in processes),
                "postgresql": sum(cpu_seconds(row["pid"]) for row in backends)}

    try:
        await importer.warm_up()  # worker processes start with the service, not with its first import
        job = await importer.start(who)

        async def chunks():  # noqa: ANN202
            for start in range(0, len(data), 256 * 1024):
                yield data[start : start + 256 * 1024]

        before = await cpu()
        started = time.perf_counter()
        summary = {}
        async for line in importer.run(job, who, chunks()):
            summary = line.get("summary", summary)
        elapsed = time.perf_counter() - started
        after = await cpu()
        return elapsed, summary, {name: after[name] - before[name] for name in after}
    finally:
        importer.close()
        await monitor.close()
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
