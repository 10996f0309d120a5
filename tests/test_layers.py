"""Layer readers: formats, encodings, Chinese field aliases, and clear errors on bad input."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import METRIC
from gis.errors import CRSError, GeometryError, InputError
from gis.layers import read_estates, read_gates, read_services, read_streets


def estates_frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "小区编号": [f"XQ{i:03d}" for i in range(n)],
            "小区名称": [f"纺织厂宿舍{i}" for i in range(n)],
            "建成年份": ["1995", "1998年", "2003"][:n],
            "户数": [120, 340, 56][:n],
            "建筑面积": [9800.5, 27000, 4300][:n],
            "所属街道": ["城关街道"] * n,
        },
        geometry=[shapely.box(i * 100, 0, i * 100 + 80, 80) for i in range(n)],
        crs=METRIC,
    )


def test_chinese_fields_are_mapped_and_reported(tmp_path):
    path = tmp_path / "小区.gpkg"
    estates_frame().to_file(path)
    est = read_estates(path)
    assert list(est.columns[:6]) == ["estate_id", "name", "build_year", "households",
                                     "floor_area_m2", "subdistrict"]
    assert est["build_year"].tolist() == [1995, 1998, 2003]
    assert est["households"].tolist() == [120.0, 340.0, 56.0]
    assert any("小区编号→estate_id" in n and "户数→households" in n for n in est.attrs["notes"])


def test_gbk_shapefile_without_cpg_is_detected(tmp_path):
    path = tmp_path / "estates.shp"
    estates_frame().to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    est = read_estates(path)
    assert est["name"].tolist()[0] == "纺织厂宿舍0"
    assert any("GBK" in n for n in est.attrs["notes"])


def test_shapefile_with_cpg_is_honoured(tmp_path):
    path = tmp_path / "estates.shp"
    estates_frame().to_file(path, encoding="gbk")
    assert path.with_suffix(".cpg").read_text().upper().startswith("GBK")
    assert read_estates(path)["name"].tolist()[1] == "纺织厂宿舍1"


def test_zipped_shapefile(tmp_path):
    # GBK keeps Chinese field names within the Shapefile's 10-byte limit, as bureaus do.
    estates_frame().to_file(tmp_path / "estates.shp", encoding="gbk")
    zpath = tmp_path / "estates.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in tmp_path.glob("estates.*"):
            if f.suffix != ".zip":
                zf.write(f, f.name)
    assert read_estates(zpath)["name"].tolist()[2] == "纺织厂宿舍2"
    (tmp_path / "estates.cpg").unlink()
    with zipfile.ZipFile(zpath, "w") as zf:  # again without the .cpg: GBK is detected
        for f in tmp_path.glob("estates.*"):
            if f.suffix != ".zip":
                zf.write(f, f.name)
    assert read_estates(zpath)["name"].tolist()[2] == "纺织厂宿舍2"


def test_shapefile_without_prj_needs_a_crs(tmp_path):
    path = tmp_path / "estates.shp"
    estates_frame().to_file(path, encoding="gbk")
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"estates.shp: the layer has no CRS. Pass `input_crs`"):
        read_estates(path)
    assert read_estates(path, input_crs="EPSG:4548").crs.to_epsg() == 4548


def test_gbk_csv_services_with_lon_lat(tmp_path, standard):
    path = tmp_path / "设施.csv"
    pd.DataFrame(
        {"名称": ["城关社区卫生服务站", "菜鸟驿站", "苏果便利店", "某某公司"],
         "类别": ["社区卫生服务站", "快递收发点", "", ""],
         "经度": [117.6, 117.601, 117.602, 117.603], "纬度": [34.4, 34.401, 34.402, 34.403]}
    ).to_csv(path, index=False, encoding="gbk")
    with pytest.raises(CRSError, match="no CRS"):
        read_services(path, standard)
    svc = read_services(path, standard, input_crs="EPSG:4490")
    assert svc["category"].tolist() == ["clinic", "express", "convenience_store", None]
    assert any("GBK" in n for n in svc.attrs["notes"])
    assert any("1 of 4 services match no category" in n and "某某公司" in n
               for n in svc.attrs["notes"])


def test_utf8_bom_csv_and_xlsx(tmp_path, standard):
    df = pd.DataFrame({"name": ["公厕A"], "category": ["toilet"], "lon": [117.6], "lat": [34.4]})
    df.to_csv(tmp_path / "a.csv", index=False, encoding="utf-8-sig")
    df.to_excel(tmp_path / "a.xlsx", index=False)
    for name in ("a.csv", "a.xlsx"):
        svc = read_services(tmp_path / name, standard, input_crs=4326)
        assert svc["category"].tolist() == ["toilet"]


def test_polygon_services_become_points(tmp_path, standard):
    gdf = gpd.GeoDataFrame({"名称": ["人民路停车场"], "类别": ["停车场"]},
                           geometry=[shapely.box(0, 0, 50, 20)], crs=METRIC)
    gdf.to_file(tmp_path / "p.gpkg")
    svc = read_services(tmp_path / "p.gpkg", standard)
    assert svc.geometry.iloc[0].geom_type == "Point"
    assert shapely.box(0, 0, 50, 20).contains(svc.geometry.iloc[0])
    assert svc["category"].iloc[0] == "parking"


def test_bow_tie_is_repaired_and_reported(tmp_path):
    gdf = estates_frame()
    gdf.loc[1, "geometry"] = shapely.Polygon([(100, 0), (180, 80), (180, 0), (100, 80)])
    gdf.to_file(tmp_path / "e.gpkg")
    with pytest.warns(UserWarning, match="repaired with make_valid"):
        est = read_estates(tmp_path / "e.gpkg")
    assert est.geometry.is_valid.all()
    assert est.geometry.iloc[1].area == pytest.approx(3200.0)
    assert any("row 2: Self-intersection" in n for n in est.attrs["notes"])


def test_duplicate_ids_are_listed(tmp_path):
    gdf = estates_frame()
    gdf["小区编号"] = ["XQ001", "XQ002", "XQ001"]
    gdf.to_file(tmp_path / "e.gpkg")
    with pytest.raises(InputError, match=r"e.gpkg: 1 estate_id values repeat \(XQ001\) in rows 1, 3"):
        read_estates(tmp_path / "e.gpkg")


def test_empty_layer(tmp_path):
    estates_frame().iloc[:0].to_file(tmp_path / "e.gpkg")
    with pytest.raises(InputError, match="e.gpkg: the estates layer is empty"):
        read_estates(tmp_path / "e.gpkg")


def test_non_numeric_households_names_row_and_value(tmp_path):
    gdf = estates_frame()
    gdf["户数"] = ["120", "约300户", "56"]
    gdf.to_file(tmp_path / "e.gpkg")
    with pytest.raises(InputError, match=r"households must be a number but row 2 holds 约300户"):
        read_estates(tmp_path / "e.gpkg")


def test_negative_floor_area(tmp_path):
    gdf = estates_frame()
    gdf["建筑面积"] = [100.0, -5.0, 30.0]
    gdf.to_file(tmp_path / "e.gpkg")
    with pytest.raises(InputError, match="floor_area_m2 is negative in row 2"):
        read_estates(tmp_path / "e.gpkg")


def test_points_are_not_estates(tmp_path):
    gdf = estates_frame()
    gdf.loc[2, "geometry"] = shapely.Point(1, 1)
    gdf.to_file(tmp_path / "e.geojson", driver="GeoJSON")
    with pytest.raises(GeometryError, match="row 3 is Point, not polygons"):
        read_estates(tmp_path / "e.geojson")


def test_unknown_extension_and_missing_file(tmp_path):
    (tmp_path / "e.dwg").write_bytes(b"AC1027")
    with pytest.raises(InputError, match="unknown format '.dwg'"):
        read_estates(tmp_path / "e.dwg")
    with pytest.raises(InputError, match="no such file"):
        read_estates(tmp_path / "nope.gpkg")


def test_streets_explode_and_reject_polygons(tmp_path):
    lines = gpd.GeoDataFrame(
        {"道路名称": ["人民路", "建设路"], "道路宽度": [30, 12]},
        geometry=[shapely.MultiLineString([[(0, 0), (10, 0)], [(10, 0), (20, 0)]]),
                  shapely.LineString([(0, 0), (0, 10)])], crs=METRIC)
    lines.to_file(tmp_path / "s.gpkg")
    st = read_streets(tmp_path / "s.gpkg")
    assert len(st) == 3 and st["width_m"].tolist() == [30.0, 30.0, 12.0]
    lines.loc[1, "geometry"] = shapely.box(0, 0, 1, 1)
    lines.to_file(tmp_path / "bad.gpkg")
    with pytest.raises(GeometryError, match="row 2 is Polygon, not lines"):
        read_streets(tmp_path / "bad.gpkg")


def test_gates_must_name_known_estates(tmp_path):
    est = read_estates_from(tmp_path)
    gates = gpd.GeoDataFrame({"小区编号": ["XQ000", "XQ999"], "名称": ["南门", "北门"]},
                             geometry=[shapely.Point(40, 0), shapely.Point(0, 0)], crs=METRIC)
    gates.to_file(tmp_path / "g.gpkg")
    with pytest.raises(InputError, match=r"row 2 names estates that are not in the estates layer \(XQ999\)"):
        read_gates(tmp_path / "g.gpkg", est)


def read_estates_from(tmp_path):
    estates_frame().to_file(tmp_path / "e.gpkg")
    return read_estates(tmp_path / "e.gpkg")


def test_osm_tags_and_poi_words_classify(tmp_path, standard):
    gdf = gpd.GeoDataFrame(
        {"name": ["A", "B", "新华书店", "人民医院"], "amenity": ["toilets", None, None, None],
         "shop": [None, "convenience", None, None], "poi_type": [None, None, "购物服务;书店", None]},
        geometry=[shapely.Point(i, i) for i in range(4)], crs=METRIC)
    gdf.to_file(tmp_path / "s.gpkg")
    svc = read_services(tmp_path / "s.gpkg", standard)
    assert svc["category"].tolist() == ["toilet", "convenience_store", None, "clinic"]


def test_no_service_matches_is_an_error(tmp_path, standard):
    gdf = gpd.GeoDataFrame({"名称": ["新华书店"], "类别": ["书店"]},
                           geometry=[shapely.Point(0, 0)], crs=METRIC)
    gdf.to_file(tmp_path / "s.gpkg")
    with pytest.raises(InputError, match="no service matches any category"):
        read_services(tmp_path / "s.gpkg", standard)


def test_multi_layer_geopackage_needs_a_layer_name(tmp_path):
    path = tmp_path / "all.gpkg"
    estates_frame().to_file(path, layer="小区")
    gpd.GeoDataFrame({"名称": ["公厕"]}, geometry=[shapely.Point(1, 1)], crs=METRIC).to_file(
        path, layer="设施")
    with pytest.raises(InputError, match=r"all.gpkg: holds 2 layers \(小区, 设施\); name the one to use as FILE:LAYER"):
        read_estates(path)
    assert len(read_estates(f"{path}:小区")) == 3


def test_multipoint_services_are_split_and_noted(tmp_path, standard):
    gdf = gpd.GeoDataFrame({"名称": ["公厕"], "类别": ["公共厕所"]},
                           geometry=[shapely.MultiPoint([(0, 0), (50, 0)])], crs=METRIC)
    gdf.to_file(tmp_path / "m.gpkg")
    svc = read_services(tmp_path / "m.gpkg", standard)
    assert len(svc) == 2 and svc["category"].tolist() == ["toilet", "toilet"]
    assert any("split into 2 services" in n for n in svc.attrs["notes"])


def test_gate_ids_stored_as_numbers_match_text_ids(tmp_path):
    est = estates_frame()
    est["小区编号"] = [101, 102, 103]
    est.to_file(tmp_path / "e.gpkg")
    estates = read_estates(tmp_path / "e.gpkg")
    gates = gpd.GeoDataFrame({"小区编号": [101.0, 102.0]}, geometry=[shapely.Point(40, 0), shapely.Point(140, 0)],
                             crs=METRIC)
    gates.to_file(tmp_path / "g.gpkg")
    assert read_gates(tmp_path / "g.gpkg", estates)["estate_id"].tolist() == ["101", "102"]
