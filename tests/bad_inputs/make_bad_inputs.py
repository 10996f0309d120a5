"""Write the bad-input corpus: broken files as planners really receive them.

Each file is a small variation of the bundled demo layers; `tests/test_bad_inputs.py`
lists what each one must produce (a documented repair or a one-line error). Run from the
project root: ``python tests/bad_inputs/make_bad_inputs.py``. Deterministic.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "layers" / "demo"


def main() -> None:
    for f in HERE.iterdir():
        if f.suffix not in (".py",) and f.name != "__pycache__":
            f.unlink() if f.is_file() else shutil.rmtree(f)
    est = gpd.read_file(DEMO / "estates.gpkg").iloc[:12].reset_index(drop=True)
    svc = gpd.read_file(DEMO / "services.gpkg")
    streets = gpd.read_file(DEMO / "streets.gpkg")
    gates = gpd.read_file(DEMO / "gates.gpkg")
    metric = est.to_crs(4548)

    def save(gdf: gpd.GeoDataFrame, name: str, **kw) -> None:
        gdf.to_file(HERE / name, **kw)

    def metric_to_4490(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return g.to_crs(4490)

    # --- estates -----------------------------------------------------------------------
    bad = metric.copy()
    b = bad.geometry.iloc[2].bounds
    bad.loc[2, "geometry"] = shapely.Polygon([(b[0], b[1]), (b[2], b[3]), (b[2], b[1]), (b[0], b[3])])
    save(metric_to_4490(bad), "invalid_ring.gpkg")
    bow = metric.copy()
    b = bow.geometry.iloc[4].bounds
    bow.loc[4, "geometry"] = shapely.Polygon([(b[0], b[1]), (b[2], b[3]), (b[0], b[3]), (b[2], b[1])])
    save(metric_to_4490(bow).to_crs(4326), "bowtie.geojson", driver="GeoJSON")
    empty = est.copy()
    empty.loc[3, "geometry"] = None
    save(empty, "empty_geometry.gpkg")
    mixed = est.copy()
    mixed.loc[5, "geometry"] = shapely.LineString(list(est.geometry.iloc[5].exterior.coords)[:3])
    save(mixed, "mixed_types.gpkg", geometry_type="Unknown")
    z = est.copy()
    z["geometry"] = shapely.force_3d(np.asarray(est.geometry.values), 12.5)
    save(z, "z_coordinates.gpkg")
    est.to_file(HERE / "no_prj.shp", encoding="gbk")
    (HERE / "no_prj.prj").unlink()
    wrong = metric.copy().set_crs(4490, allow_override=True)  # metres labelled as degrees
    save(wrong, "wrong_crs.gpkg")
    dup = est.copy()
    dup.loc[7, "小区编号"] = dup.loc[1, "小区编号"]
    save(dup, "duplicate_ids.gpkg")
    text = est.copy()
    text["户数"] = text["户数"].astype(str)
    text.loc[6, "户数"] = "约二百户"
    save(text, "households_text.gpkg")
    neg = est.copy()
    neg.loc[8, "建筑面积"] = -1200.0
    save(neg, "negative_floor_area.gpkg")
    for f in HERE.glob("zipped.*"):
        f.unlink()
    est.to_file(HERE / "zipped.shp", encoding="gbk")
    (HERE / "zipped.cpg").unlink()  # as bureaus send them: GBK with no .cpg
    with zipfile.ZipFile(HERE / "zipped_shapefile.zip", "w") as zf:
        for f in sorted(HERE.glob("zipped.*")):
            zf.write(f, f.name)
    for f in HERE.glob("zipped.*"):
        f.unlink()
    (HERE / "empty_file.gpkg").write_bytes(b"")
    shutil.copy(DEMO / "estates.gpkg", HERE / "estates.dwg")
    (HERE / "text_named_xlsx.xlsx").write_text("小区编号,小区名称\nXQ001,甲\n", encoding="utf-8")
    far = metric.copy()
    extra = far.iloc[[0]].copy()
    extra["小区编号"] = "XQ900"
    extra["小区名称"] = "远郊小区"
    extra["geometry"] = extra.geometry.translate(5000, 5000)
    save(metric_to_4490(pd.concat([far, extra], ignore_index=True)), "estate_far_from_streets.gpkg")
    year = est.copy()
    year["建成年份"] = year["建成年份"].astype(str)
    year.loc[9, "建成年份"] = "九十年代"
    save(year, "bad_year.gpkg")
    blank = est.copy()
    blank.loc[10, "小区编号"] = None
    save(blank, "blank_ids.gpkg")

    # --- services ------------------------------------------------------------------------
    xy = shapely.get_coordinates(svc.geometry.values)
    table = pd.DataFrame({"名称": svc["名称"], "类别": svc["类别"]})
    swapped = table.assign(经度=xy[:, 1].round(6), 纬度=xy[:, 0].round(6))
    swapped.to_csv(HERE / "swapped_latlon.csv", index=False, encoding="utf-8-sig")
    gbk = table.assign(经度=xy[:, 0].round(6), 纬度=xy[:, 1].round(6))
    gbk.to_csv(HERE / "services_gbk.csv", index=False, encoding="gbk")
    with pd.ExcelWriter(HERE / "merged_header.xlsx", engine="openpyxl") as xw:
        gbk.to_excel(xw, index=False, startrow=2)
        ws = xw.book.active
        ws["A1"] = "示例县城便民设施调查表（2024年）"
        ws.merge_cells("A1:D1")
        ws["A2"] = "填报单位：住建局"
        ws.merge_cells("A2:D2")
    pd.DataFrame(columns=["名称", "类别", "经度", "纬度"]).to_csv(
        HERE / "header_only.csv", index=False, encoding="utf-8-sig")
    from gis.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    amap = pd.DataFrame({
        "name": svc["名称"], "type": svc["类型"],
        "location": [f"{a:.9f},{b:.9f}" for a, b in zip(glon, glat)],  # ~0.1 mm: tests the transform, not rounding
    })
    amap.to_csv(HERE / "services_amap_gcj02.csv", index=False, encoding="utf-8-sig")
    books = gpd.GeoDataFrame({"名称": ["新华书店", "邮票社"], "类别": ["书店", "集邮"]},
                             geometry=svc.geometry.iloc[:2].values, crs=svc.crs)
    save(books, "services_no_category.gpkg")

    # --- streets and gates ---------------------------------------------------------------
    cut = streets.to_crs(4548)
    minx, miny, maxx, maxy = cut.total_bounds
    gap = shapely.box((minx + maxx) / 2 - 40, miny - 10, (minx + maxx) / 2 + 40, maxy + 10)
    cut["geometry"] = cut.geometry.difference(gap)
    cut = cut[~cut.geometry.is_empty].explode(index_parts=False)
    save(cut.to_crs(4490), "disconnected_streets.gpkg")
    pts = streets.iloc[:5].copy()
    pts["geometry"] = pts.geometry.representative_point()
    save(pts, "points_as_streets.gpkg")
    g = gates.iloc[:4].copy()
    g.loc[g.index[2], "小区编号"] = "XQ999"
    save(g, "unknown_gate_ids.gpkg")


if __name__ == "__main__":
    main()
