"""Job-fair invitation allocation: the optimal set of invitations under capacities.

Variables x(c, v) ∈ {0, 1} — invite candidate c to vacancy v — for every scored pair offered.
Maximise Σ score · x subject to

* per vacancy: Σ_c x ≤ openings × invites_per_opening
* per candidate: Σ_v x ≤ K, and at most one interview per time slot (each vacancy interviews
  in one slot)
* per slot: Σ x ≤ its seats
* optionally, a minimum share for priority-group candidates: with T the number of invitations
  the unconstrained optimum issues, at most T invitations of which at least share × T go to
  priority groups (so the share holds, without dropping invitations to reach it); when no
  allocation reaches it, the largest achievable number is imposed instead and the shortfall
  is reported.

Without the share constraint this is a min-cost flow (OR-Tools ``SimpleMinCostFlow``):

    source → candidate (capacity K) → candidate × slot (1) → vacancy (1, cost −score)
           → the vacancy's slot (openings × invites_per_opening) → sink (the slot's seats)

plus a zero-cost source → sink bypass, so a pair is used only when it adds score: the flow of
least cost is exactly the allocation of greatest total score. The share row breaks the network
structure, so then the problem goes to HiGHS as a MILP (``scipy.optimize.milp``), solved to
proven optimality. Pairs are put in a fixed order first (vacancy id, candidate id), so the same
input gives the same invitations. Everything is built with array operations: a million pairs
take a few seconds.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

SCALE = 10**6  # scores become integer costs at this resolution (finer costs slow cost scaling)


@dataclass(frozen=True)
class Pair:
    candidate_id: str
    vacancy_id: str
    score: float
    priority: bool  # the candidate belongs to one of the fair's priority groups


@dataclass(frozen=True)
class Problem:
    """Pairs as parallel arrays (indexes into ``candidate_ids`` / ``vacancy_ids``), the
    capacities as arrays per vacancy and per slot."""

    candidate: np.ndarray
    vacancy: np.ndarray
    score: np.ndarray
    priority: np.ndarray
    candidate_ids: np.ndarray
    vacancy_ids: np.ndarray
    vacancy_cap: np.ndarray      # per vacancy: openings × invites_per_opening
    vacancy_slot: np.ndarray     # per vacancy: index into slot_ids
    slot_ids: list[str]
    slot_seats: np.ndarray
    max_per_candidate: int
    min_priority_share: float | None = None

    @classmethod
    def of_pairs(cls, pairs: list[Pair], vacancy_caps: dict[str, int], vacancy_slot: dict[str, str],
                 slot_seats: dict[str, int], max_per_candidate: int,
                 min_priority_share: float | None = None) -> Problem:
        """From pairs and dictionaries (pairs of vacancies without a cap or slot are dropped)."""
        pairs = [p for p in pairs if p.vacancy_id in vacancy_caps and vacancy_slot.get(p.vacancy_id) in slot_seats]
        candidate_ids = np.array(sorted({p.candidate_id for p in pairs}), dtype=object)
        vacancy_ids = np.array(sorted(vacancy_caps), dtype=object)
        c_index = {c: i for i, c in enumerate(candidate_ids)}
        v_index = {v: i for i, v in enumerate(vacancy_ids)}
        slot_ids = sorted(slot_seats)
        s_index = {s: i for i, s in enumerate(slot_ids)}
        return cls(
            candidate=np.array([c_index[p.candidate_id] for p in pairs], np.int64),
            vacancy=np.array([v_index[p.vacancy_id] for p in pairs], np.int64),
            score=np.array([p.score for p in pairs], np.float64),
            priority=np.array([p.priority for p in pairs], bool),
            candidate_ids=candidate_ids,
            vacancy_ids=vacancy_ids,
            vacancy_cap=np.array([vacancy_caps[v] for v in vacancy_ids], np.int64),
            vacancy_slot=np.array([s_index.get(vacancy_slot.get(v), -1) for v in vacancy_ids], np.int64),
            slot_ids=slot_ids,
            slot_seats=np.array([slot_seats[s] for s in slot_ids], np.int64),
            max_per_candidate=max_per_candidate,
            min_priority_share=min_priority_share,
        )

    def ordered(self) -> np.ndarray:
        """Positions of the usable pairs in (vacancy id, candidate id) order."""
        usable = (self.score > 0) & (self.vacancy_cap[self.vacancy] > 0) & (self.vacancy_slot[self.vacancy] >= 0)
        v_rank = np.argsort(np.argsort(self.vacancy_ids))
        c_rank = np.argsort(np.argsort(self.candidate_ids))
        positions = np.flatnonzero(usable)
        return positions[np.lexsort((c_rank[self.candidate[positions]], v_rank[self.vacancy[positions]]))]

    def digest(self) -> str:
        """A hash of everything the result depends on: the run's input snapshot."""
        h = hashlib.sha256()
        order = self.ordered()
        for array in (self.vacancy_ids[self.vacancy[order]], self.candidate_ids[self.candidate[order]]):
            h.update("\n".join(map(str, array)).encode())
        h.update(np.round(self.score[order], 6).tobytes() + self.priority[order].tobytes())
        h.update("\n".join(map(str, self.vacancy_ids)).encode() + self.vacancy_cap.tobytes() + self.vacancy_slot.tobytes())
        h.update(repr((self.slot_ids, self.slot_seats.tolist(), self.max_per_candidate, self.min_priority_share)).encode())
        return h.hexdigest()


@dataclass
class Allocation:
    chosen: list[Pair]
    objective: float
    priority_share: float
    share_target_met: bool | None   # None: no target
    message: str
    totals: dict[str, dict[str, int]] = field(default_factory=dict)


def allocate(problem: Problem) -> Allocation:
    order = problem.ordered()
    if not len(order):
        return Allocation([], 0.0, 0.0, None if problem.min_priority_share is None else False, "no scored pair to invite")
    score, priority = problem.score[order], problem.priority[order].astype(float)
    chosen = _min_cost_flow(problem, order, score)
    total = int(round(chosen.sum()))
    target_met, message = None, "optimal"
    if problem.min_priority_share:
        # at most as many invitations as the unconstrained optimum issues, and the share of them
        needed = math.ceil(problem.min_priority_share * total - 1e-9)
        capacity = _capacity_rows(problem, order)
        at_most_total = LinearConstraint(np.ones((1, len(order))), -np.inf, total)
        try:
            chosen = _milp(-score, [capacity, at_most_total, LinearConstraint(priority.reshape(1, -1), needed, np.inf)])
            target_met = True
            message = f"optimal with at least {needed} of at most {total} invitations to priority groups"
        except _Infeasible:
            best = int(round(_milp(-priority, [capacity, at_most_total]) @ priority))
            chosen = _milp(-score, [capacity, at_most_total, LinearConstraint(priority.reshape(1, -1), best, np.inf)])
            target_met = False
            message = (f"the minimum share {problem.min_priority_share:.0%} needs {needed} priority-group invitations "
                       f"but at most {best} are possible under the capacities; optimal with {best}")
    picked = order[chosen > 0.5]
    pairs = [Pair(str(c), str(v), float(s), bool(p)) for c, v, s, p in zip(
        problem.candidate_ids[problem.candidate[picked]], problem.vacancy_ids[problem.vacancy[picked]],
        problem.score[picked], problem.priority[picked], strict=True)]
    prio = int(problem.priority[picked].sum())
    slot_of = problem.vacancy_slot[problem.vacancy[picked]]
    totals = {
        "per_vacancy": dict(sorted(Counter(p.vacancy_id for p in pairs).items())),
        "per_slot": {problem.slot_ids[s]: int(n) for s, n in zip(*np.unique(slot_of, return_counts=True), strict=True)},
        "per_group": {"priority": prio, "other": len(pairs) - prio},
    }
    return Allocation(pairs, float(problem.score[picked].sum()), prio / len(pairs) if pairs else 0.0,
                      target_met, message, totals)


class _Infeasible(Exception):
    pass


def _min_cost_flow(problem: Problem, order: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """0/1 per ordered pair: the allocation of greatest total ``gain`` under the capacities."""
    cand = problem.candidate[order]
    vac = problem.vacancy[order]
    slot = problem.vacancy_slot[vac]
    n_slots = len(problem.slot_ids)
    candidates, cand_node = np.unique(cand, return_inverse=True)
    vacancies, vac_node = np.unique(vac, return_inverse=True)
    cs_keys, cs_node = np.unique(cand_node * n_slots + slot, return_inverse=True)
    source, sink = 0, 1
    c0 = 2
    cs0 = c0 + len(candidates)
    v0 = cs0 + len(cs_keys)
    s0 = v0 + len(vacancies)
    total = int(problem.slot_seats.sum())
    tails = np.concatenate([np.full(len(candidates), source), c0 + cs_keys // n_slots, cs0 + cs_node,
                            v0 + np.arange(len(vacancies)), s0 + np.arange(n_slots), [source]])
    heads = np.concatenate([c0 + np.arange(len(candidates)), cs0 + np.arange(len(cs_keys)), v0 + vac_node,
                            s0 + problem.vacancy_slot[vacancies], np.full(n_slots, sink), [sink]])
    capacities = np.concatenate([np.full(len(candidates), problem.max_per_candidate), np.ones(len(cs_keys), np.int64),
                                 np.ones(len(order), np.int64), problem.vacancy_cap[vacancies], problem.slot_seats, [total]])
    costs = np.concatenate([np.zeros(len(candidates) + len(cs_keys), np.int64), -np.rint(gain * SCALE).astype(np.int64),
                            np.zeros(len(vacancies) + n_slots + 1, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                                     capacities.astype(np.int64), costs)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    first = len(candidates) + len(cs_keys)
    return flow.flows(arcs[first:first + len(order)]).astype(float)


def _capacity_rows(problem: Problem, order: np.ndarray) -> LinearConstraint:
    """The capacities as rows of a sparse 0/1 matrix (for the MILP with a share row)."""
    n = len(order)
    cand, vac = problem.candidate[order], problem.vacancy[order]
    slot = problem.vacancy_slot[vac]
    groups = []
    for key, caps in ((vac, problem.vacancy_cap), (cand, None), (cand * len(problem.slot_ids) + slot, None),
                      (slot, problem.slot_seats)):
        keys, inverse = np.unique(key, return_inverse=True)
        if caps is not None:
            upper = caps[keys]
        elif key is cand:
            upper = np.full(len(keys), problem.max_per_candidate)
        else:
            upper = np.ones(len(keys))
        groups.append((inverse, upper))
    offsets = np.cumsum([0] + [len(u) for _i, u in groups])
    rows = np.concatenate([inverse + offsets[k] for k, (inverse, _u) in enumerate(groups)])
    cols = np.tile(np.arange(n), len(groups))
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(int(offsets[-1]), n))
    return LinearConstraint(matrix, -np.inf, np.concatenate([u for _i, u in groups]).astype(float))


def _milp(cost: np.ndarray, constraints: list[LinearConstraint]) -> np.ndarray:
    result = milp(cost, constraints=constraints, integrality=np.ones(len(cost)), bounds=Bounds(0, 1),
                  options={"disp": False, "presolve": True})
    if result.status == 2:  # infeasible
        raise _Infeasible
    if not result.success:
        raise RuntimeError(f"allocation solver failed: {result.message}")
    return np.round(result.x)
