"""The batch kernel compiled ahead of the first job fair: by the service at start, in a child
process, into numba's disk cache; a later process loads it from there instead of compiling."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.matching import app


async def test_the_service_compiles_the_kernel_into_the_cache_in_a_child(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    started = time.perf_counter()
    await asyncio.wait_for(app.warm_up_kernel(), timeout=300)
    cold = time.perf_counter() - started
    compiled = {path.name.split("-")[0] for path in cache.rglob("*.nbi")}
    assert {"topn._top_n", "topn._bitsets"} <= compiled, compiled

    # a process that ranks now loads the kernel instead of compiling it
    probe = ("from services.matching.cli import warm_up; import services.matching.topn as t; "
             "warm_up(); print(sum(t._top_n.stats.cache_hits.values()), sum(t._top_n.stats.cache_misses.values()))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    hits, misses = map(int, done.stdout.split())
    assert (hits, misses) == (1, 0), f"compiled again (the child took {cold:.0f}s)"


async def test_a_stop_during_the_warm_up_kills_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    warming = asyncio.create_task(app.warm_up_kernel())
    await asyncio.sleep(1)
    children = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "services.matching.cli warm-up"],
                              capture_output=True, text=True)
    assert children.stdout.split(), "no child compiling"
    warming.cancel()
    with pytest.raises(asyncio.CancelledError):
        await warming
    for pid in children.stdout.split():
        assert not Path(f"/proc/{pid}").exists()
