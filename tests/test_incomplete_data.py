"""Incomplete survey data (issue 18): every unknown said aloud, nothing dropped silently.

Estates without a build year, partly unknown households / floor area, a barrier layer
without class fields and zero-area polygons with and without ``--invalid skip``: each
checked for the status, the message and the outputs. The property test checks that
``--invalid skip`` gives the remaining estates exactly the results of a run on the
cleaned layer (distances to 0.01 m, unit membership).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import DEMO, METRIC, random_town
from gis.adjacency import crossed_barriers, neighbour_links, select_barriers
from gis.cli import cli
from gis.coverage import living_circle
from gis.eligibility import assess_eligibility
from gis.errors import GeometryError, InputError
from gis.layers import read_barriers, read_estates, read_gates, read_services, read_streets
from gis.review import read_constraint
from gis.units import UnitCaps, form_units, renovation_units


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def demo_estates() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO / "estates.gpkg")


def collapse(gdf: gpd.GeoDataFrame, rows: list[int]) -> gpd.GeoDataFrame:
    """Turn ``rows`` into zero-area polygons (a ring folded back on itself), as OSM exports have."""
    out = gdf.copy()
    for r in rows:
        x, y = out.geometry.iloc[r].exterior.coords[0]
        out.loc[out.index[r], "geometry"] = shapely.Polygon(
            [(x, y), (x + 0.0002, y), (x + 0.0001, y), (x, y)])
    return out


# --- 1. unknown eligibility -------------------------------------------------------------


def test_no_build_year_is_unknown_not_ineligible(standard):
    est = demo_estates().drop(columns="建成年份")
    a = assess_eligibility(read_estates_frame(est), standard)
    shanty = a["shantytown"].to_numpy()
    assert (a.loc[~shanty, "eligibility"] == "unknown").all()
    assert (a.loc[shanty, "eligibility"] == "shantytown").all()  # exclusions still decide
    assert not a["eligible"].any()
    assert a.loc[~shanty, "eligibility_reason"].str.contains("建成年份缺失").all()
    b = assess_eligibility(read_estates_frame(est), standard, assume_unknown_eligible=True)
    assert (b.loc[~shanty, "eligibility"] == "assumed_eligible").all()
    assert b["eligible"].sum() == (~shanty).sum()
    assert b.loc[~shanty, "eligibility_reason_en"].str.contains("ASSUMED").all()


def read_estates_frame(est: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The demo columns renamed as `read_estates` would, without a file."""
    names = {"小区编号": "estate_id", "小区名称": "name", "建成年份": "build_year", "户数": "households",
             "建筑面积": "floor_area_m2", "棚改计划": "shantytown"}
    out = est.rename(columns=names)
    out["shantytown"] = out["shantytown"] == "是"
    return out


def test_units_without_build_years_say_so_first_and_how_to_fix(tmp_path):
    est = demo_estates().drop(columns=["建成年份", "户数", "建筑面积"])
    est.to_file(tmp_path / "noyear.gpkg")
    result = run(["units", "--estates", tmp_path / "noyear.gpkg", "--out", tmp_path / "o", "-q"])
    assert result.exit_code == 0, result.output
    summary = result.output.split("摘要：", 1)[1].strip().splitlines()
    n, shanty = len(est), int((est["棚改计划"] == "是").sum())
    # Most are unknown: the first summary line says so, with the fix.
    assert summary[0].strip().startswith(f"{n} 个小区中 {n - shanty} 个无法判定是否纳入改造")
    assert "补录建成年份" in summary[0] and "`--assume-unknown-eligible`" in summary[0]
    assert f"未知 {n - shanty} 个" in summary[1]
    members = pd.read_csv(tmp_path / "o" / "unit_members.csv", encoding="utf-8-sig")
    assert members["改造资格"].str.startswith("未知").sum() == n - shanty
    report = (tmp_path / "o" / "units_report.md").read_text(encoding="utf-8")
    assert "## 改造资格未知（建成年份缺失）" in report and f"共 {n - shanty} 个小区" in report
    layer = gpd.read_file(tmp_path / "o" / "units.gpkg", layer="estates")
    assert (layer["eligibility"] == "unknown").sum() == n - shanty

    en = run(["units", "--estates", tmp_path / "noyear.gpkg", "--assume-unknown-eligible",
              "--lang", "en", "--out", tmp_path / "a", "-q"])
    assert en.exit_code == 0, en.output
    assert f"of which {n - shanty} ASSUMED" in en.output
    units = gpd.read_file(tmp_path / "a" / "units.gpkg", layer="units")
    assert units["assumed_members"].sum() == n - shanty
    assert units["n_estates"].sum() == n - shanty
    members = pd.read_csv(tmp_path / "a" / "unit_members.csv", encoding="utf-8-sig")
    assert members["Eligibility"].str.contains("ASSUMED").sum() == n - shanty


def test_review_map_and_report_count_unknown_estates(tmp_path):
    est = demo_estates()
    unknown_ids = est["小区编号"].iloc[:20]
    est.loc[est.index[:20], "建成年份"] = None
    est.to_file(tmp_path / "e.gpkg")
    result = run(["review", "--estates", tmp_path / "e.gpkg", "--out", tmp_path / "r", "-q"])
    assert result.exit_code == 0, result.output
    shanty = (est["棚改计划"].iloc[:20] == "是").sum()
    report = (tmp_path / "r" / "review.md").read_text(encoding="utf-8")
    assert f"| 未知：建成年份缺失 | {20 - shanty} |" in report
    assert "## 改造资格未知（建成年份缺失）" in report
    html = (tmp_path / "r" / "units_map.html").read_text(encoding="utf-8")
    assert f"改造资格未知：建成年份缺失，待补录（{20 - shanty} 个）" in html
    layer = gpd.read_file(tmp_path / "r" / "units.gpkg", layer="estates").set_index("estate_id")
    assert set(layer.index[layer["eligibility"] == "unknown"]) <= set(unknown_ids)


# --- 3. unknown stays unknown -----------------------------------------------------------


def row_estates(hh, fa) -> gpd.GeoDataFrame:
    """A row of touching 50 m squares, E0–E(n-1), all linked to their neighbours."""
    n = len(hh)
    return gpd.GeoDataFrame(
        {"estate_id": [f"E{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)],
         "households": hh, "floor_area_m2": fa, "build_year": 1990},
        geometry=[shapely.box(500_000 + 50 * i, 3_800_000, 500_050 + 50 * i, 3_800_050)
                  for i in range(n)], crs=METRIC)


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 900)),
                          st.one_of(st.none(), st.integers(100, 90_000))), min_size=1, max_size=9))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_unit_totals_unknown_when_any_member_is(values):
    hh = [np.nan if h is None else float(h) for h, _ in values]
    fa = [np.nan if f is None else float(f) for _, f in values]
    est = row_estates(hh, fa)
    caps = UnitCaps(max_households=1500, max_floor_area_m2=150_000, max_estates=4)
    result = form_units(est, neighbour_links(est), caps=caps)
    info = est.set_index("estate_id")
    for r in result.units.itertuples():
        ids = r.members.split("、")
        h, f = info.loc[ids, "households"], info.loc[ids, "floor_area_m2"]
        # Oracle: the plain sums with NaN propagating, and the sums of what is known.
        assert (np.isnan(r.households) and h.isna().any()) or r.households == h.sum()
        assert (np.isnan(r.floor_area_m2) and f.isna().any()) or \
            r.floor_area_m2 == pytest.approx(f.sum(), abs=0.05)
        assert r.households_known == h.sum(skipna=True)
        assert r.households_unknown_n == h.isna().sum()
        assert r.floor_area_unknown_n == f.isna().sum()
        unchecked = set(filter(None, r.caps_unchecked.split(",")))
        checked = set(filter(None, r.caps_checked.split(",")))
        assert "max_estates" in checked
        assert ("max_households" in unchecked) == (h.isna().any() and h.sum() <= 1500)
        assert ("max_floor_area_m2" in unchecked) == (f.isna().any() and f.sum() <= 150_000)
        assert checked | unchecked == {"max_households", "max_floor_area_m2", "max_estates"}
        assert r.size_checked == (not unchecked)


def test_partly_unknown_units_flagged_in_review_outputs(tmp_path):
    est = demo_estates()
    est.loc[est.index[:30], "户数"] = None
    est.loc[est.index[30:40], "建筑面积"] = None
    est.to_file(tmp_path / "e.gpkg")
    result = run(["review", "--estates", tmp_path / "e.gpkg", "--out", tmp_path / "r", "-q"])
    assert result.exit_code == 0, result.output
    units = gpd.read_file(tmp_path / "r" / "units.gpkg", layer="units")
    members = gpd.read_file(tmp_path / "r" / "units.gpkg", layer="estates")
    by_unit = members.dropna(subset=["unit_id"]).groupby("unit_id")
    hh_unknown = by_unit["households"].apply(lambda s: s.isna().any())
    fa_unknown = by_unit["floor_area_m2"].apply(lambda s: s.isna().any())
    units = units.set_index("unit_id")
    assert hh_unknown.any() and fa_unknown.any()
    assert units.loc[hh_unknown[hh_unknown].index, "households"].isna().all()
    assert units.loc[fa_unknown[fa_unknown].index, "floor_area_m2"].isna().all()  # not 0
    assert (units.loc[~fa_unknown.reindex(units.index), "floor_area_m2"] > 0).all()
    assert (~units["size_checked"]).sum() == (hh_unknown | fa_unknown).sum()
    sheet = pd.read_excel(tmp_path / "r" / "review.xlsx", sheet_name="审查表")
    assert (sheet["规模已全部核验"] == "否（成员数据未知）").sum() == (hh_unknown | fa_unknown).sum()
    report = (tmp_path / "r" / "review.md").read_text(encoding="utf-8")
    assert "## 规模未能核验的单元" in report
    assert "个单元的规模未能全部核验" in result.output
    html = (tmp_path / "r" / "units_map.html").read_text(encoding="utf-8")
    assert "虚线：规模未能全部核验（成员数据未知）" in html and '"8 5"' in html


# --- 2. barrier layers that cannot be read as asked ------------------------------------


def test_barrier_layer_without_class_field_stops_naming_its_fields(tmp_path):
    roads = gpd.read_file(DEMO / "streets.gpkg")[["道路名称", "geometry"]]
    roads.to_file(tmp_path / "roads.gpkg")
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["units", "--estates", str(DEMO / "estates.gpkg"),
                                      "--barriers", str(tmp_path / "roads.gpkg"),
                                      "--out", str(out), "-q"])
    assert result.exit_code == 2
    error = [line for line in result.output.splitlines() if line.startswith("错误 Error:")]
    assert len(error) == 1
    assert re.search(r"roads.gpkg: `--barrier-classes 主干路,快速路` needs a road-class field .* "
                     r"the layer's fields are: 道路名称; .*`--barrier-classes all`", error[0])
    assert not out.exists() or not any(out.iterdir())


def test_barrier_classes_all_uses_every_feature_and_counts_them(tmp_path):
    # Two estates 8 m apart with a lane between them: linked until the lane is a barrier.
    est = gpd.GeoDataFrame({"小区编号": ["A", "B"], "建成年份": [1990, 1992], "户数": [100, 120]},
                           geometry=[shapely.box(0, 0, 60, 60), shapely.box(68, 0, 128, 60)],
                           crs=METRIC).translate(500_000, 3_800_000)
    est = gpd.GeoDataFrame({"小区编号": ["A", "B"], "建成年份": [1990, 1992], "户数": [100, 120]},
                           geometry=est.values, crs=METRIC)
    lane = gpd.GeoDataFrame({"名称": ["小巷", "远路"]}, geometry=[
        shapely.LineString([(500_064, 3_799_990), (500_064, 3_800_070)]),
        shapely.LineString([(500_000, 3_800_500), (500_100, 3_800_500)])], crs=METRIC)
    est.to_file(tmp_path / "e.gpkg")
    lane.to_file(tmp_path / "lane.gpkg")
    base = ["units", "--estates", tmp_path / "e.gpkg", "--barriers", tmp_path / "lane.gpkg", "-q"]
    stopped = run([*base, "--out", tmp_path / "x"])
    assert stopped.exit_code == 2
    ok = run([*base, "--barrier-classes", "all", "--out", tmp_path / "o"])
    assert ok.exit_code == 0, ok.output
    assert "障碍图层 lane.gpkg：2 个要素中 2 个作为障碍（全部要素（`--barrier-classes all`）），1 对相邻小区因此未联动" in ok.output
    links = gpd.read_file(tmp_path / "o" / "units.gpkg", layer="links")
    assert len(links) == 1 and not links["linked"].iloc[0]
    assert crossed_barriers(links["crossed"].iloc[0]) == [("lane", "小巷")]
    report = (tmp_path / "o" / "units_report.md").read_text(encoding="utf-8")
    assert "障碍图层 lane.gpkg：2 个要素中 2 个作为障碍" in report


def test_barrier_classes_matching_nothing_warn_loudly():
    layer = read_barriers(DEMO / "streets.gpkg")
    with pytest.warns(UserWarning, match=r"no feature matches road class 高速公路 .*主干路 ×"):
        chosen, info = select_barriers(layer, source="streets.gpkg", road_classes=("高速公路",))
    assert len(chosen) == 0 and info.barriers == 0 and info.features == len(layer)
    chosen, info = select_barriers(layer, source="streets.gpkg", road_classes=("主干路",))
    assert info.barriers == (layer["road_class"] == "主干路").sum() == len(chosen) > 0


# --- 4. skip or stop on invalid features ------------------------------------------------


def test_zero_area_estates_stop_by_default_and_are_listed_with_skip(tmp_path):
    est = collapse(demo_estates(), [4, 9])
    est.to_file(tmp_path / "e.gpkg")
    layers = ["--services", DEMO / "services.gpkg", "--streets", DEMO / "streets.gpkg",
              "--gates", DEMO / "gates.gpkg", "--no-map", "-q"]
    stop = CliRunner().invoke(cli, [str(a) for a in ["coverage", "--estates", tmp_path / "e.gpkg",
                                                     *layers, "--out", tmp_path / "stop"]])
    assert stop.exit_code == 2
    assert "e.gpkg: rows 5, 10 are invalid and have no area once repaired" in stop.output
    assert not (tmp_path / "stop").exists() or not any((tmp_path / "stop").iterdir())

    skip = run(["coverage", "--estates", tmp_path / "e.gpkg", *layers, "--invalid", "skip",
                "--out", tmp_path / "skip"])
    assert skip.exit_code == 0, skip.output
    assert "未分析：2 行输入数据因几何缺失或无法修复而未参与分析（小区 2 行）" in skip.output
    ids = est["小区编号"].iloc[[4, 9]].tolist()
    layer = gpd.read_file(tmp_path / "skip" / "coverage.gpkg", layer="estates")
    assert len(layer) == len(est)  # nothing disappears
    gone = layer.set_index("estate_id").loc[ids]
    assert not gone["analysed"].any()
    assert gone["not_analysed_reason"].str.contains("面积为零").all()
    assert gone[[c for c in layer.columns if c.startswith("dist_m_")]].isna().all().all()
    table = pd.read_csv(tmp_path / "skip" / "coverage.csv", encoding="utf-8-sig")
    assert table.set_index("小区编号").loc[ids, "未分析原因"].str.contains("面积为零").all()
    report = (tmp_path / "skip" / "gap_report.md").read_text(encoding="utf-8")
    assert f"| estates | e.gpkg | 5 | {ids[0]} | 面积为零（边界退化），无法修复 |" in report
    assert f"| estates | e.gpkg | 10 | {ids[1]} |" in report
    sheet = pd.read_excel(tmp_path / "skip" / "gap_report.xlsx", sheet_name="未分析")
    assert sheet["编号"].tolist() == ids and sheet["行号"].astype(int).tolist() == [5, 10]
    redraw = run(["map", "coverage", "--coverage", tmp_path / "skip", "--out",
                  tmp_path / "m.html", "-q"])
    assert redraw.exit_code == 0, redraw.output  # the not-analysed rows are not drawn


def test_coverage_summary_in_english_says_what_is_unknown(tmp_path):
    est = demo_estates()
    est.loc[est.index[:100], "户数"] = None
    est.to_file(tmp_path / "e.gpkg")
    result = run(["coverage", "--estates", tmp_path / "e.gpkg", "--services",
                  DEMO / "services.gpkg", "--mode", "straight", "--no-map", "--lang", "en",
                  "--out", tmp_path / "o", "-q"])
    assert result.exit_code == 0, result.output
    summary = result.output.split("Summary:", 1)[1].strip().splitlines()
    # Most households unknown: said first, with the fix; the straight-line assumption too.
    assert summary[0].strip().startswith(f"Households unknown for 100 of {len(est)} estates")
    layer = gpd.read_file(tmp_path / "o" / "coverage.gpkg", layer="estates")
    full = int((layer["coverage_score"] >= 1).sum())
    assert summary[1].strip() == (f"{len(est)} estates analysed: {full} reach every facility "
                                  f"category, {len(est) - full} have gaps.")
    assert any("Assumed: straight-line distances" in line for line in summary)


def test_invalid_skip_applies_to_every_layer_type(tmp_path, standard):
    est = demo_estates()
    est["geometry"] = est.geometry.values
    mixed = est.copy()
    mixed.loc[2, "geometry"] = shapely.LineString([(117.6, 34.4), (117.61, 34.41)])
    mixed.to_file(tmp_path / "mixed.gpkg", geometry_type="Unknown")
    with pytest.raises(GeometryError, match="row 3 is LineString"):
        read_estates(tmp_path / "mixed.gpkg")
    read = read_estates(tmp_path / "mixed.gpkg", invalid="skip")
    assert len(read) == len(est) - 1
    assert [(r["row"], r["feature_id"], r["reason"]) for r in read.attrs["skipped"]] == \
        [(3, est["小区编号"].iloc[2], "not a polygon")]
    # Gates of an estate left out go with it, listed, instead of "unknown estate".
    gates = read_gates(DEMO / "gates.gpkg", read, invalid="skip")
    dropped = [r for r in gates.attrs["skipped"] if r["reason"] == "its estate was left out"]
    assert len(dropped) == (gpd.read_file(DEMO / "gates.gpkg")["小区编号"] == est["小区编号"].iloc[2]).sum()

    streets = gpd.read_file(DEMO / "streets.gpkg")
    streets.loc[1, "geometry"] = shapely.Point(117.6, 34.4)
    streets.to_file(tmp_path / "streets.gpkg", geometry_type="Unknown")
    with pytest.raises(GeometryError, match="row 2 is Point, not lines"):
        read_streets(tmp_path / "streets.gpkg")
    s = read_streets(tmp_path / "streets.gpkg", invalid="skip")
    assert [r["row"] for r in s.attrs["skipped"]] == [2]
    with pytest.raises(GeometryError, match="points; a barrier is a line"):
        read_barriers(tmp_path / "streets.gpkg")
    assert [r["row"] for r in read_barriers(tmp_path / "streets.gpkg",
                                            invalid="skip").attrs["skipped"]] == [2]

    svc = pd.DataFrame({"名称": ["甲", "乙", "丙"], "类别": ["公共厕所"] * 3,
                        "经度": ["117.6", "", "117.61"], "纬度": ["34.4", "34.41", "34.42"]})
    svc.to_csv(tmp_path / "svc.csv", index=False)
    with pytest.raises(InputError, match="1 rows have no numeric"):
        read_services(tmp_path / "svc.csv", standard, input_crs="EPSG:4326")
    v = read_services(tmp_path / "svc.csv", standard, input_crs="EPSG:4326", invalid="skip")
    assert len(v) == 2 and [r["row"] for r in v.attrs["skipped"]] == [2]

    eco = gpd.read_file(DEMO / "eco_redline.gpkg")
    eco = pd.concat([eco, collapse(eco, [0])], ignore_index=True)
    gpd.GeoDataFrame(eco, geometry="geometry", crs=4490).to_file(tmp_path / "eco.gpkg")
    with pytest.raises(GeometryError, match="no area"):
        read_constraint(tmp_path / "eco.gpkg", "eco_redline")
    c = read_constraint(tmp_path / "eco.gpkg", "eco_redline", invalid="skip")
    assert len(c.layer) == len(eco) - 1
    assert [r["row"] for r in c.layer.attrs["skipped"]] == [len(eco)]


def test_review_with_skip_keeps_skipped_estates_as_not_analysed(tmp_path):
    est = collapse(demo_estates(), [0])
    est.to_file(tmp_path / "e.gpkg")
    result = run(["review", "--estates", tmp_path / "e.gpkg", "--invalid", "skip", "--out",
                  tmp_path / "r", "-q", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "1 not analysed (geometry left out)" in result.output
    sheets = pd.read_excel(tmp_path / "r" / "review_en.xlsx", sheet_name=None)
    assert sheets["Not analysed"].iloc[0]["Id"] == est["小区编号"].iloc[0]
    elig = sheets["Eligibility"].set_index("Estate id")
    assert elig.loc[est["小区编号"].iloc[0], "Eligibility"].startswith("not analysed")
    html = (tmp_path / "r" / "units_map_en.html").read_text(encoding="utf-8")
    assert "not analysed (invalid geometry) (1)" in html


@given(seed=st.integers(0, 10_000), bad=st.sets(st.integers(0, 24), min_size=1, max_size=5))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
def test_skip_equals_a_run_on_the_cleaned_layer(tmp_path_factory, standard, seed, bad):
    streets, est, services = random_town(seed % 7 + 1)
    rng = np.random.default_rng(seed)
    est["build_year"] = rng.integers(1980, 2004, len(est))
    est["floor_area_m2"] = est["households"] * 80
    folder = tmp_path_factory.mktemp("skip")
    broken = est.copy()
    for r in sorted(bad):
        x, y = broken.geometry.iloc[r].exterior.coords[0]
        broken.loc[r, "geometry"] = shapely.Polygon([(x, y), (x + 9, y), (x + 4, y), (x, y)])
    broken.to_file(folder / "broken.gpkg")
    est.drop(index=sorted(bad)).to_file(folder / "clean.gpkg")
    skipped = read_estates(folder / "broken.gpkg", invalid="skip")
    clean = read_estates(folder / "clean.gpkg")
    assert sorted(r["row"] for r in skipped.attrs["skipped"]) == [r + 1 for r in sorted(bad)]
    a = living_circle(skipped, services, standard, streets=streets, progress=False)
    b = living_circle(clean, services, standard, streets=streets, progress=False)
    cols = [c for c in a.estates.columns if c.startswith("dist_m_")]
    da = a.estates.set_index("estate_id")[cols].to_numpy(float)
    db = b.estates.set_index("estate_id").loc[a.estates["estate_id"], cols].to_numpy(float)
    assert np.array_equal(np.isnan(da), np.isnan(db))
    assert np.nanmax(np.abs(da - db), initial=0.0) <= 0.01
    ua, assessed = renovation_units(skipped, standard)
    ub, _ = renovation_units(clean, standard)
    pd.testing.assert_frame_equal(ua.membership.sort_values("estate_id").reset_index(drop=True),
                                  ub.membership.sort_values("estate_id").reset_index(drop=True))
    left = assessed[~assessed["analysed"]]
    assert sorted(left["estate_id"]) == sorted(est["estate_id"].iloc[sorted(bad)])
    assert (left["eligibility"] == "not_analysed").all()
