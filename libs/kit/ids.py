"""Identifiers of aggregates."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    """A UUID whose first 48 bits are the time in ms (as UUIDv7), so ids sort by creation."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))
