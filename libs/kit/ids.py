"""Identifiers of aggregates."""

from __future__ import annotations

import os
import re
import time
import uuid

import numpy as np

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # the form of every id made here


def new_id() -> str:
    """A UUID whose first 48 bits are the time in ms (as UUIDv7), so ids sort by creation."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def new_ids(count: int) -> list[str]:
    """``count`` ids of ``new_id``'s kind made together (one clock read and one read of randomness,
    no UUID objects: a third of the cost), for the rows of a large batch."""
    return _uuid_strings(count, version=7, millis=int(time.time() * 1000))


def random_ids(count: int) -> list[str]:
    """``count`` random UUIDs (version 4, as ``uuid.uuid4()`` makes them) made together."""
    return _uuid_strings(count, version=4)


def _uuid_strings(count: int, version: int, millis: int | None = None) -> list[str]:
    raw = np.frombuffer(os.urandom(16 * count), np.uint8).reshape(count, 16).copy()
    if millis is not None:
        raw[:, :6] = np.frombuffer(millis.to_bytes(6, "big"), np.uint8)
    raw[:, 6] = raw[:, 6] & 0x0F | version << 4
    raw[:, 8] = raw[:, 8] & 0x3F | 0x80  # RFC 4122 variant
    digits = raw.tobytes().hex()
    return [f"{digits[i:i + 8]}-{digits[i + 8:i + 12]}-{digits[i + 12:i + 16]}-{digits[i + 16:i + 20]}-"
            f"{digits[i + 20:i + 32]}" for i in range(0, 32 * count, 32)]
