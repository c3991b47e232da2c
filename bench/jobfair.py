"""Job-fair allocation at city scale, and its check by an independent solver.

    python -m bench.jobfair [--candidates 200000 --vacancies 20000]

The edges are the batch top-50 of every vacancy (bench.matching's population): about 1,000,000
candidate–vacancy pairs, 4 slots, K = 2, invites_per_opening = 3. The allocation (OR-Tools
min-cost flow) is timed from the ranked lists to the chosen invitations; its objective is then
compared with HiGHS' LP optimum on the same constraints (totally unimodular: the LP optimum is
the integer optimum), computed in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import linprog

from bench.matching import build, population
from services.matching.allocation import Problem, _capacity_rows, allocate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=200_000)
    parser.add_argument("--vacancies", type=int, default=20_000)
    args = parser.parse_args()
    service = build(*population(args.candidates, args.vacancies))
    ranked = service.top_n(50, 100)
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
    print(f"allocated in {allocate_s:.2f}s; checking with HiGHS…", flush=True)

    started = time.perf_counter()
    order = problem.ordered()
    rows = _capacity_rows(problem, order)
    lp = linprog(-problem.score[order], A_ub=rows.A, b_ub=rows.ub, bounds=(0, 1), method="highs")
    check_s = time.perf_counter() - started
    print(f"\n{len(problem.score):,} edges ({len(np.unique(problem.candidate)):,} candidates, {len(caps):,} vacancies, "
          "4 slots, K = 2), 2 cores\n")
    print("| run | seconds | objective | invitations |\n| --- | ---: | ---: | ---: |")
    print(f"| allocation: OR-Tools min-cost flow, from ranked lists to invitations | {allocate_s:.2f} | "
          f"{result.objective:,.4f} | {len(result.chosen):,} |")
    print(f"| independent check: HiGHS LP on the same constraints | {check_s:.2f} | {-lp.fun:,.4f} | "
          f"{int(round(lp.x.sum())):,} |")
    gap = abs(result.objective + lp.fun) / max(1.0, abs(lp.fun))
    print(f"\nrelative difference of the objectives: {gap:.2e} (scores are integer costs at 1e-6)")


if __name__ == "__main__":
    main()
