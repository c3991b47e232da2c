"""Streamed CSV uploads (UTF-8 with or without BOM, header row) and per-row import results."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import anyio
import orjson
import structlog
from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kit.auth import Principal
from kit.db import UtcDateTime
from kit.events import describe_errors
from kit import problems
from kit.problems import Problem

log = structlog.get_logger("kit.csvstream")


@dataclass
class RowResult:
    """What happened to one data row of an import: the new record's id, or its errors."""

    row: int  # 1 = the first data row after the header
    record_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        if self.record_id:
            return {"row": self.row, "id": self.record_id}
        return {"row": self.row, "errors": self.errors}


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """A row's validation errors as ``{field, message}`` (an error of the whole row is the row's)."""
    return problems.field_errors(exc, whole="row") or [{"field": "row", "message": describe_errors(exc)}]


class MalformedCsv(ValueError):
    """The body stops being CSV at some line (not UTF-8, a quote never closed, text after a
    closing quote)."""


HELD_BACK_MAX = 1024 * 1024  # characters held while waiting for a quote to close


@dataclass(frozen=True)
class Columns:
    """The columns an import reads. A header without a required one fails the import at its line;
    any other column is ignored, and named in the job (a misspelt header would otherwise drop its
    column without a word)."""

    known: frozenset[str]
    required: frozenset[str] = frozenset()

    def check(self, header: list[str]) -> list[str]:
        """The header's ignored columns; raises MalformedCsv for a missing or repeated one."""
        named = [name for name in header if name]
        if repeated := sorted({name for name in named if named.count(name) > 1}):
            raise MalformedCsv(f"the header names {', '.join(repeated)} more than once")
        if missing := sorted(self.required - set(named)):
            raise MalformedCsv(f"the header has no {', '.join(missing)} column "
                               f"(the columns read are: {', '.join(sorted(self.known))})")
        return [name for name in named if name not in self.known]


async def csv_rows(chunks: AsyncIterator[bytes],
                   on_header: Callable[[list[str]], None] | None = None) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """(row number, row) from a streamed CSV body; tolerates a BOM and CRLF line ends, and takes
    the delimiter (comma, semicolon or tab) the header row uses.

    Header names are trimmed and lower-cased, then handed to ``on_header`` (which may refuse them
    with MalformedCsv); blank lines are skipped. Records end at a line break (LF, CRLF or CR)
    outside quotes, never at the other characters Python calls line breaks (U+2028, U+0085…),
    which may sit inside a cell. Raises MalformedCsv, after yielding every row before it, where
    the text stops being UTF-8 or the quoting breaks.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    header: list[str] | None = None
    number = 0
    lines = 0  # physical lines parsed so far, for the error's line number
    delimiter = ""  # the header's

    def records(text: str) -> Iterator[tuple[int, list[str]]]:
        """(the line a record ends on, the record)"""
        nonlocal lines, delimiter
        if not delimiter:  # Excel saves "CSV" with semicolons where the decimal mark is a comma (vi-VN)
            first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
            delimiter = max((",", ";", "\t"), key=first.count) if first else ""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ",", strict=True)
        done = 0  # lines of the records read whole
        try:
            for record in reader:
                done = reader.line_num
                yield lines + done, record
        except csv.Error as exc:
            start = lines + done + 1
            if "unexpected end of data" in str(exc):
                raise MalformedCsv(f'line {start}: a quoted field starts on this line and never ends (a " without '
                                   "its closing pair)") from None
            if "field limit" in str(exc):
                raise MalformedCsv(f"line {start}: a cell of more than {csv.field_size_limit():,} characters starts on "
                                   'this line (a quoted field that never ends: a " without its closing pair?)') from None
            raise MalformedCsv(f"line {lines + reader.line_num}: not valid CSV ({exc})") from None
        lines += reader.line_num

    def rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
        nonlocal header, number
        for line, record in records(text):
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            if header is None:
                header = [h.strip().lower() for h in record]
                if on_header is not None:
                    try:
                        on_header(header)
                    except MalformedCsv as exc:
                        raise MalformedCsv(f"line {line}: {exc}") from None
            else:
                number += 1
                yield number, dict(zip(header, record, strict=False))

    async for chunk in chunks:
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:  # the rows whose lines decoded, then where it broke
            pending += exc.object[: exc.start].decode("utf-8")
            cut = pending.rfind("\n")
            for row in rows(pending[: cut + 1]):
                yield row
            raise MalformedCsv(f"line {lines + 1}: not UTF-8 text (save the file as \"CSV UTF-8\")") from None
        cut = pending.rfind("\n")
        if cut < 0:
            continue
        # A quoted field may hold a line break: only whole records go to the parser. A quote that
        # never closes would hold back the rest of the file; past HELD_BACK_MAX the parser gets
        # what there is, and says where the quoting broke.
        if pending.count('"', 0, cut) % 2 and len(pending) < HELD_BACK_MAX:
            continue
        complete, pending = pending[: cut + 1], pending[cut + 1 :]
        for row in rows(complete):
            yield row
    pending += decoder.decode(b"", final=True)
    for row in rows(pending):
        yield row
    if header is None:
        raise MalformedCsv("line 1: the file is empty (a CSV import starts with a header row)")


class SpooledUpload:
    """A request body saved first (in memory, on disk past 8 MiB): a streaming response must not
    read the request while it runs, and memory stays bounded whatever the file's size."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by ndjson()

    @classmethod
    async def of(cls, request: Request) -> SpooledUpload:
        """The body of an import request: the CSV file itself, not a form that holds it."""
        kind = request.headers.get("content-type", "").lower()
        if kind.startswith(("multipart/", "application/x-www-form-urlencoded")):
            raise Problem(415, "unsupported-media-type",
                          "Send the CSV file itself as the request body (Content-Type: text/csv), not a form.")
        if kind.startswith("application/json") or kind.split(";")[0].endswith("+json"):
            raise Problem(415, "unsupported-media-type",
                          "An import takes a CSV file (Content-Type: text/csv), not JSON; "
                          "one record at a time goes to the collection's POST.")
        upload = cls()
        async for chunk in request.stream():
            upload._file.write(chunk)
        upload._file.seek(0)
        return upload

    async def chunks(self) -> AsyncIterator[bytes]:
        while block := self._file.read(256 * 1024):
            yield block

    def close(self) -> None:
        self._file.close()


def ndjson_response(upload: SpooledUpload, results: AsyncIterator[dict[str, Any]], location: str) -> StreamingResponse:
    """One JSON line per result, as they come; the upload is closed when the stream ends."""

    async def lines() -> AsyncIterator[bytes]:
        try:
            async for result in results:
                yield orjson.dumps(result) + b"\n"
        finally:
            upload.close()

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers={"Location": location})


class ImportJob:
    """The columns of a service's import-job table (each service owns its table:
    ``class CandidateImport(ImportJob, Base)``); its progress counters are committed with every batch."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_id: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed
    rows: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    ignored_columns: Mapped[list[str] | None] = mapped_column(JSON, default=None)  # in the header, not read
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    progress_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)  # the latest batch
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ImportOut(BaseModel):
    """An import job as its ``GET`` shows it."""

    id: str
    status: Literal["running", "completed", "failed"]
    rows: int
    imported: int
    failed: int
    error: str | None
    ignored_columns: list[str] | None = Field(description="header columns the import does not read")
    started_at: datetime
    progress_at: datetime | None = Field(description="when the latest batch of rows was handed to the database")
    finished_at: datetime | None


async def run_import(
    job: ImportJob,
    chunks: AsyncIterator[bytes],
    commit: Callable[[Any], Awaitable[list[RowResult]]],
    finish: Callable[[], Awaitable[None]],
    batch_size: int,
    clock: Callable[[], datetime],
    columns: Columns,
    prepare: Callable[[list[tuple[int, dict[str, str]]]], Awaitable[Any]] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """The life of an import: the stream's rows handed to ``commit`` batch by batch (it writes
    them and the job's counters in one transaction), each row's result yielded as it is
    committed, the job finished (``finish`` saves it) whatever happens, then its summary.

    With ``prepare`` (the work that needs no database, such as validation), a batch is prepared
    while the one before it commits — in another process, the two overlap — and ``commit``
    receives what ``prepare`` returned. A row holding U+0000 gets its error here, as any invalid
    row does: PostgreSQL cannot store the character, and it would fail its whole batch. A file
    that stops being CSV (or UTF-8) fails the job at that line, once the rows before it are in."""
    prepare = prepare or _as_is

    async def stage(batch: list[tuple[int, dict[str, str]]]) -> tuple[list[RowResult], Any]:
        refused = [RowResult(number, errors=[{"field": name, "message": "text cannot contain NUL (U+0000)"}
                                             for name, value in row.items() if value and "\x00" in value])
                   for number, row in batch if "\x00" in "".join(filter(None, row.values()))]
        skip = {r.row for r in refused}
        return refused, await prepare([(number, row) for number, row in batch if number not in skip])

    async def land(staged: asyncio.Future[tuple[list[RowResult], Any]]) -> list[RowResult]:
        refused, prepared = await staged
        counters = job.rows, job.imported, job.failed
        job.rows += len(refused)  # saved with the batch's commit
        job.failed += len(refused)
        job.progress_at = clock()
        try:
            done = await commit(prepared) if prepared else []
        except BaseException:
            job.rows, job.imported, job.failed = counters  # the batch's transaction did not commit
            raise
        return sorted([*done, *refused], key=lambda r: r.row)

    batch: list[tuple[int, dict[str, str]]] = []
    preparing: asyncio.Future[tuple[list[RowResult], Any]] | None = None  # the newest batch
    broken: MalformedCsv | None = None
    try:
        try:
            def header(names: list[str]) -> None:
                job.ignored_columns = columns.check(names) or None

            async for number, row in csv_rows(chunks, header):
                batch.append((number, row))
                if len(batch) >= batch_size:
                    previous, preparing, batch = preparing, asyncio.ensure_future(stage(batch)), []
                    if previous is not None:
                        for result in await land(previous):
                            yield result.as_dict()
        except MalformedCsv as exc:  # the rows before the break still go in
            broken = exc
        previous, preparing = preparing, asyncio.ensure_future(stage(batch)) if batch else None
        for staged in (previous, preparing):
            if staged is not None:
                for result in await land(staged):
                    yield result.as_dict()
        job.status = "failed" if broken else "completed"
        job.error = f"{broken}{'; the rows before it were imported or reported' if job.rows else ''}" if broken else None
    except Exception as exc:  # the database went away, say: the stream still ends with a summary
        log.exception("import_failed", import_id=job.id, rows=job.rows)
        job.status = "failed"
        job.error = f"the import stopped after row {job.rows} ({type(exc).__name__}); {_KEPT}"
    except BaseException:  # cancelled: the client went away, or the service is stopping
        job.status = "failed"
        job.error = f"the import was interrupted after row {job.rows}; {_KEPT}"
        raise
    finally:
        if preparing is not None and not preparing.done():
            preparing.cancel()
        job.finished_at = clock()
        try:
            with anyio.CancelScope(shield=True):  # the job's last state is saved even when cancelled
                await finish()
        except Exception:
            log.exception("import_not_saved", import_id=job.id, status=job.status)
    yield {"summary": {"import_id": job.id, "status": job.status, "rows": job.rows, "imported": job.imported,
                       "failed": job.failed, **({"error": job.error} if job.error else {}),
                       **({"ignored_columns": job.ignored_columns} if job.ignored_columns else {})}}


_KEPT = "the rows counted as imported were kept"
STALLED_AFTER = timedelta(minutes=10)  # a batch takes well under a second


def job_report(job: ImportJob, now: datetime) -> ImportOut:
    """An import job as its ``GET`` shows it. The process running an import can die without a
    word (killed, out of memory, its pod moved); its job would then read "running" for ever, so a
    running job that has handed nothing to the database for ``STALLED_AFTER`` is shown as failed."""
    report = ImportOut.model_validate(job, from_attributes=True)
    last = job.progress_at or job.started_at
    if job.status == "running" and now - last > STALLED_AFTER:
        report.status = "failed"
        report.error = f"the import stopped after row {job.rows}: no progress since {last.isoformat()}; {_KEPT}"
    return report


async def _as_is(rows: list[tuple[int, dict[str, str]]]) -> list[tuple[int, dict[str, str]]]:
    return rows


def visible_to(who: Principal, job: Any) -> bool:
    """An import job is for whoever started it, their centre, and admins."""
    return who.is_admin or job.started_by == who.client_id or (job.centre_id is not None and job.centre_id == who.centre_id)
