"""An import that stops early says so: its job is saved as failed, with the counters of the
batches that were committed, whether the database failed or the client went away."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from kit.csvstream import STALLED_AFTER, RowResult, job_report, run_import


@dataclass
class Job:
    id: str = "job-1"
    status: str = "running"
    rows: int = 0
    imported: int = 0
    failed: int = 0
    error: str | None = None
    started_at: datetime = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    progress_at: datetime | None = None
    finished_at: datetime | None = None


def csv_body(rows: int) -> bytes:
    return ("name\n" + "".join(f"person {i}\n" for i in range(rows))).encode()


class Store:
    """Commits batches (the job's counters with them) until told to fail; keeps what was saved."""

    def __init__(self, job: Job, fail_at_batch: int | None = None, block_at_batch: int | None = None) -> None:
        self.job, self.fail_at, self.block_at = job, fail_at_batch, block_at_batch
        self.batches = 0
        self.saved: list[tuple[str, int, int, int, str | None]] = []
        self.blocked = asyncio.Event()

    async def commit(self, batch: list[tuple[int, dict[str, str]]]) -> list[RowResult]:
        self.batches += 1
        self.job.rows += len(batch)
        self.job.imported += len(batch)  # counted before the transaction ends, as the services do
        if self.batches == self.fail_at:
            raise ConnectionResetError("the database went away")
        if self.batches == self.block_at:
            self.blocked.set()
            await asyncio.Event().wait()  # a commit that never ends: the client leaves meanwhile
        self.save()
        return [RowResult(number, record_id=f"id-{number}") for number, _row in batch]

    async def finish(self) -> None:
        await asyncio.sleep(0)  # a real save awaits the database: a cancelled task must still get there
        self.save()

    def save(self) -> None:
        j = self.job
        self.saved.append((j.status, j.rows, j.imported, j.failed, j.error))


async def chunks(data: bytes):  # noqa: ANN201
    yield data


async def test_a_database_failure_ends_the_stream_with_a_failed_summary_and_the_committed_counts() -> None:
    job = Job()
    store = Store(job, fail_at_batch=2)
    lines = [line async for line in run_import(job, chunks(csv_body(25)), store.commit, store.finish, 10,
                                                lambda: datetime.now(UTC))]
    assert [line["row"] for line in lines[:-1]] == list(range(1, 11))  # the first batch's results
    summary = lines[-1]["summary"]
    assert (summary["status"], summary["rows"], summary["imported"]) == ("failed", 10, 10)
    assert "after row 10 (ConnectionResetError)" in summary["error"] and "kept" in summary["error"]
    assert store.saved[-1] == ("failed", 10, 10, 0, summary["error"])
    assert job.finished_at is not None


@pytest.mark.parametrize("how", ["asyncio", "anyio"])
async def test_a_client_that_goes_away_leaves_a_failed_job_with_the_committed_counts(how: str) -> None:
    """Starlette cancels the response when the client disconnects (through anyio, whose
    cancellation hits every later await too): the job's last state is still saved."""
    job = Job()
    store = Store(job, block_at_batch=3)
    seen: list[dict] = []

    async def consume() -> None:
        async for line in run_import(job, chunks(csv_body(45)), store.commit, store.finish, 10, lambda: datetime.now(UTC)):
            seen.append(line)

    if how == "asyncio":
        task = asyncio.ensure_future(consume())
        await store.blocked.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await store.blocked.wait()
            group.cancel_scope.cancel()
    assert [line["row"] for line in seen] == list(range(1, 21))
    status, rows, imported, _failed, error = store.saved[-1]
    assert (status, rows, imported) == ("failed", 20, 20)  # the blocked third batch is not counted
    assert error.startswith("the import was interrupted after row 20")


def test_a_running_job_reads_as_failed_only_after_it_stalls() -> None:
    job = Job(rows=500, imported=480, failed=20)
    started = job.started_at
    assert job_report(job, started + STALLED_AFTER)["status"] == "running"  # measured from the start
    assert job_report(job, started + STALLED_AFTER + timedelta(seconds=1))["status"] == "failed"
    job.progress_at = started + timedelta(minutes=30)
    assert job_report(job, started + timedelta(minutes=35))["status"] == "running"
    late = job_report(job, started + timedelta(minutes=41))
    assert late["status"] == "failed" and "after row 500: no progress since 2026-11-27T08:30:00+00:00" in late["error"]
    job.status = "completed"
    assert job_report(job, started + timedelta(days=3))["status"] == "completed"
    assert job.status == "completed" and job.error is None  # a report, not a change to the job
