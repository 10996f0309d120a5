"""Benchmark: siting new facilities with `gis` against spopt (PySAL) with networkx.

Run from the repository root (spopt and pulp only for the comparison:
``pip install -e .[bench]``)::

    python bench/bench_siting.py            # 20,000 x 5,000 scale run + 2,000 x 1,000 vs spopt
    python bench/bench_siting.py --quick    # seconds (used by the tests)

Three parts, each on seeded synthetic cities from `bench_coverage.make_city`, threshold
1,000 m, every estate a target (no existing facility), weights = households:

1. **Scale** (``--estates 20000 --candidates 5000``): `gis.siting.coverage_matrix`
   (bounded searches from the candidates in chunks), `greedy_cover` (CELF) and
   `exact_cover` (HiGHS MILP, ``--time-limit``), each timed; process peak memory (max
   RSS) after the part.
2. **Against spopt** (``--cmp-estates 2000 --cmp-candidates 1000``): the matrix the spopt
   way (networkx: one ``single_source_dijkstra_path_length`` per candidate from its
   snapped node, cut off at the threshold, then the minimum of access cost + distance per
   estate; a dense matrix, as spopt needs) against `coverage_matrix` (checked equal to
   0.01 m before any time is reported); then spopt ``MCLP.from_cost_matrix`` and
   ``LSCP.from_cost_matrix`` solved with PuLP + CBC against `exact_cover` on the same
   matrix: the objective values must be equal. Ratios end to end include the matrix.
3. **Greedy's share of the optimum** over ``--seeds`` cities at the comparison size.

The report prints and goes to ``bench/results/siting.md``; `main(argv)` returns the
numbers as a dict.
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_coverage import make_city, nx_graph  # noqa: E402

from gis.candidates import network_candidates  # noqa: E402
from gis.access import estate_access, snap_points  # noqa: E402
from gis.network import build_walk_graph  # noqa: E402
from gis.siting import coverage_matrix, exact_cover, greedy_cover  # noqa: E402

WALK_M = 1000.0
TOLERANCE_M = 0.01
RESULTS_DIR = HERE / "results"
FULL = {"estates": 20_000, "candidates": 5_000, "k": 50, "cmp_sizes": "500x250,2000x1000",
        "cmp_k": 10, "share_size": "1000x500", "seeds": 5, "time_limit": 60.0,
        "spopt_limit": 300.0}
QUICK = {"estates": 400, "candidates": 150, "k": 5, "cmp_sizes": "200x60", "cmp_k": 4,
         "share_size": "200x60", "seeds": 2, "time_limit": 20.0, "spopt_limit": 120.0}


def make_inputs(n_estates: int, n_candidates: int, seed: int) -> dict[str, Any]:
    """A synthetic city, its walking graph and access, and candidates along the streets."""
    city = make_city(10 * n_estates, n_estates, seed=seed)
    graph = build_walk_graph(city.streets)
    access = estate_access(graph, city.estates)
    area = shapely.box(*city.estates.total_bounds)
    pool = network_candidates(city.streets, area, spacing_m=50.0)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(pool), size=min(n_candidates, len(pool)), replace=False))
    xy = shapely.get_coordinates(pool.geometry.values[pick])
    weight = city.estates["households"].to_numpy(dtype=float)
    return {"city": city, "graph": graph, "access": access, "xy": xy, "weight": weight}


def nx_matrix(inp: dict[str, Any], walk_m: float) -> np.ndarray:
    """The dense (estates x candidates) matrix the spopt way: networkx per candidate."""
    import networkx as nx

    graph, access, xy = inp["graph"], inp["access"], inp["xy"]
    g = nx_graph(graph)
    node, hop = snap_points(graph, xy)
    order = np.argsort(access.estate, kind="stable")
    est, acc_node, cost = access.estate[order], access.node[order], access.cost_m[order]
    starts = np.flatnonzero(np.r_[True, est[1:] != est[:-1]])
    out = np.full((access.n_estates, len(xy)), np.inf)
    node_d = np.full(graph.n_nodes, np.inf)
    for j in range(len(xy)):
        reached = nx.single_source_dijkstra_path_length(g, int(node[j]), cutoff=walk_m - hop[j],
                                                        weight="length")
        keys = np.fromiter(reached.keys(), dtype=np.int64, count=len(reached))
        node_d[keys] = np.fromiter(reached.values(), dtype=float, count=len(reached))
        best = np.minimum.reduceat(cost + node_d[acc_node], starts) + hop[j]
        out[est[starts], j] = np.where(best <= walk_m + TOLERANCE_M, best, np.inf)
        node_d[keys] = np.inf
    return out


def check_equal(sparse: sp.csr_array, dense: np.ndarray, walk_m: float) -> int:
    """Pairs differing (beyond 0.01 m, or present in one only away from the threshold)."""
    coo = sparse.tocoo()
    got = np.full(dense.shape, np.inf)
    got[coo.row, coo.col] = coo.data
    both = np.isfinite(got) & np.isfinite(dense)
    bad = int((np.abs(got[both] - dense[both]) > TOLERANCE_M).sum())
    only = np.isfinite(got) ^ (dense <= walk_m)
    near = np.abs(np.where(np.isfinite(got), got, dense) - walk_m) <= TOLERANCE_M
    return bad + int((only & ~near).sum())


def spopt_solve(dense: np.ndarray, weight: np.ndarray, k: int | None, walk_m: float,
                limit_s: float) -> tuple[float, float, bool]:
    """spopt MCLP (k sites) or LSCP (k=None) with PuLP + CBC, stopped after ``limit_s``:
    (objective, seconds, proven optimal)."""
    import pulp
    from spopt.locate import LSCP, MCLP

    cost = np.where(np.isfinite(dense), dense, 1e12)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # PuLP 3 announces PULP_CBC_CMD's removal in 4.0; it is still the bundled CBC.
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit_s)
        if k is not None:
            model = MCLP.from_cost_matrix(cost, weight, service_radius=walk_m, p_facilities=k)
        else:
            model = LSCP.from_cost_matrix(cost, service_radius=walk_m)
        model = model.solve(solver)
    seconds = time.perf_counter() - t0
    # PuLP says "Optimal" for a run stopped on time; sol_status 1 is a proven optimum.
    proven = model.problem.sol_status == pulp.LpSolutionOptimal
    if k is not None:
        clients = [np.asarray(c, dtype=np.int64) for c in model.fac2cli]
        value = float(weight[np.unique(np.concatenate(clients or [np.zeros(0, np.int64)]))].sum())
    else:
        value = float(pulp.value(model.problem.objective))
    return value, seconds, bool(proven)


def timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def scale_part(a: argparse.Namespace) -> dict[str, Any]:
    inp = make_inputs(a.estates, a.candidates, a.seed)
    matrix, t_matrix = timed(lambda: coverage_matrix(inp["graph"], inp["access"], inp["xy"],
                                                     WALK_M))
    cover = sp.csc_array(sp.csr_array((np.ones(matrix.nnz, bool), matrix.indices,
                                       matrix.indptr), shape=matrix.shape))
    (g_sites, g_gain, g_bound), t_greedy = timed(lambda: greedy_cover(cover, inp["weight"], a.k))
    (x_sites, x_val, x_bound, x_opt, x_msg), t_exact = timed(
        lambda: exact_cover(cover, inp["weight"], a.k, time_limit_s=a.time_limit, mip_gap=1e-4))
    greedy_val = float(g_gain.sum())
    bound = min(x_bound, g_bound) if np.isfinite(x_bound) else g_bound
    return {
        "estates": a.estates, "candidates": len(inp["xy"]), "k": a.k,
        "graph_nodes": inp["graph"].n_nodes, "pairs": int(matrix.nnz),
        "matrix_s": t_matrix, "greedy_s": t_greedy, "exact_s": t_exact,
        "greedy_value": greedy_val, "exact_value": x_val, "bound": bound,
        "exact_gap": (bound - x_val) / bound if bound else 0.0, "exact_optimal": x_opt,
        "exact_message": x_msg, "greedy_share": greedy_val / x_val if x_val else math.nan,
        "peak_rss_mb": peak_rss_mb(),
    }


def compare_part(a: argparse.Namespace, n_est: int, n_cand: int) -> dict[str, Any]:
    inp = make_inputs(n_est, n_cand, a.seed)
    matrix, t_gis = timed(lambda: coverage_matrix(inp["graph"], inp["access"], inp["xy"], WALK_M))
    dense, t_nx = timed(lambda: nx_matrix(inp, WALK_M))
    differing = check_equal(matrix, dense, WALK_M)
    if differing:
        msg = f"gis and networkx matrices differ in {differing} pairs; no time reported."
        raise SystemExit(msg)
    cover = sp.csc_array(sp.csr_array((np.ones(matrix.nnz, bool), matrix.indices,
                                       matrix.indptr), shape=matrix.shape))
    w = inp["weight"]
    out: dict[str, Any] = {"estates": n_est, "candidates": len(inp["xy"]),
                           "k": a.cmp_k, "pairs": int(matrix.nnz), "gis_matrix_s": t_gis,
                           "nx_matrix_s": t_nx, "matrix_ratio": t_nx / t_gis}
    # The same time budget as CBC gets.
    (_, g_mclp, b_mclp, opt_m, _), t_m = timed(
        lambda: exact_cover(cover, w, a.cmp_k, time_limit_s=a.spopt_limit))
    (_, g_lscp, b_lscp, opt_l, _), t_l = timed(
        lambda: exact_cover(cover, w, None, time_limit_s=a.spopt_limit))
    out.update(gis_mclp=g_mclp, gis_mclp_s=t_m, gis_mclp_optimal=opt_m, gis_mclp_bound=b_mclp,
               gis_lscp=g_lscp, gis_lscp_s=t_l, gis_lscp_optimal=opt_l, gis_lscp_bound=b_lscp)
    if a.no_spopt:
        out["spopt"] = "skipped (--no-spopt)"
        return out
    try:
        import spopt  # noqa: F401
    except ImportError:
        out["spopt"] = "not installed (pip install -e .[bench])"
        return out
    s_mclp, s_m, p_m = spopt_solve(dense, w, a.cmp_k, WALK_M, a.spopt_limit)
    coverable = np.isfinite(dense).any(axis=1)  # spopt's LSCP is infeasible otherwise
    s_lscp, s_l, p_l = spopt_solve(dense[coverable], w[coverable], None, WALK_M, a.spopt_limit)
    # Both proven: the values must be equal. Otherwise neither may beat the other's
    # proven optimum, nor gis's proven bound (MCLP upper, LSCP lower).
    bad = ((p_m and opt_m and not math.isclose(s_mclp, g_mclp, rel_tol=1e-9))
           or (opt_m and s_mclp > g_mclp + 1e-6) or (p_m and g_mclp > s_mclp + 1e-6)
           or s_mclp > b_mclp + 1e-6
           or (p_l and opt_l and s_lscp != g_lscp) or (opt_l and s_lscp < g_lscp)
           or (p_l and g_lscp < s_lscp) or s_lscp < b_lscp)
    if bad:
        msg = f"Objectives differ: MCLP spopt {s_mclp} vs gis {g_mclp}; LSCP {s_lscp} vs {g_lscp}."
        raise SystemExit(msg)
    out.update(spopt="ok", spopt_mclp=s_mclp, spopt_mclp_s=s_m, spopt_mclp_proven=p_m,
               spopt_lscp=s_lscp, spopt_lscp_s=s_l, spopt_lscp_proven=p_l,
               mclp_ratio=(t_nx + s_m) / (t_gis + t_m), lscp_ratio=(t_nx + s_l) / (t_gis + t_l),
               mclp_solve_ratio=s_m / t_m, lscp_solve_ratio=s_l / t_l)
    return out


def share_part(a: argparse.Namespace) -> dict[str, Any]:
    shares = []
    for seed in range(a.seeds):
        n_est, n_cand = (int(x) for x in a.share_size.split("x"))
        inp = make_inputs(n_est, n_cand, 100 + seed)
        m = coverage_matrix(inp["graph"], inp["access"], inp["xy"], WALK_M)
        cover = sp.csc_array(sp.csr_array((np.ones(m.nnz, bool), m.indices, m.indptr),
                                          shape=m.shape))
        for k in (a.cmp_k,):
            _, gains, _ = greedy_cover(cover, inp["weight"], k)
            _, opt, _, proven, _ = exact_cover(cover, inp["weight"], k)
            shares.append({"seed": 100 + seed, "k": k, "greedy": float(gains.sum()),
                           "optimum": opt, "proven": proven, "share": float(gains.sum()) / opt})
    return {"runs": shares, "min_share": min(s["share"] for s in shares),
            "mean_share": float(np.mean([s["share"] for s in shares]))}


def _spopt_cell(c: dict[str, Any], model: str, unit: str) -> str:
    g, s = c["gis_" + model], c["spopt_" + model]
    g_ok, s_ok = c[f"gis_{model}_optimal"], c[f"spopt_{model}_proven"]
    if g_ok and s_ok:
        return f"{g:,.0f} {unit}, both proven optimal"
    text = [f"gis {g:,.0f}" + (" proven optimal" if g_ok else
                               f" (bound {c['gis_' + model + '_bound']:,.0f}, not proven)"),
            f"spopt {s:,.0f}" + (" proven optimal" if s_ok else " (stopped, not proven)")]
    return f"{'; '.join(text)} {unit}"


def report(r: dict[str, Any]) -> str:
    s, g = r["scale"], r["shares"]
    lines = [
        "# Siting benchmark", "",
        f"{r['machine']}; threshold {WALK_M:.0f} m; every estate a target; weights = households.",
        "",
        f"## Scale: {s['estates']:,} estates x {s['candidates']:,} candidates "
        f"({s['graph_nodes']:,} graph nodes, k = {s['k']})", "",
        "| step | time | result |", "|---|---|---|",
        f"| coverage matrix (sparse, chunked searches) | {s['matrix_s']:.2f} s | "
        f"{s['pairs']:,} covered pairs |",
        f"| greedy (CELF) | {s['greedy_s']:.3f} s | {s['greedy_value']:,.0f} households |",
        f"| exact (HiGHS, limit {r['time_limit']:.0f} s) | {s['exact_s']:.2f} s | "
        f"{s['exact_value']:,.0f} households, "
        f"{'proven optimal' if s['exact_optimal'] else 'proven gap ' + format(s['exact_gap'], '.2%')} |",
        f"| peak memory (process max RSS) | | {s['peak_rss_mb']:,.0f} MB |",
        "",
        f"Greedy reached {s['greedy_share']:.2%} of the exact value.", "",
        f"## Against networkx + spopt (PuLP + CBC, limit {r['spopt_limit']:.0f} s)", "",
    ]
    for c in r["compare"]:
        lines += [
            f"### {c['estates']:,} estates x {c['candidates']:,} candidates, k = {c['k']}", "",
            f"Matrix: gis {c['gis_matrix_s']:.2f} s, networkx per candidate "
            f"{c['nx_matrix_s']:.2f} s ({c['matrix_ratio']:.0f}x); {c['pairs']:,} pairs, "
            "equal to 0.01 m.", "",
        ]
        if c.get("spopt") == "ok":
            lines += [
                "| model | objective | gis matrix + solve | networkx matrix + spopt | "
                "end to end | solve only |", "|---|---|---|---|---|---|",
                f"| MCLP | {_spopt_cell(c, 'mclp', 'households')} | "
                f"{c['gis_matrix_s'] + c['gis_mclp_s']:.2f} s | "
                f"{c['nx_matrix_s'] + c['spopt_mclp_s']:.2f} s | {c['mclp_ratio']:.0f}x | "
                f"{c['mclp_solve_ratio']:.1f}x |",
                f"| LSCP | {_spopt_cell(c, 'lscp', 'sites')} | "
                f"{c['gis_matrix_s'] + c['gis_lscp_s']:.2f} s | "
                f"{c['nx_matrix_s'] + c['spopt_lscp_s']:.2f} s | {c['lscp_ratio']:.0f}x | "
                f"{c['lscp_solve_ratio']:.1f}x |", "",
            ]
        else:
            lines += [f"spopt: {c['spopt']}.", ""]
    lines += [
        f"## Greedy's share of the optimum ({len(g['runs'])} runs)", "",
        "| seed | k | greedy | optimum | share |", "|---|---|---|---|---|",
        *[f"| {x['seed']} | {x['k']} | {x['greedy']:,.0f} | {x['optimum']:,.0f}"
          f"{'' if x['proven'] else ' (not proven)'} | {x['share']:.2%} |" for x in g["runs"]],
        "", f"Minimum {g['min_share']:.2%}, mean {g['mean_share']:.2%}.", "",
    ]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    for key, value in FULL.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-spopt", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    base = QUICK if a.quick else FULL
    for key, value in base.items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    a.sizes = [tuple(int(x) for x in size.split("x")) for size in a.cmp_sizes.split(",")]
    return a


def main(argv: list[str] | None = None) -> dict[str, Any]:
    a = _parse(argv)
    result: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, Python "
                   f"{platform.python_version()}",
        "time_limit": a.time_limit, "spopt_limit": a.spopt_limit}
    # Each part is printed as it ends, so a long run is never all lost.
    result["scale"] = scale_part(a)
    print("scale", result["scale"], flush=True)
    result["compare"] = []
    for n_est, n_cand in a.sizes:
        result["compare"].append(compare_part(a, n_est, n_cand))
        print("compare", result["compare"][-1], flush=True)
    result["shares"] = share_part(a)
    text = report(result)
    out = a.out or RESULTS_DIR / ("siting_quick.md" if a.quick else "siting.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    return result


if __name__ == "__main__":
    main()
