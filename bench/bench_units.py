"""Benchmark: neighbour links and combined renovation units, and spopt's max-p against them.

Run from the repository root::

    python bench/bench_units.py                    # 10,000 estates, 3 repeats, max-p on 2,500
    python bench/bench_units.py --quick            # a few seconds (used by the tests)
    python bench/bench_units.py --estates 50000 --spopt-estates 0   # gis only

One synthetic city (seeded) of street blocks holding 1–6 estates each — many touching,
some 0.3 m (a digitising gap) or a lane of a few metres apart, blocks separated by 20–40 m
roads — is measured:

a. `gis.adjacency.neighbour_links` (``gap_m=15``, ``min_facing_m=10``), checked against
   the pairs the generator's rectangles imply (candidates, links across shared walls, no
   pair across a road);
b. `gis.units.form_units` with caps 3,000 households / 300,000 m² / 12 estates, and again
   with a 300-household minimum; every unit is checked (within the caps or a flagged
   estate over them on its own, connected in the link graph, every estate in exactly one
   unit, every unit under the minimum flagged and really unmergeable) before any time
   is reported;
c. spopt's max-p regionalisation (`spopt.region.MaxPHeuristic`) on K estates of the same
   city, with a libpysal ``W`` built from the same linked pairs, floor area as the
   attribute and a floor of 300 households (like ``min_households=300``), then 1,500
   (max-p has a minimum but no maximum); its time and how many of its regions break our
   maximum caps, with `form_units` timed on the very same input. spopt 0.7.0 can loop
   forever; the benchmark detects that (`MaxPStuck`) and runs max-p again with the
   upstream fix, saying so. spopt is optional: without it this part is skipped and the
   report says so.

The city generator `make_block_city` is vectorised numpy/shapely (a 100,000-estate city in
about a second).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # run as `python bench/bench_units.py` or loaded by path
    sys.path.insert(0, str(_ROOT))

from bench.bench_coverage import _cpu_count, _timed
from gis.adjacency import neighbour_links
from gis.synthetic import _group_starts, make_block_city  # the generator is shared
from gis.units import UnitCaps, Units, form_units

__all__ = [
    "CAPS",
    "CAPS_MIN",
    "MaxPStuck",
    "cap_violations",
    "check_links",
    "check_units",
    "expected_pairs",
    "link_graph",
    "main",
    "make_block_city",
    "maxp_input",
    "run_maxp",
    "run_maxp_limited",
]

#: Caps of the first configuration (the gis defaults).
CAPS = UnitCaps(max_households=3000, max_floor_area_m2=300_000, max_estates=12)
#: Second configuration: the same caps and a 300-household minimum (max-p's threshold).
CAPS_MIN = UnitCaps(max_households=3000, max_floor_area_m2=300_000, max_estates=12,
                    min_households=300)
GAP_M = 15.0
MIN_FACING_M = 10.0
#: Pairs this close to a threshold (gap_m, min_facing_m) are not checked either way.
EDGE_TOL_M = 0.05
FLAG_OVER = "单个小区已超出单元上限"
FLAG_SMALL = "低于最小户数"

#: spopt's own defaults for `MaxPHeuristic` (construction, annealing iterations).
MAXP_ITERATIONS = (99, 10)
DEFAULTS = {"estates": 10_000, "repeat": 3, "spopt_estates": 2_500, "spopt_repeat": 1,
            "maxp_iterations": MAXP_ITERATIONS, "maxp_floors": (300.0, 1500.0),
            "maxp_timeout": 3600.0}
#: Quick runs cut max-p's iterations: on a few dozen estates many constructions tie for
#: the largest p and each tie gets 10 annealing runs (tens of seconds).
QUICK = {"estates": 400, "repeat": 1, "spopt_estates": 100, "spopt_repeat": 1,
         "maxp_iterations": (5, 1), "maxp_floors": (300.0,), "maxp_timeout": 60.0}
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def expected_pairs(estates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every pair of estates in one block, measured on their rectangles.

    Parameters
    ----------
    estates : GeoDataFrame
        From `make_block_city` (axis-parallel rectangles with ``block``).

    Returns
    -------
    DataFrame
        ``estate_a < estate_b``, ``gap_m`` (edge to edge), ``overlap_m`` (length of the
        walls facing each other; 0 for pairs that only meet diagonally), ``same_row``.
    """
    ids = estates["estate_id"].to_numpy(dtype=str)
    blk = estates["block"].to_numpy()
    b = shapely.bounds(np.asarray(estates.geometry.values))
    order = np.argsort(blk, kind="stable")
    sblk = blk[order]
    starts = np.flatnonzero(_group_starts(sblk)) if len(sblk) else np.array([], dtype=int)
    size = np.diff(np.r_[starts, len(sblk)])
    ia, ib = [], []
    for s in np.unique(size):  # blocks hold at most 6 estates: loop over sizes, not blocks
        first = starts[size == s]
        u, v = np.triu_indices(int(s), 1)
        ia.append((first[:, None] + u).ravel())
        ib.append((first[:, None] + v).ravel())
    ia = order[np.concatenate(ia)] if ia else np.array([], dtype=int)
    ib = order[np.concatenate(ib)] if ib else np.array([], dtype=int)
    dx = np.maximum(0.0, np.maximum(b[ia, 0] - b[ib, 2], b[ib, 0] - b[ia, 2]))
    dy = np.maximum(0.0, np.maximum(b[ia, 1] - b[ib, 3], b[ib, 1] - b[ia, 3]))
    ox = np.minimum(b[ia, 2], b[ib, 2]) - np.maximum(b[ia, 0], b[ib, 0])
    oy = np.minimum(b[ia, 3], b[ib, 3]) - np.maximum(b[ia, 1], b[ib, 1])
    overlap = np.where((dx > 0) & (dy > 0), 0.0, np.maximum(np.maximum(ox, oy), 0.0))
    a_id, b_id = ids[ia], ids[ib]
    swap = a_id > b_id
    return pd.DataFrame({
        "estate_a": np.where(swap, b_id, a_id),
        "estate_b": np.where(swap, a_id, b_id),
        "gap_m": np.hypot(dx, dy),
        "overlap_m": overlap,
        "same_row": estates["row"].to_numpy()[ia] == estates["row"].to_numpy()[ib],
    })


def check_links(
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    *,
    gap_m: float = GAP_M,
    min_facing_m: float = MIN_FACING_M,
) -> tuple[list[str], dict[str, int]]:
    """Compare `neighbour_links` with the pairs the rectangles imply.

    Hard checks (a failure stops the benchmark): no candidate pair crosses a road (two
    blocks); the candidates are the pairs within ``gap_m`` (pairs within `EDGE_TOL_M` of
    it are not checked); every pair whose walls face each other along at least
    ``min_facing_m`` is linked, and no pair facing for less than that is (offset walls a
    lane apart included: the facing length is their overlap along the walls).

    Parameters
    ----------
    estates : GeoDataFrame
        From `make_block_city`.
    links : GeoDataFrame
        From `neighbour_links` on ``estates``.
    gap_m, min_facing_m : float
        The values ``links`` was made with.

    Returns
    -------
    (list of str, dict)
        Problems (empty when all is well), and counts: ``expected_candidates``,
        ``linked_short_overlap`` (linked although the walls face for less than
        ``min_facing_m``; 0 unless the facing measure regresses).
    """
    problems: list[str] = []
    block = dict(zip(estates["estate_id"].astype(str), estates["block"]))
    la, lb = links["estate_a"].astype(str).to_numpy(), links["estate_b"].astype(str).to_numpy()
    across = np.array([block[a] != block[b] for a, b in zip(la, lb)], dtype=bool)
    if across.any():
        problems.append(f"{int(across.sum()):,} candidate pairs cross a road, e.g. "
                        f"{la[across][0]}–{lb[across][0]}")
    exp = expected_pairs(estates)
    got = pd.DataFrame({"estate_a": la, "estate_b": lb,
                        "linked": links["linked"].to_numpy(dtype=bool)})
    m = exp.merge(got, on=["estate_a", "estate_b"], how="outer", indicator=True)
    clear = (m["gap_m"] - gap_m).abs() > EDGE_TOL_M
    missing = m[(m["_merge"] == "left_only") & (m["gap_m"] < gap_m) & clear]
    extra = m[(m["_merge"] == "right_only")
              | ((m["_merge"] == "both") & (m["gap_m"] > gap_m) & clear)]
    if len(missing):
        r = missing.iloc[0]
        problems.append(f"{len(missing):,} pairs within {gap_m:g} m are not candidates, e.g. "
                        f"{r.estate_a}–{r.estate_b} ({r.gap_m:.2f} m apart)")
    if len(extra):
        r = extra.iloc[0]
        problems.append(f"{len(extra):,} candidates are not within {gap_m:g} m of each other, "
                        f"e.g. {r.estate_a}–{r.estate_b}")
    both = m[m["_merge"] == "both"].astype({"linked": bool})
    slack = EDGE_TOL_M
    unlinked = both[(both["overlap_m"] >= min_facing_m + EDGE_TOL_M) & ~both["linked"]]
    overlinked = both[(both["overlap_m"] < min_facing_m - slack) & both["linked"]]
    if len(unlinked):
        r = unlinked.iloc[0]
        problems.append(f"{len(unlinked):,} pairs facing ≥ {min_facing_m:g} m are not linked, "
                        f"e.g. {r.estate_a}–{r.estate_b} ({r.overlap_m:.1f} m, "
                        f"{r.gap_m:.2f} m apart)")
    if len(overlinked):
        r = overlinked.iloc[0]
        problems.append(f"{len(overlinked):,} pairs facing < {min_facing_m:g} m are linked, "
                        f"e.g. {r.estate_a}–{r.estate_b} ({r.overlap_m:.1f} m)")
    short = both[(both["overlap_m"] < min_facing_m - EDGE_TOL_M) & both["linked"]]
    return problems, {
        "expected_candidates": int(((exp["gap_m"] <= gap_m)).sum()),
        "linked_short_overlap": len(short),
    }


def link_graph(ids: np.ndarray | list[str], links: pd.DataFrame) -> nx.Graph:
    """Undirected graph of the estates (nodes) and their ``linked`` pairs (edges)."""
    g = nx.Graph()
    g.add_nodes_from(str(e) for e in ids)
    lk = links[links["linked"].to_numpy(dtype=bool)]
    known = set(g)
    g.add_edges_from((a, b) for a, b in zip(lk["estate_a"].astype(str), lk["estate_b"].astype(str))
                     if a in known and b in known)
    return g


def cap_violations(
    households: np.ndarray, floor_area_m2: np.ndarray, n_estates: np.ndarray, caps: UnitCaps
) -> dict[str, int]:
    """How many groups break each maximum of ``caps``.

    Parameters
    ----------
    households, floor_area_m2, n_estates : ndarray
        Totals per group (unit or region).
    caps : UnitCaps

    Returns
    -------
    dict
        ``households``, ``floor_area_m2``, ``estates`` (groups over each maximum), ``any``,
        ``any_multi`` (groups of two or more estates over any maximum) and
        ``estates_in_violating`` (estates in the groups over any maximum).
    """
    def over(x: np.ndarray, cap: float | None) -> np.ndarray:
        return np.asarray(x, dtype=float) > (np.inf if cap is None else cap)

    n_estates = np.asarray(n_estates)
    over_h = over(households, caps.max_households)
    over_f = over(floor_area_m2, caps.max_floor_area_m2)
    over_n = over(n_estates, caps.max_estates)
    any_ = over_h | over_f | over_n
    return {"households": int(over_h.sum()), "floor_area_m2": int(over_f.sum()),
            "estates": int(over_n.sum()), "any": int(any_.sum()),
            "any_multi": int((any_ & (n_estates > 1)).sum()),
            "estates_in_violating": int(n_estates[any_].sum())}


def check_units(
    estates: gpd.GeoDataFrame, graph: nx.Graph, result: Units, caps: UnitCaps
) -> list[str]:
    """Check a `form_units` result; an empty list means it is sound.

    * every estate is in exactly one unit, and the unit table's counts and totals match
      the membership;
    * every unit respects the maximum caps, except a unit of one estate that is over
      them by itself and is flagged so;
    * every unit is connected in ``graph`` (the linked pairs);
    * with ``caps.min_households``: every unit below it is flagged, and no linked
      neighbouring unit could have taken it within the caps.

    Parameters
    ----------
    estates : GeoDataFrame
        The estates given to `form_units`.
    graph : networkx.Graph
        From `link_graph` on the same estates and links.
    result : Units
    caps : UnitCaps

    Returns
    -------
    list of str
    """
    problems: list[str] = []
    ids = estates["estate_id"].astype(str).to_numpy()
    mem = result.membership
    eid = mem["estate_id"].astype(str)
    if eid.duplicated().any():
        problems.append(f"{int(eid.duplicated().sum())} estates are in more than one unit")
    if set(eid) != set(ids) or mem["unit_id"].isna().any():
        problems.append(f"membership covers {eid.nunique():,} of {len(ids):,} estates, "
                        f"{int(mem['unit_id'].isna().sum())} without a unit")
    if problems:
        return problems
    unit_of = dict(zip(eid, mem["unit_id"].astype(str)))
    est = pd.DataFrame({"unit_id": [unit_of[e] for e in ids],
                        "households": estates["households"].to_numpy(dtype=float),
                        "floor_area_m2": estates["floor_area_m2"].to_numpy(dtype=float)})
    tot = est.groupby("unit_id").agg(n=("households", "size"), h=("households", "sum"),
                                     f=("floor_area_m2", "sum"))
    u = result.units.set_index("unit_id")
    if set(u.index) != set(tot.index):
        problems.append(f"unit table has {len(u):,} units, membership {len(tot):,}")
        return problems
    tot = tot.loc[u.index]
    if not (np.array_equal(u["n_estates"].to_numpy(), tot["n"].to_numpy())
            and np.allclose(u["households"].to_numpy(dtype=float), tot["h"].to_numpy())
            and np.allclose(u["floor_area_m2"].to_numpy(dtype=float), tot["f"].to_numpy(),
                            atol=0.1)):
        problems.append("unit table totals differ from the sums over the membership")
    h, f, n = tot["h"].to_numpy(), tot["f"].to_numpy(), tot["n"].to_numpy()
    fits = np.array([caps.fits(a, b, int(c)) for a, b, c in zip(h, f, n)], dtype=bool)
    flags = u["flags"].astype(str)
    flagged_over = flags.str.contains(FLAG_OVER, regex=False).to_numpy()
    flagged_small = flags.str.contains(FLAG_SMALL, regex=False).to_numpy()
    bad = ~fits & ((n > 1) | ~flagged_over)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        problems.append(f"{int(bad.sum()):,} units break the caps without being a flagged "
                        f"single estate, e.g. {u.index[k]} ({n[k]} estates, {h[k]:,.0f} "
                        f"households, {f[k]:,.0f} m²)")
    # Connected: keep the links inside units; then each unit must be one component.
    inner = nx.Graph()
    inner.add_nodes_from(ids)
    inner.add_edges_from((a, b) for a, b in graph.edges if unit_of[a] == unit_of[b])
    n_comp = nx.number_connected_components(inner)
    if n_comp != len(u):
        split = sorted({unit_of[next(iter(c))] for c in nx.connected_components(inner)
                        if len(c) < tot.loc[unit_of[next(iter(c))], "n"]})
        problems.append(f"{len(split):,} units are not connected in the link graph "
                        f"({n_comp:,} pieces for {len(u):,} units), e.g. {split[0]}")
    if caps.min_households is not None:
        small = h < caps.min_households
        unflagged = small & ~flagged_small
        if unflagged.any():
            k = int(np.flatnonzero(unflagged)[0])
            problems.append(f"{int(unflagged.sum()):,} units below {caps.min_households:,.0f} "
                            f"households are not flagged, e.g. {u.index[k]} ({h[k]:,.0f})")
        pos = {uid: k for k, uid in enumerate(u.index)}
        members: dict[str, list[str]] = {}
        for e, uid in unit_of.items():
            members.setdefault(uid, []).append(e)
        mergeable = []
        for k in np.flatnonzero(small):
            uid = u.index[k]
            nbr = {unit_of[m] for e in members[uid] for m in graph[e]} - {uid}
            for o in nbr:
                j = pos[o]
                if caps.fits(h[k] + h[j], f[k] + f[j], int(n[k] + n[j])):
                    mergeable.append(f"{uid} into {o}")
                    break
        if mergeable:
            problems.append(f"{len(mergeable):,} units below {caps.min_households:,.0f} "
                            f"households could still merge within the caps, e.g. "
                            f"{mergeable[0]}")
    return problems


def _components_over(estates: gpd.GeoDataFrame, graph: nx.Graph, caps: UnitCaps) -> int:
    """Connected components of the link graph over any maximum of ``caps``."""
    hh = dict(zip(estates["estate_id"].astype(str), estates["households"].astype(float)))
    fa = dict(zip(estates["estate_id"].astype(str), estates["floor_area_m2"].astype(float)))
    return sum(
        not caps.fits(sum(hh[e] for e in c), sum(fa[e] for e in c), len(c))
        for c in nx.connected_components(graph)
    )


def _unit_stats(result: Units, caps: UnitCaps) -> dict[str, Any]:
    u = result.units
    n = u["n_estates"].to_numpy()
    h = u["households"].to_numpy(dtype=float)
    flags = u["flags"].astype(str)
    out = {
        "units": len(u),
        "multi_estate_units": int((n > 1).sum()),
        "estates_in_multi": int(n[n > 1].sum()),
        "largest_estates": int(n.max()) if len(n) else 0,
        "largest_households": float(h.max()) if len(h) else 0.0,
        "flagged_over_cap": int(flags.str.contains(FLAG_OVER).sum()),
        "flagged_below_min": int(flags.str.contains(FLAG_SMALL).sum()),
        "violations": cap_violations(h, u["floor_area_m2"].to_numpy(dtype=float), n, caps),
    }
    if caps.min_households is not None:
        out["below_min"] = int((h < caps.min_households).sum())
    return out


# --------------------------------------------------------------------------------------
# spopt max-p
# --------------------------------------------------------------------------------------


def _centre_subset(estates: gpd.GeoDataFrame, k: int) -> gpd.GeoDataFrame:
    """The ``k`` estates whose blocks are nearest the city centre, block by block (the
    last block taken may be cut, like a study area's edge)."""
    c = shapely.get_coordinates(shapely.centroid(np.asarray(estates.geometry.values)))
    mid = (c.min(axis=0) + c.max(axis=0)) / 2
    bc = pd.DataFrame(c, columns=["x", "y"]).groupby(estates["block"].to_numpy()).mean()
    dist = np.hypot(bc["x"] - mid[0], bc["y"] - mid[1])
    key = dist.reindex(estates["block"].to_numpy()).to_numpy()
    order = np.lexsort((estates["estate_id"].to_numpy(dtype=str), key))
    return estates.iloc[np.sort(order[:k])].reset_index(drop=True)


def maxp_input(
    estates: gpd.GeoDataFrame, graph: nx.Graph, threshold: float
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The estates max-p can take: components of two or more linked estates reaching
    ``threshold`` households.

    `spopt.region.MaxPHeuristic` stops with an ``IndexError`` on an estate without links
    (even one over the threshold) and on a component below the threshold with
    ``policy="keep"``; its other policies either join such components to the nearest
    feasible one by a new link (across a road, i.e. not the link graph) or drop them. Here
    they are left out before both methods run, so both see the same estates and links;
    each of them would be a unit on its own anyway.

    Returns
    -------
    (GeoDataFrame, dict)
        The estates kept, and counts ``islands`` and ``small_components`` (components
        below the threshold) left out, with the estates in them.
    """
    hh = dict(zip(estates["estate_id"].astype(str), estates["households"].astype(float)))
    keep: set[str] = set()
    stats = {"islands": 0, "small_components": 0, "estates_in_small_components": 0}
    for comp in nx.connected_components(graph):
        if len(comp) == 1:
            stats["islands"] += 1
        elif sum(hh[e] for e in comp) < threshold:
            stats["small_components"] += 1
            stats["estates_in_small_components"] += len(comp)
        else:
            keep |= comp
    mask = estates["estate_id"].astype(str).isin(keep).to_numpy()
    return estates[mask].reset_index(drop=True), stats


class MaxPStuck(RuntimeError):
    """spopt 0.7.0's annealing has reached a state it would never leave.

    ``_perform_sa`` asks ``_pick_move_area`` for areas that may leave their region; when
    none of them borders another region, no move is possible, nothing changes, and it
    asks again forever (pysal/spopt#506, fixed upstream after 0.7.0).
    """


def run_maxp(
    estates: gpd.GeoDataFrame,
    graph: nx.Graph,
    *,
    threshold: float,
    iterations: tuple[int, int] = MAXP_ITERATIONS,
    seed: int = 0,
    upstream_fix: bool = False,
) -> tuple[np.ndarray, float, float]:
    """Run `spopt.region.MaxPHeuristic` on the link graph of ``estates``.

    The weights are a ``libpysal.weights.W`` of the linked pairs (binary); the threshold
    variable is ``households``, the attribute ``floor_area_m2``; other settings are
    spopt's defaults (``top_n=2``, ``policy="single"``, which adds nothing when every
    component is feasible).

    Parameters
    ----------
    estates : GeoDataFrame
        From `maxp_input`.
    graph : networkx.Graph
        From `link_graph`.
    threshold : float
        Fewest households per region.
    iterations : (int, int)
        ``max_iterations_construction`` and ``max_iterations_sa`` (default spopt's, 99
        and 10).
    seed : int
        Seed of numpy's global generator, which max-p draws from.
    upstream_fix : bool, default False
        Apply the fix of pysal/spopt#506 for this call: the annealing only considers
        areas that border another region. Without it, spopt runs as released, except
        that `MaxPStuck` is raised as soon as it would loop forever.

    Returns
    -------
    (ndarray, float, float)
        Region label per estate row, seconds to build ``W``, seconds to solve.

    Raises
    ------
    MaxPStuck
        Without ``upstream_fix``, when stock spopt would never finish.
    """
    import libpysal
    import spopt.region.maxp as maxp_module
    from spopt.region import MaxPHeuristic

    t0 = time.perf_counter()
    pos = {e: k for k, e in enumerate(estates["estate_id"].astype(str))}
    neighbours: dict[int, list[int]] = {k: [] for k in range(len(pos))}
    for a, b in graph.edges:
        if a in pos and b in pos:
            neighbours[pos[a]].append(pos[b])
            neighbours[pos[b]].append(pos[a])
    w = libpysal.weights.W({k: sorted(v) for k, v in neighbours.items()},
                           silence_warnings=True)
    t_w = time.perf_counter() - t0
    gdf = estates[["households", "floor_area_m2", "geometry"]].copy()
    stock = maxp_module._pick_move_area

    def bordering(labels: list[int], areas: list[int], weight: Any) -> list[int]:
        return [a for a in areas if any(labels[n] != labels[a] for n in weight.neighbors[a])]

    def pick_fixed(labels: list[int], *args: Any) -> list[int]:
        return bordering(labels, stock(labels, *args), args[3])

    def pick_watched(labels: list[int], *args: Any) -> list[int]:
        areas = stock(labels, *args)  # returned unchanged: spopt's own path
        if areas and not bordering(labels, areas, args[3]):
            msg = (f"none of the {len(areas)} areas that may leave their region borders "
                   "another region")
            raise MaxPStuck(msg)
        return areas

    np.random.seed(seed)
    t0 = time.perf_counter()
    try:
        maxp_module._pick_move_area = pick_fixed if upstream_fix else pick_watched
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = MaxPHeuristic(gdf, w, ["floor_area_m2"], "households", threshold,
                                  max_iterations_construction=iterations[0],
                                  max_iterations_sa=iterations[1])
            model.solve()
    finally:
        maxp_module._pick_move_area = stock
    return np.asarray(model.labels_), t_w, time.perf_counter() - t0


def _region_check(estates: gpd.GeoDataFrame, graph: nx.Graph, labels: np.ndarray,
                  caps: UnitCaps, threshold: float) -> dict[str, Any]:
    """Totals, cap violations, threshold and contiguity of max-p's regions."""
    df = pd.DataFrame({"label": labels, "h": estates["households"].to_numpy(dtype=float),
                       "f": estates["floor_area_m2"].to_numpy(dtype=float)})
    g = df.groupby("label").agg(n=("h", "size"), h=("h", "sum"), f=("f", "sum"))
    ids = estates["estate_id"].astype(str).to_numpy()
    region = dict(zip(ids, labels))
    inner = nx.Graph()
    inner.add_nodes_from(ids)
    inner.add_edges_from((a, b) for a, b in graph.subgraph(ids).edges if region[a] == region[b])
    viol = cap_violations(g["h"].to_numpy(), g["f"].to_numpy(), g["n"].to_numpy(), caps)
    return {
        "regions": len(g),
        "unassigned": int((labels <= 0).sum()),
        "below_threshold": int((g["h"] < threshold).sum()),
        "disconnected": nx.number_connected_components(inner) - len(g),
        "violations": viol,
        "estates_in_violating": viol["estates_in_violating"],
        "largest_households": float(g["h"].max()),
        "largest_floor_area_m2": float(g["f"].max()),
        "largest_estates": int(g["n"].max()),
        "median_households": float(g["h"].median()),
    }


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench_units.py",
        description="Time gis neighbour links and combined units on a synthetic city, "
        "and compare spopt's max-p regions.",
    )
    p.add_argument("--estates", type=int, help=f"estates (default {DEFAULTS['estates']:,})")
    p.add_argument("--repeat", type=int,
                   help=f"timed runs, median kept (default {DEFAULTS['repeat']})")
    p.add_argument("--spopt-estates", type=int,
                   help=f"estates near the centre given to max-p (default "
                   f"{DEFAULTS['spopt_estates']:,}; 0 skips it)")
    p.add_argument("--spopt-repeat", type=int,
                   help=f"timed max-p runs (default {DEFAULTS['spopt_repeat']}; it is slow)")
    p.add_argument("--maxp-iterations", type=int, nargs=2, metavar=("CONSTRUCTION", "SA"),
                   help="max-p construction and annealing iterations (default spopt's, "
                   f"{MAXP_ITERATIONS[0]} {MAXP_ITERATIONS[1]}; "
                   f"{QUICK['maxp_iterations'][0]} {QUICK['maxp_iterations'][1]} with --quick)")
    p.add_argument("--maxp-floor", type=float, nargs="+", metavar="HOUSEHOLDS",
                   help="max-p floors (threshold), one run each (default "
                   f"{' '.join(f'{x:g}' for x in DEFAULTS['maxp_floors'])}; "
                   f"{' '.join(f'{x:g}' for x in QUICK['maxp_floors'])} with --quick)")
    p.add_argument("--maxp-timeout", type=float, metavar="SECONDS",
                   help="stop a max-p run after this long (default "
                   f"{DEFAULTS['maxp_timeout']:g}; {QUICK['maxp_timeout']:g} with --quick)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic city (default 0)")
    p.add_argument("--quick", action="store_true",
                   help=f"tiny run: {QUICK['estates']} estates, 1 repeat, max-p on "
                   f"{QUICK['spopt_estates']}")
    p.add_argument("--out", type=Path,
                   help="Markdown report (default bench/results/units.md; units_quick.md "
                   "with --quick)")
    return p.parse_args(argv)


def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _report(r: dict[str, Any]) -> str:
    """The results as Markdown."""
    s, t, v = r["sizes"], r["times_s"], r["versions"]
    ua, ub = r["units"]["caps"], r["units"]["caps_min"]
    vers = " · ".join(f"{k} {x}" for k, x in v.items())
    lines = [
        "# Units benchmark: gis neighbour links and combined units, and spopt max-p",
        "",
        f"{r['when']} · {vers} · {r['machine']}",
        "",
        (f"Synthetic city (seed {r['seed']}): {s['blocks']:,} street blocks of 1–6 estates "
         f"(touching, 0.3 m or a 1–8 m lane apart inside a block; 20–40 m roads between "
         f"blocks); households 30–1,500, floor area 60–110 m² per household. "
         f"`neighbour_links(gap_m={GAP_M:g}, min_facing_m={MIN_FACING_M:g})`; caps "
         f"{CAPS.max_households:,.0f} households / {CAPS.max_floor_area_m2:,.0f} m² / "
         f"{CAPS.max_estates} estates, and the same with a {CAPS_MIN.min_households:,.0f}-"
         f"household minimum. Median of {r['repeat']} run(s)."),
        "",
        "| size | value |",
        "|---|---:|",
        f"| estates | {s['estates']:,} |",
        f"| households | {s['households']:,} |",
        f"| candidate pairs (within {GAP_M:g} m) | {s['candidates']:,} |",
        f"| linked pairs | {s['linked']:,} |",
        f"| not linked: short facing | {s['short_facing']:,} |",
        (f"| link-graph components (of them single estates) | {s['components']:,} "
         f"({s['islands']:,}) |"),
        f"| components over a cap (to split) | {s['components_over_caps']:,} |",
        (f"| units (caps) | {ua['units']:,} ({ua['multi_estate_units']:,} of 2+ estates, "
         f"holding {ua['estates_in_multi']:,} estates) |"),
        f"| single estates over a cap, flagged | {ua['flagged_over_cap']:,} |",
        (f"| units (caps + minimum) | {ub['units']:,} ({ub['below_min']:,} below "
         f"{CAPS_MIN.min_households:,.0f} households, all flagged unmergeable) |"),
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| make the city (not gis) | {_fmt_s(t['make_city'])} |",
        f"| **gis: `neighbour_links`** | **{_fmt_s(t['links'])}** |",
        f"| **gis: `form_units` (caps)** | **{_fmt_s(t['units'])}** |",
        f"| gis: `form_units` (caps + minimum) | {_fmt_s(t['units_min'])} |",
        "",
        (f"Checked before timing: **{'passed' if r['verified'] else 'FAILED'}** — the "
         f"candidate pairs are exactly the pairs within {GAP_M:g} m of each other "
         f"({r['link_checks']['expected_candidates']:,}, none across a road), every pair "
         f"whose walls face along ≥ {MIN_FACING_M:g} m is linked; in both configurations every "
         "estate is in exactly one unit, every unit is within the caps (or a single estate "
         "over them, flagged), every unit is connected in the link graph (networkx), and "
         "every unit below the minimum is flagged and has no linked neighbour it could join "
         "within the caps."),
        "",
    ]
    if r["link_checks"]["linked_short_overlap"]:
        lines += [
            (f"Note: {r['link_checks']['linked_short_overlap']:,} linked pairs face each other "
             f"along less than {MIN_FACING_M:g} m of wall on the rectangles."),
            "",
        ]
    sp = r["spopt"]
    lines += ["## spopt max-p on the same link graph", ""]
    if not sp.get("ran"):
        lines += [f"Skipped: {sp['reason']}", ""]
        return "\n".join(lines)
    it = sp["iterations"]
    note = (" (spopt's defaults)" if tuple(it) == MAXP_ITERATIONS
            else f" (REDUCED from spopt's defaults {MAXP_ITERATIONS[0]}, {MAXP_ITERATIONS[1]})")
    lines += [
        (f"The {sp['estates_subset']:,} estates whose blocks are nearest the centre. For each "
         "floor, max-p takes those in components of 2+ linked estates reaching it; unlinked "
         "estates and smaller components are left out for both methods (spopt stops with an "
         "`IndexError` on them under `policy=\"keep\"`; its other policies add links across "
         "roads or drop them). Weights: `libpysal.weights.W` from the same linked pairs. "
         "`MaxPHeuristic(threshold_name=\"households\", threshold=floor, "
         f"attrs_name=[\"floor_area_m2\"], max_iterations_construction={it[0]}, "
         f"max_iterations_sa={it[1]})`{note}, seeded, {sp['repeat']} run(s); gis "
         "`form_units` with the same maxima and the floor as `min_households`, on exactly the "
         f"same estates and links (median of {sp['gis_repeat']}). max-p has a floor but no "
         "ceiling."),
        "",
        ("| floor (households) | estates (left out) | method | seconds | regions / units "
         "| over a max cap: any (households / m² / estates) | estates in them "
         "| below the floor | largest (households, estates) |"),
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in sp["runs"]:
        m, g = run["maxp"], run["gis"]
        gv = g["violations"]
        lo = run["left_out"]
        left = lo["islands"] + lo["estates_in_small_components"]
        method = "spopt max-p" + (" with pysal/spopt#506" if run["upstream_fix"] else "")
        head = f"| {run['threshold']:,.0f} | {run['estates']:,} ({left:,}) | {method} | "
        if m is None:
            lines.append(head + f"{run['detail']} | — | — | — | — | — |")
        else:
            mv = m["violations"]
            lines.append(
                head + f"{_fmt_s(run['time_s'])} | {m['regions']:,} | **{mv['any']:,}** "
                f"({mv['households']:,} / {mv['floor_area_m2']:,} / {mv['estates']:,}) | "
                f"{mv['estates_in_violating']:,} | {m['below_threshold']:,} | "
                f"{m['largest_households']:,.0f}, {m['largest_estates']} |"
            )
        lines.append(
            f"| | | gis `form_units` | {_fmt_s(run['gis_time_s'])} | {g['units']:,} | "
            f"{gv['any']:,} ({gv['households']:,} / {gv['floor_area_m2']:,} / "
            f"{gv['estates']:,}) | {gv['estates_in_violating']:,} | {g['below_min']:,} "
            f"(flagged) | {g['largest_households']:,.0f}, {g['largest_estates']} |"
        )
    lines += [
        "",
        ("| floor | max-p / gis | max-p regions not connected in the link graph | "
         "median max-p region (households) |"),
        "|---:|---:|---:|---:|",
    ]
    for run in sp["runs"]:
        m = run["maxp"]
        if m is None:
            lines.append(f"| {run['threshold']:,.0f} | — | — | — |")
        else:
            lines.append(f"| {run['threshold']:,.0f} | ×{run['ratio']:,.0f} | "
                         f"{m['disconnected']:,} | {m['median_households']:,.0f} |")
    hung = [run for run in sp["runs"] if run.get("stock_stuck")]
    if hung:
        floors = ", ".join(f"{run['threshold']:,.0f}" for run in hung)
        lines += [
            "",
            (f"At floor {floors} stock spopt would never finish ({hung[0]['stock_stuck']}): "
             "its annealing (`_perform_sa`) then re-picks the same candidates forever without "
             "counting a move — fixed upstream in pysal/spopt#506, not in the released "
             "0.7.0. The benchmark detects that state exactly (it stops the run there) and "
             "runs max-p again with that fix applied for the call (the annealing only "
             "considers areas that border another region); the row is marked so and its "
             "time is the fixed run's."),
        ]
    lines += [
        "",
        ("gis's units over a cap can only be single estates over it on their own (flagged). "
         "max-p maximises the number of regions, so with a low floor its regions stay just "
         "above it; with a floor near the unit size planners want, a linked group that cannot "
         "make two regions above the floor becomes one region, however far past the caps."),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its report.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``), e.g. ``["--quick"]``.

    Returns
    -------
    dict
        ``verified`` (bool), ``problems`` (list of str), and when verified: ``sizes``,
        ``times_s`` (medians), ``times_all_s``, ``units`` (statistics per configuration),
        ``link_checks``, ``spopt`` (``ran`` False with a ``reason`` when skipped; else
        ``runs``, one per max-p floor with max-p's ``time_s``, ``maxp`` (regions, cap
        violations), ``upstream_fix``, gis's ``gis_time_s`` and ``gis`` on the same input
        and ``ratio``, plus those keys of the first floor at the top), ``report``
        (Markdown) and ``report_path``.
    """
    args = _parse(argv)
    base = QUICK if args.quick else DEFAULTS
    n = args.estates if args.estates is not None else base["estates"]
    repeat = args.repeat if args.repeat is not None else base["repeat"]
    k_sp = args.spopt_estates if args.spopt_estates is not None else base["spopt_estates"]
    sp_repeat = args.spopt_repeat if args.spopt_repeat is not None else base["spopt_repeat"]
    iters = tuple(args.maxp_iterations or base["maxp_iterations"])
    thresholds = list(args.maxp_floor or base["maxp_floors"])
    timeout = args.maxp_timeout if args.maxp_timeout is not None else base["maxp_timeout"]
    out_path = args.out or RESULTS_DIR / ("units_quick.md" if args.quick else "units.md")

    t0 = time.perf_counter()
    estates = make_block_city(n, seed=args.seed)
    t_city = time.perf_counter() - t0

    def run_links() -> gpd.GeoDataFrame:
        return neighbour_links(estates, gap_m=GAP_M, min_facing_m=MIN_FACING_M)

    # Check first, on one run of each step; time afterwards.
    links = run_links()
    problems, link_checks = check_links(estates, links)
    graph = link_graph(estates["estate_id"], links)
    results = {}
    for name, caps in (("caps", CAPS), ("caps_min", CAPS_MIN)):
        results[name] = form_units(estates, links, caps=caps)
        problems += [f"[{name}] {p}" for p in check_units(estates, graph, results[name], caps)]
    if problems:
        msg = "ABORTED: checks failed, no times reported.\n" + "\n".join(problems)
        print(msg, file=sys.stderr)
        return {"verified": False, "problems": problems}

    t_links, _, all_links = _timed(run_links, repeat)
    t_units, _, all_units = _timed(lambda: form_units(estates, links, caps=CAPS), repeat)
    t_umin, _, all_umin = _timed(lambda: form_units(estates, links, caps=CAPS_MIN), repeat)
    reasons = links["reason"].value_counts()
    sizes = {
        "estates": n,
        "blocks": int(estates["block"].nunique()),
        "households": int(estates["households"].sum()),
        "candidates": len(links),
        "linked": int(links["linked"].sum()),
        "short_facing": int(reasons.get("short_facing", 0)),
        "components": nx.number_connected_components(graph),
        "islands": sum(1 for _ in nx.isolates(graph)),
        "components_over_caps": _components_over(estates, graph, CAPS),
    }
    result: dict[str, Any] = {
        "verified": True,
        "problems": [],
        "seed": args.seed,
        "repeat": repeat,
        "sizes": sizes,
        "times_s": {"make_city": t_city, "links": t_links, "units": t_units,
                    "units_min": t_umin},
        "times_all_s": {"links": all_links, "units": all_units, "units_min": all_umin},
        "units": {"caps": _unit_stats(results["caps"], CAPS),
                  "caps_min": _unit_stats(results["caps_min"], CAPS_MIN)},
        "link_checks": link_checks,
        "spopt": _spopt_part(estates, links, graph, k_sp, thresholds, sp_repeat, iters,
                             timeout, repeat, args.seed),
        "when": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.system()} {platform.machine()}, {_cpu_count()} CPUs",
        "versions": _versions(),
    }
    if result["spopt"].get("problems"):
        result["verified"] = False
        result["problems"] = result["spopt"]["problems"]
    report = _report(result)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(report, encoding="utf-8")
    result["report"] = report
    result["report_path"] = str(out_path)
    print(report)
    print(f"(written to {out_path})")
    return result


def run_maxp_limited(
    estates: gpd.GeoDataFrame,
    graph: nx.Graph,
    *,
    threshold: float,
    iterations: tuple[int, int] = MAXP_ITERATIONS,
    seed: int = 0,
    upstream_fix: bool = False,
    timeout_s: float = 3600.0,
) -> tuple[str, Any]:
    """`run_maxp` in a forked child process, stopped after ``timeout_s`` seconds.

    A safety net: `run_maxp` already stops when spopt would loop forever (`MaxPStuck`).
    Where ``fork`` is unavailable it runs in this process without a limit.

    Returns
    -------
    (str, object)
        ``("ok", (labels, w_seconds, solve_seconds))``, ``("stuck", message)``,
        ``("timeout", None)`` or ``("error", message)``.
    """
    import multiprocessing as mp

    args = {"threshold": threshold, "iterations": iterations, "seed": seed,
            "upstream_fix": upstream_fix}
    try:
        ctx = mp.get_context("fork")
    except ValueError:
        try:
            return "ok", run_maxp(estates, graph, **args)
        except MaxPStuck as exc:
            return "stuck", str(exc)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            return "error", f"{type(exc).__name__}: {exc}"
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", run_maxp(estates, graph, **args)))
        except MaxPStuck as exc:
            send.send(("stuck", str(exc)))
        except Exception as exc:  # noqa: BLE001
            send.send(("error", f"{type(exc).__name__}: {exc}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    try:
        if recv.poll(timeout_s):
            return recv.recv()
        return "timeout", None
    except EOFError:
        return "error", f"max-p process ended with exit code {proc.exitcode}"
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        recv.close()


def _spopt_part(
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    graph: nx.Graph,
    k: int,
    thresholds: list[float],
    repeat: int,
    iterations: tuple[int, int],
    timeout_s: float,
    gis_repeat: int,
    seed: int,
) -> dict[str, Any]:
    """max-p on ``k`` central estates for each floor in ``thresholds``, and gis on the same
    input."""
    if k <= 0:
        return {"ran": False, "reason": "not asked for (--spopt-estates 0)."}
    try:
        import libpysal  # noqa: F401
        import spopt  # noqa: F401
    except ImportError as exc:
        return {"ran": False, "reason": f"spopt is not installed ({exc}); "
                "`pip install spopt` to compare with max-p."}
    sub = _centre_subset(estates, min(k, len(estates)))
    sub_graph = graph.subgraph(sub["estate_id"].astype(str)).copy()
    runs, problems = [], []
    for threshold in thresholds:
        data, left_out = maxp_input(sub, sub_graph, threshold)
        if len(data) < 2:
            problems.append(f"no linked component of the {k:,} central estates reaches "
                            f"{threshold:,.0f} households")
            continue
        data_graph = sub_graph.subgraph(data["estate_id"].astype(str)).copy()
        caps = UnitCaps(CAPS.max_households, CAPS.max_floor_area_m2, CAPS.max_estates,
                        threshold)
        t_gis, gis_res, all_gis = _timed(lambda c=caps, d=data: form_units(d, links, caps=c),
                                         gis_repeat)
        problems += [f"[max-p input, floor {threshold:,.0f}] {p}"
                     for p in check_units(data, data_graph, gis_res, caps)]
        run: dict[str, Any] = {
            "threshold": threshold,
            "estates": len(data),
            "links": data_graph.number_of_edges(),
            "left_out": left_out,
            "status": "ok",
            "gis_time_s": t_gis,
            "gis_times_all_s": all_gis,
            "gis": _unit_stats(gis_res, caps),
        }
        times, w_times = [], []
        labels = np.array([])
        run["upstream_fix"] = False
        while len(times) < max(1, repeat):
            status, payload = run_maxp_limited(data, data_graph, threshold=threshold,
                                               iterations=iterations, seed=seed,
                                               upstream_fix=run["upstream_fix"],
                                               timeout_s=timeout_s)
            if status == "stuck" and not run["upstream_fix"]:
                # Stock spopt 0.7.0 would never finish (MaxPStuck): again with the fix.
                run["stock_stuck"] = payload
                run["upstream_fix"] = True
                times, w_times = [], []
                continue
            if status != "ok":
                run["status"] = status
                run["detail"] = payload if status == "error" else (
                    f"did not finish within {timeout_s:,.0f} s")
                break
            labels, t_w, t_solve = payload
            times.append(t_solve)
            w_times.append(t_w)
        if run["status"] == "ok":
            maxp = _region_check(data, data_graph, labels, caps, threshold)
            if maxp["unassigned"] or maxp["below_threshold"]:
                problems.append(f"max-p (floor {threshold:,.0f}) left {maxp['unassigned']} "
                                f"estates unassigned and {maxp['below_threshold']} regions "
                                "below its floor")
            t_maxp = statistics.median(times)
            run.update({"time_s": t_maxp, "times_all_s": times,
                        "w_time_s": statistics.median(w_times), "maxp": maxp,
                        "ratio": t_maxp / t_gis})
        else:
            run.update({"time_s": timeout_s if run["status"] == "timeout" else float("nan"),
                        "maxp": None, "ratio": None})
        runs.append(run)
    if not runs:
        return {"ran": False, "reason": "; ".join(problems), "problems": []}
    first = runs[0]
    return {
        "ran": True,
        "problems": problems,
        "estates_subset": len(sub),
        "iterations": list(iterations),
        "repeat": max(1, repeat),
        "gis_repeat": max(1, gis_repeat),
        "timeout_s": timeout_s,
        "runs": runs,
        # The first floor (300 households by default), for convenience:
        "threshold": first["threshold"],
        "time_s": first["time_s"],
        "maxp": first["maxp"],
        "gis_time_s": first["gis_time_s"],
        "gis": first["gis"],
        "ratio": first["ratio"],
    }


def _versions() -> dict[str, str]:
    import scipy

    out = {"Python": platform.python_version(), "numpy": np.__version__,
           "shapely": shapely.__version__, "geopandas": gpd.__version__,
           "networkx": nx.__version__, "scipy": scipy.__version__}
    try:
        import libpysal
        import spopt

        out["spopt"] = spopt.__version__
        out["libpysal"] = libpysal.__version__
    except ImportError:
        pass
    return out


if __name__ == "__main__":
    sys.exit(0 if main()["verified"] else 1)
