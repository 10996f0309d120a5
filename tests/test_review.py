"""Review of combined renovation units against constraint layers: known overlaps, a
pair-by-pair oracle, and clear errors on bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import METRIC

from gis.errors import CRSError, GeometryError, InputError
from gis.review import (
    CONSTRAINT_KINDS,
    KIND_LABELS,
    Constraint,
    check_units,
    constraint_kind,
    feature_labels,
    labelled_layer,
    read_constraint,
    review_tables,
)

X0, Y0 = 500_000.0, 3_800_000.0


def box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A w × h m box whose lower-left corner is (X0 + x, Y0 + y)."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def frame(geoms: list, crs=METRIC, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=crs)


def units_frame(*geoms: shapely.Geometry, crs=METRIC) -> gpd.GeoDataFrame:
    return frame(list(geoms), crs=crs, unit_id=[f"U{i + 1}" for i in range(len(geoms))])


def segment_area(r: float, d: float) -> float:
    """Area of the circular segment cut off a radius-r circle by a chord d from the centre."""
    return r * r * math.acos(d / r) - d * math.sqrt(r * r - d * d)


# ---------------------------------------------------------------------------
# known overlaps


def test_historic_district_overlap_is_exact():
    units = units_frame(box(0, 0, 100, 100), box(300, 0, 100, 100))
    district = frame([box(80, -50, 100, 200)], 名称=["西大街历史文化街区"])
    c = Constraint("historic_district", district.rename(columns={"名称": "name"}), "街区.gpkg")
    checks, conflicts = check_units(units, [c])
    assert checks.index.tolist() == ["U1", "U2"]
    assert checks.loc["U1", "historic_district_m2"] == pytest.approx(2000.0, abs=1e-6)
    assert checks.loc["U1", "historic_district_n"] == 1
    assert checks.loc["U1", "historic_district_names"] == "西大街历史文化街区"
    assert checks.loc["U1", "n_conflicts"] == 1
    assert checks.loc["U1", "conflict_summary"] == "压占历史文化街区 1 处（约 2,000 m²）"
    assert checks.loc["U2", "historic_district_m2"] == 0.0
    assert checks.loc["U2", "historic_district_n"] == 0
    assert checks.loc["U2", "historic_district_names"] == ""
    assert checks.loc["U2", "conflict_summary"] == "无冲突"
    assert len(conflicts) == 1
    row = conflicts.iloc[0]
    assert (row["unit_id"], row["kind"], row["kind_zh"], row["feature_name"], row["source"]) == (
        "U1", "historic_district", "历史文化街区", "西大街历史文化街区", "街区.gpkg")
    assert row["overlap_m2"] == pytest.approx(2000.0)
    assert row.geometry.equals(box(80, 0, 20, 100))
    assert conflicts.crs == units.crs


def test_tree_protection_zone_is_a_circle_segment():
    # Tree 3 m inside the unit's west edge, crown radius 4 m + 5 m margin → zone radius 9 m.
    units = units_frame(box(0, 0, 100, 100))
    trees = frame([pt(3, 50)], name=["GS-001（银杏）"], crown_radius_m=[4.0])
    checks, conflicts = check_units(units, [Constraint("ancient_tree", trees, "古树.gpkg")])
    r, d = 9.0, 3.0
    expected = math.pi * r * r - segment_area(r, d)
    assert checks.loc["U1", "ancient_tree_m2"] == pytest.approx(expected, rel=0.01)
    exact = shapely.Point(0, 0).buffer(r, quad_segs=4096).intersection(
        shapely.box(-d, -50, 97, 50)).area
    assert checks.loc["U1", "ancient_tree_m2"] == pytest.approx(exact, rel=0.01)
    assert checks.loc["U1", "ancient_tree_n"] == 1
    assert checks.loc["U1", "conflict_summary"] == "古树名木保护范围 1 处"
    assert conflicts.iloc[0]["overlap_m2"] == pytest.approx(expected, rel=0.01)
    assert any("crown radius + 5 m" in n for n in checks.attrs["notes"])


def test_tree_default_crown_and_margin_are_used():
    # No crown value → default 5 m + margin 5 m = 10 m radius; tree 30 m from the unit.
    units = units_frame(box(0, 0, 100, 100))
    trees = frame([pt(-12, 50), pt(-30, 50)], name=["T1", "T2"], crown_radius_m=[np.nan, 1.0])
    c = Constraint("ancient_tree", trees, "trees.gpkg")
    checks, _ = check_units(units, [c])
    assert checks.loc["U1", "ancient_tree_n"] == 0  # 10 m radius stops 2 m short
    checks, _ = check_units(units, [c], tree_default_crown_m=8.0)  # 13 m radius
    assert checks.loc["U1", "ancient_tree_n"] == 1
    assert checks.loc["U1", "ancient_tree_m2"] == pytest.approx(segment_area(13.0, 12.0), rel=0.01)
    checks, _ = check_units(units, [c], tree_margin_m=30.0)  # T2: 31 m, T1: 35 m
    assert checks.loc["U1", "ancient_tree_n"] == 2
    assert checks.loc["U1", "ancient_tree_names"] == "T1、T2"


def test_unit_half_outside_development_boundary():
    units = units_frame(box(0, 0, 100, 100), box(10, 10, 20, 20))
    boundary = frame([box(-50, -50, 100, 200)], name=["中心城区"])
    checks, conflicts = check_units(units, [Constraint("城镇开发边界", boundary, "boundary.shp")])
    assert "development_boundary_m2" not in checks.columns
    assert checks.loc["U1", "outside_boundary_m2"] == pytest.approx(5000.0, abs=1e-6)
    assert checks.loc["U2", "outside_boundary_m2"] == 0.0
    assert checks["n_conflicts"].tolist() == [1, 0]
    assert checks.loc["U1", "conflict_summary"] == "超出城镇开发边界约 5,000 m²"
    assert len(conflicts) == 1
    assert conflicts.iloc[0]["kind"] == "development_boundary"
    assert conflicts.iloc[0].geometry.equals(box(50, 0, 50, 100))


def test_boundary_is_the_union_of_its_polygons():
    # Two boundary polygons that together cover the unit: nothing is outside.
    units = units_frame(box(0, 0, 100, 100))
    boundary = frame([box(-10, -10, 60, 120), box(50, -10, 60, 120)], name=["a", "b"])
    checks, conflicts = check_units(units, [Constraint("development_boundary", boundary, "b")])
    assert checks.loc["U1", "outside_boundary_m2"] == pytest.approx(0.0, abs=1e-9)
    assert len(conflicts) == 0


def test_unit_straddling_two_plan_units():
    units = units_frame(box(0, 0, 100, 100), box(0, 200, 40, 40))
    plan = frame([box(-10, -10, 40, 300), box(30, -10, 200, 300)], name=["JD-02", "JD-01"])
    checks, conflicts = check_units(units, [Constraint("plan_unit", plan, "控规.gpkg")])
    assert checks.loc["U1", "plan_units_n"] == 2
    assert bool(checks.loc["U1", "straddles_plan_units"]) is True
    assert checks.loc["U1", "plan_unit_names"] == "JD-01、JD-02"
    assert checks.loc["U1", "conflict_summary"] == "跨 2 个控规单元"
    assert checks.loc["U2", "plan_units_n"] == 2  # 20 m in each
    assert checks.loc["U1", "n_conflicts"] == 1
    u1 = conflicts[conflicts["unit_id"] == "U1"]
    assert sorted(u1["overlap_m2"].round(6)) == [3000.0, 7000.0]
    assert u1.area.sum() == pytest.approx(10_000.0)
    assert set(u1["feature_name"]) == {"JD-01", "JD-02"}


def test_unit_in_one_plan_unit_does_not_straddle():
    units = units_frame(box(0, 0, 100, 100))
    # A 0.5 m² sliver in the second plan unit is digitising noise, not a straddle.
    plan = frame([box(-10, -10, 110.0 - 0.005, 200), box(99.995, -10, 100, 200)],
                 name=["A", "B"])
    checks, conflicts = check_units(units, [Constraint("plan_unit", plan, "p")])
    assert checks.loc["U1", "plan_units_n"] == 1
    assert not checks.loc["U1", "straddles_plan_units"]
    assert checks.loc["U1", "plan_unit_names"] == "A"
    assert checks.loc["U1", "n_conflicts"] == 0
    assert len(conflicts) == 0


def test_edge_touch_is_not_a_conflict():
    units = units_frame(box(0, 0, 100, 100))
    red = frame([box(100, 0, 50, 100), box(100, 100, 10, 10)], name=["湿地", "角"])
    checks, conflicts = check_units(units, [Constraint("eco_redline", red, "红线.gpkg")])
    assert checks.loc["U1", "eco_redline_m2"] == 0.0
    assert checks.loc["U1", "eco_redline_n"] == 0
    assert checks.loc["U1", "n_conflicts"] == 0
    assert len(conflicts) == 0


def test_sliver_counts_in_area_but_is_not_a_conflict():
    units = units_frame(box(0, 0, 100, 100))
    red = frame([box(99.995, 0, 50, 100)], name=["sliver"])  # 0.5 m² inside
    checks, conflicts = check_units(units, [Constraint("eco_redline", red, "r")])
    assert checks.loc["U1", "eco_redline_m2"] == pytest.approx(0.5)
    assert checks.loc["U1", "eco_redline_n"] == 0
    assert len(conflicts) == 0
    checks, conflicts = check_units(units, [Constraint("eco_redline", red, "r")],
                                    min_overlap_m2=0.1)
    assert checks.loc["U1", "eco_redline_n"] == 1
    assert len(conflicts) == 1


def test_historic_building_points_and_polygons():
    units = units_frame(box(0, 0, 100, 100), box(200, 0, 100, 100))
    buildings = frame(
        [pt(50, 50), pt(100, 20), pt(150, 50), box(290, 90, 20, 20)],
        name=["钟楼", "边界上的亭", "外面", "旧厂房"],
    )
    checks, conflicts = check_units(units, [Constraint("historic_building", buildings, "h")])
    assert checks.loc["U1", "historic_building_n"] == 2  # inside and on the boundary
    assert checks.loc["U1", "historic_building_m2"] == 0.0
    assert checks.loc["U1", "historic_building_names"] == "边界上的亭、钟楼"
    assert checks.loc["U1", "conflict_summary"] == "压占历史建筑 2 处"
    assert checks.loc["U2", "historic_building_m2"] == pytest.approx(100.0)
    assert checks.loc["U2", "conflict_summary"] == "压占历史建筑 1 处（约 100 m²）"
    u1 = conflicts[conflicts["unit_id"] == "U1"]
    assert (u1["overlap_m2"] == 0).all()
    assert set(u1.geom_type) == {"Point"}
    assert any("points conflict" in n for n in checks.attrs["notes"])


def test_all_kinds_together_summary_and_count():
    units = units_frame(box(0, 0, 100, 100))
    constraints = [
        Constraint("historic_district", frame([box(80, 0, 50, 100)], name=["街区"]), "a"),
        Constraint("ancient_tree", frame([pt(50, 50), pt(10, 10)], name=["甲", "乙"]), "b"),
        Constraint("plan_unit", frame([box(-5, -5, 55, 110), box(50, -5, 55, 110)],
                                      name=["P1", "P2"]), "c"),
        Constraint("development_boundary", frame([box(-5, -5, 110, 60)], name=["x"]), "d"),
        Constraint("eco_redline", frame([box(500, 500, 10, 10)], name=["远"]), "e"),
    ]
    checks, conflicts = check_units(units, constraints)
    assert checks.loc["U1", "n_conflicts"] == 1 + 2 + 1 + 1
    assert checks.loc["U1", "conflict_summary"] == (
        "压占历史文化街区 1 处（约 2,000 m²）；古树名木保护范围 2 处；超出城镇开发边界约 4,500 m²；"
        "跨 2 个控规单元"
    )
    assert checks.loc["U1", "eco_redline_n"] == 0
    assert list(conflicts["kind"]) == ["historic_district", "ancient_tree", "ancient_tree",
                                       "development_boundary", "plan_unit", "plan_unit"]
    assert checks.loc["U1", "conflict_summary_en"].startswith("overlaps historic district ×1")


def test_empty_constraints_give_all_zero_rows():
    units = units_frame(box(0, 0, 100, 100), box(200, 0, 50, 50))
    checks, conflicts = check_units(units, [])
    assert checks.index.tolist() == ["U1", "U2"]
    assert checks.index.name == "unit_id"
    assert checks["n_conflicts"].tolist() == [0, 0]
    assert checks["conflict_summary"].tolist() == ["无冲突", "无冲突"]
    assert len(conflicts) == 0
    assert conflicts.crs == units.crs
    assert {"unit_id", "kind", "kind_zh", "feature_name", "overlap_m2"} <= set(conflicts.columns)


def test_units_with_no_hits_keep_every_column():
    units = units_frame(box(0, 0, 10, 10))
    far = [Constraint(k, frame([box(900, 900, 10, 10)], name=["f"]), k)
           for k in CONSTRAINT_KINDS if k not in ("ancient_tree", "development_boundary")]
    far.append(Constraint("ancient_tree", frame([pt(900, 900)], name=["t"]), "t"))
    checks, conflicts = check_units(units, far)
    for kind in ("historic_district", "historic_building", "ancient_tree", "eco_redline"):
        assert checks.loc["U1", f"{kind}_m2"] == 0.0
        assert checks.loc["U1", f"{kind}_n"] == 0
        assert checks.loc["U1", f"{kind}_names"] == ""
    assert checks.loc["U1", "plan_units_n"] == 0
    assert checks["historic_district_n"].dtype == np.int64
    assert len(conflicts) == 0


def test_multipolygon_units_and_two_layers_of_one_kind():
    unit = shapely.MultiPolygon([box(0, 0, 10, 10), box(100, 0, 10, 10)])
    units = frame([unit], unit_id=["M"])
    a = Constraint("eco_redline", frame([box(5, 0, 10, 10)], name=["东"]), "a.gpkg")
    b = Constraint("eco_redline", frame([box(100, 0, 2, 10)], name=["西"]), "b.gpkg")
    checks, conflicts = check_units(units, [a, b])
    assert checks.loc["M", "eco_redline_m2"] == pytest.approx(70.0)
    assert checks.loc["M", "eco_redline_names"] == "东、西"
    assert sorted(conflicts["source"]) == ["a.gpkg", "b.gpkg"]


def test_brute_force_overlap_sums():
    rng = np.random.default_rng(20240611)
    n_units, n_feat = 40, 60
    ux, uy = rng.uniform(0, 1000, n_units), rng.uniform(0, 1000, n_units)
    uw, uh = rng.uniform(20, 150, n_units), rng.uniform(20, 150, n_units)
    units = frame(list(shapely.box(X0 + ux, Y0 + uy, X0 + ux + uw, Y0 + uy + uh)),
                  unit_id=[f"U{i:02d}" for i in range(n_units)])
    # Random convex-ish polygons: hulls of a few random points.
    cx, cy = rng.uniform(0, 1000, n_feat), rng.uniform(0, 1000, n_feat)
    feats = [
        shapely.convex_hull(shapely.multipoints(
            np.c_[X0 + cx[i] + rng.uniform(-90, 90, 6), Y0 + cy[i] + rng.uniform(-90, 90, 6)]))
        for i in range(n_feat)
    ]
    layer = frame(feats, name=[f"F{i}" for i in range(n_feat)])
    crowns = rng.uniform(0, 8, 30)
    tx, ty = rng.uniform(0, 1000, 30), rng.uniform(0, 1000, 30)
    trees = frame(list(shapely.points(X0 + tx, Y0 + ty)), name=[f"T{i}" for i in range(30)],
                  crown_radius_m=crowns)
    checks, conflicts = check_units(
        units, [Constraint("eco_redline", layer, "r"), Constraint("ancient_tree", trees, "t")])
    zones = [shapely.Point(X0 + tx[j], Y0 + ty[j]).buffer(crowns[j] + 5.0, quad_segs=32)
             for j in range(30)]
    total_hits = 0
    for i, (uid, u) in enumerate(zip(units["unit_id"], units.geometry)):
        expect = sum(u.intersection(f).area for f in feats)
        n = sum(u.intersection(f).area > 1.0 for f in feats)
        assert checks.loc[uid, "eco_redline_m2"] == pytest.approx(expect, rel=1e-6, abs=1e-9)
        assert checks.loc[uid, "eco_redline_n"] == n
        expect_t = sum(u.intersection(z).area for z in zones)
        assert checks.loc[uid, "ancient_tree_m2"] == pytest.approx(expect_t, rel=1e-6, abs=1e-9)
        total_hits += n
    assert total_hits > 10  # the layout really overlaps
    red = conflicts[conflicts["kind"] == "eco_redline"]
    assert len(red) == checks["eco_redline_n"].sum()
    assert np.allclose(red.area, red["overlap_m2"])


# ---------------------------------------------------------------------------
# reading


def test_read_constraint_maps_fields_and_kind_labels(tmp_path):
    path = tmp_path / "控规单元.gpkg"
    frame([box(0, 0, 100, 100), box(100, 0, 100, 100)], 单元编号=["A-01", "A-02"],
          用地性质=["R2", "B1"]).to_file(path)
    c = read_constraint(path, "控规单元")
    assert c.kind == "plan_unit"
    assert c.source == "控规单元.gpkg"
    assert c.layer["name"].tolist() == ["A-01", "A-02"]
    assert list(c.layer.columns) == ["name", "geometry"]
    assert any("单元编号" in n for n in c.layer.attrs["notes"])
    assert read_constraint(path, "plan_unit", name_field="用地性质").layer["name"].tolist() == [
        "R2", "B1"]
    with pytest.raises(InputError, match="no field '面积'.*单元编号"):
        read_constraint(path, "plan_unit", name_field="面积")
    with pytest.raises(InputError, match="unknown constraint kind 'park'"):
        read_constraint(path, "park")


def test_kind_labels_round_trip():
    for kind, (zh, en) in KIND_LABELS.items():
        assert constraint_kind(zh) == constraint_kind(en) == constraint_kind(kind) == kind
    assert set(KIND_LABELS) == set(CONSTRAINT_KINDS)


def test_crown_diameter_is_halved(tmp_path):
    path = tmp_path / "古树.gpkg"
    frame([pt(0, 0), pt(50, 0), pt(90, 0)], 古树编号=["GS01", "GS02", "GS03"],
          树种=["银杏", "国槐", None], 冠幅=[8.0, None, 12.5]).to_file(path)
    c = read_constraint(path, "ancient_tree")
    assert c.layer["crown_radius_m"].tolist()[::2] == [4.0, 6.25]
    assert np.isnan(c.layer["crown_radius_m"].iloc[1])
    assert c.layer["name"].tolist() == ["GS01（银杏）", "GS02（国槐）", "GS03"]
    notes = c.layer.attrs["notes"]
    assert any("crown diameter" in n and "halved" in n for n in notes)
    assert any("row 2 has no 冠幅" in n for n in notes)  # missing crown → default


def test_crown_radius_is_not_halved(tmp_path):
    path = tmp_path / "trees.gpkg"
    frame([pt(0, 0)], name=["T"], 冠幅半径=["8米"]).to_file(path)
    c = read_constraint(path, "ancient_tree")
    assert c.layer["crown_radius_m"].tolist() == [8.0]
    assert not any("halved" in n for n in c.layer.attrs["notes"])
    c = read_constraint(path, "ancient_tree", crown_field="冠幅半径")
    assert c.layer["crown_radius_m"].tolist() == [8.0]


def test_bad_crown_values_name_rows(tmp_path):
    path = tmp_path / "trees.gpkg"
    frame([pt(0, 0), pt(1, 0), pt(2, 0)], name=list("abc"),
          冠幅=["6", "约5米", "-2"]).to_file(path)
    with pytest.raises(InputError, match=r"trees\.gpkg: crown field 冠幅 .* row 2 holds 约5米"):
        read_constraint(path, "ancient_tree")
    with pytest.raises(InputError, match="no crown field 'crown'"):
        read_constraint(path, "ancient_tree", crown_field="crown")


def test_missing_crs_is_refused(tmp_path):
    path = tmp_path / "red.shp"
    frame([box(0, 0, 10, 10)], name=["x"]).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"red\.shp: the layer has no CRS"):
        read_constraint(path, "eco_redline")
    c = read_constraint(path, "eco_redline", input_crs=METRIC)
    assert c.layer.crs == METRIC


def test_wrong_geometry_type_for_trees_names_rows(tmp_path):
    path = tmp_path / "trees.gpkg"
    frame([pt(0, 0), box(0, 0, 5, 5), shapely.LineString([(X0, Y0), (X0 + 1, Y0)])],
          name=list("abc")).to_file(path)
    with pytest.raises(GeometryError,
                       match=r"trees\.gpkg: rows 2, 3 are LineString, Polygon.*points"):
        read_constraint(path, "ancient_tree")


def test_points_are_not_polygons_for_districts(tmp_path):
    path = tmp_path / "district.geojson"
    frame([box(0, 0, 5, 5), pt(0, 0)], name=["a", "b"]).to_file(path)
    with pytest.raises(GeometryError, match="row 2 is Point.*polygons"):
        read_constraint(path, "historic_district")
    assert len(read_constraint(path, "historic_building").layer) == 2


def test_invalid_polygon_is_repaired(tmp_path):
    path = tmp_path / "red.gpkg"
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    frame([box(0, 0, 5, 5), bowtie], name=["ok", "bowtie"]).to_file(path)
    with pytest.warns(UserWarning, match="invalid polygons repaired with make_valid"):
        c = read_constraint(path, "eco_redline")
    assert c.layer.is_valid.all()
    assert c.layer.area.iloc[1] == pytest.approx(50.0)
    assert any("row 2" in n for n in c.layer.attrs["notes"])


def test_rows_without_names_or_geometry(tmp_path):
    path = tmp_path / "hb.gpkg"
    gdf = frame([pt(0, 0), None, pt(2, 0)], 编号=[101.0, 102.0, None])
    gdf.to_file(path)
    c = read_constraint(path, "historic_building")
    assert c.layer["name"].tolist() == ["101", "历史建筑第3行"]
    assert any("row 2 has no geometry" in n for n in c.layer.attrs["notes"])


# ---------------------------------------------------------------------------
# units and CRS


def test_units_without_crs_or_in_degrees_are_refused():
    red = Constraint("eco_redline", frame([box(0, 0, 5, 5)], name=["r"]), "r.gpkg")
    with pytest.raises(CRSError, match="units: the layer has no CRS"):
        check_units(units_frame(box(0, 0, 10, 10), crs=None), [red])
    with pytest.raises(CRSError, match="not projected in metres"):
        check_units(units_frame(shapely.box(117, 34, 117.01, 34.01), crs="EPSG:4490"), [])


def test_crs_mismatch_between_units_and_constraint():
    units = units_frame(box(0, 0, 100, 100))
    red = Constraint("eco_redline", frame([box(0, 0, 5, 5)], name=["r"]), "红线.gpkg")
    other = red.to_crs("EPSG:4490")
    with pytest.raises(CRSError, match=r"红线\.gpkg: .* is in EPSG:4490 but the units are in "
                                       r"EPSG:4548.*to_crs"):
        check_units(units, [other])
    back = other.to_crs(units.crs)
    checks, _ = check_units(units, [back])
    assert checks.loc["U1", "eco_redline_m2"] == pytest.approx(25.0, rel=1e-6)
    assert red.to_crs(METRIC) is red


def test_unit_ids_must_be_unique_and_present():
    units = units_frame(box(0, 0, 10, 10), box(20, 0, 10, 10), box(40, 0, 10, 10))
    units["unit_id"] = ["A", "B", "A"]
    with pytest.raises(InputError, match=r"unit_id values repeat \(A\) in rows 1, 3"):
        check_units(units, [])
    with pytest.raises(InputError, match="no unit_id column"):
        check_units(units.drop(columns="unit_id"), [])


def test_wrong_constraint_geometry_in_check_units():
    units = units_frame(box(0, 0, 10, 10))
    bad = Constraint("ancient_tree", frame([pt(0, 0), box(0, 0, 2, 2)], name=["a", "b"]), "t")
    with pytest.raises(GeometryError, match="row 2 of the ancient or notable tree"):
        check_units(units, [bad])


def test_bad_parameters_and_kinds():
    units = units_frame(box(0, 0, 10, 10))
    with pytest.raises(InputError, match="tree_margin_m must be a number ≥ 0"):
        check_units(units, [], tree_margin_m=-1.0)
    with pytest.raises(InputError, match="unknown constraint kind"):
        Constraint("wetland", frame([box(0, 0, 1, 1)]), "w")
    assert Constraint("生态保护红线", frame([box(0, 0, 1, 1)]), "w").kind == "eco_redline"


def test_features_without_name_column_are_named_by_row():
    units = units_frame(box(0, 0, 100, 100))
    checks, conflicts = check_units(
        units, [Constraint("eco_redline", frame([box(500, 0, 5, 5), box(50, 50, 10, 10)]), "r")])
    assert checks.loc["U1", "eco_redline_names"] == "生态保护红线第2行"
    assert isinstance(conflicts, gpd.GeoDataFrame)
    assert isinstance(checks, pd.DataFrame)


def wiggly_ring(cx: float, cy: float, r: float, n: int, seed: int) -> shapely.Polygon:
    """A star-ish polygon with n vertices (far more than one overlay piece holds)."""
    rng = np.random.default_rng(seed)
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rad = r * (1 + 0.2 * np.sin(9 * th)) + rng.uniform(-2, 2, n)
    return shapely.Polygon(np.c_[X0 + cx + rad * np.cos(th), Y0 + cy + rad * np.sin(th)])


def test_large_polygons_give_the_same_areas_as_whole_overlays():
    rng = np.random.default_rng(7)
    big = wiggly_ring(500, 500, 400, 5000, seed=1)
    with_hole = wiggly_ring(1500, 500, 300, 3000, seed=2).difference(
        wiggly_ring(1500, 500, 120, 1000, seed=3))
    assert big.is_valid and with_hole.is_valid
    x, y = rng.uniform(-100, 2000, 200), rng.uniform(-100, 1100, 200)
    w = rng.uniform(30, 300, 200)
    units = frame(list(shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)),
                  unit_id=[f"U{i}" for i in range(200)])
    layer = frame([big, with_hole], name=["大", "环"])
    checks, conflicts = check_units(units, [
        Constraint("eco_redline", layer, "r"),
        Constraint("development_boundary", layer, "b"),
    ])
    geoms = units.geometry.to_numpy()
    expect = shapely.area(shapely.intersection(geoms[:, None], layer.geometry.to_numpy())).sum(1)
    np.testing.assert_allclose(checks["eco_redline_m2"], expect, rtol=1e-9, atol=1e-6)
    outside = shapely.area(shapely.difference(geoms, shapely.union_all(layer.geometry)))
    np.testing.assert_allclose(checks["outside_boundary_m2"], outside, rtol=1e-9, atol=1e-6)
    # Conflict geometries are whole: their area is the reported overlap.
    np.testing.assert_allclose(conflicts.area, conflicts["overlap_m2"], rtol=1e-9, atol=1e-6)
    red = conflicts[conflicts["kind"] == "eco_redline"]
    assert set(red.geom_type) <= {"Polygon", "MultiPolygon"}
    assert 20 < len(red) < 400


def test_many_point_buildings_in_one_feature_are_kept():
    units = units_frame(box(0, 0, 100, 100))
    xs = np.linspace(-200, 50, 300)  # more vertices than one overlay piece holds
    pts = shapely.multipoints(np.c_[X0 + xs, np.full(300, Y0 + 50)])
    checks, conflicts = check_units(units, [Constraint("historic_building",
                                                       frame([pts], name=["建筑群"]), "h")])
    assert checks.loc["U1", "historic_building_n"] == 1
    assert shapely.get_num_geometries(conflicts.geometry.iloc[0]) == np.sum(xs >= 0)


def test_invalid_unit_is_repaired_with_a_warning():
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    units = frame([bowtie], unit_id=["B"])
    red = Constraint("eco_redline", frame([box(0, 0, 100, 100)], name=["r"]), "r")
    with pytest.warns(UserWarning, match="unit_id B repaired with make_valid"):
        checks, _ = check_units(units, [red])
    assert checks.loc["B", "eco_redline_m2"] == pytest.approx(50.0)
    line = shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 20, Y0)])
    with pytest.raises(GeometryError, match="unit_id L are invalid polygons with no area"):
        check_units(frame([line], unit_id=["L"]), [red])


def test_tree_table_in_lonlat_reprojected_to_the_units(tmp_path):
    # Tree surveys often come as spreadsheets with 经度/纬度 in CGCS2000 (EPSG:4490).
    lonlat = gpd.GeoSeries([pt(50, 50), pt(400, 400)], crs=METRIC).to_crs("EPSG:4490")
    path = tmp_path / "古树名录.csv"
    pd.DataFrame({"古树编号": ["320700-001", "320700-002"], "树种": ["银杏", "侧柏"],
                  "冠幅": [10, 6], "经度": lonlat.x, "纬度": lonlat.y}).to_csv(
        path, index=False, encoding="utf-8-sig")
    with pytest.raises(CRSError, match="no CRS"):
        read_constraint(path, "古树名木")
    trees = read_constraint(path, "古树名木", input_crs="EPSG:4490")
    assert trees.layer.crs == "EPSG:4490"
    units = units_frame(box(0, 0, 100, 100))
    with pytest.raises(CRSError, match="reproject it first"):
        check_units(units, [trees])
    checks, _ = check_units(units, [trees.to_crs(units.crs)])
    assert checks.loc["U1", "ancient_tree_names"] == "320700-001（银杏）"
    # Crown diameter 10 m → radius 5 m, + 5 m margin: the whole 10 m circle lies inside.
    assert checks.loc["U1", "ancient_tree_m2"] == pytest.approx(math.pi * 100, rel=0.01)


# ---------------------------------------------------------------------------
# words in either language, from machine values (issue 12 item 5)


def _reviewed_in_both(tmp_path):
    """Two units over a tree with species, one with only a species, one without species,
    and a red-line patch with no name; both partly outside the development boundary, one
    straddling plan units."""
    path = tmp_path / "古树.gpkg"
    frame([pt(50, 50), pt(60, 60), pt(400, 50)], 古树编号=["GS-001", None, "GS-009"],
          树种=["国槐", "银杏", None], 冠幅半径=[3.0, 3.0, 3.0]).to_file(path)
    red = tmp_path / "红线.gpkg"
    frame([box(300, 0, 150, 100), box(900, 900, 5, 5)], 类别=["a", "b"]).to_file(red)
    units = units_frame(box(0, 0, 100, 100), box(300, 0, 150, 100))
    constraints = [
        read_constraint(path, "ancient_tree"),
        read_constraint(red, "eco_redline"),
        Constraint("development_boundary", frame([box(-5, -5, 110, 60)], name=["x"]), "d"),
        Constraint("plan_unit", frame([box(250, -5, 100, 110), box(350, -5, 200, 110)],
                                      name=["JD-01", "JD-02"]), "c"),
    ]
    return check_units(units, constraints)


def test_labels_are_worded_from_machine_values_in_each_language(tmp_path):
    checks, conflicts = _reviewed_in_both(tmp_path)
    # The stored (Chinese) words, as every release wrote them.
    assert conflicts["feature_name"].tolist() == [
        "GS-001（国槐）", "银杏", "城镇开发边界以外", "GS-009", "生态保护红线第1行", "城镇开发边界以外", "JD-01",
        "JD-02"]
    assert checks.loc["U1", "ancient_tree_names"] == "GS-001（国槐）、银杏"
    # The same conflicts worded in English: the data values (ids, species) unchanged.
    en_checks, en = review_tables(checks, conflicts, "en")
    assert en["feature_name"].tolist() == [
        "GS-001 (国槐)", "银杏", "outside the urban development boundary", "GS-009",
        "ecological protection red line row 1", "outside the urban development boundary",
        "JD-01", "JD-02"]
    assert en_checks.loc["U1", "ancient_tree_names"] == "GS-001 (国槐), 银杏"
    assert en_checks.loc["U2", "plan_unit_names"] == "JD-01, JD-02"
    assert en_checks.loc["U2", "eco_redline_names"] == "ecological protection red line row 1"
    # Chinese: exactly the tables check_units returned, without the machine columns.
    zh_checks, zh = review_tables(checks, conflicts, "zh")
    pd.testing.assert_frame_equal(zh_checks, checks)
    assert list(zh.columns) == ["unit_id", "kind", "kind_zh", "feature_name", "source",
                                "overlap_m2", "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(zh.drop(columns="geometry")),
                                  pd.DataFrame(conflicts[zh.columns].drop(columns="geometry")))
    # Numbers and keys are the same in both languages.
    for col in ("kind", "overlap_m2", "unit_id"):
        assert en[col].tolist() == conflicts[col].tolist()


def test_labels_read_back_from_a_file_keep_what_is_stored(tmp_path):
    checks, conflicts = _reviewed_in_both(tmp_path)
    _, stored = review_tables(checks, conflicts, "zh")
    stored.to_file(tmp_path / "u.gpkg", layer="conflicts")
    back = gpd.read_file(tmp_path / "u.gpkg", layer="conflicts")
    _, en = review_tables(checks, back, "en")
    # Only the boundary's label is worded from the kind alone; the others stay as stored.
    assert en["feature_name"].tolist() == [
        "GS-001（国槐）", "银杏", "outside the urban development boundary", "GS-009",
        "生态保护红线第1行", "outside the urban development boundary", "JD-01", "JD-02"]


def test_feature_labels_of_layers_read_and_built(tmp_path):
    path = tmp_path / "古树.gpkg"
    frame([pt(0, 0), pt(50, 0), pt(90, 0)], 古树编号=["GS01", "GS02", None],
          树种=["银杏", None, None]).to_file(path)
    c = read_constraint(path, "ancient_tree")
    assert c.layer["name"].tolist() == ["GS01（银杏）", "GS02", "古树名木第3行"]
    assert feature_labels(c.layer, "ancient_tree", "en").tolist() == [
        "GS01 (银杏)", "GS02", "ancient or notable tree row 3"]
    assert labelled_layer(c, "en")["name"].tolist() == [
        "GS01 (银杏)", "GS02", "ancient or notable tree row 3"]
    assert c.layer["name"].tolist()[0] == "GS01（银杏）"  # the layer itself is not changed
    built = frame([box(0, 0, 1, 1), box(2, 0, 1, 1)], name=["东", None])
    assert feature_labels(built, "historic_district", "zh").tolist() == ["东", "历史文化街区第2行"]
    assert feature_labels(built, "历史文化街区", "en").tolist() == ["东", "historic district row 2"]


def test_rows_left_out_of_a_constraint_layer_are_noted_in_both_languages(tmp_path):
    path = tmp_path / "古树.gpkg"
    frame([pt(0, 0), box(10, 0, 5, 5), pt(30, 0)], 古树编号=["A", "B", None]).to_file(path)
    with pytest.raises(GeometryError, match="row 2 is Polygon"):
        read_constraint(path, "ancient_tree")
    c = read_constraint(path, "ancient_tree", invalid="skip")
    assert c.layer["name"].tolist() == ["A", "古树名木第3行"]  # named by its file row
    assert feature_labels(c.layer, "ancient_tree", "en").tolist() == [
        "A", "ancient or notable tree row 3"]
    (skipped,) = c.layer.attrs["skipped"]
    assert (skipped["row"], skipped["reason"]) == (2, "Polygon, not points (one per tree)")
    assert skipped["reason_zh"] == "几何类型不符（Polygon，应为点（每株古树一个点））"
    note = next(n for n in c.layer.attrs["notes"] if getattr(n, "msg_id", "") ==
                "analysis.constraints.left_out")
    assert str(note) == ('古树.gpkg: row 2 left out (`invalid="skip"`): '
                         "Polygon, not points (one per tree).")
    assert note.zh == ('古树.gpkg：第 2 行几何类型不符（Polygon，应为点（每株古树一个点）），'
                       '已跳过（`invalid="skip"`），未参与审查。')
