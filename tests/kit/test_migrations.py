"""Each service's migrations build exactly the tables its models declare (no drift)."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from kit.cli import load_spec
from kit.migrations import upgrade
from tests.conftest import PG_URL, PostgresDatabases, _need

SERVICES = ("candidates", "vacancies", "matching", "notifications", "insights")


async def drift(url: str, service: str) -> list:
    spec = load_spec(service)
    await asyncio.to_thread(upgrade, spec.migrations_dir, url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), spec.metadata)
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models_on_sqlite(service: str, tmp_path) -> None:  # noqa: ANN001
    assert await drift(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", service) == []


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models_on_postgres(service: str) -> None:
    databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
    try:
        assert await drift(await databases.create(f"drift_{service}"), service) == []
    finally:
        await databases.drop_all()
