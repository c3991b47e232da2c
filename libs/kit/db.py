"""Async database access shared by all services: one engine per service, a unit of work per
request or event, the same models on PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import sqlalchemy.exc

from sqlalchemy import JSON, Column, DateTime, MetaData, Table, TypeDecorator, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every database: SQLite stores no offset, so values read back
    naive are UTC (the only zone the platform writes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: the platform stores aware UTC timestamps only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# What a database that cannot be reached raises: refused or broken connections, a server starting
# up, shutting down or out of connection slots, a pool with no connection to lend.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    ConnectionError, socket.gaierror, sqlalchemy.exc.TimeoutError, asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def unavailable(exc: BaseException) -> bool:
    """Whether an error means the database could not be reached (rather than a fault of the code
    or the request): the same request may succeed once it is back."""
    cause: BaseException | None = exc
    for _ in range(8):  # the driver's error, wrapped by SQLAlchemy's, maybe raised while handling another
        if cause is None:
            return False
        if isinstance(cause, _UNREACHABLE):
            return True
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__
    return False


def new_metadata() -> MetaData:
    """A MetaData with the constraint naming convention every service uses."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def sqlite_url(var_dir: str, service: str) -> str:
    path = Path(var_dir).resolve() / f"{service}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


CHECK_AFTER_REST_S = 5.0  # a pooled connection idle longer is checked before it is used


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    """Engine for a service database; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            # The driver's own implicit BEGIN is turned off so that the "begin" hook below decides.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
            # another writer got in between; taking the write lock up front makes writers queue.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    # hide_parameters keeps personal data out of error messages, hence out of logs and DLQ headers.
    # A connection rests in autocommit, so a read needs no BEGIN and COMMIT of its own; units of
    # work that write ask for READ COMMITTED (``Database``).
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True,
                                 isolation_level="AUTOCOMMIT")

    # A connection is checked before use only when it rested long enough to have been cut (the
    # server restarted, a proxy timed out): a check on every use would be a round trip more per
    # unit of work. One found dead is replaced at once; a busy connection cut under load fails
    # its unit of work (503, kit.problems) and the pool then replaces every connection as old.
    @event.listens_for(engine.sync_engine, "checkin")
    def _rested(_dbapi_connection, record) -> None:  # noqa: ANN001
        record.info["rested_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection, record, _proxy) -> None:  # noqa: ANN001
        if time.monotonic() - record.info.get("rested_at", time.monotonic()) > CHECK_AFTER_REST_S:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the connection is gone
                raise sqlalchemy.exc.DisconnectionError("a pooled connection was cut") from exc

    return engine


AFTER_COMMIT = "joblink.after_commit"


def after_commit(session: AsyncSession, action: Callable[[], None]) -> None:
    """Run ``action`` once this unit of work has committed (never if it rolls back): for
    in-memory state that must follow the database, such as a search index."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


STAGED = "joblink.staged"


def stage(session: AsyncSession, statement: Any, params: dict[str, Any]) -> None:
    """Queue a write for the end of this unit of work, where each statement's rows go in one
    executemany (one round trip for a batch of events instead of one per event). ``statement``
    must be the same object for every row of a kind; reads in the unit of work see the rows only
    after ``write_staged``."""
    session.info.setdefault(STAGED, {}).setdefault(statement, []).append(params)


async def write_staged(session: AsyncSession) -> None:
    for statement, rows in session.info.pop(STAGED, {}).items():
        await session.execute(statement, rows)


def conflict_insert(session: AsyncSession, table: Any):  # noqa: ANN201 - the dialect's Insert construct
    """``INSERT`` of the session's dialect, which has ``on_conflict_do_nothing`` / ``_do_update``
    (PostgreSQL and SQLite share the syntax but not the construct)."""
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(table)


class Database:
    """A service's engine and session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self._pool = create_engine(url, pool_size)
        postgres = self._pool.dialect.name == "postgresql"
        # ``engine``, and every unit of work that writes, in READ COMMITTED transactions, whatever
        # isolation the pool's connections rest in (autocommit on PostgreSQL, see create_engine).
        self.engine = self._pool.execution_options(isolation_level="READ COMMITTED") if postgres else self._pool
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads: on PostgreSQL in autocommit, each statement on a snapshot of its own, as it would
        # be in a READ COMMITTED transaction (a streamed read needs a transaction: its cursor lives
        # in one); on SQLite a deferred transaction.
        self._read_sessions = async_sessionmaker(
            self._pool.execution_options(sqlite_begin="DEFERRED"),
            expire_on_commit=False,
        )
        self._stream_sessions = async_sessionmaker(self.engine, expire_on_commit=False) if postgres else self._read_sessions
        self._after_commit: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Register a callback run after every successful unit of work (e.g. wake the relay)."""
        self._after_commit.append(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction; commit once on success, roll back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
                await write_staged(session)
            pending = session.info.pop(AFTER_COMMIT, [])
        for action in pending:
            action()
        for callback in self._after_commit:
            callback()

    @asynccontextmanager
    async def reading(self, stream: bool = False) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (on SQLite it does not queue behind writers); ``stream`` if it
        streams a result (``session.stream``)."""
        async with (self._stream_sessions if stream else self._read_sessions)() as session:
            async with session.begin():
                yield session

    async def execute(self, statement: Any, params: dict[str, Any]) -> list[Row[Any]]:
        """One statement as a unit of work of its own, atomic by itself, with its rows (if it
        returns any). On PostgreSQL in autocommit: one round trip, no BEGIN and COMMIT around it."""
        async with self._pool.connect() as conn:
            result = await conn.execute(statement, params)
            rows = list(result.all()) if result.returns_rows else []
            await conn.commit()
        for callback in self._after_commit:
            callback()
        return rows

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self._pool.dispose()


async def insert_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Append many new rows to `table` inside the session's transaction.

    On PostgreSQL this is a binary COPY on the session's own connection (the fastest way in,
    an order of magnitude ahead of a multi-row INSERT); elsewhere one executemany INSERT.
    Columns missing from a row are written as their Python-side default or NULL.
    """
    if not rows:
        return
    if session.bind.dialect.name != "postgresql":
        await session.execute(insert(table), rows)
        return
    keys = [c.key for c in table.columns if not (c.primary_key and c.autoincrement is True and c.key not in rows[0])]
    await insert_records(session, table, keys, [tuple(map(row.get, keys)) for row in rows])


async def insert_records(session: AsyncSession, table: Table, columns: Sequence[str], records: Iterable[tuple[Any, ...]]) -> None:
    """``insert_rows`` for rows given as tuples in the order of ``columns`` (column keys): the bulk
    writers' form, with no dict per row. On PostgreSQL the records may be a generator: the COPY
    streams them as they come, so the database stores the first rows while the caller is still
    building the next ones."""
    if isinstance(records, Sequence) and not records:
        return
    if session.bind.dialect.name != "postgresql":
        if rows := [dict(zip(columns, record)) for record in records]:
            await session.execute(insert(table), rows)
        return
    targets = [table.c[key] for key in columns]
    special = [(i, enc) for i, enc in enumerate(map(_copy_encoder, targets)) if enc is not None]
    if special:
        records = (_encoded(record, special) for record in records)
    from asyncpg.exceptions import IntegrityConstraintViolationError

    connection = await session.connection()
    raw = await connection.get_raw_connection()
    try:
        await raw.driver_connection.copy_records_to_table(
            table.name, records=records, columns=[c.name for c in targets], schema_name=table.schema
        )
    except IntegrityConstraintViolationError as exc:  # the same error an INSERT would raise
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc


def _encoded(record: tuple[Any, ...], special: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(record)
    for i, enc in special:
        values[i] = enc(values[i])
    return tuple(values)


def _copy_encoder(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How a Python value becomes what asyncpg's binary COPY codec for the column expects
    (None: as it is)."""
    if isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON):
        return lambda v: None if v is None else orjson.dumps(v).decode()
    # Timestamps need nothing: asyncpg converts aware datetimes to UTC itself, and the platform
    # writes no naive ones (UtcDateTime refuses them on every other path).
    return None
