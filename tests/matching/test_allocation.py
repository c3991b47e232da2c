"""Invitation allocation: optimal (checked against exhaustive search), within every capacity,
deterministic, and honest about a priority share it cannot reach."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from services.matching.allocation import Pair, Problem, allocate


def feasible(problem: Problem, chosen: list[Pair], share_needed: int = 0) -> bool:
    per_vacancy = Counter(p.vacancy_id for p in chosen)
    per_candidate = Counter(p.candidate_id for p in chosen)
    per_candidate_slot = Counter((p.candidate_id, problem.vacancy_slot[p.vacancy_id]) for p in chosen)
    per_slot = Counter(problem.vacancy_slot[p.vacancy_id] for p in chosen)
    return (all(n <= problem.vacancy_caps[v] for v, n in per_vacancy.items())
            and all(n <= problem.max_per_candidate for n in per_candidate.values())
            and all(n <= 1 for n in per_candidate_slot.values())
            and all(n <= problem.slot_seats[s] for s, n in per_slot.items())
            and sum(p.priority for p in chosen) >= share_needed)


def small_problem(seed: int, share: float | None = None) -> Problem:
    rng = random.Random(seed)
    vacancies = ["v1", "v2", "v3"]
    pairs = [Pair(f"c{c}", v, round(rng.uniform(0.1, 1.0), 3), c % 3 == 0)
             for v in vacancies for c in rng.sample(range(6), 4)]
    return Problem(pairs, {"v1": 2, "v2": 1, "v3": 2}, {"v1": "morning", "v2": "morning", "v3": "afternoon"},
                   {"morning": 2, "afternoon": 2}, max_per_candidate=2, min_priority_share=share)


@pytest.mark.parametrize("seed", range(8))
def test_the_allocation_is_optimal_and_within_every_capacity(seed: int) -> None:
    problem = small_problem(seed)
    result = allocate(problem)
    assert feasible(problem, result.chosen)
    best = max(sum(p.score for p in subset)
               for k in range(len(problem.pairs) + 1)
               for subset in itertools.combinations(problem.pairs, k) if k <= 6 and feasible(problem, list(subset)))
    assert result.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(4))
def test_a_priority_share_is_met_at_the_best_score_possible(seed: int) -> None:
    plain = allocate(small_problem(seed))
    problem = small_problem(seed, share=0.5)
    result = allocate(problem)
    needed = -(-len(plain.chosen) // 2)
    if result.share_target_met:
        assert sum(p.priority for p in result.chosen) >= needed and result.priority_share >= 0.5 - 1e-9
        best = max(sum(p.score for p in subset)
                   for k in range(len(problem.pairs) + 1)
                   for subset in itertools.combinations(problem.pairs, k)
                   if k <= 6 and feasible(problem, list(subset), needed))
        assert result.objective == pytest.approx(best)
    else:
        assert "at most" in result.message and result.priority_share < 0.5


def test_an_unreachable_share_is_reported_with_the_best_achieved() -> None:
    pairs = [Pair("c1", "v1", 0.9, False), Pair("c2", "v1", 0.8, False), Pair("c3", "v1", 0.2, True)]
    problem = Problem(pairs, {"v1": 2}, {"v1": "s"}, {"s": 10}, 2, min_priority_share=0.9)
    result = allocate(problem)
    assert result.share_target_met is False and result.totals["per_group"] == {"priority": 1, "other": 1}
    assert "needs 2" in result.message and "at most 1" in result.message
    assert [p.candidate_id for p in result.chosen] == ["c1", "c3"]


def test_same_input_same_invitations_and_digest() -> None:
    rng = random.Random(3)
    pairs = [Pair(f"c{c}", f"v{v}", rng.choice((0.5, 0.7)), c % 4 == 0) for v in range(20) for c in rng.sample(range(300), 40)]
    caps = {f"v{v}": 5 for v in range(20)}
    problem = Problem(pairs, caps, {f"v{v}": f"s{v % 3}" for v in range(20)}, {"s0": 30, "s1": 30, "s2": 30}, 2, 0.3)
    first, second = allocate(problem), allocate(Problem(list(reversed(pairs)), caps, problem.vacancy_slot,
                                                         problem.slot_seats, 2, 0.3))
    assert [(p.vacancy_id, p.candidate_id) for p in first.chosen] == [(p.vacancy_id, p.candidate_id) for p in second.chosen]
    assert problem.digest() == Problem(list(reversed(pairs)), caps, problem.vacancy_slot, problem.slot_seats, 2, 0.3).digest()
    assert feasible(problem, first.chosen) and first.totals["per_slot"] and sum(first.totals["per_slot"].values()) <= 90
