"""Alembic per service, driven from code: ``upgrade`` is what ``make migrate`` and the CLI run,
and ``run_migrations`` is all a service's ``migrations/env.py`` calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Bring a service database to ``revision`` (blocking; call it off the event loop)."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def run_migrations(metadata: MetaData) -> None:
    """Body of a service's ``env.py``: online with the async driver, or offline as SQL."""
    url = context.config.get_main_option("sqlalchemy.url")
    options = {
        "target_metadata": metadata,
        "render_as_batch": url.startswith("sqlite"),  # SQLite cannot ALTER most things in place
        "compare_type": True,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(online())


def create_messaging_tables_v1() -> None:
    """Outbox and inbox tables as first created in every service (frozen: never edit; a change
    to these tables is a new migration in each service)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


def create_outbox_indexes_v2() -> None:
    """The outbox's indexes as partial ones (second messaging migration of every service): the
    unpublished rows in ``seq`` order for the relay, which so reads the first of a large backlog
    without visiting the rest (it read and sorted the whole backlog for every batch, on disk past
    a few tens of thousands), and the published ones by time for the clean-up."""
    from alembic import op

    op.drop_index("ix_outbox_published_at", table_name="outbox")
    _partial_outbox_indexes()


def drop_outbox_indexes_v2() -> None:
    from alembic import op

    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])


def outbox_as_queue_v3() -> None:
    """The outbox becomes a queue (third messaging migration of every service): the relay deletes
    what it published instead of marking it, so the ``published_at`` column and its indexes go;
    rows already published go too, and the relay reads the backlog through the primary key. The
    unique index on ``event_id`` goes as well: ids are random UUIDs, and on a queue the index only
    ever saw the unpublished rows, while it doubled the database's work per event written."""
    from alembic import op

    op.execute("DELETE FROM outbox WHERE published_at IS NOT NULL")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    with op.batch_alter_table("outbox") as table:  # SQLite rebuilds the table
        table.drop_constraint("uq_outbox_event_id", type_="unique")
        table.drop_column("published_at")


def outbox_with_marks_v3() -> None:
    """Undoes ``outbox_as_queue_v3`` (the rows it deleted were published: nothing to restore)."""
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        table.create_unique_constraint("uq_outbox_event_id", ["event_id"])
    _partial_outbox_indexes()


def _partial_outbox_indexes() -> None:
    import sqlalchemy as sa
    from alembic import op

    for name, column, where in (("ix_outbox_unpublished", "seq", "published_at IS NULL"),
                                ("ix_outbox_published_at", "published_at", "published_at IS NOT NULL")):
        op.create_index(name, "outbox", [column], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def drop_messaging_tables_v1() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_table("outbox")
