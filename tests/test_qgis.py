"""Inside a real QGIS (issue 15): the Processing algorithms give the CLI's results, the
GeoPackages open with their style, and a map of the units renders.

All QGIS work happens in ONE headless subprocess (tests/qgis_session.py explains why and
how Debian's QGIS bindings are reached without Debian's numpy). The oracle for every
algorithm is the command line run in this process on the same demo files: same
columns, distances within 0.01 m, same unit membership, same conflicts. The styles are
checked against the data independently: each feature's legend class recomputed with
pandas from its own attributes.

QGIS missing: skipped locally, a failure under CI (scripts/test installs python3-qgis).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon

from gis.cli import cli
from gis.maps.coverage import _MISSING_COLOURS, CATEGORY_COLOURS
from gis.maps.units import _CONSTRAINT_STYLE
from gis.report.qgis_styles import style_units_gpkg
from gis.standards import load_standard

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "demo"
SESSION = ROOT / "tests" / "qgis_session.py"
DEBIAN_QGIS = "/usr/lib/python3/dist-packages"
PNG = ROOT / "docs" / "qgis_units_map.png"
SITING_ARGS = ("--category", "charging", "--k", "3", "--category", "clinic", "--k", "all")
SITES_LAYERS = ("sites", "service_areas", "candidates", "estates")
CONSTRAINTS = {"historic_district": "historic_districts", "historic_building": "historic_buildings",
               "ancient_tree": "ancient_trees", "eco_redline": "eco_redline",
               "development_boundary": "development_boundary", "plan_unit": "plan_units"}


def _qgis_missing() -> str | None:
    probe = ("import numpy, sys; sys.path.append(%r); import qgis.core" % DEBIAN_QGIS)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    return None if res.returncode == 0 else res.stderr.strip().splitlines()[-1]


def _cli(*args: str) -> None:
    res = CliRunner().invoke(cli, [*args, "-q"], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def _frame(path: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer)


@pytest.fixture(scope="session")
def qgis(tmp_path_factory):
    missing = _qgis_missing()
    if missing:
        msg = (f"QGIS Python bindings not importable ({missing}); install Debian's python3-qgis "
               "and qgis-providers (scripts/test does)")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the QGIS tests: {msg}")
        pytest.skip(msg)
    base = tmp_path_factory.mktemp("qgis")
    d = {k: str(DEMO / f"{k}.gpkg") for k in ("estates", "services", "streets", "gates", "rivers")}
    # The oracle: the command line on the same files.
    _cli("coverage", "--estates", d["estates"], "--services", d["services"], "--streets",
         d["streets"], "--gates", d["gates"], "--no-map", "--out", str(base / "cli_cov"))
    barrier_args = ["--barriers", d["rivers"], "--barriers", d["streets"],
                    "--barrier-classes", "主干路"]
    _cli("units", "--estates", d["estates"], *barrier_args, "--out", str(base / "cli_units"))
    # Reviewers' decisions: split the largest joint unit (a CSV, as --decisions takes).
    units0 = gpd.read_file(base / "cli_units" / "units.gpkg", layer="units")
    split_id = str(units0.loc[units0["n_estates"].idxmax(), "unit_id"])
    pd.DataFrame({"unit_id": [split_id], "decision": ["split"]}).to_csv(
        base / "decisions.csv", index=False)
    _cli("units", "--estates", d["estates"], *barrier_args, "--decisions",
         str(base / "decisions.csv"), "--out", str(base / "cli_units_dec"))
    constraint_args = [a for kind, f in CONSTRAINTS.items()
                       for a in (f"--{f.replace('_', '-')}", str(DEMO / f"{f}.gpkg"))]
    _cli("review", "--estates", d["estates"], *barrier_args, *constraint_args, "--lang", "en",
         "--no-map", "--out", str(base / "cli_review"))
    # Siting (issue 13): MCLP for one category, LSCP for another, default candidates.
    _cli("siting", "--estates", d["estates"], "--services", d["services"], "--streets",
         d["streets"], "--gates", d["gates"], *SITING_ARGS, "--no-map",
         "--out", str(base / "cli_siting"))
    _cli("siting", "--estates", d["estates"], "--services", d["services"], "--streets",
         d["streets"], "--gates", d["gates"], *SITING_ARGS, "--lang", "en", "--no-map",
         "--out", str(base / "cli_siting_en"))
    # --invalid skip: one estate's polygon flattened to zero area.
    zero = gpd.read_file(d["estates"])
    x0, y0 = zero.geometry.iloc[3].exterior.coords[0]
    zero.loc[3, "geometry"] = Polygon([(x0, y0), (x0 + 0.001, y0), (x0 + 0.002, y0)])
    zero.to_file(base / "estates_zero.gpkg", driver="GPKG")
    zero_id = str(zero.loc[3, "小区编号"])
    _cli("coverage", "--estates", str(base / "estates_zero.gpkg"), "--services", d["services"],
         "--mode", "straight", "--invalid", "skip", "--no-map", "--out", str(base / "cli_skip"))
    stop = CliRunner().invoke(cli, ["coverage", "--estates", str(base / "estates_zero.gpkg"),
                                    "--services", d["services"], "--mode", "straight",
                                    "--no-map", "--out", str(base / "cli_stop")])
    # Noding forced on: the CLI's --node-crossings (the demo's auto choice leaves it off).
    for flag, folder in (("--node-crossings", "cli_noded"), (None, "cli_auto")):
        _cli("coverage", "--estates", d["estates"], "--services", d["services"], "--streets",
             d["streets"], *([flag] if flag else []), "--no-map", "--out", str(base / folder))
    bad = CliRunner().invoke(cli, ["coverage", "--estates", d["estates"], "--services",
                                   d["estates"], "--mode", "straight", "--no-map", "--out",
                                   str(base / "cli_bad")])
    barriers = {"BARRIERS": [d["rivers"], d["streets"]], "BARRIER_CLASSES": "主干路"}
    coverage_in = {k.upper(): d[k] for k in ("estates", "services", "streets", "gates")}
    job = {
        "runs": {
            "coverage": {"ESTATES": d["estates"], "SERVICES": d["services"],
                         "STREETS": d["streets"], "GATES": d["gates"],
                         "OUTPUT": str(base / "alg_cov")},
            "units": {"ESTATES": d["estates"], **barriers, "OUTPUT": str(base / "alg_units")},
            "review": {"ESTATES": d["estates"], **barriers, "LANG": 1,
                       **{k.upper(): str(DEMO / f"{f}.gpkg") for k, f in CONSTRAINTS.items()},
                       "OUTPUT": str(base / "alg_review")},
        },
        "more_runs": {
            "siting": {**coverage_in, "CATEGORIES": "charging,clinic", "K": "3,all",
                       "OUTPUT": str(base / "alg_siting")},
            "coverage": {"ESTATES": str(base / "estates_zero.gpkg"), "SERVICES": d["services"],
                         "MODE": 1, "INVALID": 1, "OUTPUT": str(base / "alg_skip")},
        },
        "decisions_run": {"ESTATES": d["estates"], **barriers,
                          "DECISIONS": str(base / "decisions.csv"),
                          "OUTPUT": str(base / "alg_units_dec")},
        "decisions_layer_run": {"ESTATES": d["estates"], **barriers,
                                "DECISIONS_LAYER": str(base / "decisions.csv"),
                                "OUTPUT": str(base / "alg_units_dec_layer")},
        "nonode_run": {"ESTATES": d["estates"], "SERVICES": d["services"],
                       "STREETS": d["streets"], "NODING": 1, "OUTPUT": str(base / "alg_noded")},
        "memory_runs": {"units": {"ESTATES": d["estates"],
                                  "OUTPUT": str(base / "alg_units_memory")}},
        "errors": {"coverage": {"ESTATES": d["estates"], "SERVICES": d["estates"], "MODE": 1,
                                "OUTPUT": str(base / "alg_bad")},
                   "coverage_stop": {"ESTATES": str(base / "estates_zero.gpkg"),
                                     "SERVICES": d["services"], "MODE": 1,
                                     "OUTPUT": str(base / "alg_stop")}},
        "cancel": {"ESTATES": d["estates"], "SERVICES": d["services"], "MODE": 1,
                   "OUTPUT": str(base / "alg_cancelled")},
        "styles": {
            "cov_estates": [str(base / "cli_cov" / "coverage.gpkg"), "estates"],
            "cov_services": [str(base / "cli_cov" / "coverage.gpkg"), "services"],
            "units_units": [str(base / "cli_units" / "units.gpkg"), "units"],
            "units_estates": [str(base / "cli_units" / "units.gpkg"), "estates"],
            "units_links": [str(base / "cli_units" / "units.gpkg"), "links"],
            "review_units": [str(base / "cli_review" / "units.gpkg"), "units"],
            "review_conflicts": [str(base / "cli_review" / "units.gpkg"), "conflicts"],
            **{f"constraint_{k}": [str(base / "constraints.gpkg"), k] for k in CONSTRAINTS},
            **{f"sites_{k}": [str(base / "cli_siting" / "sites.gpkg"), k] for k in SITES_LAYERS},
            "sites_en": [str(base / "cli_siting_en" / "sites.gpkg"), "sites"],
        },
        "render": str(base / "cli_units" / "units.gpkg"),
        "png": str(base / "units.png"),
    }
    # Constraint layers under their kinds' names, styled as in the units map.
    for kind, f in CONSTRAINTS.items():
        gpd.read_file(DEMO / f"{f}.gpkg").to_file(base / "constraints.gpkg", layer=kind,
                                                  driver="GPKG")
    _cli("units", "--estates", d["estates"], "--out", str(base / "cli_units_plain"))
    style_units_gpkg(base / "constraints.gpkg", layers=list(CONSTRAINTS))
    job_path = base / "job.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run([sys.executable, str(SESSION), str(job_path)], capture_output=True,
                         text=True, env=env, timeout=900, cwd=base)
    assert res.returncode == 0, res.stderr[-4000:]
    out = json.loads((base / "job.json.out").read_text(encoding="utf-8"))
    PNG.parent.mkdir(exist_ok=True)
    shutil.copyfile(out["render"]["png"], PNG)
    return {"base": base, "out": out, "bad_cli": bad, "stop_cli": stop, "zero_id": zero_id,
            "split_id": split_id}


def test_session_uses_the_projects_numpy(qgis):
    out = qgis["out"]
    assert out["qgis"].startswith("3.")
    assert not out["numpy"].startswith("/usr/lib/python3/dist-packages")


def test_coverage_algorithm_equals_cli(qgis):
    base = qgis["base"]
    assert qgis["out"]["runs"]["coverage"]["ESTATES"].endswith("coverage.gpkg|layername=estates")
    for layer in ("estates", "services"):
        cli_df = _frame(base / "cli_cov" / "coverage.gpkg", layer)
        alg = _frame(base / "alg_cov" / "coverage.gpkg", layer)
        assert list(alg.columns) == list(cli_df.columns)
        assert len(alg) == len(cli_df)
        for col in cli_df.columns:
            if col.startswith("dist_m_"):
                a, c = alg[col].to_numpy(float), cli_df[col].to_numpy(float)
                assert np.array_equal(np.isnan(a), np.isnan(c)), col
                assert np.nanmax(np.abs(a - c), initial=0) <= 0.01, col
            elif col != "geometry":
                pd.testing.assert_series_equal(alg[col], cli_df[col], check_names=False)
    est = _frame(base / "cli_cov" / "coverage.gpkg", "estates")
    dist = [c for c in est.columns if c.startswith("dist_m_")]
    assert len(dist) == len(load_standard().keys)
    assert est[dist].notna().to_numpy().mean() > 0.5  # real distances were compared


def _members(units: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(str(m).split("、")) for m in units["members"]}


def test_units_algorithm_equals_cli(qgis):
    base = qgis["base"]
    cli_u = _frame(base / "cli_units" / "units.gpkg", "units")
    alg_u = _frame(base / "alg_units" / "units.gpkg", "units")
    assert list(alg_u.columns) == list(cli_u.columns)
    assert len(cli_u) > 10 and (cli_u["n_estates"] > 1).sum() > 5  # a real grouping
    assert _members(alg_u) == _members(cli_u)
    for layer, key in (("estates", "estate_id"), ("links", ["estate_a", "estate_b"])):
        c = _frame(base / "cli_units" / "units.gpkg", layer).sort_values(key).reset_index(drop=True)
        a = _frame(base / "alg_units" / "units.gpkg", layer).sort_values(key).reset_index(drop=True)
        assert list(a.columns) == list(c.columns)
        for col in c.columns:
            if col == "geometry":
                continue
            if c[col].dtype.kind == "f":
                assert np.allclose(a[col], c[col], atol=0.01, equal_nan=True), col
            else:
                assert a[col].tolist() == c[col].tolist(), col


def test_review_algorithm_equals_cli(qgis):
    base = qgis["base"]
    for name in ("units.gpkg", "units_source_crs.gpkg"):
        cli_u = _frame(base / "cli_review" / name, "units").set_index("unit_id").sort_index()
        alg_u = _frame(base / "alg_review" / name, "units").set_index("unit_id").sort_index()
        assert list(alg_u.columns) == list(cli_u.columns)
        assert _members(alg_u) == _members(cli_u)
        assert alg_u["n_conflicts"].tolist() == cli_u["n_conflicts"].tolist()
        assert alg_u["conflict_summary_en"].tolist() == cli_u["conflict_summary_en"].tolist()
        c = _frame(base / "cli_review" / name, "conflicts")
        a = _frame(base / "alg_review" / name, "conflicts")
        assert len(c) > 5
        key = ["unit_id", "kind", "feature_name"]
        c, a = (f.sort_values(key).reset_index(drop=True) for f in (c, a))
        assert a[key].values.tolist() == c[key].values.tolist()
        assert np.allclose(a["overlap_m2"], c["overlap_m2"], atol=0.01)


def test_library_error_is_the_clis_one_line(qgis):
    bad = qgis["bad_cli"]
    assert bad.exit_code == 2
    cli_line = bad.output.strip().splitlines()[-1].removeprefix("错误 Error: ")
    kind, message = qgis["out"]["errors"]["coverage"]
    assert kind == "QgsProcessingException"
    assert message == cli_line
    assert not (qgis["base"] / "alg_bad" / "coverage.gpkg").exists()


def test_cancel_stops_before_writing(qgis):
    kind, message = qgis["out"]["cancel"]
    assert kind == "QgsProcessingException" and message.startswith("Cancelled")
    assert not (qgis["base"] / "alg_cancelled" / "coverage.gpkg").exists()


def test_parameters_come_from_the_library(qgis):
    import inspect

    from gis import settings
    from gis.params import Params
    from gis.review import check_units
    from gis.standards import bundled_standards
    from gis.units import UnitCaps, renovation_units

    params = qgis["out"]["params"]
    sig = inspect.signature(renovation_units).parameters
    caps = UnitCaps()
    for alg in ("units", "review"):
        p = params[alg]
        assert p["GAP_M"] == sig["gap_m"].default
        assert p["MIN_FACING_M"] == sig["min_facing_m"].default
        assert p["MAX_HOUSEHOLDS"] == caps.max_households
        assert p["MAX_FLOOR_AREA_M2"] == caps.max_floor_area_m2
        assert p["MAX_ESTATES"] == caps.max_estates
        assert p["INCLUDE_EXTENDED"] == sig["include_extended"].default
    assert params["review"]["TREE_CROWN_M"] == \
        inspect.signature(check_units).parameters["tree_default_crown_m"].default
    assert params["coverage"]["GATE_TOLERANCE_M"] == Params().gate_tolerance_m
    names = bundled_standards()
    assert qgis["out"]["enums"]["STANDARD"] == names
    # Help text is the library's docstrings, not a copy.
    helps = qgis["out"]["help"]
    assert helps["units"]["GAP_M"].startswith("Neighbour rule, metres")
    assert "A gate may lie at most" in helps["coverage"]["GATE_TOLERANCE_M"]
    assert "Crown radius (metres) of trees" in helps["review"]["TREE_CROWN_M"]
    assert helps["units"]["MAX_HOUSEHOLDS"].startswith("household cap (户数上限)")
    assert names[params["coverage"]["STANDARD"]] == settings.default_standard


def test_coverage_gpkg_opens_styled_like_the_map(qgis):
    base = qgis["base"]
    std = load_standard()
    est = qgis["out"]["styles"]["cov_estates"]
    assert est["valid"] and est["renderer"] == "categorizedSymbol"
    labels = [c[1] for c in est["categories"]]
    assert labels[:5] == ["设施齐全", "缺 1 类", "缺 2 类", "缺 3 类", "缺 4 类及以上"]
    assert [c[2] for c in est["categories"][:5]] == list(_MISSING_COLOURS)
    # Oracle: each estate's class from its own n_covered, as the coverage map's legend.
    df = _frame(base / "cli_cov" / "coverage.gpkg", "estates")
    expected = np.minimum(len(std.categories) - df["n_covered"].to_numpy(), 4).astype(str)
    got = [est["per_feature"][str(i)] for i in df["estate_id"]]
    assert got == expected.tolist()
    assert len(set(got)) >= 3  # the demo has estates in several classes
    svc = qgis["out"]["styles"]["cov_services"]
    assert [c[0] for c in svc["categories"]] == list(std.keys)
    assert [c[1] for c in svc["categories"]] == [c.label("zh") for c in std.categories]
    assert [c[2] for c in svc["categories"]] == list(CATEGORY_COLOURS[:len(std.keys)])
    counts = _frame(base / "cli_cov" / "coverage.gpkg", "services")["category"].value_counts()
    assert svc["counts"] == {k: int(v) for k, v in counts.items()}


def test_units_gpkg_opens_styled_and_labelled(qgis):
    base = qgis["base"]
    styles = qgis["out"]["styles"]
    units = styles["units_units"]
    assert units["renderer"] == "categorizedSymbol" and units["labels"]
    df = _frame(base / "cli_units" / "units.gpkg", "units")
    expected = np.where(df["n_estates"] > 1, "joint", "single")
    assert [units["per_feature"][u] for u in df["unit_id"]] == expected.tolist()
    first = df.iloc[0]
    hh = "?" if np.isnan(first["households"]) else f"{first['households']:,.0f}"
    assert units["first_label"] == [first["unit_id"],
                                    f"{first['unit_id']}\n{first['n_estates']} 个小区，{hh} 户"]
    est = styles["units_estates"]
    edf = _frame(base / "cli_units" / "units.gpkg", "estates")
    known = {"eligible", "eligible_extended", "unknown", "assumed_eligible", "not_analysed"}
    expected = [s if s in known else "other" for s in edf["eligibility"]]
    assert [est["per_feature"][i] for i in edf["estate_id"]] == expected
    assert None not in est["per_feature"].values()  # every estate is drawn
    links = styles["units_links"]
    ldf = _frame(base / "cli_units" / "units.gpkg", "links")
    assert links["counts"] == {k: int(v) for k, v in pd.Series(
        np.where(ldf["linked"], "linked", "not_linked")).value_counts().items()}
    # The review's units: red when in conflict, English labels with --lang en.
    rev = styles["review_units"]
    rdf = _frame(base / "cli_review" / "units.gpkg", "units")
    want = np.where(rdf["n_conflicts"].fillna(0) > 0, "conflict",
                    np.where(rdf["n_estates"] > 1, "joint", "single"))
    assert [rev["per_feature"][u] for u in rdf["unit_id"]] == want.tolist()
    assert "conflict" in want
    assert "households" in rev["first_label"][1]
    conflicts = styles["review_conflicts"]
    assert conflicts["categories"][0][2] == "#d7301f"
    assert conflicts["counts"] == {"conflict": conflicts["n_features"]}


def test_any_provider_memory_layers(qgis):
    """Estates given as a memory layer (no file behind it): the same units as the CLI."""
    base = qgis["base"]
    cli_u = _frame(base / "cli_units_plain" / "units.gpkg", "units")
    mem_u = _frame(base / "alg_units_memory" / "units.gpkg", "units")
    assert list(mem_u.columns) == list(cli_u.columns)
    assert _members(mem_u) == _members(cli_u)
    assert np.allclose(mem_u.set_index("unit_id").sort_index()["floor_area_m2"],
                       cli_u.set_index("unit_id").sort_index()["floor_area_m2"], equal_nan=True)


def test_constraint_layers_styled_as_in_the_units_map(qgis):
    styles = qgis["out"]["styles"]
    for kind, (colour, zh, _en) in _CONSTRAINT_STYLE.items():
        info = styles[f"constraint_{kind}"]
        assert info["renderer"] == "categorizedSymbol"
        assert info["categories"] == [["constraint", zh, colour]]
        assert info["counts"] == {"constraint": info["n_features"]}


def test_units_map_renders(qgis):
    render = qgis["out"]["render"]
    # Units, links and estates drawn: far more than a few stray pixels, far from full.
    assert 0.05 < render["coloured_samples"] / render["samples"] < 0.9
    assert PNG.stat().st_size > 10_000


def test_siting_algorithm_equals_cli(qgis):
    """The siting algorithm chooses the CLI's sites, in the same order, with the same objective."""
    base = qgis["base"]
    assert qgis["out"]["runs"]["siting_more"]["SITES"].endswith("sites.gpkg|layername=sites")
    cli_s = _frame(base / "cli_siting" / "sites.gpkg", "sites")
    alg_s = _frame(base / "alg_siting" / "sites.gpkg", "sites")
    assert list(alg_s.columns) == list(cli_s.columns)
    assert set(cli_s["category"]) == {"charging", "clinic"}
    assert (cli_s["category"] == "charging").sum() == 3  # MCLP k=3
    key = ["category", "order", "candidate_id", "model", "method", "new_estates"]
    assert alg_s[key].values.tolist() == cli_s[key].values.tolist()
    for col in ("new_households", "cum_households", "household_rate_after", "hop_m"):
        assert np.allclose(alg_s[col], cli_s[col], atol=0.01, equal_nan=True), col
    # Same objective: households newly covered per category (MCLP), sites (LSCP), and the
    # estates covered after, recomputed from the estates layer.
    for cat in ("charging", "clinic"):
        a = alg_s[alg_s["category"] == cat]["new_households"].sum()
        c = cli_s[cli_s["category"] == cat]["new_households"].sum()
        assert a == pytest.approx(c) and c > 0
    cli_e = _frame(base / "cli_siting" / "sites.gpkg", "estates").set_index("estate_id")
    alg_e = _frame(base / "alg_siting" / "sites.gpkg", "estates").set_index("estate_id")
    for cat in ("charging", "clinic"):
        col = f"covered_after_{cat}"
        assert alg_e[col].sort_index().tolist() == cli_e[col].sort_index().tolist()
        newly = cli_e[col] & ~cli_e[f"covered_{cat}"]
        assert cli_e.loc[newly, "households"].sum() == pytest.approx(
            cli_s[cli_s["category"] == cat]["new_households"].sum())
    assert len(_frame(base / "alg_siting" / "sites.gpkg", "candidates")) == \
        len(_frame(base / "cli_siting" / "sites.gpkg", "candidates"))
    enums = qgis["out"]["siting_enums"]
    assert enums["SOLVER"] == ["auto", "exact", "greedy"]
    params = qgis["out"]["params"]["siting"]
    import inspect

    from gis.candidates import network_candidates
    from gis.siting import site_facilities

    sig = inspect.signature(site_facilities).parameters
    assert params["TIME_LIMIT_S"] == sig["time_limit_s"].default
    assert enums["SOLVER"][params["SOLVER"]] == sig["solver"].default
    assert params["SPACING_M"] == inspect.signature(network_candidates).parameters[
        "spacing_m"].default


def test_sites_gpkg_opens_styled(qgis):
    """sites.gpkg's layers open with their default styles: sites by category in the maps'
    colours and labelled with order and households, dashed areas, grey candidates, estates
    as in coverage.gpkg."""
    base = qgis["base"]
    std = load_standard()
    styles = qgis["out"]["styles"]
    sites = styles["sites_sites"]
    assert sites["renderer"] == "categorizedSymbol" and sites["labels"]
    df = _frame(base / "cli_siting" / "sites.gpkg", "sites")
    cats = list(dict.fromkeys(df["category"]))
    assert [c[0] for c in sites["categories"]] == cats
    assert [c[2] for c in sites["categories"]] == [
        CATEGORY_COLOURS[list(std.keys).index(k) % len(CATEGORY_COLOURS)] for k in cats]
    assert sites["categories"][0][1] == f"建议新增{std.category(cats[0]).label('zh')}"
    assert sites["counts"] == {k: int(v) for k, v in df["category"].value_counts().items()}
    first = df.iloc[0]
    assert sites["first_label"] == [first["candidate_id"],
                                    f"第{first['order']}处 +{first['new_households']:,.0f} 户"]
    en = styles["sites_en"]
    df_en = _frame(base / "cli_siting_en" / "sites.gpkg", "sites").iloc[0]
    assert en["first_label"][1] == f"#{df_en['order']} +{df_en['new_households']:,.0f} households"
    areas = styles["sites_service_areas"]
    assert areas["renderer"] == "categorizedSymbol"
    assert areas["counts"] == {k: 1 for k in cats}
    cand = styles["sites_candidates"]
    assert cand["categories"][0][2] == "#969696"
    assert cand["counts"] == {"candidate": cand["n_features"]} and cand["n_features"] > 50
    est = styles["sites_estates"]
    edf = _frame(base / "cli_siting" / "sites.gpkg", "estates")
    expected = np.minimum(len(std.categories) - edf["n_covered"].to_numpy(), 4).astype(str)
    assert [est["per_feature"][str(i)] for i in edf["estate_id"]] == expected.tolist()


def test_library_parameters_in_the_tools_words(monkeypatch):
    """No QGIS needed: the mapping of library parameters to a tool's parameters."""
    monkeypatch.syspath_prepend(str(ROOT / "qgis_plugin"))
    from gis_estate_renewal.words import in_qgis_words

    tool = {"INVALID": "Invalid geometries 无效几何 (stop / skip)",
            "NODING": "Join crossing streets 路网打断 (auto / on / off)", "GAP_M": "gap m"}
    assert in_qgis_words('rows 4 left out (`invalid="skip"`).', tool.get) == \
        "rows 4 left out (“Invalid geometries 无效几何 (stop / skip)” = skip)."
    assert in_qgis_words("pass `node_crossings=False` to keep", tool.get) == \
        "pass “Join crossing streets 路网打断 (auto / on / off)” = off to keep"
    assert in_qgis_words("raise `gap_m`", tool.get) == "raise “gap m”"
    # A parameter the tool does not have stays as the library names it.
    assert in_qgis_words("Pass `input_crs` (e.g. EPSG:4490)", tool.get) == \
        "Pass `input_crs` (e.g. EPSG:4490)"


def test_invalid_skip_gives_the_clis_skip_result(qgis):
    """A zero-area estate: stop gives the CLI's one-line error; skip gives the CLI's result
    (the estate left out of the analysis, every other distance the same)."""
    base = qgis["base"]
    stop = qgis["stop_cli"]
    assert stop.exit_code == 2
    kind, message = qgis["out"]["errors"]["coverage_stop"]
    assert kind == "QgsProcessingException"
    cli_line = stop.output.strip().splitlines()[-1].removeprefix("错误 Error: ")
    # The same line, naming the tool's parameter where the CLI names its flag.
    assert "`--invalid skip`" in cli_line
    assert message == cli_line.replace("`--invalid skip`",
                                       "“Invalid geometries 无效几何 (stop / skip)” = skip")
    assert "rows 4 " in message  # the 4th row, numbered as the CLI numbers it
    cli_df = _frame(base / "cli_skip" / "coverage.gpkg", "estates")
    alg = _frame(base / "alg_skip" / "coverage.gpkg", "estates")
    assert list(alg.columns) == list(cli_df.columns)
    assert len(alg) == len(cli_df)
    assert "analysed" in cli_df
    skipped = cli_df.loc[~cli_df["analysed"].astype(bool), "estate_id"].astype(str).tolist()
    assert skipped == [qgis["zero_id"]]
    assert alg.loc[~alg["analysed"].astype(bool), "estate_id"].astype(str).tolist() == skipped
    for col in [c for c in cli_df.columns if c.startswith("dist_m_")]:
        a, c = alg[col].to_numpy(float), cli_df[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(c)), col
        assert np.nanmax(np.abs(a - c), initial=0) <= 0.01, col


def test_noding_on_equals_the_clis_node_crossings(qgis):
    base = qgis["base"]
    assert qgis["out"]["enums"]["NODING"] == ["auto", "on", "off"]
    cli_df = _frame(base / "cli_noded" / "coverage.gpkg", "estates")
    auto = _frame(base / "cli_auto" / "coverage.gpkg", "estates")
    alg = _frame(base / "alg_noded" / "coverage.gpkg", "estates")
    cols = [c for c in cli_df.columns if c.startswith("dist_m_")]
    # The option matters on the demo: joining the crossings changes some walks.
    assert np.nanmax(np.abs(cli_df[cols].to_numpy(float) - auto[cols].to_numpy(float))) > 1
    for col in cols:
        a, c = alg[col].to_numpy(float), cli_df[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(c)), col
        assert np.nanmax(np.abs(a - c), initial=0) <= 0.01, col


def test_decisions_file_gives_the_clis_result(qgis):
    """A reviewer's "split" of the largest joint unit: the algorithm splits it as
    `gis units --decisions` does (and the result differs from the undecided one)."""
    base = qgis["base"]
    split = qgis["split_id"]
    plain = _frame(base / "cli_units" / "units.gpkg", "units")
    cli_u = _frame(base / "cli_units_dec" / "units.gpkg", "units")
    assert split in set(plain["unit_id"]) and split not in set(cli_u["unit_id"])
    assert _members(cli_u) != _members(plain)
    for folder in ("alg_units_dec", "alg_units_dec_layer"):  # as a file, as a table layer
        alg_u = _frame(base / folder / "units.gpkg", "units")
        assert list(alg_u.columns) == list(cli_u.columns)
        assert _members(alg_u) == _members(cli_u), folder
        assert sorted(alg_u["decision"].fillna("").tolist()) == \
            sorted(cli_u["decision"].fillna("").tolist())
    assert (cli_u["decision"] == "split").sum() >= 2


# -- the run record (issue 12 items 3-4): the tools call the CLI's workflows -----------------

#: run → (workflow, algorithm output folder, CLI output folder, GeoPackages holding the
#: record, XLSX holding it)
RECORDED = {
    "coverage": ("coverage", "alg_cov", "cli_cov", ("coverage.gpkg",), None),
    "units": ("units", "alg_units", "cli_units", ("units.gpkg",), None),
    "units_decisions": ("units", "alg_units_dec", "cli_units_dec", ("units.gpkg",), None),
    "review": ("review", "alg_review", "cli_review", ("units.gpkg", "units_source_crs.gpkg"),
               "review_en.xlsx"),
    "siting": ("siting", "alg_siting", "cli_siting", ("sites.gpkg",), "siting_report.xlsx"),
}


def _same_run(alg: dict, cli_record: dict) -> None:
    """The records of two runs on the same inputs: same workflow, parameters, standard
    (name and file digest), analysis CRS, options, and inputs (names, sources, row counts
    and digests: the layers QGIS copied reached the workflow as the files the CLI read)."""
    def options(record):  # the CLI's unset --node-crossings (None) is the tool's "auto"
        return {k: "auto" if k == "node_crossings" and v is None else v
                for k, v in record["options"].items()}

    assert alg["workflow"] == cli_record["workflow"]
    assert alg["params"] == cli_record["params"]
    assert alg["standard"] == cli_record["standard"] and alg["standard"]["name"]
    assert alg["crs"] == cli_record["crs"]
    assert options(alg) == options(cli_record)
    for key in ("inputs", "review_inputs"):
        a, c = alg.get(key) or {}, cli_record.get(key) or {}
        assert sorted(a) == sorted(c), key
        for name in c:
            assert (a[name]["rows"], a[name]["source"], a[name]["sha256"]) == \
                (c[name]["rows"], c[name]["source"], c[name]["sha256"]), name
            assert c[name]["rows"] > 0


@pytest.mark.parametrize("run", sorted(RECORDED))
def test_outputs_carry_the_clis_run_record(qgis, run):
    """Each output of the tool holds the run record, equal to the command line's record
    for the same inputs (the oracle: `gis coverage/units/review/siting` on the same files,
    read back with `read_metadata` / `read_record_sheet`), its time apart."""
    from gis.workflows import read_metadata, read_record_sheet

    base = qgis["base"]
    workflow, alg_dir, cli_dir, gpkgs, xlsx = RECORDED[run]
    cli_record = read_metadata(base / cli_dir / gpkgs[0])
    assert cli_record is not None and cli_record["workflow"] == workflow
    assert cli_record["options"].get("decisions", False) == (run == "units_decisions")
    for name in gpkgs:
        alg = read_metadata(base / alg_dir / name)
        assert alg is not None, name
        _same_run(alg, cli_record)
    if xlsx:
        cli_sheet = read_record_sheet(base / cli_dir / xlsx)
        alg_sheet = read_record_sheet(base / alg_dir / xlsx)
        assert alg_sheet is not None and cli_sheet is not None
        _same_run(alg_sheet, cli_sheet)
        assert alg_sheet["params"] == read_metadata(base / alg_dir / gpkgs[0])["params"]


def test_units_record_names_the_barrier_classes_set_in_the_tool(qgis):
    """The record says what the run used: the tool's barrier classes (主干路 only, not the
    default 主干路 + 快速路) and the reviewed constraint layers with their rows."""
    from gis.params import Params
    from gis.workflows import read_metadata

    base = qgis["base"]
    for folder in ("alg_units", "alg_review"):
        record = read_metadata(base / folder / "units.gpkg")
        assert record["params"]["barrier_classes"] == ["主干路"]
        assert list(Params().barrier_classes) != ["主干路"]
    # Left at its default, the tool's classes are the command line's (`Params`).
    assert qgis["out"]["params"]["units"]["BARRIER_CLASSES"] == ",".join(Params().barrier_classes)
    memory = read_metadata(base / "alg_units_memory" / "units.gpkg")
    assert memory["params"]["barrier_classes"] == list(Params().barrier_classes)
    review = read_metadata(base / "alg_review" / "units.gpkg")
    assert sorted(k for k in review["review_inputs"] if k != "units") == sorted(CONSTRAINTS)
    for kind, f in CONSTRAINTS.items():
        assert review["review_inputs"][kind]["rows"] == len(gpd.read_file(DEMO / f"{f}.gpkg"))


PLUGIN = ROOT / "qgis_plugin" / "gis_estate_renewal"
#: What the plugin may import from `gis`: what the command line may (workflows, readers,
#: writers, parameters, errors, text, console summaries; tests/test_cli_workflows.py) ...
#: and the runtime knobs (the default standard) ...
PLUGIN_WHOLE = {"gis.settings"}
#: ... and, from analysis modules, names that only DECLARE the tools' parameters (defaults,
#: help text, labels): never called (`plugin_calls_declarations`).
DECLARATIONS = {
    "gis.adjacency": {"select_barriers"},
    "gis.candidates": {"network_candidates"},
    "gis.coverage": {"living_circle"},
    "gis.review": {"CONSTRAINT_KINDS", "KIND_LABELS", "check_units"},
    "gis.units": {"CAP_LABELS", "UnitCaps", "renovation_units"},
    "gis": {"siting"},  # `from gis import siting as siting_lib`: Solver, docstrings
}
#: The programme tools run the plan on frames (`gis.programme.plan`): the programme has no
#: workflow yet (issue 12: "later siting and programme runs").
NOT_YET = {"programme.py"}


def plugin_analysis_imports(source: str) -> list[str]:
    """Imports of ``source`` the plugin may not make (see the sets above)."""
    from test_cli_workflows import READERS, WHOLE

    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gis":
            whole = any(node.module == m or node.module.startswith(m + ".")
                        for m in WHOLE | PLUGIN_WHOLE)
            allowed = READERS.get(node.module, set()) | DECLARATIONS.get(node.module, set())
            if node.module == "gis":  # `from gis import settings`: a whole module
                allowed |= {m.removeprefix("gis.") for m in WHOLE | PLUGIN_WHOLE}
            bad += [f"{node.module}.{a.name}" for a in node.names
                    if not whole and a.name not in allowed]
        elif isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("gis.")
                    and not any(a.name == m or a.name.startswith(m + ".")
                                for m in WHOLE | PLUGIN_WHOLE)]
    return bad


def plugin_calls_declarations(source: str) -> list[str]:
    """Calls of a declaration-only name (or of anything reached through it:
    ``siting_lib.site_facilities(...)``) in ``source``."""
    names = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in DECLARATIONS:
            names.update({a.asname or a.name: a.name for a in node.names
                          if a.name in DECLARATIONS[node.module]})
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in names:
                bad.append(ast.unparse(node.func))
    return bad


def test_the_plugin_calls_no_analysis_module():
    """No QGIS needed: the plugin parses parameters, converts layers, calls a workflow and
    writes; the analysis is the library's (the same check as the command line's)."""
    files = sorted(p for p in PLUGIN.glob("*.py") if p.name not in NOT_YET)
    assert {p.name for p in files} >= {"algorithms.py", "frames.py", "library.py", "words.py"}
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert plugin_analysis_imports(source) == [], path.name
        assert plugin_calls_declarations(source) == [], path.name


def test_the_plugin_check_finds_analysis_calls():
    """The checks above can fail: an analysis import, a call of a declaration-only name,
    a call through a declared module."""
    assert plugin_analysis_imports(
        "from gis.coverage import living_circle, Coverage\nfrom gis.crs import to_metric\n"
        "import gis.units\nfrom gis.workflows import units_run\nfrom gis import tiles\n"
        "from gis.layers import read_estates\nfrom gis import settings\n") == [
        "gis.coverage.Coverage", "gis.crs.to_metric", "gis.units", "gis.tiles"]
    assert plugin_calls_declarations(
        "from gis.coverage import living_circle\nfrom gis import siting as s\n"
        "from gis.units import UnitCaps\n"
        "doc(living_circle, 'mode')\nliving_circle(a, b)\ns.site_facilities(c)\n"
        "UnitCaps().max_estates\n") == ["living_circle", "s.site_facilities", "UnitCaps"]
