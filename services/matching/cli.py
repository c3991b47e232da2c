"""Commands of the matching service: ``python -m services.matching.cli rebuild|train|top-n``.

They use the service's settings (database, bus) like the service itself:
``JOBLINK_MATCHING_DATABASE_URL``, ``JOBLINK_BUS``, ``JOBLINK_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from kit.app import database_url, make_bus
from kit.db import Database
from kit.settings import RuntimeSettings
from services.matching.app import SPEC
from services.matching.consumers import GROUPS
from services.matching.learning import adopted_weights, train
from services.matching.service import MatchingService
from services.matching.settings import MatchingSettings


async def _service(settings: MatchingSettings, db: Database) -> MatchingService:
    service = MatchingService(settings.weights.weights(), settings.priority_boosts, settings.index_compact_at)
    adopted = await adopted_weights(db)
    if adopted is not None:
        service.index.weights = adopted[0]
    return service


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
        elif command == "top-n":
            await service.load(db)
            started = time.perf_counter()
            result = service.top_n(args.n or settings.top_n, settings.top_n_retrieve)
            print(f"top-{args.n or settings.top_n} for {len(result.ranked)} open vacancies in "
                  f"{time.perf_counter() - started:.2f}s; exact for {result.exact_share:.1%}", file=sys.stderr)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="services.matching.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rebuild", help="empty the read models and replay candidates.v1, vacancies.v1, jobfairs.v1")
    commands.add_parser("train", help="fit weights on past outcomes; adopt them only if they do better")
    top = commands.add_parser("top-n", help="batch top-N candidates of every open vacancy")
    top.add_argument("-n", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(run(args.command, args))


if __name__ == "__main__":
    main()
