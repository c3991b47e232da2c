"""Two small services used to test the kit's messaging end to end: ``ledger`` changes account
balances and announces each credit through its outbox; ``tally`` consumes the credits into its
own database with a deliberately non-idempotent effect (``amount += credit``), so any duplicate
or lost delivery shows up as a wrong total, and it counts credits that arrive out of order."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.app import ServiceContext, ServiceSpec
from kit.consumers import EventConsumer
from kit.events import Envelope, EventData, EventRegistry
from kit.inbox import inbox_table
from kit.outbox import Outbox, outbox_table
from kit.settings import ServiceSettings

CREDITED = "ledger.credited"


class Credited(EventData):
    account: str
    amount: int = Field(gt=0)
    seq: int = Field(ge=1)


def make_registry(topic: str) -> EventRegistry:
    registry = EventRegistry()
    registry.register(CREDITED, Credited, topic=topic)
    return registry


class LedgerBase(DeclarativeBase):
    pass


class Account(LedgerBase):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


ledger_outbox = outbox_table(LedgerBase.metadata)
ledger_inbox = inbox_table(LedgerBase.metadata)


class TallyBase(DeclarativeBase):
    pass


class Total(TallyBase):
    __tablename__ = "totals"
    account: Mapped[str] = mapped_column(String(50), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    out_of_order: Mapped[int] = mapped_column(Integer, default=0)


tally_outbox = outbox_table(TallyBase.metadata)
tally_inbox = inbox_table(TallyBase.metadata)


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_LEDGER_", extra="ignore")


class TallySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_TALLY_", extra="ignore")
    delay_ms: int = 0  # slows the handler so a test can kill the consumer mid-stream


async def credit(session: AsyncSession, outbox: Outbox, account: str, amount: int) -> None:
    """The state change and its event in the caller's transaction."""
    row = await session.get(Account, account, with_for_update=True)
    if row is None:
        row = Account(id=account, balance=0, version=0)
        session.add(row)
    row.balance += amount
    row.version += 1
    await session.flush()
    payload = Credited(account=account, amount=amount, seq=row.version)
    await outbox.add(session, outbox.registry.envelope("/test/ledger", account, payload, CREDITED))


def tally_consumers(ctx: ServiceContext, topic: str) -> list[EventConsumer]:
    delay = getattr(ctx.settings, "delay_ms", 0) / 1000

    async def on_credited(session: AsyncSession, envelope: Envelope, data: Credited) -> None:
        total = await session.get(Total, data.account)
        if total is None:
            total = Total(account=data.account, amount=0, events=0, last_seq=0, out_of_order=0)
            session.add(total)
        if data.seq != total.last_seq + 1:
            total.out_of_order += 1
        total.amount += data.amount
        total.events += 1
        total.last_seq = data.seq
        if delay:
            await asyncio.sleep(delay)

    return [
        EventConsumer(
            name="tally",
            topics=(topic,),
            handlers={CREDITED: on_credited},
            registry=ctx.registry,
            db=ctx.db,
            inbox=ctx.inbox,
        )
    ]


def ledger_spec(topic: str) -> ServiceSpec:
    return ServiceSpec(
        name="ledger",
        title="Test ledger",
        description="produces credits",
        metadata=LedgerBase.metadata,
        outbox=ledger_outbox,
        inbox=ledger_inbox,
        registry=make_registry(topic),
        settings_class=LedgerSettings,
        migrations_dir=Path(__file__).parent,
    )


def tally_spec(topic: str) -> ServiceSpec:
    return ServiceSpec(
        name="tally",
        title="Test tally",
        description="consumes credits",
        metadata=TallyBase.metadata,
        outbox=tally_outbox,
        inbox=tally_inbox,
        registry=make_registry(topic),
        settings_class=TallySettings,
        migrations_dir=Path(__file__).parent,
        consumers=lambda ctx: tally_consumers(ctx, topic),
    )


def ledger_from_env() -> ServiceSpec:
    return ledger_spec(os.environ["JOBLINK_TEST_TOPIC"])


def tally_from_env() -> ServiceSpec:
    return tally_spec(os.environ["JOBLINK_TEST_TOPIC"])


async def totals(session: AsyncSession) -> dict[str, Total]:
    return {t.account: t for t in (await session.scalars(select(Total))).all()}
