"""Job-fair allocation at city scale, and its check by an independent solve.

    python -m bench.jobfair [--candidates 200000 --vacancies 20000] [--highs]

The edges are the batch top-50 of every vacancy (bench.matching's population): about 1,000,000
candidate–vacancy pairs, 4 slots, K = 2, invites_per_opening = 3. The allocation (presolve, then
OR-Tools min-cost flow on what is left) is timed from the ranked lists to the chosen invitations.
Its objective is then compared with OR-Tools' optimum on the whole network, built here
independently of the service's code; ``--highs`` also solves HiGHS' LP on the same constraints
(totally unimodular, so its optimum is the integer optimum; about 5 minutes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import linprog

from bench.matching import build, population
from services.matching.allocation import Problem, _capacity_rows, allocate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=200_000)
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--publish", type=int, default=0, help="only measure publishing this many invitations")
    parser.add_argument("--highs", action="store_true", help="also check with HiGHS' LP (slow)")
    args = parser.parse_args()
    if args.publish:
        import asyncio

        asyncio.run(publish_invitations(args.publish))
        return
    service = build(*population(args.candidates, args.vacancies))
    ranked = service.top_n(50)
    vacancies = service.index.vacancies.rows
    priority = {c.candidate_id for c in service.index.candidates.rows.values()
                if {"poor_household", "near_poor_household"} & set(c.priority_groups)}

    started = time.perf_counter()
    counts = np.diff(ranked.indptr)
    vacancy_ids = np.array(ranked.vacancy_ids, dtype=object)
    caps = np.array([vacancies[v].openings * 3 for v in vacancy_ids], np.int64)
    problem = Problem(
        candidate=ranked.rows.astype(np.int64), vacancy=np.repeat(np.arange(len(vacancy_ids)), counts),
        score=ranked.scores.astype(np.float64),
        priority=np.array([c in priority for c in ranked.candidate_ids], bool)[ranked.rows],
        candidate_ids=ranked.candidate_ids, vacancy_ids=vacancy_ids, vacancy_cap=caps,
        vacancy_slot=np.arange(len(vacancy_ids)) % 4, slot_ids=["s0", "s1", "s2", "s3"],
        slot_seats=np.full(4, caps.sum() // 5), max_per_candidate=2)
    result = allocate(problem)
    allocate_s = time.perf_counter() - started
    print(f"allocated in {allocate_s:.2f}s; checking on the whole network…", flush=True)

    started = time.perf_counter()
    whole = whole_network_optimum(problem)
    check_s = time.perf_counter() - started
    rows = [("allocation: presolve + OR-Tools min-cost flow on what is left, ranked lists → invitations",
             allocate_s, result.objective, len(result.chosen)),
            ("independent check: OR-Tools min-cost flow on the whole network", check_s, *whole[:2])]
    if args.highs:
        started = time.perf_counter()
        order = problem.ordered()
        constraints = _capacity_rows(problem, order)
        lp = linprog(-problem.score[order], A_ub=constraints.A, b_ub=constraints.ub, bounds=(0, 1), method="highs")
        rows.append(("independent check: HiGHS LP on the same constraints", time.perf_counter() - started,
                     -lp.fun, int(round(lp.x.sum()))))
    print(f"\n{len(problem.score):,} edges ({len(np.unique(problem.candidate)):,} candidates, {len(caps):,} vacancies, "
          "4 slots, K = 2), 2 cores\n")
    print("| run | seconds | objective | invitations |\n| --- | ---: | ---: | ---: |")
    for name, seconds, objective, invitations in rows:
        print(f"| {name} | {seconds:.2f} | {objective:,.4f} | {invitations:,} |")
    # the solvers optimise the scores as integers at 1e-6: those sums must be equal, exactly
    units = int(np.rint(np.array([p.score for p in result.chosen]) * 10**6).sum())
    print(f"\nobjective in solver units (1e-6): allocation {units:,}, whole network {whole[2]:,}")
    if units != whole[2]:
        raise SystemExit("the allocation is not optimal")


def whole_network_optimum(problem: Problem) -> tuple[float, int, int]:
    """The optimum of the whole network, no presolve: source → candidate (K) → candidate × slot
    (1) → vacancy (1, −score) → slot (cap) → sink (seats), and a source → sink bypass."""
    cand, vac = problem.candidate, problem.vacancy
    slot = problem.vacancy_slot[vac]
    n_cand, n_vac, n_slots = len(problem.candidate_ids), len(problem.vacancy_ids), len(problem.slot_ids)
    cs_keys, cs = np.unique(cand * n_slots + slot, return_inverse=True)
    c0, cs0 = 2, 2 + n_cand
    v0 = cs0 + len(cs_keys)
    s0 = v0 + n_vac
    total = int(problem.slot_seats.sum())
    tails = np.concatenate([np.zeros(n_cand, np.int64), c0 + cs_keys // n_slots, cs0 + cs, v0 + np.arange(n_vac),
                            s0 + np.arange(n_slots), [0]])
    heads = np.concatenate([c0 + np.arange(n_cand), cs0 + np.arange(len(cs_keys)), v0 + vac, s0 + problem.vacancy_slot,
                            np.ones(n_slots, np.int64), [1]])
    capacities = np.concatenate([np.full(n_cand, problem.max_per_candidate), np.ones(len(cs_keys) + len(cand), np.int64),
                                 problem.vacancy_cap, problem.slot_seats, [total]])
    costs = np.zeros(len(tails), np.int64)
    first = n_cand + len(cs_keys)
    costs[first:first + len(cand)] = -np.rint(problem.score * 10**6).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                                     capacities.astype(np.int64), costs)
    flow.set_node_supply(0, total)
    flow.set_node_supply(1, -total)
    assert flow.solve() == flow.OPTIMAL
    used = flow.flows(arcs[first:first + len(cand)]) > 0
    return float(problem.score[used].sum()), int(used.sum()), int(-costs[first:first + len(cand)][used].sum())


async def publish_invitations(count: int) -> None:
    """``count`` invitations of one fair published: written with their outbox rows in one
    transaction (as a run does), then relayed to Kafka; rate from the start of the write to the
    last row published."""
    import asyncio
    import os
    import uuid
    from datetime import UTC, date, datetime
    from types import SimpleNamespace

    from kit.app import make_bus
    from kit.db import Database
    from kit.events import EventRegistry, dlq_topic
    from kit.migrations import upgrade
    from kit.outbox import Outbox
    from kit.relay import OutboxRelay
    from kit.settings import RuntimeSettings
    from services.matching.allocation import Allocation, Pair
    from services.matching.app import SPEC
    from services.matching.jobfairs import JobFairs
    from services.matching.models import JobFair
    from services.matching.service import MatchingService
    from services.matching.settings import MatchingSettings
    from tests.conftest import PostgresDatabases

    databases = PostgresDatabases(os.environ["DATABASE_URL"])
    url = await databases.create("bench_publish")
    try:
        await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
        db = Database(url)
        runtime = RuntimeSettings(bus="kafka", kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
        bus = make_bus(runtime, "bench-publish")
        await bus.start()
        settings = MatchingSettings()
        # The service's events and payload models, on topics of the run's own: services running
        # against the same broker (`make up`) must not receive a benchmark's invitations.
        registry, run_topic = EventRegistry(), f"bench.jobfairs.{uuid.uuid4().hex[:12]}"
        for event_type in SPEC.registry.types():
            registry.register(event_type, SPEC.registry.model(event_type), topic=run_topic)
        await bus.ensure_topics([run_topic])  # as a service's topics, there before the run
        fairs = JobFairs(db, Outbox(SPEC.outbox, registry), MatchingService(settings.weights.weights(), {}), Path("/tmp"))
        fair = JobFair(id="bench-fair", name="Bench", fair_date=date(2027, 1, 10), venue_ward_code="11311",
                       venue_detail=None, slots=[{"id": "s1", "start": "08:00", "end": "12:00", "seats": count}],
                       vacancies=[{"vacancy_id": f"v{v}", "slot_id": "s1"} for v in range(count // 50)],
                       invites_per_opening=3, max_invites_per_candidate=2, priority_min_share=None, priority_groups=[],
                       created_by="bench", created_at=datetime.now(UTC))
        chosen = [Pair(f"c{i}", f"v{i % (count // 50)}", 0.5, False) for i in range(count)]
        vacancy = SimpleNamespace(employer_id="e1", title="Thợ hàn")
        pairs = SimpleNamespace(candidates={p.candidate_id: SimpleNamespace(centre_id="c") for p in chosen},
                                vacancies={p.vacancy_id: vacancy for p in chosen})
        features = {(p.candidate_id, p.vacancy_id): {"must": 1.0, "nice": 0.0, "occupation": 1.0, "text": 0.0,
                                                      "trade_level": 1.0, "qualification": 1.0, "distance": 0.8,
                                                      "wage": 1.0, "score": 0.5} for p in chosen}
        relay = OutboxRelay("matching", db, SPEC.outbox, bus, batch_size=settings.relay_batch_size, poll_interval_s=0.01)
        started = time.perf_counter()
        async with db.transaction() as session:
            session.add(fair)
            await fairs._publish(session, fair, "bench-run", Allocation(chosen, 0.0, 0.0, None, ""), pairs, features)
        written = time.perf_counter() - started
        relayed = 0
        while published := await relay.publish_batch():
            relayed += published
        assert relayed == count, f"{relayed:,} events relayed, {count:,} invitations written"
        total = time.perf_counter() - started
        await bus.stop()
        await db.dispose()
        await delete_topics(runtime.kafka_bootstrap, [run_topic, dlq_topic(run_topic)])
        print(f"\npublishing {count:,} invitations: written with their outbox rows in {written:.2f}s, on Kafka "
              f"after {total:.2f}s: {count / total:,.0f} events/s end to end (relay alone "
              f"{count / (total - written):,.0f} events/s, batches of {settings.relay_batch_size})")
    finally:
        await databases.drop_all()


async def delete_topics(bootstrap: str, topics: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-publish")
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()


if __name__ == "__main__":
    main()
