"""Siting new facilities to close living-circle gaps (补短板, 缺什么补什么).

Given a coverage result and candidate sites (`gis.candidates`), choose where to add
facilities of a category:

* **MCLP** (maximal covering): ``k`` sites that newly cover the most households;
* **LSCP** (location set covering): the fewest sites that cover every gap estate some
  candidate can reach; estates no candidate can reach are listed with the distance to
  the nearest candidate.

Distances are those of `gis.coverage` (access points, hops, 20 m pieces): a candidate
covers an estate when the estate would be covered were a facility of that category
standing there. Estates already covered by an existing facility are not targets.

Solvers: greedy with lazy evaluation (CELF), which reaches at least (1 - 1/e) ≈ 63.2 %
of the optimum for MCLP (Nemhauser, Wolsey and Fisher 1978); and an exact MILP through
`scipy.optimize.milp` (HiGHS) with a time limit, which reports the proven gap. The
default (``solver="auto"``) uses the exact solution when HiGHS proves it optimal within
the limit, the greedy one otherwise, and says which.

Weights are households; an estate with no household count weighs the median of the
known counts (1 when none is known), and the notes say how many did.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import dijkstra

from gis.coverage import Coverage, nearest_by_network, service_areas
from gis.crs import to_metric
from gis.errors import InputError
from gis.access import Access, estate_access, snap_points
from gis.network import WalkGraph
from gis.search import search_graph, thin_access
from gis.notes import Note

__all__ = [
    "Demand",
    "Siting",
    "Solution",
    "coverage_matrix",
    "exact_cover",
    "greedy_cover",
    "site_facilities",
]

logger = logging.getLogger(__name__)

Solver = Literal["auto", "exact", "greedy"]
GREEDY_BOUND = 1 - 1 / math.e
FAR_FROM_STREET_M = 200.0


@dataclass(frozen=True)
class Demand:
    """One siting request: a category key and ``k`` sites, or ``k=None`` to cover all
    reachable gaps with the fewest sites (LSCP)."""

    category: str
    k: int | None = None


@dataclass(frozen=True)
class Solution:
    """How one category's sites were chosen.

    Attributes
    ----------
    model : {"mclp", "lscp"}
    method : {"exact", "greedy"}
        Which solution was kept.
    chosen : ndarray of int
        Candidate positions, in proposal order (largest marginal gain first).
    objective : float
        MCLP: households newly covered; LSCP: number of sites.
    bound : float
        Best proven bound on the optimum (MCLP: upper; LSCP: lower); NaN if unknown.
    gap : float
        Proven relative gap of ``objective`` to ``bound`` (0 = proven optimal).
    optimal : bool
        Proven optimal.
    greedy_objective, exact_objective : float
        Each solver's value (NaN if not run or no solution).
    seconds : float
    message : str
        Solver status in words.
    """

    model: str
    method: str
    chosen: np.ndarray
    objective: float
    bound: float
    gap: float
    optimal: bool
    greedy_objective: float = math.nan
    exact_objective: float = math.nan
    seconds: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class Siting:
    """Result of `site_facilities`.

    Attributes
    ----------
    sites : GeoDataFrame
        Chosen sites (estates' CRS), per category in proposal order: ``category``,
        ``order`` (1, 2 …), ``candidate_id``, ``name``, ``source``, ``model``,
        ``method``, ``new_households``, ``new_estates`` (newly covered by this site
        beyond those before it), ``cum_households``, ``cum_estates``,
        ``household_rate_after`` (0–1, all sites so far and existing facilities),
        ``capacity_households``.
    summary : DataFrame
        Per category before/after: ``category``, ``walk_m``, ``model``, ``method``,
        ``k``, ``sites``, ``estates``, ``estates_covered_before``/``_after``,
        ``households``, ``households_covered_before``/``_after``, ``household_rate_before``
        /``_after``, ``gap_estates`` (targets), ``reachable_estates`` (some candidate
        covers them), ``objective``, ``bound``, ``gap``, ``optimal``,
        ``greedy_objective``, ``exact_objective``, ``greedy_share``, ``seconds``.
    unreachable : DataFrame
        Gap estates no candidate covers: ``category``, ``estate_id``, ``name``,
        ``households``, ``nearest_candidate_m`` (NaN beyond ``search_factor × walk_m``),
        ``nearest_candidate``.
    estates : GeoDataFrame
        The coverage estates with ``covered_after_<key>`` and ``site_<key>`` (the first
        chosen site covering it) for each siting category.
    areas : GeoDataFrame
        Walkable service area of each category's chosen sites (estates' CRS).
    candidates : GeoDataFrame
        Every candidate considered (estates' CRS) with ``hop_m``.
    solutions : dict of str to Solution
    notes : list of str
    coverage : Coverage
    """

    sites: gpd.GeoDataFrame
    summary: pd.DataFrame
    unreachable: pd.DataFrame
    estates: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    solutions: dict[str, Solution]
    coverage: Coverage
    notes: list[str] = field(default_factory=list)


# --- the coverage matrix -------------------------------------------------------------


def coverage_matrix(
    graph: WalkGraph,
    access: Access,
    candidate_xy: np.ndarray,
    walk_m: float,
    *,
    max_bytes: float = 256e6,
) -> sp.csr_array:
    """Walking distance from every estate to every candidate within ``walk_m``.

    The rules are those of `gis.coverage`: each candidate hops straight to its nearest
    graph node (20 m pieces included), each estate starts from its access points at
    their cost; the distance is the least ``access cost + network + hop``.

    Computed by bounded searches from the candidates' nodes (one per distinct node),
    in chunks so the dense search rows never exceed ``max_bytes``; the result is sparse.

    Parameters
    ----------
    graph : WalkGraph
    access : Access
        From `gis.network.estate_access`.
    candidate_xy : ndarray of shape (m, 2)
        Candidate points in the graph's CRS (metres).
    walk_m : float
        Threshold, metres. A pair is kept when its distance, rounded to the centimetre
        as coverage stores it, is at most ``walk_m``.
    max_bytes : float, default 256e6
        Memory for one chunk of search rows.

    Returns
    -------
    scipy.sparse.csr_array of shape (n_estates, m)
        Distances in metres. Every stored entry is a covered pair, explicit zeros
        included (an estate with the candidate inside it): test with ``.nnz`` /
        ``.indices``, not with ``!= 0``.

    Examples
    --------
    One street 400 m long, an estate beside it at 100–140 m, candidates at 120 m (inside
    the estate) and at 385 m (20 m access + 220 m along the street + 5 m hop):

    >>> import geopandas as gpd
    >>> from gis.access import estate_access
    >>> from gis.network import build_walk_graph
    >>> streets = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (400, 0)])],
    ...                            crs="EPSG:4549")
    >>> estates = gpd.GeoDataFrame({"estate_id": ["A"]},
    ...                            geometry=[shapely.box(100, -20, 140, 20)], crs="EPSG:4549")
    >>> graph = build_walk_graph(streets)
    >>> m = coverage_matrix(graph, estate_access(graph, estates),
    ...                     np.array([[120.0, 0.0], [385.0, 0.0]]), 300.0)
    >>> m.nnz, float(m[0, 0]), round(float(m[0, 1]), 1)
    (2, 0.0, 245.0)
    """
    n_est = access.n_estates
    xy = np.asarray(candidate_xy, dtype=float).reshape(-1, 2)
    m = len(xy)
    if not m or not n_est:
        return sp.csr_array((n_est, m))
    cand_node, hop = snap_points(graph, xy)
    access = thin_access(graph, access, cand_node)
    small, kept = search_graph(graph, np.concatenate([access.node, cand_node]))
    acc_node = kept[:len(access.node)]
    cand_node = kept[len(access.node):]
    csr = small.csr
    n = small.n_nodes
    # Access points by node, so a search row turns into (estate, cost) pairs directly.
    by_node = np.argsort(acc_node, kind="stable")
    node_start = np.searchsorted(acc_node[by_node], np.arange(n + 1))
    uniq, inverse = np.unique(cand_node, return_inverse=True)
    # Candidates sharing a node differ only by their hop: one search serves them all.
    limit = walk_m - float(hop.min()) + 0.01
    rows_, cols_, vals_ = [], [], []
    cand_of = np.argsort(inverse, kind="stable")
    cand_start = np.searchsorted(inverse[cand_of], np.arange(len(uniq) + 1))
    local = np.full(n, -1, dtype=np.int64)
    for idx, sel in _blocks(small.street_xy, uniq, limit, max_bytes):
        # Every edge is at least as long as the straight line between its ends, so a
        # walk within `limit` never leaves the disc of that radius around its start: the
        # search runs on the block's neighbourhood only, a few km² of a city.
        if len(sel) == n:
            sub, starts = csr, uniq[idx]
        else:
            local[sel] = np.arange(len(sel))
            sub, starts = _induced(csr, sel, local), local[uniq[idx]]
            local[sel] = -1
        dist = dijkstra(sub, directed=False, indices=starts, limit=limit)
        src, lnode = np.nonzero(np.isfinite(dist))
        d = dist[src, lnode]
        node = sel[lnode]
        count = node_start[node + 1] - node_start[node]
        src = np.repeat(src, count)
        d = np.repeat(d, count)
        first = np.repeat(node_start[node], count)
        at = by_node[first + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
        est = access.estate[at]
        total = access.cost_m[at] + d
        # Least total per (search, estate).
        key = src.astype(np.int64) * n_est + est
        order = np.lexsort((total, key))
        key, total = key[order], total[order]
        head = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        key, total = key[head], total[head]
        s, e = key // n_est, key % n_est
        # Expand to every candidate at each searched node, adding its hop.
        u = idx[s]
        cnt = cand_start[u + 1] - cand_start[u]
        cand = cand_of[np.repeat(cand_start[u], cnt)
                       + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)]
        e = np.repeat(e, cnt)
        value = np.round(np.repeat(total, cnt) + hop[cand], 2)
        ok = value <= walk_m
        rows_.append(e[ok])
        cols_.append(cand[ok])
        vals_.append(value[ok])
    rows = np.concatenate(rows_) if rows_ else np.zeros(0, np.int64)
    cols = np.concatenate(cols_) if cols_ else np.zeros(0, np.int64)
    vals = np.concatenate(vals_) if vals_ else np.zeros(0)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.searchsorted(rows, np.arange(n_est + 1))
    # Built from (data, indices, indptr): explicit zeros stay stored.
    return sp.csr_array((vals, cols.astype(np.int32), indptr), shape=(n_est, m))


def _blocks(node_xy: np.ndarray, sources: np.ndarray, limit: float,
            max_bytes: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group search sources by square cells of half the search radius; give each group
    (positions in ``sources``) with every node within ``limit`` of its cell, split so one
    group's dense search rows stay under ``max_bytes``."""
    if limit < 0 or not len(sources):
        return []
    cell = max(limit / 2, 1.0)
    reach = int(math.ceil(limit / cell))
    origin = node_xy.min(axis=0)
    ij = np.floor((node_xy - origin) / cell).astype(np.int64)
    height = int(ij[:, 1].max()) + 2 * reach + 2
    key = (ij[:, 0] + reach) * height + (ij[:, 1] + reach)
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    src_key = key[sources]
    order = np.argsort(src_key, kind="stable")
    heads = np.flatnonzero(np.r_[True, src_key[order][1:] != src_key[order][:-1]])
    n = len(node_xy)
    out, whole = [], []
    for group in np.split(order, heads[1:]):
        k0 = int(src_key[group[0]])
        cx, cy = divmod(k0, height)
        lo = (cx + np.arange(-reach, reach + 1)) * height + cy - reach
        a = np.searchsorted(sorted_key, lo, side="left")
        b = np.searchsorted(sorted_key, lo + 2 * reach, side="right")
        sel = np.sort(np.concatenate([by_key[i:j] for i, j in zip(a, b)]))
        if len(sel) > n // 3:
            # A town smaller than a few search radii: one search over the whole graph
            # serves many sources at once, cheaper than cutting it per cell.
            whole.append(group)
            continue
        per = int(max(1, max_bytes // (8 * max(len(sel), 1))))
        out.extend((group[i:i + per], sel) for i in range(0, len(group), per))
    if whole:
        group = np.concatenate(whole)
        per = int(max(1, max_bytes // (8 * max(n, 1))))
        everything = np.arange(n)
        out.extend((group[i:i + per], everything) for i in range(0, len(group), per))
    return out


def _induced(csr: sp.csr_matrix, sel: np.ndarray, local: np.ndarray) -> sp.csr_matrix:
    """The subgraph on nodes ``sel`` (``local`` maps a node to its position there, -1
    outside), built from the selected rows without scipy's column fancy-indexing."""
    start, end = csr.indptr[sel], csr.indptr[sel + 1]
    count = end - start
    at = np.repeat(start, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count,
                                                                      count)
    col = local[csr.indices[at]]
    row = np.repeat(np.arange(len(sel)), count)
    keep = col >= 0
    return sp.csr_matrix((csr.data[at][keep], (row[keep], col[keep])), shape=(len(sel), len(sel)))


# --- solvers ---------------------------------------------------------------------------


def greedy_cover(
    cover: sp.csc_array, weight: np.ndarray, k: int | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Greedy covering with lazy evaluation (CELF).

    Parameters
    ----------
    cover : scipy.sparse.csc_array of bool, shape (targets, candidates)
    weight : ndarray of float
        Weight of each target row (households), non-negative.
    k : int or None
        Number of sites (MCLP); ``None`` keeps adding sites until every coverable row is
        covered (LSCP, greedy set cover: most newly covered rows first).

    Returns
    -------
    (ndarray of int, ndarray of float, float)
        Chosen candidates in order, each one's marginal gain (weight for MCLP, rows for
        LSCP), and a data-dependent upper bound on the MCLP optimum: the value reached
        plus the ``k`` largest remaining gains (NaN for LSCP).

    Notes
    -----
    A site's marginal gain can only shrink as others are chosen (submodularity), so a
    stale gain is an upper bound and only the top of the heap needs recomputing. Ties
    go to the lower candidate position, so the result is deterministic.

    Examples
    --------
    Three estates (rows, weighted by households) and three candidate sites (columns):

    >>> cover = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=bool))
    >>> chosen, gains, bound = greedy_cover(cover, np.array([100.0, 50.0, 80.0]), 1)
    >>> chosen.tolist(), gains.tolist()
    ([0], [150.0])
    >>> greedy_cover(cover, np.array([100.0, 50.0, 80.0]), None)[0].tolist()
    [0, 1]
    """
    cover = sp.csc_array(cover)
    indptr, indices = cover.indptr, cover.indices
    w = np.asarray(weight, dtype=float) if k is not None else np.ones(cover.shape[0])
    covered = np.zeros(cover.shape[0], dtype=bool)
    coverable = np.diff(sp.csr_array(cover).indptr) > 0
    gains = np.add.reduceat(np.r_[w[indices], 0.0], indptr[:-1]) if cover.shape[1] else np.zeros(0)
    gains = np.where(np.diff(indptr) > 0, gains, 0.0)
    heap = [(-g, j, 0) for j, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gain_of: list[float] = []
    limit = k if k is not None else cover.shape[1]
    while heap and len(chosen) < limit:
        if k is None and covered[coverable].all():
            break
        neg, j, stamp = heapq.heappop(heap)
        if stamp == len(chosen):
            if -neg <= 0:
                break
            chosen.append(j)
            gain_of.append(-neg)
            covered[indices[indptr[j]:indptr[j + 1]]] = True
            continue
        rows = indices[indptr[j]:indptr[j + 1]]
        g = float(w[rows][~covered[rows]].sum())
        if g > 0:
            heapq.heappush(heap, (-g, j, len(chosen)))
    bound = math.nan
    if k is not None:
        left = cover.T @ (w * ~covered)
        top = np.sort(left)[::-1][:k]
        bound = float(sum(gain_of) + top.sum())
    return np.asarray(chosen, dtype=np.int64), np.asarray(gain_of), bound


def exact_cover(
    cover: sp.csc_array,
    weight: np.ndarray,
    k: int | None,
    *,
    capacity: np.ndarray | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 1e-6,
) -> tuple[np.ndarray | None, float, float, bool, str]:
    """Exact MCLP (``k`` given) or LSCP (``k=None``) as a MILP solved by HiGHS.

    MCLP: maximise ``Σ w_i y_i`` with ``y_i ≤ Σ_{j covers i} x_j``, ``Σ x_j ≤ k``, ``x``
    binary, ``y`` in [0, 1] (integral at an optimum). LSCP: minimise ``Σ x_j`` with
    ``Σ_{j covers i} x_j ≥ 1`` for every coverable row. Rows with the same candidate set
    are merged first (weights summed). With ``capacity`` (households per candidate,
    ``inf`` = none) each covered row is assigned whole to one chosen site and a site's
    assigned weight stays within its capacity.

    Returns
    -------
    (ndarray of int or None, float, float, bool, str)
        Chosen candidates (None when no solution was found in time), objective value,
        proven bound (MCLP upper, LSCP lower), proven optimal, and HiGHS's message.

    Examples
    --------
    >>> cover = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=bool))
    >>> chosen, value, bound, optimal, message = exact_cover(
    ...     cover, np.array([100.0, 50.0, 80.0]), 1)
    >>> chosen.tolist(), value, optimal
    ([0], 150.0, True)
    """
    cover = sp.csr_array(cover, dtype=bool)
    w = np.asarray(weight, dtype=float)
    reach = np.diff(cover.indptr) > 0
    cover = cover[reach]
    w = w[reach]
    if capacity is None:
        cover, w = _merge_rows(cover, w)
    n_rows = cover.shape[0]
    used = np.flatnonzero(np.asarray(cover.sum(axis=0)).ravel() > 0)
    if capacity is None and len(used) > 1:
        used = _undominated(sp.csc_array(cover[:, used], dtype=float), used)
    if not n_rows or not len(used):
        return np.zeros(0, np.int64), 0.0, 0.0, True, "nothing to cover"
    sub = sp.csr_array(cover[:, used], dtype=float)
    nj = len(used)
    opts = {"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_gap), "disp": False}
    coo = sub.tocoo()
    if capacity is None:
        eye = sp.eye_array(n_rows, format="csr")
        if k is not None:
            # variables [x (nj), y (n_rows)]
            c = np.r_[np.zeros(nj), -w]
            link = sp.hstack([-sub, eye])  # y_i - Σ x_j <= 0
            budget = sp.csr_array(np.r_[np.ones(nj), np.zeros(n_rows)][None, :])
            cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0, k)]
            integ = np.r_[np.ones(nj), np.zeros(n_rows)]
            bounds = Bounds(0, 1)
        else:
            c = np.ones(nj)
            cons = [LinearConstraint(_no_superset_rows(sub), 1.0, np.inf)]
            integ = np.ones(nj)
            bounds = Bounds(0, 1)
    else:
        cap = np.asarray(capacity, dtype=float)[used]
        n_pair = coo.nnz
        pr, pc = coo.row, coo.col
        # variables [x (nj), z (n_pair)]: z = row pr assigned to site pc.
        one_site = sp.csr_array((np.ones(n_pair), (pr, np.arange(n_pair))), shape=(n_rows, n_pair))
        load = sp.csr_array((w[pr], (pc, np.arange(n_pair))), shape=(nj, n_pair))
        big = np.where(np.isfinite(cap), cap, w.sum() + 1.0)
        cap_rows = sp.hstack([sp.diags_array(-big, format="csr"), load])
        link = sp.hstack([sp.csr_array((-np.ones(n_pair), (np.arange(n_pair), pc)),
                                        shape=(n_pair, nj)), sp.eye_array(n_pair, format="csr")])
        cons = [LinearConstraint(cap_rows, -np.inf, 0.0), LinearConstraint(link, -np.inf, 0.0)]
        if k is not None:
            c = np.r_[np.zeros(nj), -w[pr]]
            cons.append(LinearConstraint(sp.hstack([one_site.__class__((n_rows, nj)), one_site]),
                                         0.0, 1.0))
            cons.append(LinearConstraint(
                sp.csr_array(np.r_[np.ones(nj), np.zeros(n_pair)][None, :]), 0, k))
        else:
            c = np.r_[np.ones(nj), np.zeros(n_pair)]
            cons.append(LinearConstraint(sp.hstack([sp.csr_array((n_rows, nj)), one_site]),
                                         1.0, 1.0))
        integ = np.ones(nj + n_pair)
        bounds = Bounds(0, 1)
    res = milp(c, constraints=cons, integrality=integ, bounds=bounds, options=opts)
    optimal = res.status == 0
    if res.x is None:
        return None, math.nan, _bound(res, k), False, str(res.message)
    x = res.x[:nj] > 0.5
    chosen = used[x]
    value = float(-res.fun) if k is not None else float(x.sum())
    bound = value if optimal else _bound(res, k)
    return chosen.astype(np.int64), value, bound, bool(optimal), str(res.message)


def _bound(res: object, k: int | None) -> float:
    dual = getattr(res, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        return math.nan
    return float(-dual) if k is not None else float(math.ceil(dual - 1e-9))


def _undominated(cover: sp.csc_array, cols: np.ndarray) -> np.ndarray:
    """Drop candidates whose covered rows another candidate covers too (the larger set,
    or the earlier of equal sets). Swapping a dominated site for its dominator never
    covers less, so the optimum of MCLP and LSCP without capacities is unchanged; along
    a street every 100 m most candidates are dominated, and the MILP shrinks with them."""
    size = np.asarray(cover.sum(axis=0)).ravel()
    overlap = (cover.T @ cover).tocoo()
    i, j, both = overlap.row, overlap.col, overlap.data
    bigger = (size[i] > size[j]) | ((size[i] == size[j]) & (i < j))
    dominated = np.zeros(len(cols), dtype=bool)
    dominated[j[(i != j) & (both >= size[j] - 1e-9) & bigger]] = True
    return cols[~dominated]


def _no_superset_rows(cover: sp.csr_array) -> sp.csr_array:
    """Set-cover rows without those whose candidate set contains another row's: covering
    the smaller set covers the larger, so the LSCP constraint of the larger is implied."""
    size = np.asarray(cover.sum(axis=1)).ravel()
    overlap = (cover @ cover.T).tocoo()
    q, r, both = overlap.row, overlap.col, overlap.data
    smaller = (size[q] < size[r]) | ((size[q] == size[r]) & (q < r))
    implied = np.zeros(cover.shape[0], dtype=bool)
    implied[r[(q != r) & (both >= size[q] - 1e-9) & smaller]] = True
    return sp.csr_array(cover[~implied])


def _merge_rows(cover: sp.csr_array, w: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Rows with the same candidate set become one row carrying their summed weight."""
    keys = [cover.indices[cover.indptr[i]:cover.indptr[i + 1]].tobytes()
            for i in range(cover.shape[0])]
    codes = pd.factorize(pd.Series(keys, dtype=object))[0]
    uniq, first = np.unique(codes, return_index=True)
    merged_w = np.bincount(codes, weights=w, minlength=len(uniq))
    return sp.csr_array(cover[first]), merged_w


def _in_gain_order(cover: sp.csc_array, w: np.ndarray, chosen: np.ndarray,
                   k: int | None) -> np.ndarray:
    """Order chosen sites by greedy marginal gain within the chosen set (cumulative
    coverage then reads as 'the first site alone, the first two …')."""
    if len(chosen) <= 1:
        return chosen
    sub = sp.csc_array(cover[:, chosen])
    order, _, _ = greedy_cover(sub, w if k is not None else np.ones(cover.shape[0]),
                               k if k is not None else len(chosen))
    rest = [j for j in range(len(chosen)) if j not in set(order.tolist())]
    return chosen[np.r_[order, rest].astype(np.int64)]


def solve(
    cover: sp.csc_array,
    weight: np.ndarray,
    k: int | None,
    *,
    solver: Solver = "auto",
    capacity: np.ndarray | None = None,
    time_limit_s: float = 60.0,
) -> Solution:
    """Choose sites with ``solver``; see the module docstring for the default rule."""
    t0 = time.perf_counter()
    cover = sp.csc_array(cover, dtype=bool)
    w = np.asarray(weight, dtype=float)
    model = "mclp" if k is not None else "lscp"
    greedy = g_val = g_bound = None
    capped = capacity is not None and bool(np.isfinite(capacity).any())
    if solver == "greedy" and capped:
        msg = 'Capacities need the exact solver: use `solver="exact"` or `solver="auto"`.'
        raise InputError(msg)
    if not capped:
        # Greedy ignores capacities, so it is neither a fallback nor a bound with them.
        greedy, gains, g_bound = greedy_cover(cover, w, k)
        g_val = float(gains.sum()) if k is not None else float(len(greedy))
    if solver == "greedy":
        bound = g_bound if k is not None else math.nan
        return Solution(model, "greedy", greedy, g_val, bound, _gap(g_val, bound, k),
                        False, g_val, math.nan, time.perf_counter() - t0,
                        "greedy (CELF)")
    cap = capacity if capped else None
    chosen, value, bound, optimal, message = exact_cover(cover, w, k, capacity=cap,
                                                         time_limit_s=time_limit_s)
    if k is not None and g_bound is not None and np.isfinite(g_bound):
        bound = min(bound, g_bound) if np.isfinite(bound) else g_bound
    if chosen is not None and (optimal or solver == "exact" or greedy is None):
        chosen = _in_gain_order(cover, w, chosen, k)
        return Solution(model, "exact", chosen, value, bound if not optimal else value,
                        0.0 if optimal else _gap(value, bound, k), optimal,
                        g_val if g_val is not None else math.nan, value,
                        time.perf_counter() - t0, message)
    if greedy is None:
        if "infeasible" in message.lower():
            msg = ("The candidates' capacities (capacity_households) cannot serve every gap "
                   "estate they reach; raise the capacities, add candidates, or ask for `k` "
                   "sites instead of covering all.")
        else:
            msg = (f"The exact solver found no solution within {time_limit_s:.0f} s ({message}); "
                   "raise `time_limit_s` or drop `use_capacity`.")
        raise InputError(msg)
    return Solution(model, "greedy", greedy, g_val, bound, _gap(g_val, bound, k), False,
                    g_val, value if chosen is not None else math.nan,
                    time.perf_counter() - t0, f"exact not proven within the limit: {message}")


def _gap(value: float, bound: float, k: int | None) -> float:
    if bound is None or not np.isfinite(bound):
        return math.nan
    if k is not None:
        return max(0.0, (bound - value) / bound) if bound > 0 else 0.0
    return max(0.0, (value - bound) / value) if value > 0 else 0.0


# --- the whole analysis ----------------------------------------------------------------


def site_facilities(
    cov: Coverage,
    candidates: gpd.GeoDataFrame,
    demands: Sequence[Demand | tuple[str, int | None]],
    *,
    gates: gpd.GeoDataFrame | None = None,
    access_radius_m: float | None = None,
    solver: Solver = "auto",
    time_limit_s: float = 60.0,
    use_capacity: bool = False,
    far_from_street_m: float = FAR_FROM_STREET_M,
) -> Siting:
    """Choose sites for new facilities of each requested category.

    Parameters
    ----------
    cov : Coverage
        From `gis.coverage.living_circle` in network mode (its graph is reused).
    candidates : GeoDataFrame
        Points with unique ``candidate_id`` (see `gis.candidates`), any CRS.
    demands : sequence of Demand or (category, k)
        ``k=None`` asks for the fewest sites covering every reachable gap (LSCP).
    gates : GeoDataFrame, optional
        The gates given to the coverage run (estates are entered the same way).
    access_radius_m : float, optional
        As in `living_circle`.
    solver : {"auto", "exact", "greedy"}, default "auto"
    time_limit_s : float, default 60
        Per category, for the exact solver.
    use_capacity : bool, default False
        Respect ``capacity_households`` (exact solver only). The objective then counts
        the households assigned to a site within its capacity, while ``covered_after_*``
        and the sites' ``new_households`` still count every estate within walking
        distance of a chosen site.
    far_from_street_m : float, default 200
        Candidates farther from every street are refused (they would be reached across
        blocks as the crow flies).

    Returns
    -------
    Siting

    Raises
    ------
    InputError
        Straight-line coverage, unknown category, no candidate in the study area, ``k``
        larger than the candidates, duplicate candidate ids, candidates far from every
        street.

    Examples
    --------
    >>> from gis.candidates import gather_candidates
    >>> from gis.coverage import living_circle
    >>> from gis.standards import load_standard
    >>> from gis.synthetic import random_town
    >>> streets, estates, services = random_town(1)
    >>> cov = living_circle(estates, services, load_standard(None), streets=streets)
    >>> candidates = gather_candidates(["network"], estates=cov.estates, streets=cov.streets,
    ...                                analysis_crs=cov.analysis_crs, reach_m=1000.0)
    >>> result = site_facilities(cov, candidates, [("charging", 1)])
    >>> r = result.summary.iloc[0]
    >>> r.model, r.method, int(r.estates_covered_before), int(r.estates_covered_after)
    ('mclp', 'exact', 24, 25)
    """
    if cov.mode != "network" or cov.graph is None:
        msg = "Siting needs walking distances: run the coverage with a streets layer."
        raise InputError(msg)
    std = cov.standard
    reqs = [d if isinstance(d, Demand) else Demand(*d) for d in demands]
    if not reqs:
        msg = ("Name at least one category to site: `demands` holds (category, k) pairs, "
               "k None to cover all reachable gaps.")
        raise InputError(msg)
    cats = [std.category(r.category) for r in reqs]  # StandardsError names the keys
    seen = [r.category for r in reqs]
    if len(set(seen)) < len(seen):
        twice = ", ".join(sorted({c for c in seen if seen.count(c) > 1}))
        msg = f"A category is asked for twice ({twice}); give each one once."
        raise InputError(msg)
    notes: list[str] = []
    metric = cov.analysis_crs
    graph = cov.graph
    src = candidates.attrs.get("source_name", "candidates")
    if "candidate_id" not in candidates:
        msg = f"{src}: no candidate_id column."
        raise InputError(msg)
    ids = candidates["candidate_id"].astype(str)
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(dup)[:5])
        msg = (f"{src}: candidate_id values repeat ({', '.join(sorted(set(ids[dup]))[:5])}) in "
               f"rows {rows}; ids must be unique. Renumber the candidates.")
        raise InputError(msg)
    est_m = to_metric(cov.estates, metric)
    cand_m = to_metric(candidates, metric).reset_index(drop=True)
    # Beyond the largest threshold from every estate no candidate can cover anything.
    reach_m = max(c.walk_m for c in cats)
    area = shapely.buffer(shapely.convex_hull(shapely.union_all(
        shapely.envelope(np.asarray(est_m.geometry.values)))), reach_m)
    xy = shapely.get_coordinates(np.asarray(cand_m.geometry.values))
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
    if not inside.any():
        msg = (f"{src}: none of the {len(cand_m)} candidates lies within {reach_m:.0f} m of the "
               "estates, so none can cover a gap. Check the candidates file's CRS and area.")
        raise InputError(msg)
    if (~inside).any():
        notes.append(Note.of("analysis.siting.outside", n=int((~inside).sum()), reach_m=reach_m))
        cand_m = cand_m[inside].reset_index(drop=True)
        xy = xy[inside]
    _, hop = snap_points(graph, xy)
    far = hop > far_from_street_m
    generated = cand_m["source"].isin(["network", "estate"]).to_numpy() \
        if "source" in cand_m else np.zeros(len(cand_m), bool)
    if (far & ~generated).any():
        bad = cand_m.loc[far & ~generated, "candidate_id"].astype(str).tolist()
        msg = (f"{src}: {len(bad)} candidates lie more than {far_from_street_m:.0f} m from any "
               f"street ({', '.join(bad[:5])}; up to {hop[far & ~generated].max():,.0f} m); "
               "move them to where they stand, drop them, or add the missing streets.")
        raise InputError(msg)
    if far.any():
        notes.append(Note.of("analysis.siting.far_from_street", n=int(far.sum()),
                             far_m=far_from_street_m))
        cand_m, xy, hop = cand_m[~far].reset_index(drop=True), xy[~far], hop[~far]
    n_cand = len(cand_m)
    for r in reqs:
        if r.k is not None and (r.k < 1 or r.k > n_cand):
            msg = (f"`k={r.k}` for {r.category}: must be between 1 and the {n_cand} usable "
                   "candidates; add candidates or ask for fewer sites.")
            raise InputError(msg)
    gates_m = to_metric(gates, metric) if gates is not None else None
    access = estate_access(graph, est_m, gates=gates_m, access_radius_m=access_radius_m)
    hh = est_m["households"].to_numpy(dtype=float) if "households" in est_m \
        else np.full(len(est_m), np.nan)
    known = np.isfinite(hh)
    default_w = float(np.median(hh[known])) if known.any() else 1.0
    weight = np.where(known, hh, default_w)
    if (~known).any():
        notes.append(Note.of("analysis.siting.households_unknown", n=int((~known).sum()),
                             weight=default_w))
    capacity = cand_m["capacity_households"].to_numpy(dtype=float) \
        if use_capacity and "capacity_households" in cand_m else None
    if capacity is not None:
        capacity = np.where(np.isfinite(capacity), capacity, np.inf)

    out = cov.estates.copy()
    site_rows, summary_rows, unreach_parts, solutions, area_parts = [], [], [], {}, []
    names_cand = cand_m["name"].astype(object).where(cand_m["name"].notna(),
                                                     cand_m["candidate_id"]).astype(str)
    for r, c in zip(reqs, cats):
        t0 = time.perf_counter()
        before = cov.estates[f"covered_{c.key}"].to_numpy(dtype=bool)
        matrix = coverage_matrix(graph, access, xy, c.walk_m)
        target = np.flatnonzero(~before)
        cover = sp.csc_array(sp.csr_array(matrix)[target].astype(bool))
        cover = sp.csc_array((np.ones(cover.nnz, bool), cover.indices, cover.indptr),
                             shape=cover.shape)
        sol = solve(cover, weight[target], r.k, solver=solver, capacity=capacity,
                    time_limit_s=time_limit_s)
        solutions[c.key] = sol
        after = before.copy()
        first_site = np.full(len(out), None, dtype=object)
        cum_e = cum_h = 0.0
        total_hh = float(np.nansum(hh))
        hh0 = float(np.nansum(hh[before]))
        csc_full = sp.csc_array(matrix)
        for order, j in enumerate(sol.chosen, start=1):
            rows = csc_full.indices[csc_full.indptr[j]:csc_full.indptr[j + 1]]
            new = rows[~after[rows]]
            after[new] = True
            first_site[new] = str(cand_m["candidate_id"].iloc[j])
            new_hh = float(np.nansum(hh[new]))
            cum_e += len(new)
            cum_h += new_hh
            site_rows.append({
                "category": c.key, "category_name_zh": c.name_zh, "category_name_en": c.name_en,
                "walk_m": c.walk_m, "order": order,
                "candidate_id": str(cand_m["candidate_id"].iloc[j]), "name": names_cand.iloc[j],
                "source": cand_m["source"].iloc[j] if "source" in cand_m else "file",
                "model": sol.model, "method": sol.method,
                "new_households": new_hh, "new_estates": int(len(new)),
                "cum_households": cum_h, "cum_estates": int(cum_e),
                "household_rate_after": (hh0 + cum_h) / total_hh if total_hh else math.nan,
                "capacity_households": float(cand_m["capacity_households"].iloc[j])
                if "capacity_households" in cand_m else math.nan,
                "hop_m": round(float(hop[j]), 2),
                "geometry": cand_m.geometry.iloc[j],
            })
        out[f"covered_after_{c.key}"] = after
        out[f"site_{c.key}"] = first_site
        reachable = np.diff(sp.csr_array(matrix).indptr) > 0
        gap_reach = reachable[target]
        summary_rows.append({
            "category": c.key, "name_zh": c.name_zh, "name_en": c.name_en, "walk_m": c.walk_m,
            "model": sol.model, "method": sol.method, "k": r.k, "sites": len(sol.chosen),
            "estates": len(out), "estates_covered_before": int(before.sum()),
            "estates_covered_after": int(after.sum()),
            "households": total_hh if known.any() else math.nan,
            "households_covered_before": hh0 if known.any() else math.nan,
            "households_covered_after": float(np.nansum(hh[after])) if known.any() else math.nan,
            "household_rate_before": hh0 / total_hh if total_hh else math.nan,
            "household_rate_after": float(np.nansum(hh[after])) / total_hh if total_hh else math.nan,
            "gap_estates": len(target), "reachable_estates": int(gap_reach.sum()),
            "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
            "optimal": sol.optimal, "greedy_objective": sol.greedy_objective,
            "exact_objective": sol.exact_objective,
            "greedy_share": sol.greedy_objective / sol.exact_objective
            if sol.exact_objective and np.isfinite(sol.exact_objective) and r.k is not None
            else (sol.exact_objective / sol.greedy_objective
                  if r.k is None and sol.greedy_objective and np.isfinite(sol.exact_objective)
                  else math.nan),
            "seconds": time.perf_counter() - t0, "message": sol.message,
        })
        if r.k is None:
            lost = target[~gap_reach]
            if len(lost):
                unreach_parts.append(_unreachable(graph, access, cand_m, names_cand, c, cov,
                                                  lost))
        if len(sol.chosen):
            chosen = cand_m.iloc[sol.chosen].assign(category=c.key)
            area_parts.append(service_areas(graph, chosen, _one(std, c)))
        logger.info("Siting %s: %s %s, %d sites, %.2f s", c.key, sol.model, sol.method,
                    len(sol.chosen), time.perf_counter() - t0)
    sites = gpd.GeoDataFrame(site_rows, geometry="geometry", crs=metric) if site_rows else \
        gpd.GeoDataFrame({"category": [], "order": [], "candidate_id": []}, geometry=[], crs=metric)
    sites = sites.to_crs(cov.estates.crs)
    cols = ["category", "estate_id", "name", "households", "nearest_candidate_m",
            "nearest_candidate"]
    unreachable = pd.concat(unreach_parts, ignore_index=True) if unreach_parts else \
        pd.DataFrame(columns=cols)
    areas = pd.concat(area_parts, ignore_index=True) if area_parts else \
        gpd.GeoDataFrame({"category": [], "walk_m": []}, geometry=[], crs=metric)
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=metric).to_crs(cov.estates.crs)
    cand_out = cand_m.assign(hop_m=np.round(hop, 2)).to_crs(cov.estates.crs)
    return Siting(sites=sites, summary=pd.DataFrame(summary_rows), unreachable=unreachable,
                  estates=out, areas=areas, candidates=cand_out, solutions=solutions,
                  coverage=cov, notes=[*candidates.attrs.get("notes", []), *notes])


def _one(std, c):
    """The standard narrowed to one category (for `service_areas`)."""
    from dataclasses import replace

    return replace(std, categories=(c,))


def _unreachable(graph, access, cand_m, names, c, cov, lost) -> pd.DataFrame:
    """Gap estates no candidate covers, with the nearest candidate up to the search limit."""
    svc = cand_m.assign(category=c.key, service_id=cand_m["candidate_id"].astype(str))
    table, _ = nearest_by_network(graph, access, svc, _one(cov.standard, c),
                                  search_factor=cov.search_factor)
    est = cov.estates
    pos = table[f"nearest_{c.key}"].to_numpy()[lost]
    return pd.DataFrame({
        "category": c.key,
        "estate_id": est["estate_id"].to_numpy()[lost],
        "name": est["name"].to_numpy()[lost],
        "households": est["households"].to_numpy()[lost] if "households" in est else np.nan,
        "nearest_candidate_m": np.round(table[f"dist_m_{c.key}"].to_numpy()[lost], 2),
        "nearest_candidate": np.where(pos >= 0, names.to_numpy()[np.maximum(pos, 0)], None),
    })
