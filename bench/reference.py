"""Reference data throughput: the skill normaliser, vectorised distances, the generator.

    python -m bench.reference
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np

from reference.geography import geography, haversine_km
from reference.occupations import occupations
from reference.population import PopulationGenerator
from reference.skills import skill_vocabulary


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def main() -> None:
    geo, occs, vocab = geography(), occupations(), skill_vocabulary()
    print("reference data:")
    print(f"  current wards {len(geo.ward_codes):,} (Hải Phòng {len(geo.wards_of_province('31'))}), "
          f"legacy districts {len(geo._legacy_districts):,}, legacy wards {len(geo._legacy_wards):,}")  # noqa: SLF001
    print(f"  occupations {len(occs)} (unit groups {occs.count(4)}), skills {len(vocab)}, aliases {vocab.alias_count:,}")

    gen = PopulationGenerator(1, date(2026, 12, 1))
    started = time.perf_counter()
    people = [gen.candidate(i) for i in range(20_000)]
    print("\n| measure | count | throughput |\n| --- | ---: | ---: |")
    print(f"| generate candidates | 20,000 | {rate(20_000, time.perf_counter() - started)} |")

    texts = [s for p in people for s in str(p["skills"]).split(";") if s and not s.startswith("SK")]
    texts += [str(p["skills"]).replace(";", ", ") for p in people[:5000]]
    started = time.perf_counter()
    for text in texts:
        vocab.normalise(text)
    print(f"| normalise free-text skills (typed entries and whole lists) | {len(texts):,} | "
          f"{rate(len(texts), time.perf_counter() - started)} |")

    rng = np.random.default_rng(1)
    a = rng.integers(0, len(geo.ward_codes), 2_000_000)
    b = rng.integers(0, len(geo.ward_codes), 2_000_000)
    started = time.perf_counter()
    haversine_km(geo.ward_lat[a], geo.ward_lon[a], geo.ward_lat[b], geo.ward_lon[b])
    print(f"| ward-to-ward distances, vectorised | 2,000,000 | {rate(2_000_000, time.perf_counter() - started)} |")
    started = time.perf_counter()
    for i in range(20_000):
        haversine_km(geo.ward_lat[a[i]], geo.ward_lon[a[i]], geo.ward_lat[b[i]], geo.ward_lon[b[i]])
    print(f"| ward-to-ward distances, one call per pair (baseline) | 20,000 | {rate(20_000, time.perf_counter() - started)} |")


if __name__ == "__main__":
    main()
