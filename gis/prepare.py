"""Preparation: turn a raw GeoDataFrame into a checked, canonical layer with its notes.

Every check and repair of the input layers runs here, on frames in memory, whatever they
came from (`gis.sources.read_source`, QGIS, PostGIS, a notebook). The file readers in
`gis.layers` (``read_estates(path)`` …) are ``prepare_x(read_source(path))`` and run the
very same code, so a frame prepared here gives the same result as the file it came from.

Each function returns the canonical layer in the frame's own CRS; ``attrs["notes"]``
lists the field mapping and every repair, ``attrs["skipped"]`` the rows left out with
``invalid="skip"``. Broken data raises `gis.errors.InputError` (or `CRSError`,
`GeometryError`) naming the source, the rows and the fix; messages name parameters
(``crs``), which the CLI maps to its flags (``--input-crs``).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from gis import layers as _layers
from gis.constraints import Constraint, constraint_from, constraint_kind
from gis.skipped import check_invalid_mode
from gis.standards import Standard

__all__ = ["prepare_barriers", "prepare_constraint", "prepare_estates", "prepare_gates",
           "prepare_services", "prepare_streets"]


def _checked(gdf: gpd.GeoDataFrame, source_name: str, role: str, crs: Any, coords: str | None,
             invalid: str) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """The checks every source gets (rows, finite coordinates, CRS, web offsets, 2D) on a
    copy, so the caller's frame is never changed."""
    check_invalid_mode(invalid)
    if not isinstance(gdf, gpd.GeoDataFrame):
        from gis.errors import InputError

        msg = f"{source_name}: a GeoDataFrame is needed, not {type(gdf).__name__}."
        raise InputError(msg)
    notes = list(gdf.attrs.get("notes", []))
    frame = gdf.drop(columns="_row", errors="ignore").copy()
    frame.attrs = {}
    return _layers.checked_layer(frame, role=role, crs=crs, coords=coords, source=source_name,
                                 notes=notes)


def prepare_estates(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                    source_name: str = "estates", crs: Any = None, coords: str | None = None,
                    invalid: str = "stop", from_osm: bool = False) -> gpd.GeoDataFrame:
    """Checked estates (小区) from a raw frame; see `gis.layers.read_estates` for columns.

    ``standard`` is accepted for a uniform signature (eligibility is judged later, in
    `gis.eligibility`); ``crs`` is the CRS of a frame that has none; ``from_osm`` relaxes
    the checks OpenStreetMap polygons need relaxed (as for an ``.osm`` file).
    """
    frame, notes, src = _checked(gdf, source_name, "estates", crs, coords, invalid)
    return _layers.estates_from(frame, notes, src, invalid=invalid, from_osm=from_osm)


def prepare_services(gdf: gpd.GeoDataFrame, *, standard: Standard, source_name: str = "services",
                     crs: Any = None, coords: str | None = None,
                     invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked and classified services; see `gis.layers.read_services`."""
    frame, notes, src = _checked(gdf, source_name, "services", crs, coords, invalid)
    return _layers.services_from(frame, notes, src, standard)


def prepare_streets(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                    source_name: str = "streets", crs: Any = None, coords: str | None = None,
                    invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked street centre-lines; see `gis.layers.read_streets`."""
    frame, notes, src = _checked(gdf, source_name, "streets", crs, coords, invalid)
    return _layers.streets_from(frame, notes, src, invalid=invalid)


def prepare_barriers(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                     source_name: str = "barriers", crs: Any = None, coords: str | None = None,
                     invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked barrier lines/polygons; see `gis.layers.read_barriers`."""
    frame, notes, src = _checked(gdf, source_name, "barriers", crs, coords, invalid)
    return _layers.barriers_from(frame, notes, src, invalid=invalid)


def prepare_gates(gdf: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, *,
                  standard: Standard | None = None, source_name: str = "gates", crs: Any = None,
                  coords: str | None = None, invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked gates naming known estates (a prepared estates layer); see
    `gis.layers.read_gates`."""
    frame, notes, src = _checked(gdf, source_name, "gates", crs, coords, invalid)
    return _layers.gates_from(frame, notes, src, estates, invalid=invalid)


def prepare_constraint(gdf: gpd.GeoDataFrame, kind: str, *, standard: Standard | None = None,
                       source_name: str | None = None, crs: Any = None,
                       invalid: str = "stop", name_field: str | None = None,
                       crown_field: str | None = None) -> Constraint:
    """A constraint layer (历史文化街区 …) checked for its kind; see
    `gis.review.read_constraint`."""
    kind = constraint_kind(kind)
    frame, notes, src = _checked(gdf, source_name or kind, kind, crs, None, invalid)
    return constraint_from(frame, notes, src, kind, name_field=name_field,
                           crown_field=crown_field, invalid=invalid)
