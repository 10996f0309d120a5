"""Benchmark: living-circle coverage with `gis` against the networkx ways of doing it.

Run from the repository root::

    python bench/bench_coverage.py                 # ~20,000 nodes, 2,000 estates, 3 repeats
    python bench/bench_coverage.py --quick         # a few seconds (used by the tests)
    python bench/bench_coverage.py --nodes 200000 --estates 20000 --nx-estates 200

One synthetic city (seeded, so every run sees the same inputs) is measured three ways:

a. ``gis``: `gis.network.build_walk_graph`, `gis.access.estate_access` and
   `gis.coverage.nearest_by_network` (one bounded multi-source Dijkstra per category);
b. networkx per estate, the way tutorials do it: for every estate a temporary virtual
   node joined to its access nodes by their access costs, one
   ``nx.single_source_dijkstra_path_length`` from it (cutoff ``search_factor × walk_m``),
   then the minimum of ``distance + hop`` over each category's service nodes;
c. networkx per category: a virtual super-source joined to the category's service nodes
   by their hops, one ``nx.multi_source_dijkstra_path_length`` from it, then the
   minimum of ``access cost + distance`` over each estate's access nodes.

The three must agree (0.01 m, same missing values) before any time is reported; ``b``
also checks that the service `gis` names as nearest is at the distance it reports.
When ``b`` runs on a subset of estates (``--nx-estates``) its time is extrapolated
linearly to all estates, and the report says so.

The inputs come from `make_city`, whose pieces (`make_streets`, `make_estates`,
`make_services`) are vectorised numpy/shapely and scale to millions of nodes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy
import shapely
from scipy.spatial import cKDTree

try:
    from gis.coverage import nearest_by_network
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gis.coverage import nearest_by_network
from gis.access import Access, estate_access
from gis.network import WalkGraph, build_walk_graph
from gis.standards import Standard, load_standard
# The synthetic city lives in gis.synthetic, shared with the tests; re-exported here.
from gis.synthetic import (  # noqa: F401
    CRS_METRIC,
    ESTATES_PER_SERVICE,
    ORIGIN_XY,
    City,
    make_city,
    make_estates,
    make_services,
    make_streets,
)

__all__ = [
    "City",
    "check_agreement",
    "main",
    "make_city",
    "make_estates",
    "make_services",
    "make_streets",
    "nx_graph",
    "nx_per_category",
    "nx_per_estate",
]

#: Distances equal when they differ by at most this many metres.
TOLERANCE_M = 0.01
#: Label of the temporary virtual node in the networkx graph (street nodes are 0..n-1).
VIRTUAL = -1

DEFAULTS = {"nodes": 20_000, "estates": 2_000, "repeat": 3, "nx_estates": 2_000}
QUICK = {"nodes": 2_000, "estates": 100, "repeat": 1, "nx_estates": 100}
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------------------
# networkx alternatives
# --------------------------------------------------------------------------------------


def nx_graph(graph: WalkGraph) -> nx.Graph:
    """The walking graph as a networkx graph, edge lengths in the ``length`` attribute."""
    u, v, w = graph.edges()
    g = nx.Graph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()), weight="length")
    return g


def _snap(graph: WalkGraph, services: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Nearest street node of each service and the straight hop (metres), with scipy."""
    hop, node = cKDTree(graph.node_xy).query(shapely.get_coordinates(services.geometry.values))
    return node.astype(np.int64), hop


def _service_sets(
    graph: WalkGraph, services: gpd.GeoDataFrame, standard: Standard
) -> list[tuple[list[int], list[float]]]:
    """Per category: its service nodes and hops, as Python lists."""
    node, hop = _snap(graph, services)
    cats = services["category"].to_numpy()
    return [
        (node[cats == c.key].tolist(), hop[cats == c.key].tolist()) for c in standard.categories
    ]


def _access_groups(access: Access, estates: np.ndarray) -> list[tuple[list[int], list[float]]]:
    """Access nodes and costs of each estate in ``estates`` (smallest cost per node)."""
    order = np.lexsort((-access.cost_m, access.node, access.estate))
    est, node, cost = access.estate[order], access.node[order], access.cost_m[order]
    starts = np.searchsorted(est, estates, side="left")
    ends = np.searchsorted(est, estates, side="right")
    # Descending cost within a node: the last edge added (the cheapest) wins in networkx.
    return [(node[s:e].tolist(), cost[s:e].tolist()) for s, e in zip(starts, ends)]


def nx_per_estate(
    g: nx.Graph,
    graph: WalkGraph,
    access: Access,
    services: gpd.GeoDataFrame,
    standard: Standard,
    estates: np.ndarray,
    *,
    search_factor: float = 2.0,
) -> np.ndarray:
    """Distances by one networkx Dijkstra per estate (the tutorial way).

    For each estate a virtual node is joined to its access nodes by their access costs;
    ``nx.single_source_dijkstra_path_length`` runs from it with cutoff
    ``search_factor × max walk_m``, and each category's distance is the minimum of
    ``distance + hop`` over its service nodes (NaN beyond ``search_factor × walk_m``).

    Parameters
    ----------
    g : networkx.Graph
        From `nx_graph`; temporarily gets, then loses, node `VIRTUAL`.
    graph : WalkGraph
    access : Access
    services : GeoDataFrame
        Points in the graph's CRS with ``category`` keys.
    standard : Standard
    estates : ndarray of int
        Estate positions to measure.
    search_factor : float, default 2.0

    Returns
    -------
    ndarray of shape (len(estates), n_categories)
        Metres, NaN beyond the search.
    """
    sets = _service_sets(graph, services, standard)
    limits = [search_factor * c.walk_m for c in standard.categories]
    cutoff = max(limits)
    out = np.full((len(estates), len(limits)), np.nan)
    for i, (nodes, costs) in enumerate(_access_groups(access, estates)):
        g.add_weighted_edges_from(((VIRTUAL, a, c) for a, c in zip(nodes, costs)), weight="length")
        dist = nx.single_source_dijkstra_path_length(g, VIRTUAL, cutoff=cutoff, weight="length")
        g.remove_node(VIRTUAL)
        for k, ((snodes, shops), limit) in enumerate(zip(sets, limits)):
            best = min((dist[s] + h for s, h in zip(snodes, shops) if s in dist), default=math.inf)
            if best <= limit:
                out[i, k] = best
    return out


def nx_per_estate_check_nearest(
    g: nx.Graph,
    graph: WalkGraph,
    access: Access,
    services: gpd.GeoDataFrame,
    table: pd.DataFrame,
    standard: Standard,
    estates: np.ndarray,
    *,
    search_factor: float = 2.0,
) -> list[str]:
    """Check that the service `gis` names as nearest is at the distance it reports.

    Returns
    -------
    list of str
        One line per disagreement (empty when all agree).
    """
    node, hop = _snap(graph, services)
    cutoff = search_factor * max(c.walk_m for c in standard.categories)
    problems: list[str] = []
    for e, (nodes, costs) in zip(estates, _access_groups(access, estates)):
        g.add_weighted_edges_from(((VIRTUAL, a, c) for a, c in zip(nodes, costs)), weight="length")
        dist = nx.single_source_dijkstra_path_length(g, VIRTUAL, cutoff=cutoff, weight="length")
        g.remove_node(VIRTUAL)
        for c in standard.categories:
            r = int(table[f"nearest_{c.key}"].iat[e])
            d = float(table[f"dist_m_{c.key}"].iat[e])
            if r < 0:
                continue
            got = dist.get(int(node[r]), math.inf) + hop[r]
            if not abs(got - d) <= TOLERANCE_M:
                problems.append(
                    f"estate #{e} {c.key}: gis says {d:.3f} m to service row {r}, "
                    f"which networkx puts at {got:.3f} m"
                )
    return problems


def nx_per_category(
    g: nx.Graph,
    graph: WalkGraph,
    access: Access,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    search_factor: float = 2.0,
) -> np.ndarray:
    """Distances by one networkx Dijkstra per category from a virtual super-source.

    The super-source is joined to every service node of the category by the smallest
    hop at that node; ``nx.multi_source_dijkstra_path_length`` runs from it with cutoff
    ``search_factor × walk_m``, and each estate takes the minimum of
    ``access cost + distance`` over its access nodes. Distances only: building paths
    (``nx.multi_source_dijkstra``) to name the nearest service would be slower still.

    Parameters
    ----------
    g : networkx.Graph
        From `nx_graph`; temporarily gets, then loses, node `VIRTUAL`.
    graph : WalkGraph
    access : Access
    services : GeoDataFrame
    standard : Standard
    search_factor : float, default 2.0

    Returns
    -------
    ndarray of shape (n_estates, n_categories)
        Metres, NaN beyond the search.
    """
    sets = _service_sets(graph, services, standard)
    n = graph.n_nodes
    out = np.full((access.n_estates, len(sets)), np.nan)
    for k, ((snodes, shops), c) in enumerate(zip(sets, standard.categories)):
        if not snodes:
            continue
        limit = search_factor * c.walk_m
        hop_at: dict[int, float] = {}
        for s, h in zip(snodes, shops):
            hop_at[s] = min(h, hop_at.get(s, math.inf))
        g.add_weighted_edges_from(((VIRTUAL, s, h) for s, h in hop_at.items()), weight="length")
        dist = nx.multi_source_dijkstra_path_length(g, {VIRTUAL}, cutoff=limit, weight="length")
        g.remove_node(VIRTUAL)
        del dist[VIRTUAL]
        node_dist = np.full(n, np.inf)
        node_dist[np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))] = np.fromiter(
            dist.values(), dtype=float, count=len(dist)
        )
        best = np.full(access.n_estates, np.inf)
        np.minimum.at(best, access.estate, access.cost_m + node_dist[access.node])
        out[:, k] = np.where(best <= limit, best, np.nan)
    return out


# --------------------------------------------------------------------------------------
# Checking and timing
# --------------------------------------------------------------------------------------


def check_agreement(
    reference: np.ndarray,
    other: np.ndarray,
    estates: np.ndarray,
    keys: list[str],
    *,
    label: str,
    tol: float = TOLERANCE_M,
    show: int = 10,
) -> list[str]:
    """Compare two distance matrices (estates × categories).

    Parameters
    ----------
    reference, other : ndarray of shape (len(estates), len(keys))
        Metres, NaN where missing.
    estates : ndarray of int
        Estate position of each row (for messages).
    keys : list of str
        Category of each column.
    label : str
        Name of ``other`` in messages.
    tol : float
        Largest allowed difference in metres.
    show : int
        At most this many example lines.

    Returns
    -------
    list of str
        A summary line and examples when they differ; empty when they agree.
    """
    ra, ob = np.isnan(reference), np.isnan(other)
    with np.errstate(invalid="ignore"):
        bad = (ra != ob) | (~ra & ~ob & ~(np.abs(reference - other) <= tol))
    if not bad.any():
        return []
    rows, cols = np.nonzero(bad)
    lines = [f"gis and {label} disagree on {len(rows):,} of {bad.size:,} (estate, category) pairs:"]
    for r, c in zip(rows[:show], cols[:show]):
        lines.append(
            f"  estate #{estates[r]} {keys[c]}: gis {reference[r, c]:.3f} m, "
            f"{label} {other[r, c]:.3f} m"
        )
    return lines


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any, list[float]]:
    """Median seconds of ``repeat`` calls of ``fn``, its last result, and all times."""
    times: list[float] = []
    result: Any = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result, times


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench_coverage.py",
        description="Time gis living-circle coverage against networkx on a synthetic city.",
    )
    p.add_argument("--nodes", type=int, help=f"street graph nodes (default {DEFAULTS['nodes']:,})")
    p.add_argument("--estates", type=int, help=f"estates (default {DEFAULTS['estates']:,})")
    p.add_argument(
        "--repeat", type=int, help=f"timed runs, median kept (default {DEFAULTS['repeat']})"
    )
    p.add_argument(
        "--nx-estates",
        type=int,
        help="run networkx per-estate on this many random estates and extrapolate "
        f"(default: all when --estates <= {DEFAULTS['nx_estates']:,}, else 200)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic city (default 0)")
    p.add_argument(
        "--standard",
        help="bundled standard name or TOML path (default: the gis default standard)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"tiny run: {QUICK['nodes']:,} nodes, {QUICK['estates']} estates, 1 repeat",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="Markdown report (default bench/results/coverage.md; coverage_quick.md with --quick)",
    )
    return p.parse_args(argv)


def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _report(r: dict[str, Any]) -> str:
    """The result table as Markdown."""
    s, t = r["sizes"], r["times_s"]
    sub = r["nx_per_estate_measured"]
    ext = ""
    if sub < s["estates"]:
        ext = (
            f" (timed on {sub:,} random estates of {s['estates']:,}, "
            f"extrapolated ×{s['estates'] / sub:.1f})"
        )
    lines = [
        "# Coverage benchmark: gis vs networkx",
        "",
        f"{r['when']} · Python {r['versions']['python']} · numpy {r['versions']['numpy']} · "
        f"scipy {r['versions']['scipy']} · networkx {r['versions']['networkx']} · "
        f"shapely {r['versions']['shapely']} · {r['machine']}",
        "",
        f"Synthetic city (seed {r['seed']}): {s['grid'][0]}×{s['grid'][1]} perturbed street grid, "
        f"{s['spacing_m']:.0f} m spacing, 10 % of links removed; median of {r['repeat']} run(s). "
        f"Standard `{r['standard']}`; search radius {r['search_factor']:g} × walk_m "
        f"(up to {r['search_m']:.0f} m).",
        "",
        "| size | value |",
        "|---|---:|",
        f"| street lines | {s['streets']:,} |",
        f"| graph nodes | {s['nodes']:,} |",
        f"| graph edges | {s['edges']:,} |",
        f"| graph components | {s['components']:,} |",
        f"| estates | {s['estates']:,} |",
        f"| access points | {s['access_points']:,} |",
        f"| services ({s['categories']} categories) | {s['services']:,} |",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| gis: build walking graph | {_fmt_s(t['gis_build_graph'])} |",
        f"| gis: estate access | {_fmt_s(t['gis_access'])} |",
        f"| **gis: coverage (`nearest_by_network`)** | **{_fmt_s(t['gis_coverage'])}** |",
        f"| networkx: build graph from the edges | {_fmt_s(t['nx_build_graph'])} |",
        f"| networkx per estate{ext} | {_fmt_s(t['nx_per_estate'])} |",
        f"| networkx per category (super-source) | {_fmt_s(t['nx_per_category'])} |",
        "",
        "| ratio (coverage step only) | × |",
        "|---|---:|",
        f"| networkx per estate / gis | {r['ratios']['nx_per_estate']:,.0f} |",
        f"| networkx per category / gis | {r['ratios']['nx_per_category']:,.1f} |",
        "",
        f"Results matched: **{'yes' if r['matched'] else 'NO'}** — all "
        f"{s['estates'] * s['categories']:,} "
        f"(estate, category) distances of networkx per category and "
        f"{sub * s['categories']:,} of networkx per estate equal gis within {TOLERANCE_M} m, "
        f"same missing values; gis's nearest service is at the distance it reports. "
        f"Coverage within walk_m: {r['covered_share']:.1%} of (estate, category) pairs, "
        f"{r['missing_share']:.1%} beyond the search radius.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its report.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``), e.g. ``["--quick"]``.

    Returns
    -------
    dict
        ``matched`` (bool: all three methods agree), ``problems`` (list of str), and when
        matched: ``sizes``, ``times_s`` (medians, seconds; ``nx_per_estate``
        extrapolated to all estates), ``times_all_s``, ``ratios``,
        ``nx_per_estate_measured`` (estates actually run), ``report`` (Markdown) and
        ``report_path``.
    """
    args = _parse(argv)
    base = QUICK if args.quick else DEFAULTS
    n_nodes = args.nodes if args.nodes is not None else base["nodes"]
    n_estates = args.estates if args.estates is not None else base["estates"]
    repeat = args.repeat if args.repeat is not None else base["repeat"]
    if args.nx_estates is not None:
        n_sub = args.nx_estates
    else:
        n_sub = n_estates if n_estates <= base["nx_estates"] else 200
    n_sub = max(1, min(n_sub, n_estates))
    out_path = args.out or RESULTS_DIR / ("coverage_quick.md" if args.quick else "coverage.md")

    city = make_city(n_nodes, n_estates, seed=args.seed)
    standard = load_standard(args.standard)
    keys = standard.keys
    search_factor = 2.0

    # a. gis: graph and access are timed here; coverage after the agreement check.
    t_graph, graph, all_graph = _timed(lambda: build_walk_graph(city.streets), repeat)
    t_access, access, all_access = _timed(lambda: estate_access(graph, city.estates), repeat)

    def run_gis() -> pd.DataFrame:
        return nearest_by_network(
            graph, access, city.services, standard, search_factor=search_factor
        )[0]

    # Agreement first, on one run of each method; times afterwards.
    table = run_gis()
    ref = table[[f"dist_m_{k}" for k in keys]].to_numpy()
    t_nxg, g, all_nxg = _timed(lambda: nx_graph(graph), repeat)
    sub = np.arange(n_estates)
    if n_sub < n_estates:
        sub = np.sort(np.random.default_rng([args.seed, 4]).choice(n_estates, n_sub, replace=False))

    def run_per_estate() -> np.ndarray:
        return nx_per_estate(
            g, graph, access, city.services, standard, sub, search_factor=search_factor
        )

    def run_per_category() -> np.ndarray:
        return nx_per_category(
            g, graph, access, city.services, standard, search_factor=search_factor
        )

    problems: list[str] = []
    problems += check_agreement(ref[sub], run_per_estate(), sub, keys, label="networkx per estate")
    problems += check_agreement(
        ref, run_per_category(), np.arange(n_estates), keys, label="networkx per category"
    )
    nearest = nx_per_estate_check_nearest(
        g, graph, access, city.services, table, standard, sub, search_factor=search_factor
    )
    if nearest:
        problems += [f"gis nearest_<key> wrong for {len(nearest):,} pairs:", *nearest[:10]]
    if problems:
        msg = "ABORTED: results differ, no times reported.\n" + "\n".join(problems)
        print(msg, file=sys.stderr)
        return {"matched": False, "problems": problems}

    t_cov, _, all_cov = _timed(run_gis, repeat)
    t_pe, _, all_pe = _timed(run_per_estate, repeat)
    t_pc, _, all_pc = _timed(run_per_category, repeat)
    scale = n_estates / len(sub)
    times = {
        "gis_build_graph": t_graph,
        "gis_access": t_access,
        "gis_coverage": t_cov,
        "nx_build_graph": t_nxg,
        "nx_per_estate": t_pe * scale,
        "nx_per_category": t_pc,
    }
    limit = search_factor * max(c.walk_m for c in standard.categories)
    walk = np.array([c.walk_m for c in standard.categories])
    result: dict[str, Any] = {
        "matched": True,
        "problems": [],
        "seed": args.seed,
        "repeat": repeat,
        "search_m": limit,
        "search_factor": search_factor,
        "standard": Path(standard.path).stem,
        "sizes": {
            "grid": city.grid_shape,
            "spacing_m": city.spacing_m,
            "streets": len(city.streets),
            "nodes": graph.n_nodes,
            "edges": graph.n_edges,
            "components": graph.n_components,
            "estates": n_estates,
            "access_points": len(access.node),
            "services": len(city.services),
            "categories": len(keys),
            "services_per_category": city.services["category"].value_counts().to_dict(),
        },
        "times_s": times,
        "times_all_s": {
            "gis_build_graph": all_graph,
            "gis_access": all_access,
            "gis_coverage": all_cov,
            "nx_build_graph": all_nxg,
            "nx_per_estate_measured": all_pe,
            "nx_per_category": all_pc,
        },
        "nx_per_estate_measured": len(sub),
        "nx_per_estate_extrapolated": len(sub) < n_estates,
        "ratios": {
            "nx_per_estate": times["nx_per_estate"] / t_cov,
            "nx_per_category": t_pc / t_cov,
        },
        "covered_share": float(np.mean(np.nan_to_num(ref, nan=np.inf) <= walk)),
        "missing_share": float(np.isnan(ref).mean()),
        "when": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.system()} {platform.machine()}, {_cpu_count()} CPUs",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "networkx": nx.__version__,
            "shapely": shapely.__version__,
        },
    }
    report = _report(result)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(report, encoding="utf-8")
    result["report"] = report
    result["report_path"] = str(out_path)
    print(report)
    print(f"(written to {out_path})")
    return result


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(0 if main()["matched"] else 1)
