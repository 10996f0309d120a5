"""Write the hostile-input corpus: data that used to give confident wrong answers.

Each file is a small variation of the bundled demo layers (or a tiny standard file) for
one class of issue 11 (data side): unnoded streets, web-map offsets in either direction,
a stray feature far away, gates far from their estates, non-finite values, malformed
standards, ambiguous tables, traditional/full-width category words, overlapping and
implausible estates, Shapefile names cut mid-character. `tests/test_hostile_inputs.py`
lists what each must produce. Run from the project root:
``python tests/hostile_inputs/make_hostile_data.py``. Deterministic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DEMO = HERE.parents[1] / "layers" / "demo"

_CATEGORY = """
[[category]]
key = "clinic"
name_zh = "医疗服务中心"
name_en = "Clinic"
walk_m = 1000
source = "test"
names = ["社区卫生服务站", "诊所"]
"""


def _gcj(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from gis.crs import wgs84_to_gcj02

    out = gdf.copy()
    out["geometry"] = shapely.transform(
        np.asarray(gdf.geometry.values),
        lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    return out


def _unnoded(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One line per named road, as Amap draws them: each road's pieces merged and every
    vertex it shares with another road removed, so roads cross without a junction."""
    m = streets.to_crs(4548)
    key = lambda xy: (round(xy[0], 2), round(xy[1], 2))  # noqa: E731
    owners: dict = {}
    for name, geom in zip(m["道路名称"], m.geometry):
        for xy in geom.coords:
            owners.setdefault(key(xy), set()).add(name)
    rows = []
    for name, group in m.groupby("道路名称", sort=True):
        merged = shapely.line_merge(shapely.union_all(group.geometry.values))
        for part in shapely.get_parts(merged):
            pts = list(part.coords)
            inner = [p for p in pts[1:-1] if len(owners.get(key(p), ())) == 1]
            line = [pts[0], *inner, pts[-1]]
            if len(line) >= 2:
                rows.append({"道路名称": name, "道路等级": group["道路等级"].iloc[0],
                             "geometry": shapely.LineString(line)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4548).to_crs(4490)


def main() -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    DATA.mkdir()
    est = gpd.read_file(DEMO / "estates.gpkg")
    svc = gpd.read_file(DEMO / "services.gpkg")
    streets = gpd.read_file(DEMO / "streets.gpkg")
    gates = gpd.read_file(DEMO / "gates.gpkg")

    def save(gdf: gpd.GeoDataFrame, name: str, **kw) -> None:
        gdf.to_file(DATA / name, **kw)

    # 1 unnoded streets (one line per road) and near misses
    save(_unnoded(streets), "streets_one_line_per_road.gpkg")
    near = streets.to_crs(4548)
    ends = []
    for i in range(0, len(near), 40):  # pull every 40th line's start 0.8 m back along itself
        line = near.geometry.iloc[i]
        if line.length > 5:
            ends.append(i)
            near.loc[near.index[i], "geometry"] = shapely.ops.substring(line, 0.8, line.length)
    save(near.to_crs(4490), "streets_near_miss.gpkg")

    # 2 web-map offsets: estates and streets traced on Amap (GCJ-02), services in WGS84
    save(_gcj(est), "estates_gcj02.gpkg")
    save(_gcj(streets), "streets_gcj02.gpkg")

    # 3 a stray estate at (0°, 0°); a service 120 km away
    stray = pd.concat([est, est.iloc[[0]].assign(小区编号="XQ-ZERO", 小区名称="零点小区")],
                      ignore_index=True)
    stray.loc[len(stray) - 1, "geometry"] = shapely.box(0.0, 0.0, 0.002, 0.002)
    save(stray, "estate_at_null_island.gpkg")
    far_svc = pd.concat([svc, svc.iloc[[0]].assign(名称="远处诊所")], ignore_index=True)
    far_svc.loc[len(far_svc) - 1, "geometry"] = shapely.Point(118.9, 34.4)
    save(far_svc, "services_one_far_away.gpkg")

    # 4 a gate 2.6 km east of its estate
    g = gates.to_crs(4548)
    g.loc[g.index[4], "geometry"] = shapely.affinity.translate(g.geometry.iloc[4], 2600, 0)
    save(g.to_crs(4490), "gate_far_from_estate.gpkg")

    # 9 non-finite values
    s = streets.copy()
    coords = list(s.geometry.iloc[6].coords)
    coords.insert(1, (np.nan, np.nan))
    s.loc[6, "geometry"] = shapely.LineString(coords)
    save(s, "streets_nan_vertex.gpkg")
    xy = shapely.get_coordinates(svc.geometry.values)
    table = pd.DataFrame({"名称": svc["名称"], "类别": svc["类别"],
                          "经度": xy[:, 0].round(6).astype(object), "纬度": xy[:, 1].round(6)})
    table.loc[3, "经度"] = "inf"
    table.to_csv(DATA / "services_inf_lon.csv", index=False, encoding="utf-8-sig")
    inf = est.copy()
    inf["户数"] = inf["户数"].astype(float)
    inf.loc[7, "户数"] = np.inf
    save(inf, "households_inf.gpkg")
    (DATA / "standard_table_is_text.toml").write_text('standard = "x"\n' + _CATEGORY,
                                                      encoding="utf-8")
    (DATA / "standard_poi_words_text.toml").write_text(
        _CATEGORY + 'poi_words = "诊所"\n', encoding="utf-8")
    (DATA / "standard_walk_m_nan.toml").write_text(
        _CATEGORY.replace("walk_m = 1000", "walk_m = nan"), encoding="utf-8")
    (DATA / "standard_keys_differ_in_case.toml").write_text(
        _CATEGORY + _CATEGORY.replace('key = "clinic"', 'key = "Clinic"'), encoding="utf-8")

    # 10 ambiguous tables, traditional and full-width words, overlapping/implausible estates
    twice = est.copy()
    twice["households"] = 1.0  # a second, different household column
    save(twice, "households_twice_differ.gpkg")
    save(est.assign(households=est["户数"]), "households_twice_agree.gpkg")
    trad = {"便民超市": "便民超市", "快递收发点": "快遞收發點", "停车场": "停車場",
            "充电设施": "充電設施", "便民服务中心": "便民服務中心", "公共厕所": "公共廁所",
            "社区卫生服务站": "社區衛生服務站"}
    tw = svc.drop(columns=["类型"]).copy()
    tw["类别"] = tw["类别"].map(trad)
    tw.loc[tw.index[:3], "类别"] = "ＣＯＮＶＥＮＩＥＮＣＥ＿ＳＴＯＲＥ"  # full-width key
    save(tw, "services_traditional.gpkg")
    odd = est.copy()
    m = odd.to_crs(4548)
    m.loc[m.index[1], "geometry"] = m.geometry.iloc[0].buffer(-5)  # wholly inside estate 0
    m.loc[m.index[3], "geometry"] = shapely.affinity.translate(m.geometry.iloc[2], 10, 0)
    odd = m.to_crs(4490)
    odd["户数"] = odd["户数"].astype(float)
    odd.loc[5, "户数"] = 31_203.0
    odd.loc[6, "建成年份"] = 2087
    save(odd, "estates_overlapping_implausible.gpkg")

    # 12 a UTF-8 Shapefile whose Chinese field names GDAL cut at 10 bytes mid-character
    folder = DATA / "truncated_names"
    folder.mkdir()
    long_names = est.iloc[:20].rename(columns={"小区名称": "小区名称全称", "建筑面积": "总建筑面积平方米"})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL reports the laundered names
        long_names.to_file(folder / "estates.shp", encoding="utf-8")


if __name__ == "__main__":
    main()
