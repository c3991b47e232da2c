"""CSV parsing of streamed uploads, and imports that stop early: a job that stops is saved as
failed, with the counters of the batches that were committed, whether the file broke, the
database failed or the client went away."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from kit.csvstream import HELD_BACK_MAX, STALLED_AFTER, Columns, MalformedCsv, RowResult, csv_rows, job_report, run_import


@dataclass
class Job:
    id: str = "job-1"
    status: str = "running"
    rows: int = 0
    imported: int = 0
    failed: int = 0
    error: str | None = None
    ignored_columns: list[str] | None = None
    started_at: datetime = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    progress_at: datetime | None = None
    finished_at: datetime | None = None


NAMES = Columns(frozenset({"name", "note"}), required=frozenset({"name"}))


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


async def chunks(data: bytes, size: int = 256 * 1024):  # noqa: ANN201
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def parsed(data: bytes, size: int = 256 * 1024) -> list[tuple[int, dict[str, str]]]:
    return [row async for row in csv_rows(chunks(data, size))]


@pytest.mark.parametrize("size", [1, 7, 256 * 1024])
async def test_cells_keep_every_character_and_records_end_only_at_line_breaks(size: int) -> None:
    """U+2028 and U+0085 (pasted from a word processor) are text inside a cell, quoted or not;
    a quoted cell may hold a line break, wherever the chunks of the stream are cut."""
    body = ('\ufeffFull_Name ,address_detail\r\n'
            'Nguyễn Văn An,Số 5\u2028ngõ 12\r\n'
            '"Trần Thị ""Bé"" Bình","Tổ 3\x85Lê Chân\r\nHải Phòng"\r\n'
            '\r\n'
            'Phạm Văn Cường,TV 32" Samsung\rLê Thị Dung,Kiến An\n')
    rows = await parsed(body.encode(), size)
    assert rows == [
        (1, {"full_name": "Nguyễn Văn An", "address_detail": "Số 5\u2028ngõ 12"}),
        (2, {"full_name": 'Trần Thị "Bé" Bình', "address_detail": "Tổ 3\x85Lê Chân\r\nHải Phòng"}),
        (3, {"full_name": "Phạm Văn Cường", "address_detail": 'TV 32" Samsung'}),
        (4, {"full_name": "Lê Thị Dung", "address_detail": "Kiến An"}),
    ]


async def test_a_literal_quote_holds_back_no_more_than_a_bounded_stretch() -> None:
    """A quote inside an unquoted cell is text; the odd count it leaves makes the reader wait
    for a closing quote, never for more than HELD_BACK_MAX characters."""
    many = HELD_BACK_MAX // 10
    body = ('name,note\nmàn hình,32" cong\n' + "".join(f"người {i},x\n" for i in range(many))).encode()
    rows = await parsed(body)
    assert len(rows) == many + 1 and rows[0][1]["note"] == '32" cong' and rows[-1][1]["name"] == f"người {many - 1}"


@pytest.mark.parametrize("rows_after", [10, 200_000])
async def test_a_quote_that_never_closes_is_reported_at_its_line_after_the_rows_before_it(rows_after: int) -> None:
    good = "".join(f"người {i},ghi chú {i}\n" for i in range(30))
    rest = "".join(f"người {i},x\n" for i in range(rows_after))
    body = f'name,note\n{good}Nguyễn Văn An,"Số 5, ngõ 12\n{rest}'.encode()
    seen = []
    expected = ("a quoted field starts on this line and never ends" if rows_after == 10 else
                "a cell of more than 131,072 characters starts on this line (a quoted field that never ends")
    with pytest.raises(MalformedCsv, match=rf"^line 32: {re.escape(expected)}"):
        async for row in csv_rows(chunks(body)):
            seen.append(row)
    assert [number for number, _row in seen] == list(range(1, 31))  # the rows of the same chunk before it too


async def test_text_after_a_closing_quote_is_reported_at_its_line() -> None:
    with pytest.raises(MalformedCsv, match=r"^line 3: not valid CSV"):
        await parsed('name,note\nAn,"ok"\nBình,"Lê" Chân\nCường,x\n'.encode())


async def test_a_broken_file_ends_the_import_with_its_line_and_keeps_the_rows_before() -> None:
    job = Job()
    store = Store(job)
    body = ("name\n" + "".join(f"person {i}\n" for i in range(25)) + '"never closed\nperson x\n').encode()
    lines = [line async for line in run_import(job, chunks(body), store.commit, store.finish, 10,
                                                lambda: datetime.now(UTC), NAMES)]
    summary = lines[-1]["summary"]
    assert (summary["status"], summary["rows"], summary["imported"]) == ("failed", 25, 25)
    assert summary["error"].startswith("line 27: a quoted field starts on this line and never ends")
    assert store.saved[-1][0] == "failed"


async def test_a_database_failure_ends_the_stream_with_a_failed_summary_and_the_committed_counts() -> None:
    job = Job()
    store = Store(job, fail_at_batch=2)
    lines = [line async for line in run_import(job, chunks(csv_body(25)), store.commit, store.finish, 10,
                                                lambda: datetime.now(UTC), NAMES)]
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
        async for line in run_import(job, chunks(csv_body(45)), store.commit, store.finish, 10,
                                     lambda: datetime.now(UTC), NAMES):
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
    assert job_report(job, started + STALLED_AFTER).status == "running"  # measured from the start
    assert job_report(job, started + STALLED_AFTER + timedelta(seconds=1)).status == "failed"
    job.progress_at = started + timedelta(minutes=30)
    assert job_report(job, started + timedelta(minutes=35)).status == "running"
    late = job_report(job, started + timedelta(minutes=41))
    assert late.status == "failed" and "after row 500: no progress since 2026-11-27T08:30:00+00:00" in late.error
    job.status = "completed"
    assert job_report(job, started + timedelta(days=3)).status == "completed"
    assert job.status == "completed" and job.error is None  # a report, not a change to the job


@pytest.mark.parametrize("size", [5, 256 * 1024])
async def test_a_file_that_stops_being_utf8_is_reported_at_its_line_after_the_rows_before_it(size: int) -> None:
    body = "name,note\nNguyễn Văn An,Lê Chân\nTrần Thị Bình,Kiến An\n".encode() + "Lê,Chân\n".encode("cp1252")
    seen = []
    with pytest.raises(MalformedCsv, match=r'^line 4: not UTF-8 text \(save the file as "CSV UTF-8"\)$'):
        async for row in csv_rows(chunks(body + b"Le,x\n", size)):
            seen.append(row)
    assert [r["name"] for _n, r in seen] == ["Nguyễn Văn An", "Trần Thị Bình"]


async def test_the_header_is_checked_before_any_row() -> None:
    """A misspelt column would be dropped without a word: it is named in the job instead; a
    missing required column or a repeated one fails the import at line 1."""
    job = Job()
    store = Store(job)
    body = "Name,so_dien_thoai,,note\nAn,0912345678,,x\nBình,0987654321,,y\n".encode()
    lines = [line async for line in run_import(job, chunks(body), store.commit, store.finish, 10,
                                                lambda: datetime.now(UTC), NAMES)]
    assert lines[-1]["summary"]["ignored_columns"] == ["so_dien_thoai"] and lines[-1]["summary"]["imported"] == 2
    assert job.ignored_columns == ["so_dien_thoai"] and job.status == "completed"
    for header, message in (("note,phone", "line 1: the header has no name column (the columns read are: name, note)"),
                            ("\r\nname,note,Name", "line 2: the header names name more than once")):
        job, store = Job(), Store(Job())
        lines = [line async for line in run_import(job, chunks(f"{header}\nAn,x,y\n".encode()), store.commit,
                                                    store.finish, 10, lambda: datetime.now(UTC), NAMES)]
        assert lines == [{"summary": {"import_id": "job-1", "status": "failed", "rows": 0, "imported": 0, "failed": 0,
                                      "error": message}}]


async def test_semicolons_and_tabs_are_read_as_the_header_uses_them() -> None:
    """Excel with Vietnamese regional settings (decimal comma) saves "CSV" with semicolons."""
    for delimiter in (";", "\t", ","):
        body = "\r\n" + delimiter.join(("full_name", "occupations", "desired_wage_vnd")) + "\r\n"
        body += delimiter.join(("Nguyễn Văn An", '"7212;7213"', '"6.500.000,5"')) + "\r\n"
        rows = await parsed(body.encode())
        assert rows == [(1, {"full_name": "Nguyễn Văn An", "occupations": "7212;7213", "desired_wage_vnd": "6.500.000,5"})]


async def test_an_empty_file_is_reported() -> None:
    for body in (b"", b"\xef\xbb\xbf", b"\r\n\r\n"):
        with pytest.raises(MalformedCsv, match=r"^line 1: the file is empty"):
            await parsed(body)
    assert await parsed(b"name,note\r\n") == []  # a header and no rows: nothing to do, no error


async def test_a_cell_too_long_for_the_reader_is_reported_at_its_line() -> None:
    with pytest.raises(MalformedCsv, match=r"^line 3: a cell of more than 131,072 characters starts on this line"):
        await parsed(("name,note\nAn,x\nBình," + "y" * 200_000 + "\nCường,z\n").encode())
