"""Read and check the input layers: estates, services, streets and gates.

Formats: GeoPackage, GeoJSON, Shapefile (``.cpg`` honoured; GBK detected when absent),
zipped Shapefile, CSV/XLSX with lon/lat columns (UTF-8, UTF-8 with BOM or GBK) and
OpenStreetMap ``.osm`` / ``.osm.pbf`` (see `gis.osm`).

Common Chinese field names (小区名称, 建成年份, 户数, 建筑面积 …) are recognised as aliases
of the canonical English fields; the mapping used is logged and kept in
``gdf.attrs["notes"]`` with every repair, so reports can show what was done.

Every reader returns a GeoDataFrame in the file's own CRS with canonical columns,
never guesses a CRS, and raises `InputError` (or `CRSError`) naming the file, the rows
and the fix.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import bd09_to_gcj02, far_from_rest, gcj02_to_wgs84, require_crs
from gis.errors import CRSError
from gis.errors import GeometryError, GisError, InputError
from gis.geometry import repair_polygons
from gis.i18n import tr
from gis.notes import Note
from gis.osm import SERVICE_TAG_KEYS, read_osm
from gis.postgis import is_postgis, read_postgis_layer
from gis.skipped import check_invalid_mode, skipped_record
from gis.standards import Standard
from gis.text import fold_text, id_text, norm_text

__all__ = [
    "COORD_SYSTEMS",
    "ESTATE_FIELDS",
    "GATE_FIELDS",
    "LEVEL_FIELDS",
    "SERVICE_FIELDS",
    "STREET_FIELDS",
    "classify_services",
    "estate_remarks",
    "find_field",
    "id_text",
    "list_items",
    "norm_text",
    "read_estates",
    "read_gates",
    "read_layer",
    "rows_phrase",
    "read_services",
    "read_barriers",
    "read_streets",
    "read_table",
    "split_layer",
]

logger = logging.getLogger(__name__)

# Canonical field -> accepted names (compared case-insensitively, spaces and brackets ignored).
ESTATE_FIELDS: dict[str, tuple[str, ...]] = {
    "estate_id": ("estate_id", "小区编号", "小区代码", "小区id", "编号", "id", "osm_id"),
    "name": ("name", "小区名称", "小区名", "名称", "项目名称"),
    "build_year": (
        "build_year", "建成年份", "建成年代", "建成时间", "竣工年份", "建设年代", "建成年", "年代",
        "start_date",
    ),
    "households": ("households", "户数", "总户数", "住户数", "居民户数"),
    "floor_area_m2": (
        "floor_area_m2", "floor_area", "建筑面积", "总建筑面积", "建筑面积m2", "建筑面积平方米",
        "建筑面积㎡",
    ),
    "buildings": ("buildings", "楼栋数", "栋数", "楼栋", "幢数"),
    "subdistrict": ("subdistrict", "所属街道", "街道", "街道办", "乡镇街道"),
    "community": ("community", "所属社区", "社区", "居委会"),
    "shantytown": ("shantytown", "棚改计划", "棚改", "纳入棚改", "棚户区改造"),
    "demolish": ("demolish", "拆除新建", "拟拆除", "拆除重建", "拟征收"),
}
SERVICE_FIELDS: dict[str, tuple[str, ...]] = {
    "service_id": ("service_id", "设施编号", "编号", "id", "osm_id", "poi_id"),
    "name": ("name", "名称", "设施名称", "poi名称"),
    "category": ("category", "类别", "设施类别", "分类"),
    "poi_type": ("poi_type", "类型", "type", "poi类型", "大类", "tag", "标签", "detail_info.tag"),
    "typecode": ("typecode", "类型编码", "poi编码", "分类编码", "type_code"),
}
STREET_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "道路名称", "路名", "名称"),
    "road_class": ("road_class", "道路等级", "等级", "highway", "fclass"),
    "width_m": ("width_m", "道路宽度", "宽度", "路宽", "width"),
}
GATE_FIELDS: dict[str, tuple[str, ...]] = {
    "estate_id": ("estate_id", "小区编号", "小区代码", "小区id"),
    "name": ("name", "名称", "出入口名称", "门"),
}
# Columns saying a street is a bridge, a tunnel or on another level (OSM tags, Chinese names).
LEVEL_FIELDS = ("bridge", "tunnel", "layer", "桥梁", "隧道", "是否桥梁", "是否隧道", "层")
_LON = ("lon", "lng", "longitude", "经度", "x", "坐标x")
_LAT = ("lat", "latitude", "纬度", "y", "坐标y")
_VECTOR = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb", ".kml"}
_TABLE = {".csv", ".txt", ".xlsx", ".xls"}
_MAX_LISTED = 5


# ---------------------------------------------------------------------------
# public readers


def read_estates(
    path: str | Path,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
    invalid: str = "stop",
) -> gpd.GeoDataFrame:
    """Read estate (小区) boundaries.

    Parameters
    ----------
    path : str or Path
        Polygon layer; see the module docstring for formats.
    layer : str, optional
        Layer name inside a multi-layer file (GeoPackage).
    input_crs : str, int or CRS, optional
        CRS of a file that has none (CSV has none; a Shapefile without ``.prj``).
    encoding : str, optional
        Text encoding of attributes; detected when not given.
    coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
        Coordinate system of lon/lat data: GCJ-02 (Amap/Gaode, Tencent) and BD-09
        (Baidu) are converted to WGS84. CGCS2000 is taken as WGS84 (they differ by a few
        centimetres, far below what matters here). Default: as labelled.
    invalid : {"stop", "skip"}, default "stop"
        Rows whose geometry cannot be used or repaired (none, not a polygon, no area
        once repaired): "stop" raises `GeometryError` naming them; "skip" leaves them
        out and lists each in ``attrs["skipped"]`` (see `gis.skipped`) and the notes.
        Attribute errors (ids, numbers, years) stop either way: they are typing errors
        to correct, not features to drop.

    Returns
    -------
    GeoDataFrame
        Columns ``estate_id`` (str, unique), ``name``, ``build_year`` (Int64),
        ``households`` (float, NaN if unknown), ``floor_area_m2`` (m², float),
        ``buildings``, ``subdistrict``, ``community``, ``shantytown`` and ``demolish``
        (bool: in a shantytown plan / to be demolished and rebuilt) where the file has them, plus ``geometry`` (Polygon/MultiPolygon, valid). ``attrs["notes"]``
        lists the field mapping and any repairs.

    Raises
    ------
    InputError
        Missing/duplicate ids, non-numeric or negative values, non-polygon rows, empty layer.
    CRSError
        No CRS and none given.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> len(est), est.crs.to_string(), list(est.columns[:5])
    (150, 'EPSG:4490', ['estate_id', 'name', 'build_year', 'households', 'floor_area_m2'])
    >>> est["estate_id"].iloc[0], int(est["households"].sum())
    ('XQ001', 31203)
    >>> print(est.attrs["notes"][0])  # doctest: +ELLIPSIS
    estates.gpkg: fields mapped 小区编号→estate_id, 小区名称→name, 建成年份→build_year, ...
    """
    gdf, notes, src = read_layer(path, role="estates", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords, invalid=invalid)
    return estates_from(gdf, notes, src, invalid=invalid, from_osm=_is_osm(path))


def estates_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str, *, invalid: str = "stop",
                 from_osm: bool = False) -> gpd.GeoDataFrame:
    """The checks and repairs of `read_estates` on a layer already read (see
    `gis.prepare.prepare_estates`, which is the public way in)."""
    gdf = _rename(gdf, ESTATE_FIELDS, src, notes)
    skipped: list[dict[str, Any]] = []
    gdf = _polygons(gdf, src, notes, from_osm=from_osm, invalid=invalid, skipped=skipped)
    gdf = _ids(gdf, "estate_id", src, notes, fallback="name")
    _refuse_far_estates(gdf, src, notes, from_osm=from_osm)
    for field in ("households", "floor_area_m2", "buildings"):
        gdf = _numeric(gdf, field, src, minimum=0)
    if "build_year" in gdf.columns:
        gdf["build_year"] = _years(gdf["build_year"], gdf["estate_id"], src)
    for flag in ("shantytown", "demolish"):
        if flag in gdf.columns:
            gdf[flag] = _flags(gdf[flag])
    if "name" not in gdf.columns:
        gdf["name"] = gdf["estate_id"]
    gdf["name"] = gdf["name"].astype(object).where(gdf["name"].notna(), gdf["estate_id"])
    if "households" not in gdf.columns:
        gdf["households"] = np.nan
        notes.append(Note.of("inputs.no_households", src=src))
    notes.extend(estate_remarks(gdf, src))
    return _finish(gdf, ["estate_id", "name", *ESTATE_FIELDS], notes, skipped=skipped)


MAX_HOUSEHOLDS = 20_000
MAX_AREA_KM2 = 3.0


def estate_remarks(gdf: gpd.GeoDataFrame, src: str) -> list[Note]:
    """Notes on estates that overlap, lie inside another, or carry implausible values.

    Overlaps of more than 1 m² and estates at least 99 % inside another are listed with
    their ids; households above `MAX_HOUSEHOLDS`, areas above `MAX_AREA_KM2` km² and
    build years after the current year are listed as implausible. Nothing is changed.

    Examples
    --------
    >>> import shapely
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> estate_remarks(est, "estates.gpkg")  # the demo town's boundaries are clean
    []
    >>> est.loc[1, "geometry"] = shapely.box(*est.geometry.iloc[0].bounds)  # 2 drawn over 1
    >>> print(estate_remarks(est, "estates.gpkg")[0])
    estates.gpkg: 1 estates lie inside another (XQ001 in XQ002); check whether they are duplicates or sub-areas.
    """
    import datetime

    from gis.crs import metric_crs

    out: list[Note] = []
    ids = gdf["estate_id"].astype(str).to_numpy()
    try:
        geoms = np.asarray(gdf.to_crs(metric_crs(gdf)).geometry.values)
    except GisError:
        return out
    area = shapely.area(geoms)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.area(shapely.intersection(geoms[a], geoms[b])) if len(a) else np.zeros(0)
    smaller = np.minimum(area[a], area[b])
    inside = shared >= 0.99 * smaller
    overlap = (shared > 1.0) & ~inside
    if inside.any():
        pairs = [(ids[i], ids[j]) if area[i] <= area[j] else (ids[j], ids[i])
                 for i, j in zip(a[inside], b[inside])]
        inside_of = Note.each("inputs.estate_in", ({"inner": x, "outer": y} for x, y in pairs),
                              join=list_items)
        out.append(Note.of("inputs.estates_inside", src=src, n=len(pairs), pairs=inside_of))
    if overlap.any():
        text = list_items(f"{ids[i]}/{ids[j]} {m:,.0f} m²"
                          for i, j, m in zip(a[overlap], b[overlap], shared[overlap]))
        out.append(Note.of("inputs.estates_overlap", src=src, n=int(overlap.sum()), pairs=text))
    checks = []
    if "households" in gdf.columns:
        checks.append((gdf["households"].to_numpy(dtype=float) > MAX_HOUSEHOLDS,
                       Note.of("inputs.implausible.households", max=MAX_HOUSEHOLDS)))
    checks.append((area > MAX_AREA_KM2 * 1e6,
                   Note.of("inputs.implausible.area", max_km2=MAX_AREA_KM2)))
    if "build_year" in gdf.columns:
        year = datetime.date.today().year
        future = (gdf["build_year"].astype("Float64") > year).fillna(False).to_numpy(dtype=bool)
        checks.append((future, Note.of("inputs.implausible.year", year=year)))
    for mask, what in checks:
        if mask.any():
            out.append(Note.of("inputs.implausible", src=src, n=int(mask.sum()), what=what,
                               shown=list_items(ids[mask])))
    return out


def read_services(
    path: str | Path,
    standard: Standard,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
    invalid: str = "stop",
) -> gpd.GeoDataFrame:
    """Read service points and classify them into the standard's categories.

    Polygons (a parking lot, a clinic's building) become representative points.
    A ``category`` column (类别) may hold the standard's keys or names; otherwise each
    point is classified from OSM tags or POI type/name text (see `classify_services`).

    Parameters
    ----------
    path : str or Path
        Point or polygon layer; see the module docstring for formats.
    standard : Standard
        Gives the categories and the words and tags that identify them.
    layer, input_crs, encoding, coords, invalid
        As in `read_estates`. Rows without geometry are always left out (and listed);
        with ``invalid="skip"`` so are table rows without numeric coordinates.

    Returns
    -------
    GeoDataFrame
        Columns ``service_id``, ``name``, ``category`` (a category key, or missing when
        unmatched), ``geometry`` (Point). Unmatched rows are kept and listed in
        ``attrs["notes"]``; analysis ignores them.

    Raises
    ------
    InputError
        Empty layer, or no row matches any category.
    CRSError
        No CRS and none given.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> svc = read_services(demo_folder() / "services.gpkg", load_standard())
    >>> len(svc), list(svc.columns)
    (164, ['service_id', 'name', 'category', 'poi_type', 'geometry'])
    >>> svc["category"].value_counts().head(3).to_dict()
    {'convenience_store': 52, 'express': 38, 'parking': 20}
    """
    gdf, notes, src = read_layer(path, role="services", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords, invalid=invalid)
    return services_from(gdf, notes, src, standard)


def services_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str,
                  standard: Standard) -> gpd.GeoDataFrame:
    """The checks of `read_services` on a layer already read (`gis.prepare`)."""
    gdf = _rename(gdf, SERVICE_FIELDS, src, notes)
    skipped: list[dict[str, Any]] = []
    gdf = _drop_empty(gdf, src, notes, layer="services", skipped=skipped, id_field="service_id")
    multi = gdf.geometry.geom_type == "MultiPoint"
    if multi.any():
        # Several facilities recorded as one feature are several facilities.
        before = len(gdf)
        gdf = gdf.explode(index_parts=False).reset_index(drop=True)
        notes.append(Note.of("inputs.multipoint_split", src=src, n=int(multi.sum()),
                             services=len(gdf) - before + int(multi.sum())))
    kinds = gdf.geometry.geom_type
    if not kinds.isin(["Point"]).all():
        other = ~kinds.isin(["Point"])
        geoms = gdf.geometry.values.copy()
        geoms[other.values] = shapely.point_on_surface(geoms[other.values])
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        if other.any():
            notes.append(Note.of("inputs.nonpoint_services", src=src, n=int(other.sum())))
    gdf["geometry"] = shapely.force_2d(gdf.geometry.values)
    if "service_id" not in gdf.columns:
        gdf["service_id"] = [f"S{i + 1}" for i in range(len(gdf))]
    gdf["service_id"] = gdf["service_id"].astype(str)
    if "name" not in gdf.columns:
        gdf["name"] = None
    gdf["category"] = classify_services(gdf, standard, source=src, notes=notes)
    if gdf["category"].isna().all():
        msg = (
            f"{src}: no service matches any category of {Path(standard.path).name} "
            f"({', '.join(standard.keys)}). Add a 类别/category column with those names, or "
            "extend the standard's names / poi_words / osm_tags."
        )
        raise InputError(msg)
    keep = ["service_id", "name", "category", *[c for c in gdf.columns if c == "poi_type"]]
    return _finish(gdf, keep, notes, skipped=skipped)


def read_streets(
    path: str | Path,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
    invalid: str = "stop",
) -> gpd.GeoDataFrame:
    """Read street centre-lines (LineString/MultiLineString, or OSM ways).

    ``invalid="skip"`` leaves out rows that are not lines instead of stopping (see
    `read_estates`); rows without geometry are always left out and listed.

    Returns
    -------
    GeoDataFrame
        One LineString per row (multi-lines exploded), 2D, with ``name``,
        ``road_class`` and ``width_m`` (metres) where the file has them.

    Raises
    ------
    InputError
        Empty layer or rows that are not lines.
    CRSError
        No CRS and none given.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> streets = read_streets(demo_folder() / "streets.gpkg")
    >>> len(streets), list(streets.columns), streets.crs.to_string()
    (639, ['name', 'road_class', 'width_m', 'geometry'], 'EPSG:4490')
    """
    gdf, notes, src = read_layer(path, role="streets", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords, invalid=invalid)
    return streets_from(gdf, notes, src, invalid=invalid)


def streets_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str, *,
                 invalid: str = "stop") -> gpd.GeoDataFrame:
    """The checks of `read_streets` on a layer already read (`gis.prepare`)."""
    gdf = _rename(gdf, STREET_FIELDS, src, notes)
    skipped: list[dict[str, Any]] = []
    gdf = _drop_empty(gdf, src, notes, layer="streets", skipped=skipped, id_field="name")
    kinds = gdf.geometry.geom_type
    bad = ~kinds.isin(["LineString", "MultiLineString"])
    if bad.any():
        msg = (
            f"{src}: {_rows(bad, 'are')} {', '.join(sorted(set(kinds[bad])))}, not lines; a "
            "street layer holds road centre-lines. Remove those rows or convert them to lines."
        )
        gdf = _set_aside(gdf, bad, invalid=invalid, error=msg, layer="streets", src=src,
                         why="inputs.reason.not_line", notes=notes, skipped=skipped,
                         id_field="name")
    gdf = gdf.explode(index_parts=False).reset_index(drop=True)
    gdf["geometry"] = shapely.force_2d(gdf.geometry.values)
    if "width_m" in gdf.columns:
        gdf = _numeric(gdf, "width_m", src, minimum=0)
    # Bridge/tunnel/layer columns tell `gis.noding` which crossings are grade-separated.
    levels = [c for c in gdf.columns if str(c).strip().lower() in LEVEL_FIELDS]
    return _finish(gdf, [*STREET_FIELDS, *levels], notes, skipped=skipped)


def read_barriers(
    path: str | Path,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
    invalid: str = "stop",
) -> gpd.GeoDataFrame:
    """Read a layer of lines or polygons that separate estates (roads, rivers, railways).

    ``invalid="skip"`` leaves out point rows instead of stopping (see `read_estates`).

    Returns
    -------
    GeoDataFrame
        2D lines or polygons with ``name``, ``road_class`` and ``width_m`` (metres) where
        the file has them.

    Raises
    ------
    GeometryError
        Rows that are points.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> rivers = read_barriers(demo_folder() / "rivers.gpkg")
    >>> len(rivers), list(rivers.columns), rivers.geom_type.iloc[0]
    (1, ['name', 'geometry'], 'Polygon')
    """
    gdf, notes, src = read_layer(path, role="barriers", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords, invalid=invalid)
    return barriers_from(gdf, notes, src, invalid=invalid)


def barriers_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str, *,
                  invalid: str = "stop") -> gpd.GeoDataFrame:
    """The checks of `read_barriers` on a layer already read (`gis.prepare`)."""
    fields = [str(c) for c in gdf.columns if c not in ("geometry", "_row")]
    gdf = _rename(gdf, STREET_FIELDS, src, notes)
    skipped: list[dict[str, Any]] = []
    gdf = _drop_empty(gdf, src, notes, layer="barriers", skipped=skipped, id_field="name")
    points = gdf.geometry.geom_type.isin(["Point", "MultiPoint"])
    if points.any():
        msg = (f"{src}: {_rows(points, 'are')} points; a barrier is a line (road, railway) or a "
               "polygon (river). Remove those rows.")
        gdf = _set_aside(gdf, points, invalid=invalid, error=msg, layer="barriers", src=src,
                         why="inputs.reason.barrier_point", notes=notes, skipped=skipped,
                         id_field="name")
    gdf["geometry"] = shapely.force_2d(gdf.geometry.values)
    if "width_m" in gdf.columns:
        gdf = _numeric(gdf, "width_m", src, minimum=0)
    out = _finish(gdf, list(STREET_FIELDS), notes, skipped=skipped)
    out.attrs["source_fields"] = fields  # for a message when no field says which are barriers
    return out


def read_gates(
    path: str | Path,
    estates: gpd.GeoDataFrame,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
    invalid: str = "stop",
) -> gpd.GeoDataFrame:
    """Read estate gates (小区出入口) and check they name known estates.

    Gates of estates left out by ``invalid="skip"`` (``estates.attrs["skipped"]``) are
    left out with them; ``invalid="skip"`` also leaves out gate rows that are not points.

    Returns
    -------
    GeoDataFrame
        Columns ``estate_id``, ``name``, ``geometry`` (Point).

    Raises
    ------
    InputError
        No ``estate_id`` column, or ids that are not in ``estates``.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> gates = read_gates(demo_folder() / "gates.gpkg", est)
    >>> len(gates), gates["estate_id"].nunique(), list(gates.columns)
    (88, 62, ['estate_id', 'name', 'geometry'])
    """
    gdf, notes, src = read_layer(path, role="gates", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords, invalid=invalid)
    return gates_from(gdf, notes, src, estates, invalid=invalid)


def gates_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str, estates: gpd.GeoDataFrame,
               *, invalid: str = "stop") -> gpd.GeoDataFrame:
    """The checks of `read_gates` on a layer already read (`gis.prepare`)."""
    gdf = _rename(gdf, GATE_FIELDS, src, notes)
    skipped: list[dict[str, Any]] = []
    gdf = _drop_empty(gdf, src, notes, layer="gates", skipped=skipped, id_field="estate_id")
    if "estate_id" not in gdf.columns:
        msg = (
            f"{src}: gates need an estate_id (小区编号) column saying which estate each gate "
            "belongs to; add it and run again."
        )
        raise InputError(msg)
    blank = gdf["estate_id"].isna() | (gdf["estate_id"].astype(str).str.strip() == "")
    if blank.any():
        msg = f"{src}: {_rows(blank, 'have')} an empty estate_id (小区编号); fill it in or delete them."
        raise InputError(msg)
    gdf["estate_id"] = gdf["estate_id"].map(_id_text)
    left_out = {r["feature_id"] for r in estates.attrs.get("skipped", [])
                if r["layer"] == "estates"}
    orphan = gdf["estate_id"].isin(left_out) & ~gdf["estate_id"].isin(estates["estate_id"])
    if orphan.any():
        # Their estate was left out (invalid="skip"): the gates go with it, listed.
        gdf = _set_aside(gdf, orphan, invalid="skip", error="", layer="gates", src=src,
                         why="inputs.reason.estate_left_out", notes=notes, skipped=skipped,
                         id_field="estate_id")
    unknown = ~gdf["estate_id"].isin(estates["estate_id"])
    if unknown.any():
        ids = list_items(gdf.loc[unknown, "estate_id"].unique())
        msg = (
            f"{src}: {_rows(unknown, 'name')} estates that are not in the estates layer ({ids}); "
            "fix the ids or remove those gates."
        )
        raise InputError(msg)
    bad = gdf.geometry.geom_type != "Point"
    if bad.any():
        msg = f"{src}: {_rows(bad, 'are')} not points; a gate is one point on the boundary."
        gdf = _set_aside(gdf, bad, invalid=invalid, error=msg, layer="gates", src=src,
                         why="inputs.reason.not_point", notes=notes, skipped=skipped,
                         id_field="estate_id")
    gdf["geometry"] = shapely.force_2d(gdf.geometry.values)
    if "name" not in gdf.columns:
        gdf["name"] = None
    return _finish(gdf, ["estate_id", "name"], notes, skipped=skipped)


def classify_services(
    services: pd.DataFrame,
    standard: Standard,
    *,
    source: str = "services",
    notes: list[str] | None = None,
) -> pd.Series:
    """Give each service row a category key of ``standard``, or missing.

    Order of evidence: an explicit ``category`` value equal to a key, a Chinese or
    English name, or one of the category's ``names``; then OSM tag columns
    (``amenity``, ``shop`` …); then the first category whose ``poi_words`` occur in
    ``category``, ``poi_type`` or ``name`` text. Unmatched values are added to
    ``notes`` with counts, never dropped silently.

    Returns
    -------
    Series
        Category keys (object dtype) aligned with ``services``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gis.standards import load_standard
    >>> pois = pd.DataFrame({"category": ["診所", "Clinic", "咖啡馆"], "name": ["甲", "乙", "丙"]})
    >>> notes = []
    >>> classify_services(pois, load_standard(), notes=notes).tolist()
    ['clinic', 'clinic', None]
    >>> print(notes[0])
    services: 1 of 3 services match no category and are left out; values: 咖啡馆 ×1.
    """
    notes = notes if notes is not None else []
    out = pd.Series([None] * len(services), index=services.index, dtype=object)
    lookup: dict[str, str] = {}
    for c in standard.categories:
        for label in (c.key, c.name_zh, c.name_en, *c.names):
            lookup.setdefault(norm_text(label), c.key)
    if "category" in services.columns:
        given = services["category"].astype(str).map(norm_text)
        out = given.map(lookup).astype(object).where(given.map(lookup).notna(), None)
    for c in standard.categories:
        for key, value in c.osm_tags:
            if key in services.columns:
                hit = out.isna() & (services[key].astype(str).str.strip() == value)
                out[hit] = c.key
    if "typecode" in services.columns:
        # Amap typecodes; several codes may be joined with "|".
        code = services["typecode"].astype(str).str.strip().str.zfill(6)
        for c in standard.categories:
            if c.poi_codes:
                hit = out.isna() & code.str.contains("(?:^|\\|)(?:" + "|".join(c.poi_codes) + ")",
                                                     regex=True, na=False)
                out[hit] = c.key
    # Words match in any script: 診所 and ｃｌｉｎｉｃ fold to 诊所 and clinic.
    texts = [services[f].astype(str).map(fold_text) for f in ("category", "poi_type", "name")
             if f in services]
    for text in texts:
        for c in standard.categories:
            if not c.poi_words:
                continue
            pattern = "|".join(map(_escape, dict.fromkeys(map(fold_text, c.poi_words))))
            hit = out.isna() & text.str.contains(pattern, regex=True, na=False)
            out[hit] = c.key
    unmatched = out.isna()
    if unmatched.any():
        # Describe each unmatched row by the first text it has: category, type, OSM tag, name.
        desc = pd.Series([None] * len(services), index=services.index, dtype=object)
        for f in ("category", "poi_type", *SERVICE_TAG_KEYS, "name"):
            if f in services.columns:
                text = services[f].astype(str).str.strip()
                useful = services[f].notna() & ~text.isin(["", "nan", "None"])
                label = text if f in ("category", "poi_type", "name") else f + "=" + text
                desc = desc.where(desc.notna() | ~useful, label)
        counts = desc[unmatched].fillna("?").value_counts()
        values = ", ".join(f"{k} ×{v}" for k, v in counts.head(10).items())
        if len(counts) > 10:
            values += f" … ({len(counts)} distinct)"
        notes.append(Note.of("inputs.unmatched_services", source=source, n=int(unmatched.sum()),
                             total=len(services),
                             values=Note.of("inputs.unmatched_values", values=values)))
    return out


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None,
    header_row: int = 0,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Excel table, detecting UTF-8, UTF-8 with BOM or GBK.

    header_row : int, default 0
        Row (0-based) of an Excel sheet that holds the column names.

    Returns
    -------
    (DataFrame, str)
        The table and the encoding used (``"xlsx"`` for Excel).

    Raises
    ------
    InputError
        Unreadable file, unknown encoding or empty table.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> survey, used = read_table(demo_folder() / "survey.xlsx")
    >>> survey.shape, used, list(survey.columns[:3])
    ((150, 40), 'xlsx', ['小区编号', '小区名称', '所属县区'])
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        try:
            df = pd.read_excel(path, sheet_name=sheet or 0, dtype=object, header=header_row)
        except ImportError as err:
            msg = f"{path}: reading .xls needs the xlrd package; save the sheet as .xlsx instead."
            raise InputError(msg) from err
        except Exception as err:
            msg = f"{path}: not a readable Excel file ({err}); re-save it as .xlsx from Excel/WPS."
            raise InputError(msg) from err
        used = "xlsx"
    else:
        tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
        df = None
        used = ""
        for enc in tried:
            try:
                df = pd.read_csv(path, encoding=enc, dtype=object, skipinitialspace=True)
                used = enc
                break
            except UnicodeDecodeError:
                continue
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
                msg = f"{path}: not a readable CSV table ({err}). Check the delimiter and header."
                raise InputError(msg) from err
        if df is None:
            msg = (
                f"{path}: text is neither UTF-8 nor GBK; save it as UTF-8 or pass `encoding`."
            )
            raise InputError(msg)
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        msg = f"{path}: the table has a header but no rows."
        raise InputError(msg)
    return df, used


# ---------------------------------------------------------------------------
# reading


def split_layer(path: str | Path) -> tuple[Path, str | None]:
    """``"data.gpkg:小区"`` → (``data.gpkg``, ``"小区"``); a plain path has no layer.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> path, layer = split_layer(f"{demo_folder() / 'estates.gpkg'}:estates")
    >>> path.name, layer
    ('estates.gpkg', 'estates')
    >>> split_layer(demo_folder() / "estates.gpkg")[1] is None
    True
    """
    text = str(path)
    if not Path(text).exists() and ":" in text:
        head, _, tail = text.rpartition(":")
        if tail and "/" not in tail and "\\" not in tail and Path(head).exists():
            return Path(head), tail
    return Path(text), None


def read_layer(
    path: str | Path | gpd.GeoDataFrame, *, role: str, layer: str | None, input_crs: Any,
    encoding: str | None, coords: str | None = None, invalid: str = "stop",
) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """Read any supported file (or take a GeoDataFrame already in memory, see
    `checked_layer`) as a GeoDataFrame with a checked CRS.

    Returns the layer, the notes so far (encoding, coordinate conversion) and the name
    to use for the file in messages. ``role`` says what the layer is, for messages and
    for which OpenStreetMap features to read. With ``invalid="skip"``, table rows without
    numeric coordinates get no geometry (and are left out, listed) instead of stopping.
    The layer has a ``_row`` column: each row's 1-based number in the file.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> gdf, notes, src = read_layer(demo_folder() / "estates.gpkg", role="estates", layer=None,
    ...                              input_crs=None, encoding=None)
    >>> src, len(gdf), list(gdf.columns[:3]), int(gdf["_row"].iloc[-1])
    ('estates.gpkg', 150, ['小区编号', '小区名称', '建成年份'], 150)
    """
    check_invalid_mode(invalid)
    if isinstance(path, gpd.GeoDataFrame):
        # An in-memory layer (e.g. a QGIS layer in the Processing plugin): the same checks
        # as a file's from here on, under the name it carries, with no file written.
        return checked_layer(path.copy(), role=role, input_crs=input_crs, coords=coords)
    gdf, notes, src, where = read_raw(path, role=role, layer=layer, input_crs=input_crs,
                                      encoding=encoding, invalid=invalid)
    return checked_layer(gdf, role=role, input_crs=input_crs, coords=coords, source=src,
                         notes=notes, where=where)


def read_raw(
    path: str | Path, *, role: str | None, layer: str | None = None, input_crs: Any = None,
    encoding: str | None = None, invalid: str = "stop",
) -> tuple[gpd.GeoDataFrame, list[str], str, str | None]:
    """Read any supported source as it is: the layer, notes on reading (encoding), the
    name to use in messages and where it is (a path; None for a database table).
    No checks beyond what reading needs (`gis.sources.read_source` is the public way in)."""
    if is_postgis(path):  # a PostGIS table or query (gis.postgis); the same checks follow
        gdf, src = read_postgis_layer(str(path), crs=input_crs)
        return gdf, [], src, None
    path, named = split_layer(path)
    layer = layer or named
    src = path.name if layer is None else f"{path.name}:{layer}"
    notes: list[str] = []
    if not path.exists():
        msg = f"{path}: no such file. Check the path (relative paths start from {Path.cwd()})."
        raise InputError(msg)
    if path.is_file() and path.stat().st_size == 0:
        msg = f"{path}: the file is empty (0 bytes); export the layer again."
        raise InputError(msg)
    if _is_osm(path):
        if role is None:
            msg = (f"{path}: an OpenStreetMap file holds every kind of feature; say which to "
                   "read (role: estates, services, streets or gates).")
            raise InputError(msg)
        # OSM barriers are its ways; the streets reader already gives their highway class.
        gdf = read_osm(path, "streets" if role == "barriers" else role)  # type: ignore[arg-type]
    elif path.suffix.lower() in _TABLE:
        gdf = _read_points_table(path, encoding, notes, invalid=invalid)
    elif path.suffix.lower() in _VECTOR:
        gdf = _read_vector(path, layer, encoding, notes)
    else:
        msg = (
            f"{path}: unknown format {path.suffix or '(no extension)'!r}; use GeoPackage (.gpkg), "
            "GeoJSON, Shapefile (.shp or zipped), CSV/XLSX with lon/lat, or .osm/.osm.pbf."
        )
        raise InputError(msg)
    return gdf, notes, src, str(path)


def checked_layer(
    gdf: gpd.GeoDataFrame, *, role: str, input_crs: Any = None, coords: str | None = None,
    source: str | None = None, notes: list[str] | None = None, where: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """The checks `read_layer` makes once a layer is read, on a GeoDataFrame.

    Lets every reader (``read_estates(frame)`` …) take a layer already in memory (a QGIS
    layer converted by the Processing plugin) with the same checks and messages as a
    file. ``source`` names it in messages (default ``gdf.attrs["source"]``, else ``role``).
    """
    src = source or str(gdf.attrs.get("source") or role)
    notes = list(notes or [])
    if len(gdf) == 0:
        msg = f"{where or src}: the {role} layer is empty (no rows)."
        raise InputError(msg)
    _refuse_non_finite(gdf, src)
    gdf["_row"] = np.arange(1, len(gdf) + 1)  # file rows, for rows left out by invalid="skip"
    gdf = require_crs(gdf, source=src, crs=input_crs)
    gdf = _from_web_coords(gdf, coords, src, notes)
    gdf.attrs["coords"] = coords or "as labelled"
    gdf.attrs["source"] = src
    if shapely.has_z(np.asarray(gdf.geometry.values)).any():
        gdf = gdf.set_geometry(gpd.GeoSeries(shapely.force_2d(np.asarray(gdf.geometry.values)),
                                             index=gdf.index, crs=gdf.crs))
        notes.append(Note.of("inputs.z_dropped", src=src))
    return gdf, notes, src


def _refuse_non_finite(gdf: gpd.GeoDataFrame, src: str) -> None:
    """inf or NaN in a vertex poisons every distance and bounding box downstream."""
    coords, row = shapely.get_coordinates(np.asarray(gdf.geometry.values), return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        rows = np.unique(row[bad])
        mask = np.zeros(len(gdf), dtype=bool)
        mask[rows] = True
        msg = (f"{src}: {_rows(mask, 'have')} non-finite coordinates (inf or NaN in "
               f"{int(bad.sum())} vertices); fix those features' coordinates or delete them.")
        raise GeometryError(msg)


COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def _from_web_coords(
    gdf: gpd.GeoDataFrame, coords: str | None, src: str, notes: list[str]
) -> gpd.GeoDataFrame:
    """Undo the GCJ-02 / BD-09 offsets of Chinese web-map exports."""
    if coords is None or coords in ("wgs84", "cgcs2000"):
        return gdf
    if coords not in COORD_SYSTEMS:
        msg = f"{src}: unknown coordinate system {coords!r}; use one of {', '.join(COORD_SYSTEMS)}."
        raise InputError(msg)
    if not gdf.crs.is_geographic:
        msg = (f"{src}: {coords} applies to longitude/latitude data, but the layer is in "
               f"{gdf.crs.to_string()}; drop the coordinate option for this file.")
        raise CRSError(msg)

    def undo(xy: np.ndarray) -> np.ndarray:
        lon, lat = xy[:, 0], xy[:, 1]
        if coords == "bd09":
            lon, lat = bd09_to_gcj02(lon, lat)
        return np.column_stack(gcj02_to_wgs84(lon, lat))

    geoms = shapely.transform(np.asarray(gdf.geometry.values), undo)
    label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[coords]
    notes.append(Note.of("inputs.coords_converted", src=src, label=label))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def _read_vector(
    path: Path, layer: str | None, encoding: str | None, notes: list[str]
) -> gpd.GeoDataFrame:
    target: str | Path = path
    if path.suffix.lower() == ".zip":
        target = f"/vsizip/{path}"
    if layer is None and path.suffix.lower() == ".gpkg":
        names = _layer_names(path)
        if len(names) > 1:
            msg = (f"{path}: holds {len(names)} layers ({', '.join(names)}); name the one to use "
                   f"as FILE:LAYER, e.g. {path.name}:{names[0]}.")
            raise InputError(msg)
    kwargs: dict[str, Any] = {"layer": layer} if layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    shp_without_cpg = _shapefile_without_cpg(path)
    _refuse_truncated_names(path)
    try:
        if shp_without_cpg and not encoding:
            try:
                return gpd.read_file(target, encoding="utf-8", **kwargs)
            except UnicodeDecodeError:
                notes.append(Note.of("inputs.no_cpg_gbk", name=path.name))
                return gpd.read_file(target, encoding="gb18030", **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL chatter on odd files
            return gpd.read_file(target, **kwargs)
    except UnicodeDecodeError as err:
        msg = f"{path}: attributes are not in the declared encoding; pass `encoding=\"gbk\"`."
        raise InputError(msg) from err
    except Exception as err:  # pyogrio.errors.DataSourceError and friends
        hint = ""
        if path.suffix.lower() == ".gpkg" and _layer_names(path):
            hint = f" Layers in the file: {', '.join(_layer_names(path))}."
        msg = f"{path}: cannot be read as a vector layer ({err}).{hint}"
        raise InputError(msg) from err


def _layer_names(path: Path) -> list[str]:
    import pyogrio

    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # unreadable file: the reader's own error says so
        return []


def _dbf_header(path: Path) -> tuple[bytes, str]:
    """The .dbf header bytes and the .cpg text of a Shapefile, plain or zipped ("" if none)."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        dbf, cpg = path.with_suffix(".dbf"), path.with_suffix(".cpg")
        head = dbf.read_bytes()[:32 * 256] if dbf.is_file() else b""
        return head, cpg.read_text(errors="replace") if cpg.is_file() else ""
    if suffix == ".zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
                dbfs = [n for n in names if n.lower().endswith(".dbf")]
                cpgs = [n for n in names if n.lower().endswith(".cpg")]
                head = zf.read(dbfs[0])[:32 * 256] if dbfs else b""
                cpg = zf.read(cpgs[0]).decode(errors="replace") if cpgs else ""
                return head, cpg
        except (zipfile.BadZipFile, OSError):
            return b"", ""
    return b"", ""


def _refuse_truncated_names(path: Path) -> None:
    """UTF-8 field names cut at the Shapefile's 10-byte limit in mid-character.

    No encoding reads them (each is a Chinese name minus a byte or two of its last
    character), so advising ``encoding`` would only loop; say what happened instead.
    """
    head, cpg = _dbf_header(path)
    if len(head) < 64:
        return
    cut: list[str] = []
    raws: list[bytes] = []
    for i in range(32, len(head) - 31, 32):
        if head[i] == 0x0D:  # end of the field descriptors
            break
        raw = head[i:i + 11].split(b"\x00", 1)[0]
        try:
            raw.decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        for k in (1, 2, 3):
            try:
                kept = raw[:-k].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if any(ord(ch) > 0x2E80 for ch in kept):
                cut.append(kept + "…")
                raws.append(raw)
            break
    if not cut:
        return
    declared_utf8 = "utf" in cpg.lower() and "8" in cpg

    def gbk(raw: bytes) -> bool:
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            return False
        return True

    # Without a .cpg, names that read as GBK are GBK, not cut UTF-8.
    if declared_utf8 or not all(map(gbk, raws)):
        msg = (f"{path}: {len(cut)} field names were cut at the Shapefile's 10-byte limit in the "
               f"middle of a Chinese character ({', '.join(cut[:5])}), so they cannot be read in "
               "any encoding. Export the layer as GeoPackage (no name limit), or give the fields "
               "names of at most 3 Chinese characters (小区编号 → 编号, 建筑面积 → 面积) before "
               "saving as Shapefile.")
        raise InputError(msg)


def _shapefile_without_cpg(path: Path) -> bool:
    """A Shapefile (plain or zipped) that does not declare its attribute encoding."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return not path.with_suffix(".cpg").exists()
    if suffix == ".zip":
        import zipfile

        try:
            names = [n.lower() for n in zipfile.ZipFile(path).namelist()]
        except zipfile.BadZipFile:
            return False
        return any(n.endswith(".dbf") for n in names) and not any(n.endswith(".cpg") for n in names)
    return False


def _read_points_table(path: Path, encoding: str | None, notes: list[str],
                       invalid: str = "stop") -> gpd.GeoDataFrame:
    df, used = read_table(path, encoding=encoding)
    if used == "gb18030":
        notes.append(Note.of("inputs.read_as_gbk", name=path.name))
    if used == "xlsx" and find_field(df.columns, (*_LON, "location", "经纬度")) is None:
        # Sheets often open with merged title rows above the real header.
        for skip in range(1, 6):
            again, _ = read_table(path, header_row=skip)
            if find_field(again.columns, (*_LON, "location", "经纬度")) is not None:
                df = again
                notes.append(Note.of("inputs.header_row", name=path.name, row=skip + 1,
                                     skip=skip))
                break
    lon = find_field(df.columns, _LON)
    lat = find_field(df.columns, _LAT)
    pair = find_field(df.columns, ("location", "经纬度", "坐标", "lnglat"))
    if (lon is None or lat is None) and pair is not None:
        # Amap exports: location "117.60,34.40"; Baidu JSON: {'lat': 34.4, 'lng': 117.6}.
        text = df[pair].astype(str)
        lng_lat = text.str.extract(r"^\s*(-?\d+\.?\d*)\s*,\s*(-?\d+\.?\d*)\s*$")
        keyed_lng = text.str.extract(r"['\"]?lng['\"]?\s*:\s*(-?\d+\.?\d*)")[0]
        keyed_lat = text.str.extract(r"['\"]?lat['\"]?\s*:\s*(-?\d+\.?\d*)")[0]
        df["lon"] = lng_lat[0].fillna(keyed_lng)
        df["lat"] = lng_lat[1].fillna(keyed_lat)
        df = df.drop(columns=[pair])
        lon, lat = "lon", "lat"
    if lon is None or lat is None:
        wkt = find_field(df.columns, ("wkt", "geometry", "geom"))
        if wkt is not None:
            geoms = shapely.from_wkt(df[wkt].astype(str), on_invalid="ignore")
            return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms, crs=None)
        msg = (
            f"{path}: no coordinate columns; name them lon/lat (经度/纬度) or add a WKT column. "
            f"Columns found: {', '.join(map(str, df.columns))}."
        )
        raise InputError(msg)
    x = pd.to_numeric(df[lon], errors="coerce")
    y = pd.to_numeric(df[lat], errors="coerce")
    bad = x.isna() | y.isna()
    if bad.any() and invalid == "skip":
        # No point: the row reaches the reader without geometry and is left out, listed.
        points = gpd.points_from_xy(x.fillna(0), y.fillna(0))
        points[bad.to_numpy()] = None
        return gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=points, crs=None)
    if bad.any():
        lines = list_items((np.flatnonzero(bad.values) + 2).tolist())
        msg = (
            f"{path}: {int(bad.sum())} rows have no numeric {lon}/{lat} (file lines {lines}); "
            "fill in the coordinates or delete those rows."
        )
        raise InputError(msg)
    return gpd.GeoDataFrame(
        df.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(x, y), crs=None
    )


# ---------------------------------------------------------------------------
# checks and normalisation


def _is_osm(path: str | Path | gpd.GeoDataFrame) -> bool:
    if isinstance(path, gpd.GeoDataFrame):  # an in-memory layer
        return False
    return Path(path).name.lower().endswith((".osm", ".pbf", ".osm.xml"))


def _escape(word: str) -> str:
    import re

    return re.escape(word)


def find_field(columns: Any, aliases: tuple[str, ...]) -> str | None:
    """The first of ``columns`` matching one of ``aliases`` (case, spaces, brackets ignored).

    Examples
    --------
    >>> find_field(["小区编号", "HOUSEHOLDS", "geometry"], ("households", "户数"))
    'HOUSEHOLDS'
    >>> find_field(["小区编号", "户 数"], ("households", "户数")), find_field(["名称"], ("户数",))
    ('户 数', None)
    """
    normed = {norm_text(c): c for c in columns}
    for a in aliases:
        if norm_text(a) in normed:
            return str(normed[norm_text(a)])
    return None


def _rename(
    gdf: gpd.GeoDataFrame, fields: dict[str, tuple[str, ...]], src: str, notes: list[str]
) -> gpd.GeoDataFrame:
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for canon, aliases in fields.items():
        free = [c for c in gdf.columns if c not in taken and c != "geometry"]
        col = find_field(free, aliases)
        if col is not None:
            _one_source(gdf, canon, col, _all_fields(free, aliases), src, notes)
            mapping[col] = canon
            taken.add(col)
    # A canonical name already present but mapped from another column would clash.
    clash = [c for c in gdf.columns if c in fields and c not in mapping and c in mapping.values()]
    gdf = gdf.drop(columns=clash).rename(columns=mapping)
    shown = {k: v for k, v in mapping.items() if k != v}
    if shown:
        text = ", ".join(f"{k}→{v}" for k, v in shown.items())
        notes.append(Note.of("inputs.fields_mapped", src=src, text=text))
        logger.info("%s: fields mapped %s", src, text)
    return gdf


# Fields whose value enters the numbers: two differing columns for one of them stop the run.
_STRICT = {"estate_id", "households", "floor_area_m2", "buildings", "build_year", "category",
           "shantytown", "demolish", "width_m"}
# Catch-all aliases that a file may hold beside a specific one (a row number called id).
_GENERIC = {"id", "编号", "osmid", "poiid"}


def _all_fields(columns: list[str], aliases: tuple[str, ...]) -> list[str]:
    """Every column matching one of ``aliases`` (`find_field` gives the first)."""
    wanted = {norm_text(a) for a in aliases}
    return [str(c) for c in columns if norm_text(c) in wanted]


def _one_source(gdf: gpd.GeoDataFrame, canon: str, used: str, candidates: list[str], src: str,
                notes: list[str]) -> None:
    """Refuse two columns that both give ``canon`` with different values (户数 and households
    side by side: one silently used was 150 households instead of 31,203)."""
    others = [c for c in candidates if c != used]
    if norm_text(used) not in _GENERIC:
        others = [c for c in others if norm_text(c) not in _GENERIC]
    if not others:
        return
    differ = [c for c in others if not _same_values(gdf[used], gdf[c])]
    if differ and canon in _STRICT:
        rows = np.zeros(len(gdf), dtype=bool)
        for c in differ:
            rows |= ~_equal_cells(gdf[used], gdf[c])
        msg = (f"{src}: columns {used} and {', '.join(differ)} both give {canon} but differ in "
               f"{_rows(rows)}; keep the right one and delete or rename the other.")
        raise InputError(msg)
    text = ", ".join(others)
    notes.append(Note.of("inputs.columns_both", src=src, used=used, others=text, canon=canon,
                         agree=Note.of("inputs.columns_agree") if not differ else ""))


def _equal_cells(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cell-by-cell agreement: numbers compared as numbers, text as folded text, blanks equal."""
    def clean(s: pd.Series) -> tuple[pd.Series, pd.Series]:
        text = s.astype(str).map(norm_text)
        blank = s.isna() | text.isin(["", "nan", "none"])
        num = pd.to_numeric(s.astype(str).str.replace(",", "", regex=False).str.strip(),
                            errors="coerce")
        return text.where(~blank, ""), num.where(~blank)

    ta, na = clean(a)
    tb, nb = clean(b)
    both_num = na.notna() & nb.notna()
    same = np.where(both_num, np.isclose(na.fillna(0), nb.fillna(0), rtol=0, atol=1e-9), ta == tb)
    return np.asarray(same, dtype=bool)


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    return bool(_equal_cells(a, b).all())


def _drop_empty(gdf: gpd.GeoDataFrame, src: str, notes: list[str], *, layer: str = "",
                skipped: list[dict[str, Any]] | None = None,
                id_field: str | None = None) -> gpd.GeoDataFrame:
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.all():
        msg = f"{src}: every row has an empty geometry; the layer has nothing to analyse."
        raise GeometryError(msg)
    if empty.any() and skipped is not None:
        _record(gdf, np.asarray(empty), layer=layer, src=src, why="inputs.reason.no_geometry",
                skipped=skipped, id_field=id_field)
    if empty.any():
        rows = (np.flatnonzero(np.asarray(empty)) + 1).tolist()
        notes.append(Note.of("inputs.no_geometry_skipped", src=src,
                             rows=rows_note(rows, "have")))
        gdf = gdf.loc[~empty].copy()
    return gdf


def _polygons(
    gdf: gpd.GeoDataFrame, src: str, notes: list[str], *, from_osm: bool = False,
    invalid: str = "stop", skipped: list[dict[str, Any]] | None = None,
) -> gpd.GeoDataFrame:
    skipped = skipped if skipped is not None else []
    mode = invalid  # the name `invalid` is taken below by the invalid rows
    aside = {"invalid": mode, "layer": "estates", "src": src, "notes": notes,
             "skipped": skipped, "id_field": "estate_id"}
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        msg = (
            f"{src}: {_rows(empty, 'have')} no geometry; draw the estate boundary or delete the row."
        )
        gdf = _set_aside(gdf, empty, error=msg, why="inputs.reason.no_geometry", **aside)
    kinds = gdf.geometry.geom_type
    bad = ~kinds.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        msg = (
            f"{src}: {_rows(bad, 'are')} {', '.join(sorted(set(kinds[bad])))}, not polygons; "
            "estates must be boundary polygons (小区边界). Remove or redraw those rows."
        )
        gdf = _set_aside(gdf, bad, error=msg, why="inputs.reason.not_polygon", **aside)
    if len(gdf) == 0:
        msg = f"{src}: no row has a usable boundary polygon; the layer has nothing to analyse."
        raise GeometryError(msg)
    geoms = shapely.force_2d(np.asarray(gdf.geometry.values))
    # make_valid may return collections with stray lines; keep the polygonal part.
    repair = repair_polygons(geoms, dissolve=True)
    invalid = np.sort(np.concatenate([repair.repaired, repair.lost]))
    keep = np.ones(len(geoms), dtype=bool)
    if len(invalid):
        reasons = repair.reasons
        lost = np.isin(invalid, repair.lost)
        if lost.any() and not from_osm and mode != "skip":
            msg = (
                f"{src}: rows {list_items((invalid[lost] + 1).tolist())} are invalid and have no area "
                "once repaired (collapsed rings); redraw those boundaries or delete the rows, "
                'or pass `invalid="skip"` to leave them out (listed in the report).'
            )
            raise GeometryError(msg)
        if lost.any():
            # OpenStreetMap extracts carry collapsed rings that nobody can redraw locally.
            rows_lost = list_items((invalid[lost] + 1).tolist())
            what = "osm" if from_osm else "polygons"
            notes.append(Note.of(f"inputs.collapsed_skipped.{what}", src=src, n=int(lost.sum()),
                                 rows=rows_lost))
            gone = np.zeros(len(geoms), dtype=bool)
            gone[invalid[lost]] = True
            _record(gdf, gone, layer="estates", src=src, why="inputs.reason.collapsed",
                    skipped=skipped, id_field="estate_id")
            keep[invalid[lost]] = False
        geoms[invalid[~lost]] = repair.geoms[invalid[~lost]]
        rows = (invalid[~lost] + 1).tolist()
        if rows:
            detail = "; ".join(
                f"row {r}: {why}" for r, why in zip(rows[:_MAX_LISTED], reasons)
            )
            note = Note.of("inputs.invalid_repaired", src=src, n=len(rows), detail=detail,
                           rows=list_items(rows))
            notes.append(note)
            warnings.warn(str(note), UserWarning, stacklevel=3)
    gdf = gdf.iloc[keep].copy()
    return gdf.set_geometry(gpd.GeoSeries(geoms[keep], index=gdf.index, crs=gdf.crs))


def _record(
    gdf: gpd.GeoDataFrame, mask: np.ndarray, *, layer: str, src: str, why: str,
    skipped: list[dict[str, Any]], id_field: str | None,
) -> None:
    """Add the rows in ``mask`` to ``skipped`` (see `gis.skipped`), with the reason of
    catalogue message ``why`` (``inputs.reason.…``) in both languages."""
    reason, reason_zh = tr(why, "en"), tr(why, "zh")
    rows = gdf["_row"].to_numpy() if "_row" in gdf else np.arange(1, len(gdf) + 1)
    ids = gdf[id_field].to_numpy() if id_field and id_field in gdf else [None] * len(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    for k in np.flatnonzero(mask):
        skipped.append(skipped_record(layer=layer, source=src, row=rows[k], feature_id=ids[k],
                                      reason=reason, reason_zh=reason_zh, geometry=geoms[k]))


def _set_aside(
    gdf: gpd.GeoDataFrame, mask: Any, *, invalid: str, error: str, layer: str, src: str,
    why: str, notes: list[str], skipped: list[dict[str, Any]], id_field: str | None,
) -> gpd.GeoDataFrame:
    """Stop with ``error`` (``invalid="stop"``) or leave the rows in ``mask`` out, listed;
    ``why`` is the catalogue id of the reason (``inputs.reason.…``)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return gdf
    if invalid != "skip":
        raise GeometryError(error)
    _record(gdf, mask, layer=layer, src=src, why=why, skipped=skipped, id_field=id_field)
    rows = (gdf["_row"].to_numpy() if "_row" in gdf else np.arange(1, len(gdf) + 1))[mask]
    note = Note.of("inputs.rows_left_out", src=src, rows=rows_note(rows.tolist()),
                   reason=Note.of(why))
    notes.append(note)
    logger.warning(str(note))
    return gdf.loc[~mask].copy()


def _ids(
    gdf: gpd.GeoDataFrame, field: str, src: str, notes: list[str], *, fallback: str
) -> gpd.GeoDataFrame:
    if field not in gdf.columns:
        if fallback in gdf.columns and gdf[fallback].notna().all() and gdf[fallback].is_unique:
            gdf[field] = gdf[fallback].astype(str)
            # One message per id field: the Chinese names the field in planners' words.
            notes.append(Note.of(f"inputs.id_from.{field}", src=src, fallback=fallback))
        else:
            msg = (
                f"{src}: no {field} (小区编号) field and names are not unique; add an id "
                "column so results can be matched back to your estates."
            )
            raise InputError(msg)
    ids = gdf[field]
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        msg = f"{src}: {_rows(missing, 'have')} an empty {field}; give every row an id."
        raise InputError(msg)
    ids = ids.map(_id_text)
    dup = ids.duplicated(keep=False)
    if dup.any():
        values = sorted(set(ids[dup]))
        msg = (
            f"{src}: {len(values)} {field} values repeat ({list_items(values)}) in {_rows(dup)}; "
            "ids must be unique. Merge the duplicate rows or renumber them."
        )
        raise InputError(msg)
    gdf[field] = ids
    return gdf


def _refuse_far_estates(gdf: gpd.GeoDataFrame, src: str, notes: list[str], *,
                       from_osm: bool = False) -> None:
    """One estate digitised at (0°, 0°) would drag the analysis CRS away from the town.

    An OpenStreetMap extract legitimately holds towns far apart (a provincial download):
    there the distant groups are only noted.
    """
    from gis.params import default

    far_m = default("far_feature_m")
    far = far_from_rest(gdf, far_m=far_m)
    if far.any() and from_osm:
        notes.append(Note.of("inputs.far_osm_areas", src=src, n=int(far.sum()),
                             km=f"{far_m / 1000:.0f}"))
    elif far.any():
        ids = list_items(gdf.loc[far, "estate_id"])
        msg = (
            f"{src}: {_rows(far, 'lie')} more than {far_m / 1000:.0f} km from the other estates "
            f"({ids}); they look mis-digitised or mis-projected and would move the analysis. "
            "Correct their coordinates or delete them (run distant areas separately)."
        )
        raise InputError(msg)


_id_text = id_text


def _numeric(gdf: gpd.GeoDataFrame, field: str, src: str, *, minimum: float) -> gpd.GeoDataFrame:
    if field not in gdf.columns:
        return gdf
    raw = gdf[field]
    text = raw.astype(str).str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text.where(raw.notna() & (text != ""), None), errors="coerce")
    bad = raw.notna() & (text != "") & values.isna()
    if bad.any():
        examples = list_items(raw[bad].astype(str).unique())
        msg = (
            f"{src}: {field} must be a number but {_rows(bad, 'hold')} {examples}; "
            "enter plain numbers (no units) or leave the cell empty."
        )
        raise InputError(msg)
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        msg = (f"{src}: {field} must be a finite number but {_rows(infinite, 'hold')} infinity; "
               "enter the real value or leave the cell empty.")
        raise InputError(msg)
    negative = values < minimum
    if negative.any():
        msg = f"{src}: {field} is negative in {_rows(negative)}; correct those values."
        raise InputError(msg)
    gdf[field] = values.astype(float)
    return gdf


def _years(values: pd.Series, ids: pd.Series, src: str) -> pd.Series:
    # Accept 1995, "1995", "1995年", "1995-06", "1990年代" (→ 1990).
    text = values.astype(str).str.extract(r"((?:19|20)\d\d)")[0]
    years = pd.to_numeric(text, errors="coerce").astype("Int64")
    bad = values.notna() & (values.astype(str).str.strip() != "") & years.isna()
    if bad.any():
        examples = list_items(values[bad].astype(str).unique())
        msg = (
            f"{src}: build_year (建成年份) is not a year in {_rows(bad)} ({examples}); "
            "use four digits such as 1998."
        )
        raise InputError(msg)
    return years


def _flags(values: pd.Series) -> pd.Series:
    yes = {"是", "y", "yes", "true", "1", "1.0", "t", "√", "有"}
    return values.map(lambda v: norm_text(v) in yes if pd.notna(v) else False).astype(bool)


def _finish(gdf: gpd.GeoDataFrame, order: list[str], notes: list[str], *,
            skipped: list[dict[str, Any]] | None = None) -> gpd.GeoDataFrame:
    cols = [c for c in dict.fromkeys(order) if c in gdf.columns]
    out = gpd.GeoDataFrame(gdf[cols].copy(), geometry=gdf.geometry.values, crs=gdf.crs)
    out = out.reset_index(drop=True)
    out.attrs["notes"] = list(notes)
    out.attrs["skipped"] = list(skipped or [])  # rows left out, see gis.skipped
    out.attrs["coords"] = gdf.attrs.get("coords", "as labelled")
    out.attrs["source"] = gdf.attrs.get("source", "")
    return out


def _rows(mask: pd.Series | np.ndarray, verb: str = "") -> str:
    """"row 3" or "rows 2, 5" (1-based), with ``verb`` ("have", "are" …) agreeing."""
    return rows_phrase((np.flatnonzero(np.asarray(mask)) + 1).tolist(), verb)


_SINGULAR = {"have": "has", "are": "is", "hold": "holds", "name": "names", "lie": "lies"}


def rows_phrase(rows: list[Any], verb: str = "") -> str:
    """"row 3 has" / "rows 2, 5 have": row numbers for a message, the verb agreeing.

    Examples
    --------
    >>> rows_phrase([3], "has"), rows_phrase([2, 5], "have")
    ('row 3 has', 'rows 2, 5 have')
    """
    one = len(rows) == 1
    text = f"{'row' if one else 'rows'} {list_items(rows)}"
    if verb:
        text += " " + (_SINGULAR.get(verb, verb) if one else verb)
    return text


def rows_note(rows: list[Any], verb: str = "") -> Note:
    """`rows_phrase` in both languages: "rows 2, 5 have" in English, the numbers alone in
    Chinese (its message says 第…行 around them). ``verb`` is "" or "have"."""
    number = "one" if len(rows) == 1 else "many"
    return Note.of(f"inputs.rows{'_' + verb if verb else ''}.{number}", rows=list_items(rows))


def list_items(values: Any) -> str:
    """At most five items for a message, with the total when there are more.

    Examples
    --------
    >>> list_items(["XQ001", "XQ007"]), list_items(range(1, 9))
    ('XQ001, XQ007', '1, 2, 3, 4, 5 … (8 in all)')
    """
    values = list(values)
    shown = ", ".join(str(v) for v in values[:_MAX_LISTED])
    if len(values) > _MAX_LISTED:
        shown += f" … ({len(values)} in all)"
    return shown
