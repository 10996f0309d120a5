"""Candidate sites for new facilities: read from a file, or generated on the map.

A candidate is a point where a new facility could stand: a vacant lot (可利用空间), a
public building, a ground-floor shop. It is read like a service (same formats, CRS
rules and web-map coordinate fixes; polygons are placed at a point inside them) or
generated: points along the walking network every ``spacing_m`` metres inside the study
area, and/or one point inside each estate (完善类 renovation often adds chargers or
express lockers inside the estate).

Columns of a candidate layer: ``candidate_id`` (unique text), ``name``, optional
``capacity_households`` (households one facility there can serve) and ``cost``, and
``source`` ("file", "network" or "estate").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import to_metric
from gis.errors import InputError
from gis.layers import _drop_empty, _finish, _ids, _numeric, _rename, read_layer
from gis.notes import Note

__all__ = [
    "CANDIDATE_FIELDS",
    "gather_candidates",
    "estate_candidates",
    "network_candidates",
    "read_candidates",
]

CANDIDATE_FIELDS: dict[str, tuple[str, ...]] = {
    "candidate_id": ("candidate_id", "候选编号", "地块编号", "编号", "id", "site_id"),
    "name": ("name", "名称", "地块名称", "候选点名称"),
    "capacity_households": ("capacity_households", "服务户数上限", "容量户数", "容量",
                            "capacity"),
    "cost": ("cost", "造价", "成本", "费用", "投资"),
}
_COLUMNS = ["candidate_id", "name", "capacity_households", "cost", "source"]


def read_candidates(
    path: str | Path,
    *,
    layer: str | None = None,
    input_crs: Any = None,
    encoding: str | None = None,
    coords: str | None = None,
) -> gpd.GeoDataFrame:
    """Read candidate sites (points or polygons) from a file.

    Parameters
    ----------
    path : str or Path
        GeoPackage, GeoJSON, Shapefile, or CSV/XLSX with lon/lat, as for services.
    layer, input_crs, encoding, coords
        As in `gis.layers.read_services`.

    Returns
    -------
    GeoDataFrame
        Points with ``candidate_id``, ``name``, ``capacity_households`` (NaN = no
        limit), ``cost`` (NaN = unknown), ``source`` = "file"; notes in ``attrs``.

    Raises
    ------
    InputError
        Empty layer, duplicate or empty ids, a capacity or cost that is not a
        non-negative number.

    Examples
    --------
    Any layer of points or polygons will do; here the demo's historic buildings stand
    in for a file of vacant lots (a polygon is placed at a point inside it):

    >>> from gis.sources import demo_folder
    >>> sites = read_candidates(demo_folder() / "historic_buildings.gpkg")
    >>> len(sites), sites["source"].unique().tolist(), sites.geom_type.unique().tolist()
    (3, ['file'], ['Point'])
    """
    gdf, notes, src = read_layer(path, role="candidates", layer=layer, input_crs=input_crs,
                                 encoding=encoding, coords=coords)
    gdf = _rename(gdf, CANDIDATE_FIELDS, src, notes)
    gdf = _drop_empty(gdf, src, notes)
    gdf = gdf.explode(index_parts=False).reset_index(drop=True) \
        if (gdf.geometry.geom_type == "MultiPoint").any() else gdf.reset_index(drop=True)
    other = ~gdf.geometry.geom_type.isin(["Point"]).to_numpy()
    if other.any():
        geoms = np.asarray(gdf.geometry.values).copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        notes.append(Note.of("analysis.candidates.placed_inside", src=src, n=int(other.sum())))
    if "candidate_id" not in gdf.columns:
        gdf["candidate_id"] = [f"C{i + 1}" for i in range(len(gdf))]
        notes.append(Note.of("analysis.candidates.numbered", src=src, n=len(gdf)))
    else:
        # Duplicate ids would make a proposal ambiguous: refuse them, naming the rows.
        gdf = _ids(gdf, "candidate_id", src, notes, fallback="name")
    for field in ("capacity_households", "cost"):
        gdf = _numeric(gdf, field, src, minimum=0.0)
        if field not in gdf.columns:
            gdf[field] = np.nan
    if "name" not in gdf.columns:
        gdf["name"] = None
    gdf["source"] = "file"
    out = _finish(gdf, _COLUMNS, notes)
    out.attrs["source_name"] = src
    return out


def network_candidates(
    streets: gpd.GeoDataFrame, area: shapely.Geometry, *, spacing_m: float = 100.0
) -> gpd.GeoDataFrame:
    """Points along the street lines every ``spacing_m`` metres, inside ``area``.

    Parameters
    ----------
    streets : GeoDataFrame
        Street lines in a metric CRS.
    area : shapely geometry
        The study area in the same CRS; points outside it are dropped.
    spacing_m : float, default 100.0
        Metres between consecutive points along a line (each line starts with one).

    Returns
    -------
    GeoDataFrame
        Points with ``candidate_id`` ``N1``, ``N2`` … (ordered by position, so the
        numbering does not depend on the street row order), ``source`` = "network".

    Examples
    --------
    >>> street = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (450, 0)])],
    ...                           crs="EPSG:4549")
    >>> points = network_candidates(street, shapely.box(-1, -1, 451, 1), spacing_m=100.0)
    >>> points["candidate_id"].tolist(), shapely.get_coordinates(points.geometry)[:, 0].tolist()
    (['N1', 'N2', 'N3', 'N4', 'N5'], [0.0, 100.0, 200.0, 300.0, 400.0])
    """
    if spacing_m <= 0:
        msg = f"`spacing_m={spacing_m}`: must be a positive number of metres."
        raise InputError(msg)
    lines = np.asarray(shapely.get_parts(np.asarray(streets.geometry.values)))
    lines = lines[~shapely.is_empty(lines)]
    length = shapely.length(lines)
    count = np.floor(length / spacing_m).astype(np.int64) + 1
    which = np.repeat(np.arange(len(lines)), count)
    along = (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)) * spacing_m
    points = shapely.line_interpolate_point(lines[which], along)
    xy = shapely.get_coordinates(points)
    # Lines meeting at a junction each start a point there: keep one per spot (10 cm).
    key = np.round(xy / 0.1).astype(np.int64)
    _, first = np.unique(key, axis=0, return_index=True)
    xy = xy[np.sort(first)]
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
    xy = xy[inside]
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    xy = xy[order]
    n = len(xy)
    return gpd.GeoDataFrame(
        {"candidate_id": [f"N{i + 1}" for i in range(n)],
         "name": [None] * n,  # shown by id: a made-up name would need a language
         "capacity_households": np.full(n, np.nan), "cost": np.full(n, np.nan),
         "source": "network"},
        geometry=shapely.points(xy) if n else [], crs=streets.crs,
    )


def estate_candidates(estates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One candidate inside each estate (at a point inside its polygon).

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` = ``E:<estate_id>``, ``name`` = the estate's name, ``source`` =
        "estate", in the estates' CRS.

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> sites = estate_candidates(read_estates(demo_folder() / "estates.gpkg"))
    >>> len(sites), sites["candidate_id"].iloc[0]
    (150, 'E:...')
    """
    pts = shapely.point_on_surface(np.asarray(estates.geometry.values))
    names = estates["name"].astype(object).where(estates["name"].notna(), estates["estate_id"])
    return gpd.GeoDataFrame(
        {"candidate_id": ["E:" + str(e) for e in estates["estate_id"]],
         "name": names.astype(str).to_numpy(),
         "capacity_households": np.nan, "cost": np.nan, "source": "estate"},
        geometry=pts, crs=estates.crs,
    )


def combine_candidates(parts: list[gpd.GeoDataFrame], crs: Any) -> gpd.GeoDataFrame:
    """Several candidate sets as one (in ``crs``); ids must stay unique across them."""
    frames = [p.to_crs(crs)[[*_COLUMNS, "geometry"]] for p in parts if len(p)]
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in _COLUMNS}, geometry=[], crs=crs)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    dup = out["candidate_id"].duplicated(keep=False)
    if dup.any():
        ids = ", ".join(sorted(set(out.loc[dup, "candidate_id"]))[:5])
        msg = (f"Candidate ids repeat across the candidate sets ({ids}); rename them in the "
               "candidates file (ids N… and E:… are used for generated candidates).")
        raise InputError(msg)
    return out


def gather_candidates(
    sources: list[Any], *, estates: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None,
    analysis_crs: Any, reach_m: float, spacing_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """The candidate sites of one siting run, in ``sources`` order.

    Each source is ``"network"`` (points every ``spacing_m`` along ``streets`` inside the
    study area: the estates' hull grown by ``reach_m``, the longest walking threshold of
    the run), ``"estates"`` (one point inside each estate) or a frame from
    `read_candidates`. The notes of the file sources are kept in ``attrs["notes"]``.
    `gis siting` and the QGIS siting algorithm both assemble candidates here.

    Raises
    ------
    InputError
        No source given, or no candidate at all (no street inside the study area and no
        other source).

    Examples
    --------
    >>> from gis.synthetic import random_town
    >>> streets, estates, _ = random_town(1)
    >>> candidates = gather_candidates(["network", "estates"], estates=estates,
    ...                                streets=streets, analysis_crs=estates.crs,
    ...                                reach_m=300.0)
    >>> candidates["source"].value_counts().to_dict()
    {'network': 150, 'estate': 25}
    """
    if not sources:
        msg = ("No candidate sites: give a candidates file or layer, or candidates along the "
               "streets or inside the estates.")
        raise InputError(msg)
    parts = []
    for source in sources:
        if isinstance(source, gpd.GeoDataFrame):
            parts.append(source)
        elif source == "network":
            est_m = to_metric(estates, analysis_crs)
            area = shapely.buffer(shapely.convex_hull(shapely.union_all(
                shapely.envelope(est_m.geometry.values))), reach_m)
            parts.append(network_candidates(streets, area, spacing_m=spacing_m))
        elif source == "estates":
            parts.append(estate_candidates(estates))
        else:
            msg = f"unknown candidate source {source!r}: use 'network', 'estates' or a frame."
            raise InputError(msg)
    candidates = combine_candidates(parts, estates.crs)
    files = [p for p in parts if (p["source"] == "file").all() and len(p)]
    candidates.attrs["notes"] = [n for p in files for n in p.attrs.get("notes", [])]
    if files:
        candidates.attrs["source_name"] = files[0].attrs.get("source_name", "candidates")
    if not len(candidates):
        msg = ("No candidate sites: the street network has no point inside the study area; "
               "give a candidates file or layer.")
        raise InputError(msg)
    return candidates
