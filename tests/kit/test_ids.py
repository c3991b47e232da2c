"""Identifiers: one at a time and made together are of the same kind."""

from __future__ import annotations

import time
import uuid

from kit.ids import new_id, new_ids, random_ids


def test_ids_made_together_are_uuids_of_their_version_and_sort_by_creation() -> None:
    before = new_id()
    time.sleep(0.002)
    together = new_ids(10_000)
    time.sleep(0.002)
    after = new_id()
    for value, version in [*((v, 7) for v in together), *((v, 4) for v in random_ids(10_000))]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == version and parsed.variant == uuid.RFC_4122
    assert len(set(together)) == len(together)
    assert before < min(together) and max(together) < after
    assert new_ids(0) == [] and random_ids(0) == []
