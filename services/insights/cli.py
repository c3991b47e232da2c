"""Operator commands of the insights service.

    python -m services.insights.cli rebuild   # forget every fact and replay the topics
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from kit.app import database_url, make_bus
from kit.db import Database
from kit.logging import configure_logging
from kit.settings import RuntimeSettings
from services.insights.app import SPEC
from services.insights.consumers import GROUPS
from services.insights.service import Insights
from services.insights.settings import InsightsSettings


async def rebuild() -> None:
    settings, runtime = InsightsSettings(), RuntimeSettings()
    db = Database(database_url(SPEC, settings, runtime))
    bus = make_bus(runtime, "insights-rebuild")
    await bus.start()
    try:
        started = time.perf_counter()
        applied = await Insights(settings.vocational_target).rebuild(db, bus, SPEC.registry, SPEC.inbox, GROUPS)
        print(f"rebuilt from {applied} events in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    finally:
        await bus.stop()
        await db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.insights.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["rebuild"])
    parser.parse_args(argv)
    configure_logging()
    asyncio.run(rebuild())


if __name__ == "__main__":
    main()
