"""Invitation allocation: optimal (checked against exhaustive search), within every capacity,
deterministic, and honest about a priority share it cannot reach."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from scipy.optimize import linprog

from services.matching.allocation import Pair, Problem, _capacity_rows, _presolve, allocate


class SLOTS:
    """A problem's capacities as dictionaries, to check a result independently of the solver."""

    def __init__(self, vacancy_slot: dict, slot_seats: dict, vacancy_caps: dict, k: int = 2) -> None:
        self.vacancy_slot, self.slot_seats, self.vacancy_caps, self.max_per_candidate = vacancy_slot, slot_seats, vacancy_caps, k

    @classmethod
    def of(cls, problem: Problem) -> SLOTS:
        return cls({v: problem.slot_ids[s] for v, s in zip(problem.vacancy_ids, problem.vacancy_slot, strict=True) if s >= 0},
                   dict(zip(problem.slot_ids, problem.slot_seats.tolist(), strict=True)),
                   dict(zip(problem.vacancy_ids, problem.vacancy_cap.tolist(), strict=True)), problem.max_per_candidate)


def feasible(problem: Problem | SLOTS, chosen: list[Pair], share_needed: int = 0) -> bool:
    caps = problem if isinstance(problem, SLOTS) else SLOTS.of(problem)
    per_vacancy = Counter(p.vacancy_id for p in chosen)
    per_candidate = Counter(p.candidate_id for p in chosen)
    per_candidate_slot = Counter((p.candidate_id, caps.vacancy_slot[p.vacancy_id]) for p in chosen)
    per_slot = Counter(caps.vacancy_slot[p.vacancy_id] for p in chosen)
    return (all(n <= caps.vacancy_caps[v] for v, n in per_vacancy.items())
            and all(n <= caps.max_per_candidate for n in per_candidate.values())
            and all(n <= 1 for n in per_candidate_slot.values())
            and all(n <= caps.slot_seats[s] for s, n in per_slot.items())
            and sum(p.priority for p in chosen) >= share_needed)


def small_pairs(seed: int) -> list[Pair]:
    rng = random.Random(seed)
    return [Pair(f"c{c}", v, round(rng.uniform(0.1, 1.0), 3), c % 3 == 0)
            for v in ("v1", "v2", "v3") for c in rng.sample(range(6), 4)]


def small_problem(seed: int, share: float | None = None) -> Problem:
    pairs = small_pairs(seed)
    return Problem.of_pairs(pairs, {"v1": 2, "v2": 1, "v3": 2}, {"v1": "morning", "v2": "morning", "v3": "afternoon"},
                   {"morning": 2, "afternoon": 2}, max_per_candidate=2, min_priority_share=share)


@pytest.mark.parametrize("seed", range(8))
def test_the_allocation_is_optimal_and_within_every_capacity(seed: int) -> None:
    problem = small_problem(seed)
    result = allocate(problem)
    assert feasible(problem, result.chosen)
    best = max(sum(p.score for p in subset)
               for k in range(7)
               for subset in itertools.combinations(small_pairs(seed), k) if feasible(problem, list(subset)))
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
                   for k in range(len(plain.chosen) + 1)  # no more invitations than without the share
                   for subset in itertools.combinations(small_pairs(seed), k)
                   if feasible(problem, list(subset), needed))
        assert result.objective == pytest.approx(best)
    else:
        assert "at most" in result.message and result.priority_share < 0.5


def test_an_unreachable_share_is_reported_with_the_best_achieved() -> None:
    pairs = [Pair("c1", "v1", 0.9, False), Pair("c2", "v1", 0.8, False), Pair("c3", "v1", 0.2, True)]
    problem = Problem.of_pairs(pairs, {"v1": 2}, {"v1": "s"}, {"s": 10}, 2, min_priority_share=0.9)
    result = allocate(problem)
    assert result.share_target_met is False and result.totals["per_group"] == {"priority": 1, "other": 1}
    assert "needs 2" in result.message and "at most 1" in result.message
    assert [p.candidate_id for p in result.chosen] == ["c1", "c3"]


def test_same_input_same_invitations_and_digest() -> None:
    rng = random.Random(3)
    pairs = [Pair(f"c{c}", f"v{v}", rng.choice((0.5, 0.7)), c % 4 == 0) for v in range(20) for c in rng.sample(range(300), 40)]
    caps = {f"v{v}": 5 for v in range(20)}
    slots = {f"v{v}": f"s{v % 3}" for v in range(20)}
    seats = {"s0": 30, "s1": 30, "s2": 30}
    problem = Problem.of_pairs(pairs, caps, slots, seats, 2, 0.3)
    reversed_problem = Problem.of_pairs(list(reversed(pairs)), caps, slots, seats, 2, 0.3)
    first, second = allocate(problem), allocate(reversed_problem)
    assert [(p.vacancy_id, p.candidate_id) for p in first.chosen] == [(p.vacancy_id, p.candidate_id) for p in second.chosen]
    assert problem.digest() == reversed_problem.digest()
    assert feasible(SLOTS(slots, seats, caps), first.chosen) and sum(first.totals["per_slot"].values()) <= 90


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def instances(draw: st.DrawFn) -> Problem:
    n_vacancies = draw(st.integers(1, 6))
    n_candidates = draw(st.integers(1, 12))
    slots = [f"s{i}" for i in range(draw(st.integers(1, 3)))]
    pairs = []
    for v in range(n_vacancies):
        for c in draw(st.sets(st.integers(0, n_candidates - 1), max_size=n_candidates)):
            pairs.append(Pair(f"c{c}", f"v{v}", draw(st.floats(0.01, 1.0)), draw(st.booleans())))
    return Problem.of_pairs(
        pairs,
        {f"v{v}": draw(st.integers(0, 4)) for v in range(n_vacancies)},
        {f"v{v}": draw(st.sampled_from(slots)) for v in range(n_vacancies)},
        {s: draw(st.integers(0, 8)) for s in slots},
        draw(st.integers(1, 3)),
        draw(st.one_of(st.none(), st.floats(0.05, 1.0))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_capacities_are_never_exceeded(problem: Problem) -> None:
    result = allocate(problem)
    assert feasible(problem, result.chosen)
    assert len({(p.candidate_id, p.vacancy_id) for p in result.chosen}) == len(result.chosen)
    if problem.min_priority_share and result.share_target_met:
        assert result.priority_share >= problem.min_priority_share - 1e-9 or not result.chosen
    unconstrained = allocate(Problem(**{**vars(problem), "min_priority_share": None}))
    assert len(result.chosen) <= len(unconstrained.chosen) and result.objective <= unconstrained.objective + 1e-9


def city_like(seed: int, seats: int) -> Problem:
    """A few thousand pairs shaped like a city's: popular and rare candidates, vacancies with
    1 to 50 places, so the presolve both decides pairs and leaves some to the solver."""
    rng = np.random.default_rng(seed)
    n_vacancies, n_candidates = 120, 2000
    popularity = rng.pareto(1.5, n_candidates) + 1
    pairs = []
    for v in range(n_vacancies):
        for c in rng.choice(n_candidates, size=30, replace=False, p=popularity / popularity.sum()):
            pairs.append(Pair(f"c{c}", f"v{v}", float(rng.uniform(0.3, 1.0)), bool(c % 5 == 0)))
    caps = {f"v{v}": int(rng.choice([3, 6, 15, 45])) for v in range(n_vacancies)}
    slots = {f"v{v}": f"s{v % 4}" for v in range(n_vacancies)}
    return Problem.of_pairs(pairs, caps, slots, {f"s{i}": seats for i in range(4)}, 2)


def lp_optimum(problem: Problem) -> float:
    """The optimum by HiGHS' LP on the same constraints (totally unimodular: an integer optimum)."""
    order = problem.ordered()
    rows = _capacity_rows(problem, order)
    return -linprog(-problem.score[order], A_ub=rows.A, b_ub=rows.ub, bounds=(0, 1), method="highs").fun


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("seats", [10_000, 150])  # seats never bind / seats bind (the full network)
def test_the_presolve_keeps_the_optimum(seed: int, seats: int) -> None:
    problem = city_like(seed, seats)
    order = problem.ordered()
    cand, vac = problem.candidate[order], problem.vacancy[order]
    fixed, rest, _load = _presolve(cand, vac, problem.vacancy_slot[vac], problem.score[order],
                                   problem.vacancy_cap, problem.max_per_candidate)
    assert fixed.any() and rest.any() and not (fixed & rest).any()
    assert fixed.sum() > len(order) // 10 and rest.sum() < len(order) // 2  # most never reach the solver
    result = allocate(problem)
    assert feasible(problem, result.chosen)
    assert result.objective == pytest.approx(lp_optimum(problem), abs=1e-5)
