"""Job-fair invitation allocation: the optimal set of invitations under capacities.

Variables x(c, v) ∈ {0, 1} — invite candidate c to vacancy v — for every scored pair offered.
Maximise Σ score · x subject to

* per vacancy: Σ_c x ≤ openings × invites_per_opening
* per candidate: Σ_v x ≤ K, and at most one interview per time slot (each vacancy interviews
  in one slot)
* per slot: Σ x ≤ its seats
* optionally, invitations to priority-group candidates ≥ the minimum share of the number of
  invitations the unconstrained optimum issues; when no allocation reaches it, the largest
  achievable number is imposed instead and the shortfall is reported.

Without the share constraint the constraint matrix is two laminar families (vacancy ⊂ slot on
one side, candidate-slot ⊂ candidate on the other): totally unimodular, so the LP optimum is
integral and HiGHS' dual simplex solves it directly. The share row breaks that, so then the
problem goes to HiGHS as a MILP (``scipy.optimize.milp``), solved to proven optimality. Ties are broken by a tiny
deterministic perturbation (pair order), so the same input gives the same invitations.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp


@dataclass(frozen=True)
class Pair:
    candidate_id: str
    vacancy_id: str
    score: float
    priority: bool  # the candidate belongs to one of the fair's priority groups


@dataclass(frozen=True)
class Problem:
    pairs: list[Pair]
    vacancy_caps: dict[str, int]    # openings × invites_per_opening
    vacancy_slot: dict[str, str]
    slot_seats: dict[str, int]
    max_per_candidate: int
    min_priority_share: float | None = None

    def digest(self) -> str:
        """A hash of everything the result depends on: the run's input snapshot."""
        h = hashlib.sha256()
        for p in sorted(self.pairs, key=lambda p: (p.vacancy_id, p.candidate_id)):
            h.update(f"{p.vacancy_id}|{p.candidate_id}|{p.score:.6f}|{int(p.priority)}\n".encode())
        for name, table in (("cap", self.vacancy_caps), ("slot", self.vacancy_slot), ("seats", self.slot_seats)):
            for k in sorted(table):
                h.update(f"{name}|{k}|{table[k]}\n".encode())
        h.update(f"K|{self.max_per_candidate}|share|{self.min_priority_share}".encode())
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
    pairs = sorted((p for p in problem.pairs if p.score > 0 and problem.vacancy_caps.get(p.vacancy_id, 0) > 0
                    and problem.vacancy_slot.get(p.vacancy_id) in problem.slot_seats),
                   key=lambda p: (p.vacancy_id, p.candidate_id))
    if not pairs:
        return Allocation([], 0.0, 0.0, None if problem.min_priority_share is None else False, "no scored pair to invite")
    n = len(pairs)
    row_of: list[int] = []      # one entry per (constraint row, pair): a sparse 0/1 matrix
    col_of: list[int] = []
    upper: list[float] = []

    def group(keys: list[object], cap: Callable[[object], int]) -> None:
        index: dict[object, int] = {}
        for i, k in enumerate(keys):
            if k not in index:
                index[k] = len(upper)
                upper.append(cap(k))
            row_of.append(index[k])
            col_of.append(i)

    group([p.vacancy_id for p in pairs], problem.vacancy_caps.__getitem__)
    group([p.candidate_id for p in pairs], lambda _c: problem.max_per_candidate)
    group([(p.candidate_id, problem.vacancy_slot[p.vacancy_id]) for p in pairs], lambda _cs: 1)
    group([problem.vacancy_slot[p.vacancy_id] for p in pairs], problem.slot_seats.__getitem__)
    matrix = sparse.csr_matrix((np.ones(len(row_of)), (row_of, col_of)), shape=(len(upper), n))
    capacity = LinearConstraint(matrix, -np.inf, np.array(upper, float))

    # deterministic tie-break: earlier pairs (vacancy, candidate order) win exact ties
    score = np.array([p.score for p in pairs]) + 1e-9 * (n - np.arange(n)) / n
    priority = np.array([p.priority for p in pairs], float)
    base = _solve(-score, [capacity], n)
    total = int(round(base.sum()))
    chosen, target_met, message = base, None, "optimal"
    if problem.min_priority_share:
        needed = math.ceil(problem.min_priority_share * total - 1e-9)
        share_row = LinearConstraint(priority.reshape(1, -1), needed, np.inf)
        try:
            chosen = _solve(-score, [capacity, share_row], n)
            target_met = True
            message = f"optimal with at least {needed} of {total} invitations to priority groups"
        except _Infeasible:
            best = int(round(_solve(-priority, [capacity], n) @ priority))
            chosen = _solve(-score, [capacity, LinearConstraint(priority.reshape(1, -1), best, np.inf)], n)
            target_met = False
            message = (f"the minimum share {problem.min_priority_share:.0%} needs {needed} priority-group invitations "
                       f"but at most {best} are possible under the capacities; optimal with {best}")
    picked = [p for p, x in zip(pairs, chosen, strict=True) if x > 0.5]
    issued = len(picked)
    prio = sum(p.priority for p in picked)
    totals = {
        "per_vacancy": dict(sorted(_count(p.vacancy_id for p in picked).items())),
        "per_slot": dict(sorted(_count(problem.vacancy_slot[p.vacancy_id] for p in picked).items())),
        "per_group": {"priority": prio, "other": issued - prio},
    }
    return Allocation(picked, float(sum(p.score for p in picked)), prio / issued if issued else 0.0,
                      target_met, message, totals)


class _Infeasible(Exception):
    pass


def _solve(cost: np.ndarray, constraints: list[LinearConstraint], n: int) -> np.ndarray:
    if len(constraints) == 1:
        # totally unimodular: the simplex optimum is a vertex, and every vertex is integral
        c = constraints[0]
        lp = linprog(cost, A_ub=c.A, b_ub=c.ub, bounds=(0, 1), method="highs-ds")
        if lp.status == 2:
            raise _Infeasible
        if lp.success and np.allclose(lp.x, np.round(lp.x), atol=1e-6):
            return np.round(lp.x)
    result = milp(cost, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1),
                  options={"disp": False, "presolve": True})
    if result.status == 2:  # infeasible
        raise _Infeasible
    if not result.success:
        raise RuntimeError(f"allocation solver failed: {result.message}")
    return np.round(result.x)


def _count(keys: object) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for k in keys:  # type: ignore[attr-defined]
        out[k] += 1
    return dict(out)
