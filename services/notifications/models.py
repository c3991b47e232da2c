"""Tables of the notifications service."""

from sqlalchemy.orm import DeclarativeBase

from kit.db import new_metadata
from kit.inbox import inbox_table
from kit.outbox import outbox_table


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
