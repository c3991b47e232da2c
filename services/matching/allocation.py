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
least cost is exactly the allocation of greatest total score. At city scale most pairs are
settled before the solver: a presolve drops pairs no optimum uses and takes pairs every optimum
takes (exchange arguments, see ``_presolve``), and what is left splits into independent pieces,
each a smaller network (1,000,000 pairs: 6.2 s for the whole network, under 2 s this way). The
share row breaks the network structure, so then the problem goes to HiGHS as a MILP
(``scipy.optimize.milp``), solved to proven optimality. Pairs are put in a fixed order first
(vacancy id, candidate id), so the same input gives the same invitations. Everything is built
with array operations.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.optimize import Bounds, LinearConstraint, milp

from kit.memory import paused_gc

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
        key = v_rank[self.vacancy[positions]] * len(self.candidate_ids) + c_rank[self.candidate[positions]]
        order = np.argsort(key)
        if np.any(key[order[1:]] == key[order[:-1]]):  # a pair given twice: keep the input's order
            order = np.argsort(key, kind="stable")
        return positions[order]

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
    with paused_gc():  # hundreds of thousands of pairs built, beside a large heap (the match index)
        return _allocate(problem)


def _allocate(problem: Problem) -> Allocation:
    order = problem.ordered()
    if not len(order):
        return Allocation([], 0.0, 0.0, None if problem.min_priority_share is None else False, "no scored pair to invite")
    score, priority = problem.score[order], problem.priority[order].astype(float)
    chosen = _best_allocation(problem, order, score)
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
    pairs = list(map(Pair, map(str, problem.candidate_ids[problem.candidate[picked]]),
                     map(str, problem.vacancy_ids[problem.vacancy[picked]]),
                     problem.score[picked].tolist(), problem.priority[picked].tolist()))
    prio = int(problem.priority[picked].sum())
    slot_of = problem.vacancy_slot[problem.vacancy[picked]]
    vacancies, per_vacancy = np.unique(problem.vacancy[picked], return_counts=True)
    totals = {
        "per_vacancy": dict(sorted(zip(map(str, problem.vacancy_ids[vacancies]), per_vacancy.tolist(), strict=True))),
        "per_slot": {problem.slot_ids[s]: int(n) for s, n in zip(*np.unique(slot_of, return_counts=True), strict=True)},
        "per_group": {"priority": prio, "other": len(pairs) - prio},
    }
    return Allocation(pairs, float(problem.score[picked].sum()), prio / len(pairs) if pairs else 0.0,
                      target_met, message, totals)


class _Infeasible(Exception):
    pass


def _best_allocation(problem: Problem, order: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """0/1 per ordered pair: the allocation of greatest total ``gain`` under the capacities.

    The network is first made smaller by rules that never change the optimum (``_presolve``);
    what is left falls apart into independent pieces (candidates and vacancies that share no
    pair), each solved on its own: the solver's time grows faster than the network. The rules
    reason without the slots' seats, so when the result would overfill a slot, the whole
    problem is solved with them instead."""
    cand, vac = problem.candidate[order], problem.vacancy[order]
    slot = problem.vacancy_slot[vac]
    fixed, rest, load = _presolve(cand, vac, slot, gain, problem.vacancy_cap, problem.max_per_candidate)
    chosen = fixed.copy()
    caps = problem.vacancy_cap - load
    for piece in _pieces(cand, vac, np.flatnonzero(rest)):
        chosen[piece] = _min_cost_flow(cand[piece], vac[piece], slot[piece], gain[piece], caps,
                                       problem.max_per_candidate, None)
    if np.all(np.bincount(slot[chosen], minlength=len(problem.slot_ids)) <= problem.slot_seats):
        return chosen
    return _min_cost_flow(cand, vac, slot, gain, problem.vacancy_cap, problem.max_per_candidate, problem.slot_seats)


def _pieces(cand: np.ndarray, vac: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """The pairs at ``positions`` grouped by connected component of the candidate–vacancy graph."""
    if not len(positions):
        return []
    n_cand = int(cand.max()) + 1
    c, v = cand[positions], n_cand + vac[positions]
    graph = sparse.coo_matrix((np.ones(len(positions)), (c, v)), shape=(n_cand + int(vac.max()) + 1,) * 2)
    _n, label = connected_components(graph, directed=False)
    by_piece = np.argsort(label[c], kind="stable")
    return np.split(positions[by_piece], np.flatnonzero(np.diff(label[c][by_piece])) + 1)


def _presolve(cand: np.ndarray, vac: np.ndarray, slot: np.ndarray, gain: np.ndarray, vacancy_cap: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs decided without the solver, and those left to it, for the problem without seats.

    A vacancy is *open* when fewer pairs reach it than it may invite, so it can never refuse
    anyone; a candidate is *free* when every subset of their pairs is allowed (at most K pairs,
    in different slots). Two exchange rules drop pairs no optimum uses:

    * a candidate with pairs to open vacancies in K different slots never takes a pair scoring
      below the K-th best of them (one per slot): one of those is always available instead;
    * a vacancy with at least ``cap`` pairs to free candidates never takes a pair scoring below
      the ``cap``-th best of those, for the same reason.

    Dropping pairs opens vacancies and frees candidates, so the rules run until they stop
    paying. Then a pair between a free candidate and an open vacancy is always taken; a
    candidate whose vacancies are all open takes their best pair per slot, the K best of those;
    a vacancy whose candidates are all free takes its ``cap`` best. What is left goes to the
    solver, with the vacancies' capacities less what was decided.

    Returns (decided to take, left to the solver) as masks over the pairs, and the load per
    vacancy of the decided ones."""
    n_cand, n_vac, n_slots = int(cand.max()) + 1, len(vacancy_cap), int(slot.max()) + 1
    cand_slot = cand * n_slots + slot
    # The pairs in three orders — by candidate, by candidate × slot, by vacancy — best first
    # within each group. Dropping pairs keeps every order, so the loop sorts nothing.
    # (One sort each of group × n + the pair's place in the best-first order: unique keys.)
    place = np.empty(len(gain), np.int64)
    place[np.argsort(-gain)] = np.arange(len(gain))
    orders = [np.argsort(key * len(gain) + place) for key in (cand, cand_slot, vac)]
    alive = np.ones(len(gain), bool)

    def open_and_free(by_cand: np.ndarray, by_cs: np.ndarray, by_vac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        opened = np.bincount(vac[by_vac], minlength=n_vac) <= vacancy_cap
        degree = np.bincount(cand[by_cand], minlength=n_cand)
        keys = cand_slot[by_cs]
        slots_used = np.bincount(cand[by_cs][np.r_[True, keys[1:] != keys[:-1]][:len(keys)]], minlength=n_cand)
        return opened, (degree <= k) & (slots_used == degree)

    while True:
        by_cand, by_cs, by_vac = orders = [o[alive[o]] for o in orders]
        opened, free = open_and_free(*orders)
        slot_best = np.zeros(len(gain), bool)
        slot_best[by_cs[_firsts(cand_slot[by_cs], opened[vac[by_cs]])]] = True
        floor = np.maximum(_kth(cand[by_cand], slot_best[by_cand], gain[by_cand], np.full(n_cand, k))[cand],
                           _kth(vac[by_vac], free[cand[by_vac]], gain[by_vac], vacancy_cap)[vac])
        dropped = alive & (gain < floor)
        alive &= ~dropped
        if dropped.sum() <= len(by_cand) // 200:  # the rules have stopped paying
            break

    by_cand, by_cs, by_vac = [o[alive[o]] for o in orders]
    opened, free = open_and_free(by_cand, by_cs, by_vac)
    take = alive & free[cand] & opened[vac]
    all_open = np.bincount(cand[alive & ~opened[vac]], minlength=n_cand) == 0
    all_free = np.bincount(vac[alive & ~free[cand]], minlength=n_vac) == 0
    greedy = alive & all_open[cand] & ~take
    slot_best = np.zeros(len(gain), bool)
    slot_best[by_cs[_firsts(cand_slot[by_cs], greedy[by_cs])]] = True
    take[by_cand[slot_best[by_cand] & (_ranks(cand[by_cand], slot_best[by_cand]) < k)]] = True
    topped = alive & all_free[vac] & ~take
    take[by_vac[topped[by_vac] & (_ranks(vac[by_vac], topped[by_vac]) < vacancy_cap[vac[by_vac]])]] = True
    rest = alive & ~take & ~all_open[cand] & ~all_free[vac]
    return take, rest, np.bincount(vac[take], minlength=n_vac)


def _ranks(groups: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """In a sequence sorted by group: each masked element's 0-based rank among the masked
    elements of its group (meaningless for unmasked ones)."""
    if not len(groups):
        return np.zeros(0, np.int64)
    count = np.cumsum(mask)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    before = np.repeat((count - mask)[starts], np.diff(np.r_[starts, len(groups)]))
    return count - before - 1


def _firsts(keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """In a sequence sorted by key: the positions of the first masked element of each key."""
    positions = np.flatnonzero(mask)
    keys = keys[positions]
    return positions[np.r_[True, keys[1:] != keys[:-1]][:len(positions)]]


def _kth(groups: np.ndarray, mask: np.ndarray, gain: np.ndarray, kth: np.ndarray) -> np.ndarray:
    """In a sequence sorted by group, best first: per group, the gain of its ``kth[group]``-th
    masked element (1-based), or −∞ when it has fewer."""
    hit = mask & (_ranks(groups, mask) == kth[groups] - 1)
    out = np.full(len(kth), -np.inf)
    out[groups[hit]] = gain[hit]
    return out


def _min_cost_flow(cand: np.ndarray, vac: np.ndarray, slot: np.ndarray, gain: np.ndarray, vacancy_cap: np.ndarray,
                   k: int, slot_seats: np.ndarray | None) -> np.ndarray:
    """0/1 per pair: the allocation of greatest total ``gain`` (without seats when ``slot_seats``
    is None), as the min-cost flow of the module's docstring. A candidate's pairs that are alone
    in their slot need no candidate × slot node: they leave the candidate's node directly."""
    n_slots = len(slot_seats) if slot_seats is not None else int(slot.max()) + 1
    candidates, cand_node = np.unique(cand, return_inverse=True)
    vacancies, vac_node = np.unique(vac, return_inverse=True)
    cs_keys, cs_node, cs_count = np.unique(cand_node * n_slots + slot, return_inverse=True, return_counts=True)
    shared = cs_count > 1  # candidate × slot nodes needed: two pairs or more in the slot
    shared_keys = cs_keys[shared]
    cs_index = np.cumsum(shared) - 1
    source, sink = 0, 1
    c0 = 2
    cs0 = c0 + len(candidates)
    v0 = cs0 + len(shared_keys)
    s0 = v0 + len(vacancies)
    pair_tail = np.where(shared[cs_node], cs0 + cs_index[cs_node], c0 + cand_node)
    if slot_seats is None:
        vacancy_head = np.full(len(vacancies), sink)
        total = len(cand)
        slot_arcs = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))
    else:
        first = np.zeros(len(vacancies), np.int64)
        first[vac_node] = slot
        vacancy_head = s0 + first
        total = int(slot_seats.sum())
        slot_arcs = (s0 + np.arange(n_slots), np.full(n_slots, sink), slot_seats.astype(np.int64))
    tails = np.concatenate([np.full(len(candidates), source), c0 + shared_keys // n_slots, pair_tail,
                            v0 + np.arange(len(vacancies)), slot_arcs[0], [source]])
    heads = np.concatenate([c0 + np.arange(len(candidates)), cs0 + np.arange(len(shared_keys)), v0 + vac_node,
                            vacancy_head, slot_arcs[1], [sink]])
    capacities = np.concatenate([np.full(len(candidates), k), np.ones(len(shared_keys) + len(cand), np.int64),
                                 vacancy_cap[vacancies], slot_arcs[2], [total]])
    costs = np.zeros(len(tails), np.int64)
    first_pair = len(candidates) + len(shared_keys)
    costs[first_pair:first_pair + len(cand)] = -np.rint(gain * SCALE).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                                     capacities.astype(np.int64), costs)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    return flow.flows(arcs[first_pair:first_pair + len(cand)]) > 0


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
