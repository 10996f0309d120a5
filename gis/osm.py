"""Read OpenStreetMap files (``.osm`` XML through osmnx, ``.osm.pbf`` through pyrosm).

Each reader returns a plain GeoDataFrame in EPSG:4326 with the OSM tags that matter
as columns, so `gis.layers` can treat it like any other layer: streets as walkable
LineStrings, estates as residential areas, services as tagged features.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from gis.errors import InputError

__all__ = ["SERVICE_TAG_KEYS", "read_osm"]

logger = logging.getLogger(__name__)

Role = Literal["estates", "services", "streets", "gates"]

# OSM keys that the standard's osm_tags use; kept as columns on service layers.
SERVICE_TAG_KEYS = ("amenity", "shop", "healthcare", "office", "parking")

# highway values nobody walks along.
_NOT_WALKABLE = {
    "motorway", "motorway_link", "construction", "proposed", "abandoned", "platform",
    "raceway", "bus_guideway", "escape", "busway",
}


def read_osm(path: str | Path, role: Role) -> gpd.GeoDataFrame:
    """Read one role's features from an OpenStreetMap file.

    Parameters
    ----------
    path : str or Path
        ``.osm`` (XML) or ``.osm.pbf`` file.
    role : {"estates", "services", "streets", "gates"}
        ``streets``: walkable ways as LineStrings (columns ``name``, ``highway``);
        ``estates``: ``landuse=residential`` areas (``osm_id``, ``name``, ``start_date``);
        ``services``: nodes and areas tagged with any of `SERVICE_TAG_KEYS`;
        ``gates``: ``barrier=gate`` / ``entrance`` nodes.

    Returns
    -------
    GeoDataFrame
        In EPSG:4326.

    Raises
    ------
    InputError
        If the file cannot be parsed or holds nothing for ``role``.

    Examples
    --------
    pyrosm's bundled extract (a real OpenStreetMap file, read offline):

    >>> import pyrosm
    >>> streets = read_osm(pyrosm.get_data("test_pbf"), "streets")
    >>> len(streets), list(streets.columns), streets.crs.to_string()
    (237, ['id', 'name', 'highway', 'bridge', 'geometry'], 'EPSG:4326')
    >>> read_osm("town.geojson", "streets")
    Traceback (most recent call last):
    ...
    gis.errors.InputError: town.geojson: not an OpenStreetMap file (.osm or .osm.pbf).
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            gdf = _read_pbf(path, role)
        elif name.endswith(".osm") or name.endswith(".xml"):
            gdf = _read_xml(path, role)
        else:
            msg = f"{path}: not an OpenStreetMap file (.osm or .osm.pbf)."
            raise InputError(msg)
    except InputError:
        raise
    except Exception as err:  # parsers raise many kinds; the user needs the file named
        msg = f"{path}: could not read OpenStreetMap data for {role} ({type(err).__name__}: {err})."
        raise InputError(msg) from err
    if gdf is None or len(gdf) == 0:
        msg = f"{path}: the OpenStreetMap file holds no {_WHAT[role]}."
        raise InputError(msg)
    logger.info("Read %s %s from %s", f"{len(gdf):,}", role, path.name)
    return gdf.reset_index(drop=True)


_WHAT = {
    "streets": "walkable ways (highway=*)",
    "estates": "residential areas (landuse=residential)",
    "services": f"features tagged {', '.join(SERVICE_TAG_KEYS)}",
    "gates": "gates (barrier=gate or entrance=*)",
}


def _read_pbf(path: Path, role: Role) -> gpd.GeoDataFrame | None:
    import pyrosm

    osm = pyrosm.OSM(str(path))
    if role == "streets":
        edges = osm.get_network(network_type="walking")
        if edges is None:
            return None
        keep = [c for c in ("id", "name", "highway", "bridge", "tunnel", "layer")
                if c in edges.columns]
        return gpd.GeoDataFrame(edges[keep], geometry=edges.geometry.values, crs=4326)
    if role == "estates":
        lu = osm.get_landuse(custom_filter={"landuse": ["residential"]})
        if lu is None:
            return None
        lu = lu[lu.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        out = pd.DataFrame({"osm_id": "osm" + lu["id"].astype(str)})
        out["name"] = lu["name"].values if "name" in lu.columns else None
        out["start_date"] = lu["start_date"].values if "start_date" in lu.columns else None
        return gpd.GeoDataFrame(out, geometry=lu.geometry.values, crs=4326)
    if role == "services":
        pois = osm.get_pois(custom_filter={k: True for k in SERVICE_TAG_KEYS})
        if pois is None:
            return None
        cols = ["name", *SERVICE_TAG_KEYS]
        out = pd.DataFrame({c: pois[c].values if c in pois.columns else None for c in cols})
        out.insert(0, "osm_id", pois["osm_type"].astype(str) + pois["id"].astype(str))
        return gpd.GeoDataFrame(out, geometry=pois.geometry.values, crs=4326)
    gates = osm.get_data_by_custom_criteria(
        custom_filter={"barrier": ["gate"], "entrance": True}, keep_ways=False,
        keep_relations=False,
    )
    if gates is None:
        return None
    return gpd.GeoDataFrame(
        {"osm_id": "node" + gates["id"].astype(str)}, geometry=gates.geometry.values, crs=4326
    )


def _read_xml(path: Path, role: Role) -> gpd.GeoDataFrame | None:
    import osmnx as ox

    if role == "streets":
        graph = ox.graph_from_xml(path, simplify=True, retain_all=True)
        edges = ox.convert.graph_to_gdfs(graph, nodes=False)
        edges = edges[~edges["highway"].astype(str).isin(_NOT_WALKABLE)]
        if "foot" in edges.columns:
            edges = edges[edges["foot"].astype(str) != "no"]
        # osmnx stores both directions of two-way streets; keep one of each pair.
        edges = edges.reset_index()
        pair = edges[["u", "v"]].min(axis=1).astype(str) + "-" + edges[["u", "v"]].max(
            axis=1
        ).astype(str) + "-" + edges["key"].astype(str)
        edges = edges.loc[~pair.duplicated()]
        out = pd.DataFrame(
            {
                "name": edges["name"].astype(str).where(edges["name"].notna(), None)
                if "name" in edges.columns
                else None,
                "highway": edges["highway"].astype(str),
            }
        )
        for level in ("bridge", "tunnel", "layer"):  # grade separation, for gis.noding
            if level in edges.columns:
                out[level] = edges[level].astype(str).where(edges[level].notna(), None).values
        return gpd.GeoDataFrame(out, geometry=edges.geometry.values, crs=4326)
    if role == "estates":
        tags: dict[str, bool | str | list[str]] = {"landuse": "residential"}
    elif role == "services":
        tags = {k: True for k in SERVICE_TAG_KEYS}
    else:
        tags = {"barrier": "gate", "entrance": True}
    try:
        feats = ox.features_from_xml(path, tags=tags)
    except ox._errors.InsufficientResponseError:
        return None
    feats = feats.reset_index()
    out = pd.DataFrame({"osm_id": feats["element"].astype(str) + feats["id"].astype(str)})
    extra = ["name", "start_date"] if role == "estates" else ["name", *SERVICE_TAG_KEYS]
    for c in extra if role != "gates" else []:
        out[c] = feats[c].values if c in feats.columns else None
    gdf = gpd.GeoDataFrame(out, geometry=feats.geometry.values, crs=4326)
    if role == "estates":
        gdf = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return gdf
