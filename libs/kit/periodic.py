"""Background jobs a service runs on a timer (closing expired vacancies, retrying deliveries).

Each job must be safe to run in several replicas at once (conditional updates, SKIP LOCKED):
every API and worker process of a service runs its jobs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("kit.periodic")


@dataclass
class PeriodicTask:
    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name=f"periodic:{self.name}")

    def wake(self) -> None:
        """Run again now rather than at the end of the interval (new work has arrived)."""
        self._wake.set()

    async def stop(self) -> None:
        """Let a run in progress finish, then stop."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self.run()
            except Exception:  # a failed run is retried at the next tick, not fatal
                log.exception("periodic_task_failed", task=self.name)
            waits = [asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()
