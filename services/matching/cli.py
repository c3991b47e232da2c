"""Commands of the matching service: ``python -m services.matching.cli rebuild|train|jobfair|top-n|warm-up``.

They use the service's settings (database, bus) like the service itself:
``JOBLINK_MATCHING_DATABASE_URL``, ``JOBLINK_BUS``, ``JOBLINK_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kit.app import database_url, make_bus
from kit.db import Database
from kit.logging import configure_logging
from kit.settings import RuntimeSettings
from reference.localtime import local_date
from services.matching.app import SPEC
from services.matching.consumers import GROUPS
from kit.outbox import Outbox
from services.matching.jobfairs import JobFairs, WrongDay
from services.matching.learning import adopted_weights, train
from services.matching import repository
from services.matching.service import MatchingService
from services.matching.settings import MatchingSettings

log = structlog.get_logger("matching.cli")


async def _service(settings: MatchingSettings, db: Database) -> MatchingService:
    service = MatchingService(settings.weights.weights(), settings.priority_boosts, settings.index_compact_at)
    adopted = await adopted_weights(db)
    if adopted is not None:
        service.index.weights = adopted[0]
    return service


def warm_up() -> float:
    """Compile the batch top-N kernel into numba's on-disk cache (``NUMBA_CACHE_DIR``) by ranking
    a small generated population; the seconds it took. A process that then ranks loads the
    kernel from the cache in about a second instead of compiling it for about fifteen."""
    from reference.population import population_events

    started = time.perf_counter()
    settings = MatchingSettings()
    service = MatchingService(settings.weights.weights(), settings.priority_boosts)
    service.load_events(*population_events(200, 40, seed=1, as_of=date.today()))
    service.top_n(10)
    return time.perf_counter() - started


async def run(command: str, args: argparse.Namespace) -> None:
    settings, runtime = MatchingSettings(), RuntimeSettings()
    db = Database(database_url(SPEC, settings, runtime))
    try:
        service = await _service(settings, db)
        if command == "rebuild":
            bus = make_bus(runtime, "matching-rebuild")
            await bus.start()
            try:
                started = time.perf_counter()
                applied = await service.rebuild(db, bus, SPEC.registry, SPEC.inbox, GROUPS)
            finally:
                await bus.stop()
            print(f"rebuilt from {applied} events in {time.perf_counter() - started:.1f}s: "
                  f"{len(service.index.candidates)} candidates and {len(service.index.vacancies)} open vacancies "
                  "in the pool", file=sys.stderr)
        elif command == "train":
            adopted, evaluation = await train(db, service.weights)
            print(json.dumps(evaluation, indent=2, ensure_ascii=False))
            print("adopted: restart the matching service to use it" if adopted else "not adopted", file=sys.stderr)
        elif command == "jobfair":
            await jobfair(service, db, args.fair, runtime)
        elif command == "top-n":
            await service.load(db)
            started = time.perf_counter()
            result = service.top_n(args.n or settings.top_n)
            print(f"top-{args.n or settings.top_n} for {len(result.vacancy_ids)} open vacancies in "
                  f"{time.perf_counter() - started:.2f}s ({result.scored:,} pairs scored)", file=sys.stderr)
    finally:
        await db.dispose()


async def jobfair(service: MatchingService, db: Database, fair_id: str | None, runtime: RuntimeSettings) -> None:
    """The monthly batch: allocate the given (or the next) fair, print a summary, write the report.
    On a terminal progress is a bar; otherwise one structured log line per step."""
    console = Console(stderr=True)
    interactive = console.is_terminal
    fairs = JobFairs(db, Outbox(SPEC.outbox, SPEC.registry), service, Path(runtime.var_dir) / "reports")
    async with db.reading() as session:
        if fair_id is None:
            upcoming = await repository.next_fair(session, local_date(datetime.now(UTC)))
            if upcoming is None:
                raise SystemExit("no upcoming job fair: schedule one with POST /api/v1/job-fairs")
            fair_id = upcoming.id
        fair = await fairs.fair(session, fair_id)
    steps = ["loading the index", "ranking candidates", "solving", "publishing", "writing the report", "done"]
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, disable=not interactive) as bar:
        task = bar.add_task(f"{fair.name}: loading the index", total=len(steps) - 1)

        def progress(message: str) -> None:
            step = next((i for i, s in enumerate(steps) if message.startswith(s.split()[0])), 0)
            bar.update(task, completed=step, description=f"{fair.name}: {message}")
            if not interactive:
                log.info("jobfair_progress", fair_id=fair.id, step=message)

        progress("loading the index")
        await service.load(db)
        try:
            run = await fairs.start_run(fair.id)
        except WrongDay as exc:
            raise SystemExit(str(exc)) from None
        run = await fairs.run(run.id, progress)
    totals = run.totals or {}
    table = Table(title=f"{fair.name} — {fair.fair_date:%d/%m/%Y}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in (("run", run.id), ("invitations", totals.get("invitations")), ("issued", totals.get("issued")),
                        ("revoked", totals.get("revoked")), ("kept", totals.get("kept")),
                        ("objective (total score)", run.objective), ("priority share", totals.get("priority_share")),
                        ("priority share target", fair.priority_min_share), ("input hash", (run.input_hash or "")[:16]),
                        ("note", run.message)):
        table.add_row(name, str(value))
    Console().print(table)
    console.print(f"report: {Path(runtime.var_dir) / 'reports' / f'jobfair-{fair.id}-{run.id}.html'}", soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="services.matching.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rebuild", help="empty the read models and replay candidates.v1, vacancies.v1, jobfairs.v1")
    commands.add_parser("train", help="fit weights on past outcomes; adopt them only if they do better")
    fair = commands.add_parser("jobfair", help="the monthly batch: allocate a job fair's invitations, report")
    fair.add_argument("fair", nargs="?", default=None, help="the fair's id (default: the next one by date)")
    top = commands.add_parser("top-n", help="batch top-N candidates of every open vacancy")
    top.add_argument("-n", type=int, default=0)
    commands.add_parser("warm-up", help="compile the batch top-N kernel into numba's disk cache (no database)")
    args = parser.parse_args(argv)
    runtime = RuntimeSettings()
    configure_logging(runtime.log_level, runtime.log_json)  # log lines on stderr; results on stdout
    if args.command == "warm-up":
        os.nice(10)  # work done ahead of need: it gives way to the service's own
        print(f"batch top-N kernel ready in {warm_up():.1f}s", file=sys.stderr)
        return
    asyncio.run(run(args.command, args))


if __name__ == "__main__":
    main()
