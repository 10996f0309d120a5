"""Benchmark: the annual plan, exact (scipy.optimize.milp) against the greedy fallback.

Run from the repository root::

    python bench/bench_schedule.py            # 100 / 500 / 2,000 / 8,000 units × 4 years
    python bench/bench_schedule.py --quick    # a second (used by the tests)

Seeded synthetic programmes like Qinshui's (three years with count targets and
households minimums, a last year taking every remaining required unit, ~20 % optional
2001–2005 units, 2 % of units fixed to a year; unit sizes 1–6 estates, mostly 1).
Targets scale with the number of units so every instance is feasible. Each plan is
checked against the rules (counts in range, minimums met, fixed kept, required units
scheduled) before any time is reported; the report gives wall time, the penalty
(estates above target + optional estates scheduled) and the priority value
Σ priority × (years − index) of both methods, the greedy plan's as a share of the
exact one's.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.programme.catalogue import Programme, YearTarget  # noqa: E402
from gis.programme.schedule import schedule  # noqa: E402


def make_instance(n_units: int, seed: int) -> tuple[pd.DataFrame, Programme]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 1, 1, 2, 2, 3, 4, 6], n_units)
    hh = rng.integers(40, 600, n_units) * sizes
    fixed = pd.array([pd.NA] * n_units, dtype="Int64")
    for u in rng.choice(n_units, max(1, n_units // 50), replace=False):
        fixed[u] = 2021 + int(rng.integers(0, 3))
    required = rng.random(n_units) < 0.8
    units = pd.DataFrame({"unit_id": [f"U{i:05d}" for i in range(n_units)], "n_estates": sizes,
                          "households": hh.astype(float), "floor_area_m2": hh * 80.0,
                          "priority": rng.random(n_units), "fixed_year": fixed,
                          "required": required})
    total = int(sizes.sum())
    shares = (0.10, 0.16, 0.07)
    years = tuple(YearTarget(2021 + i, int(total * s), float(hh.sum() * s * 0.5), None, "bench")
                  for i, s in enumerate(shares)) + (YearTarget(2024, None, None, None, "rest"),)
    prog = Programme("bench", "bench", "", "lianyungang_15min", True, 2024, 6, 6, years,
                     {}, 2021)
    return units, prog


def check(plan, units: pd.DataFrame, prog: Programme) -> list[str]:
    problems = []
    p = plan.units
    for t in prog.years:
        sel = p[p["plan_year"] == t.year]
        if t.estates is not None and not (t.estates <= sel["n_estates"].sum()
                                          <= t.estates + prog.over_target_estates):
            problems.append(f"{t.year}: {sel['n_estates'].sum()} estates")
        if t.households is not None and sel["households"].sum() < t.households:
            problems.append(f"{t.year}: households")
    fixed = p["fixed_year"].notna()
    if (p.loc[fixed, "plan_year"] != p.loc[fixed, "fixed_year"]).any():
        problems.append("fixed year moved")
    if p.loc[p["required"], "plan_year"].isna().any():
        problems.append("required unit unscheduled")
    return problems


def value(plan, prog: Programme) -> float:
    rank = {t.year: len(prog.years) - i for i, t in enumerate(prog.years)}
    p = plan.units.dropna(subset=["plan_year"])
    return float((p["priority"] * p["plan_year"].map(rank).astype(float)).sum())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="docs/benchmarks_schedule.md")
    args = ap.parse_args(argv)
    sizes = [60] if args.quick else [100, 500, 2000, 8000]
    rows, problems = [], []
    for n in sizes:
        units, prog = make_instance(n, seed=n)
        t0 = time.perf_counter()
        exact = schedule(units, prog, method="exact")
        t_exact = time.perf_counter() - t0
        t0 = time.perf_counter()
        greedy = schedule(units, prog, method="greedy")
        t_greedy = time.perf_counter() - t0
        for name, plan in (("exact", exact), ("greedy", greedy)):
            problems += [f"{n} units, {name}: {x}" for x in check(plan, units, prog)]
        rows.append({"units": n, "estates": int(units["n_estates"].sum()),
                     "exact_s": t_exact, "greedy_s": t_greedy,
                     "exact_penalty": exact.overshoot, "greedy_penalty": greedy.overshoot,
                     "greedy_value_share": value(greedy, prog) / value(exact, prog),
                     "exact_method": exact.method})
    lines = ["# Annual plan benchmark: exact MILP against greedy", "",
             f"Python {platform.python_version()}, {platform.machine()}; "
             f"{'quick run' if args.quick else 'full run'}; every plan checked against the "
             f"rules first ({'no problems' if not problems else '; '.join(problems)}).", "",
             "| units | estates | exact (milp) s | greedy s | ratio | exact penalty | greedy "
             "penalty | greedy priority value / exact | method used for exact |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['units']:,} | {r['estates']:,} | {r['exact_s']:.2f} | "
                     f"{r['greedy_s']:.3f} | ×{r['exact_s'] / r['greedy_s']:.0f} | "
                     f"{r['exact_penalty']} | {r['greedy_penalty']} | "
                     f"{r['greedy_value_share']:.3f} | {r['exact_method']} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return {"rows": rows, "problems": problems, "verified": not problems}


if __name__ == "__main__":
    main()
