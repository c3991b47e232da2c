"""Batch top-N: the exact best N candidates of every open vacancy by the full score, in one
compiled pass (numba, one vacancy at a time on each thread) over the candidates' posting lists.

A vacancy's feature columns are read from the heaviest down. Of a candidate not met in the
columns already read, R is at most the weight of the columns left (for n-gram columns their
Euclidean norm: a candidate's text vector has norm 1). Candidates are grouped by what decides
their distance factor and boost — coordinates, ward, legacy district, commute limit, boost — so
for each kind of vacancy location a group has a bound on the multiplier (α + (1 − α)·F)·(1 +
boost) of R. Reading a posting, the candidate is passed over if its bounds cannot reach the
N-th score held; otherwise its fit F is computed from the values the posting list carries
(level, qualification, wage), the bound tried again, and only then R — a few bit tests, each
coded column being also a bitset over the candidates, summed in float32 in column order exactly
as the online ranking sums it — and the score, offered to a heap of the N best. A vacancy stops
reading columns once the columns left could not lift anyone past its N-th score.

Every list is therefore the exact top-N of the online ranking: the same scores to the bit, ties
broken by candidate id; most candidates sharing a feature with the vacancy are never scored.
Candidates are renumbered group by group, the most boosted first, so that a posting list is
read in that order (high scores early raise the bar) with neighbours close in memory.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
from scipy import sparse

from services.matching.scoring import Weights, distance_factor, level_factor, qualification_factor

# relative slack on the bounds, for R summed in float32 (a bound must never undercut a score)
SLACK = 1e-6


@numba.njit(cache=True, inline="always")
def _worse(s_a: float, r_a: int, s_b: float, r_b: int) -> bool:
    """Pair a ranks below pair b: lower score, or the same score and a later candidate id."""
    return s_a < s_b or (s_a == s_b and r_a > r_b)


@numba.njit(cache=True, inline="always")
def _sift_down(hs: np.ndarray, hk: np.ndarray, size: int, at: int) -> None:
    """Restore the heap (worst pair at the root) below position ``at``, moving the pair there down."""
    s, k = hs[at], hk[at]
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and _worse(hs[child + 1], hk[child + 1], hs[child], hk[child]):
            child += 1
        if not _worse(hs[child], hk[child], s, k):
            break
        hs[at], hk[at] = hs[child], hk[child]
        at = child
    hs[at], hk[at] = s, k


@numba.njit(cache=True, inline="always")
def _push(hs: np.ndarray, hk: np.ndarray, size: int, score: float, rank: int) -> int:
    """Offer a pair (its score, the rank of the candidate's id) to the heap of the best
    ``len(hs)``; returns the new size."""
    if size < len(hs):
        at = size
        while at > 0:
            parent = (at - 1) // 2
            if not _worse(score, rank, hs[parent], hk[parent]):
                break
            hs[at], hk[at] = hs[parent], hk[parent]
            at = parent
        hs[at], hk[at] = score, rank
        return size + 1
    if _worse(hs[0], hk[0], score, rank):
        hs[0], hk[0] = score, rank
        _sift_down(hs, hk, size, 0)
    return size


@numba.njit(cache=True, inline="always")
def _fit(level_f: float, qual_f: float, distance_f: float, wage: float, wage_top: float, w: np.ndarray) -> float:
    """The fit F of one pair from its level, qualification and distance factors (looked up in
    tables scoring's functions filled) and its wage factor, computed as scoring.wage_factor
    does; weighted as scoring.fit_score, in the same order, so the bits are the same."""
    if math.isnan(wage) or math.isnan(wage_top):
        wage_f = 1.0
    else:
        wage_f = min(max(1.0 - 2.0 * min(max((wage - wage_top) / wage, 0.0), 1.0), 0.0), 1.0)
    return w[0] * level_f + w[1] * qual_f + w[2] * distance_f + w[3] * wage_f


@numba.njit(cache=True)
def _bitsets(p_indptr: np.ndarray, p_rows: np.ndarray, slots: int, candidates: int) -> np.ndarray:
    """One bit per candidate for each of the first ``slots`` posting lists: who has the column."""
    bits = np.zeros((slots, (candidates + 63) // 64), np.int64)
    for slot in range(slots):
        for p in range(p_indptr[slot], p_indptr[slot + 1]):
            r = p_rows[p]
            bits[slot, r >> 6] |= np.int64(1) << (r & 63)
    return bits


@numba.njit(cache=True, parallel=True, nogil=True)
def _top_n(q_indptr, q_indices, q_slot, q_data, v_key, v_level, v_qual, v_wage, v_accepts, level_table, qual_table,
           bits, t_indptr, t_indices, t_data, n_cand, group_boost,
           p_indptr, p_rows, p_group, p_level, p_qual, p_wage, p_rank, slot_max, group_dist, group_fit, text_base, width, w, alpha, todo, n, threads):
    n_vac = len(todo)
    out_ranks = np.full((n_vac, n), -1, np.int64)
    out_scores = np.zeros((n_vac, n), np.float64)
    counts = np.zeros(n_vac, np.int64)
    met = np.zeros(n_vac, np.int64)
    for t in numba.prange(threads):
        seen = np.zeros((n_cand + 63) // 64, np.int64)  # candidates met, as bits
        touched = np.empty(n_cand, np.int64)
        dense = np.zeros(width, np.float32)  # the vacancy's query vector q, spread out
        hs = np.empty(n, np.float64)
        hk = np.empty(n, np.int64)
        for j in range(t, n_vac, threads):
            i = todo[j]  # the vacancy's row; j, its place in the output
            start, end = q_indptr[i], q_indptr[i + 1]
            m = end - start
            impact = np.empty(m, np.float64)
            has_text = False
            for k in range(m):
                impact[k] = q_data[start + k] * slot_max[q_slot[start + k]]
                dense[q_indices[start + k]] = q_data[start + k]
                has_text = has_text or q_indices[start + k] >= text_base
            order = np.argsort(-impact)
            text_at = start
            while text_at < end and q_indices[text_at] < text_base:
                text_at += 1
            # bound[l]: the largest R of a candidate in none of the columns order[:l]
            bound = np.zeros(m + 1, np.float64)
            coded, text_sq = 0.0, 0.0
            for l in range(m - 1, -1, -1):
                k = start + order[l]
                if q_indices[k] >= text_base:
                    text_sq += float(q_data[k]) * float(q_data[k])
                else:
                    coded += impact[order[l]]
                bound[l] = coded + math.sqrt(text_sq)
            fits, dists = group_fit[v_key[i]], group_dist[v_key[i]]
            level_row, qual_row = level_table[v_level[i]], qual_table[v_qual[i]]
            best_fit = fits.max() * (1.0 + SLACK)
            accepts = v_accepts[i]
            size, scored, n_touched = 0, 0, 0
            for l in range(m):
                if size == n and min(1.0, bound[l] * best_fit) < hs[0]:
                    break
                k = start + order[l]
                if q_data[k] <= 0:
                    continue
                slot = q_slot[k]
                for p in range(p_indptr[slot], p_indptr[slot + 1]):
                    g = p_group[p]
                    fit_bound = fits[g] * (1.0 + SLACK)
                    if size == n and min(1.0, bound[l] * fit_bound) < hs[0]:
                        continue  # met first here, its R is at most bound[l]; or met before
                    r = p_rows[p]
                    word, bit_at = r >> 6, r & 63
                    bit = np.int64(1) << bit_at
                    if seen[word] & bit:
                        continue
                    seen[word] |= bit
                    touched[n_touched] = word
                    n_touched += 1
                    # the fit first (a few operations on what the posting list carries): with R
                    # at most bound[l], it may already rule the candidate out
                    fit = _fit(level_row[p_level[p]], qual_row[p_qual[p]], dists[g], p_wage[p], v_wage[i], w)
                    boost = group_boost[g] * accepts
                    if size == n and min(1.0, bound[l] * (alpha + (1.0 - alpha) * fit) * (1.0 + boost) * (1.0 + SLACK)) < hs[0]:
                        continue
                    scored += 1
                    # R as the online ranking sums it: float32, in ascending column order (adding
                    # the zeros of columns the vacancy does not have changes no bit)
                    rel = np.float32(0.0)
                    for k in range(start, text_at):  # coded: 1 where the candidate has the column
                        if (bits[q_slot[k], word] >> bit_at) & 1:
                            rel += q_data[k]
                    if has_text:
                        for a in range(t_indptr[r], t_indptr[r + 1]):
                            rel += t_data[a] * dense[t_indices[a]]
                    if rel <= 0:
                        continue
                    score = min(1.0, float(rel) * (alpha + (1.0 - alpha) * fit) * (1.0 + boost))
                    size = _push(hs, hk, size, score, p_rank[p])
            for k in range(start, end):
                dense[q_indices[k]] = 0.0
            for k in range(n_touched):
                seen[touched[k]] = 0
            counts[j] = size
            met[j] = scored
            # best first: take the worst off the heap into the last free place
            for last in range(size - 1, -1, -1):
                out_scores[j, last], out_ranks[j, last] = hs[0], hk[0]
                hs[0], hk[0] = hs[last], hk[last]
                _sift_down(hs, hk, last, 0)
    return out_ranks, out_scores, counts, met


class Layout(NamedTuple):
    """What the kernel reads, prepared once per version of the index (see ``prepare``)."""

    arguments: tuple[Any, ...]   # of _top_n, before todo, n and threads
    row_of_rank: np.ndarray      # candidate row of each id rank
    vacancies: int


def prepare(vacancies: sparse.csr_matrix, v: dict[str, np.ndarray], candidates: sparse.csc_matrix,
            c: dict[str, np.ndarray], text_base: int, km: np.ndarray, weights: Weights) -> Layout:
    """The vacancies (rows of ``vacancies``, scalars ``v``) and candidates (rows of
    ``candidates``, scalars ``c``) laid out for ``top_n``. ``km`` is the table of distances
    between places, index -1 (an unknown place) being its last row and column."""
    unknown = len(km) - 1
    place_c = np.where(c["place"] < 0, unknown, c["place"])
    place_v = np.where(v["place"] < 0, unknown, v["place"])
    # groups: candidates alike for the distance factor and the boost; the candidates are
    # renumbered group by group (the most boosted first, whose scores raise the bar early),
    # so that a posting list is read in that order and its neighbours are close in memory
    commute_class = np.unique(c["commute"], return_inverse=True)[1]
    boost_class = np.unique(-c["boost"], return_inverse=True)[1]
    key = boost_class.astype(np.int64) << 56 | ((place_c.astype(np.int64) << 17 | (c["ward"] + 1)) << 17 | (c["district"] + 1)) << 6 | commute_class
    first, group = np.unique(key, return_index=True, return_inverse=True)[1:]
    perm = np.argsort(group, kind="stable")
    # posting lists of the columns some vacancy uses; the coded ones also as bitsets
    used = np.unique(vacancies.indices)
    coded = int(np.searchsorted(used, text_base))
    postings = candidates[:, used].tocsr()[perm].tocsc()  # renumbered; sorted by construction
    if (postings.data[:postings.indptr[coded]] != 1).any():
        raise ValueError("coded features (skills, occupation groups) are expected to be 0 or 1")
    slot_max = np.zeros(len(used), np.float64)
    nonempty = np.diff(postings.indptr) > 0
    slot_max[nonempty] = np.maximum.reduceat(postings.data, postings.indptr[:-1][nonempty])
    bits = _bitsets(postings.indptr, postings.indices, coded, len(perm))
    # the candidates' n-gram rows, in the columns some vacancy uses
    text = postings[:, coded:].tocsr()
    # per kind of vacancy location, each group's distance factor and its bound on
    # (α + (1 − α)·F)·(1 + boost)
    v_code = ((place_v.astype(np.int64) << 18 | (v["ward"] + 1)) << 18 | (v["district"] + 1)) << 1 | (v["accepts_priority"] > 0)
    codes, v_key = np.unique(v_code, return_inverse=True)
    vkeys = np.column_stack([codes >> 37, (codes >> 19 & (2**18 - 1)) - 1, (codes >> 1 & (2**18 - 1)) - 1, codes & 1])
    g_place, g_ward, g_district, g_boost = place_c[first], c["ward"][first], c["district"][first], c["boost"][first]
    group_dist = distance_factor(km[g_place[None, :], vkeys[:, 0:1]], c["commute"][first][None, :],
                                 (g_ward[None, :] == vkeys[:, 1:2]) & (g_ward[None, :] >= 0),
                                 (g_district[None, :] == vkeys[:, 2:3]) & (g_district[None, :] >= 0))
    fw = weights.fit()
    group_fit = ((weights.alpha + (1.0 - weights.alpha) * (fw[0] + fw[1] + fw[3] + fw[2] * group_dist))
                 * (1.0 + g_boost[None, :] * vkeys[:, 3:4]))
    # the level and qualification factors of every (minimum, candidate's value), by scoring's own
    # functions; what the fit needs of a candidate, along the posting lists (read in their order)
    levels = np.arange(int(max(c["level"].max(), v["min_level"].max())) + 1, dtype=np.float64)
    ranks = np.arange(int(max(c["qualification"].max(), v["min_qualification"].max())) + 1, dtype=np.float64)
    level_table = level_factor(levels[None, :], levels[:, None])
    qual_table = qualification_factor(ranks[None, :], ranks[:, None])
    at = perm[postings.indices]
    arguments = (
        vacancies.indptr, vacancies.indices, np.searchsorted(used, vacancies.indices), vacancies.data.astype(np.float32),
        v_key.ravel(), v["min_level"].astype(np.int64), v["min_qualification"].astype(np.int64), v["wage_top"],
        v["accepts_priority"], level_table, qual_table,
        bits, text.indptr, used[coded:][text.indices], text.data.astype(np.float32), candidates.shape[0],
        g_boost.astype(np.float64), postings.indptr, postings.indices, group[at].astype(np.int32), c["level"][at].astype(np.uint8),
        c["qualification"][at].astype(np.uint8), c["wage"][at].astype(np.float64), c["id_rank"][at].astype(np.int64), slot_max,
        np.ascontiguousarray(group_dist, np.float64), group_fit, text_base, candidates.shape[1],
        np.ascontiguousarray(fw, np.float64), float(weights.alpha))
    row_of_rank = np.empty(len(perm), np.int64)
    row_of_rank[c["id_rank"]] = np.arange(len(perm))
    return Layout(arguments, row_of_rank, vacancies.shape[0])


def top_n(layout: Layout, n: int, threads: int, todo: np.ndarray | None = None,
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The exact top-``n`` of every vacancy (or of the vacancy rows ``todo``, in that order):
    (indptr, candidate rows, scores), best first, and per vacancy how many pairs were scored
    (R computed)."""
    if todo is None:
        todo = np.arange(layout.vacancies)
    ranks, scores, counts, scored = _top_n(*layout.arguments, np.asarray(todo, np.int64), int(n), max(1, int(threads)))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    keep = np.arange(n)[None, :] < counts[:, None]
    return indptr, layout.row_of_rank[ranks[keep]], scores[keep], scored
