"""Preparation: turn a raw GeoDataFrame into a checked, canonical layer with its notes.

Every check and repair of the input layers runs here, on frames in memory, whatever they
came from (`gis.sources.read_source`, QGIS, PostGIS, a notebook). The file readers in
`gis.layers` (``read_estates(path)`` …) are ``prepare_x(read_source(path))`` and run the
very same code, so a frame prepared here gives the same result as the file it came from.

Each function returns the canonical layer in the frame's own CRS; ``attrs["notes"]``
lists the field mapping and every repair, ``attrs["skipped"]`` the rows left out with
``invalid="skip"``. Broken data raises `gis.errors.InputError` (or `CRSError`,
`GeometryError`) naming the source, the rows and the fix; messages name parameters
(``input_crs``), which the CLI shows as its own options.
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


def _checked(gdf: gpd.GeoDataFrame, source_name: str, role: str, input_crs: Any,
             coords: str | None, invalid: str) -> tuple[gpd.GeoDataFrame, list[str], str]:
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
    return _layers.checked_layer(frame, role=role, input_crs=input_crs, coords=coords,
                                 source=source_name, notes=notes)


def prepare_estates(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                    source_name: str = "estates", input_crs: Any = None, coords: str | None = None,
                    invalid: str = "stop", from_osm: bool = False) -> gpd.GeoDataFrame:
    """Checked estates (小区) from a raw frame; see `gis.layers.read_estates` for columns.

    ``standard`` is accepted for a uniform signature (eligibility is judged later, in
    `gis.eligibility`); ``input_crs`` is the CRS of a frame that has none; ``from_osm`` relaxes
    the checks OpenStreetMap polygons need relaxed (as for an ``.osm`` file).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gis.sources import demo_folder, read_source
    >>> raw = read_source(demo_folder() / "estates.gpkg").frame
    >>> est = prepare_estates(raw, source_name="estates.gpkg")
    >>> len(est), list(est.columns[:4]), list(raw.columns[:2])  # the raw frame is untouched
    (150, ['estate_id', 'name', 'build_year', 'households'], ['小区编号', '小区名称'])

    A frame built in memory, with no CRS of its own: ``input_crs`` says what it is in.

    >>> town = gpd.GeoDataFrame({"小区编号": [101.0, 102.0], "户数": ["1,200", "80"]},
    ...                         geometry=[shapely.box(0, 0, 100, 80), shapely.box(150, 0, 220, 60)])
    >>> est = prepare_estates(town, input_crs="EPSG:4547")
    >>> est["estate_id"].tolist(), est["households"].tolist(), est.crs.to_epsg()
    (['101', '102'], [1200.0, 80.0], 4547)
    """
    frame, notes, src = _checked(gdf, source_name, "estates", input_crs, coords, invalid)
    return _layers.estates_from(frame, notes, src, invalid=invalid, from_osm=from_osm)


def prepare_services(gdf: gpd.GeoDataFrame, *, standard: Standard, source_name: str = "services",
                     input_crs: Any = None, coords: str | None = None,
                     invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked and classified services; see `gis.layers.read_services`.

    Examples
    --------
    >>> from gis.sources import demo_folder, read_source
    >>> from gis.standards import load_standard
    >>> raw = read_source(demo_folder() / "services.gpkg").frame
    >>> svc = prepare_services(raw, standard=load_standard(), source_name="services.gpkg")
    >>> len(svc), int(svc["category"].notna().sum()), sorted(svc["category"].unique())[:3]
    (164, 164, ['charging', 'clinic', 'community_service'])
    """
    frame, notes, src = _checked(gdf, source_name, "services", input_crs, coords, invalid)
    return _layers.services_from(frame, notes, src, standard)


def prepare_streets(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                    source_name: str = "streets", input_crs: Any = None, coords: str | None = None,
                    invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked street centre-lines; see `gis.layers.read_streets`.

    Examples
    --------
    >>> from gis.sources import demo_folder, read_source
    >>> streets = prepare_streets(read_source(demo_folder() / "streets.gpkg").frame)
    >>> len(streets), list(streets.columns)
    (639, ['name', 'road_class', 'width_m', 'geometry'])
    """
    frame, notes, src = _checked(gdf, source_name, "streets", input_crs, coords, invalid)
    return _layers.streets_from(frame, notes, src, invalid=invalid)


def prepare_barriers(gdf: gpd.GeoDataFrame, *, standard: Standard | None = None,
                     source_name: str = "barriers", input_crs: Any = None,
                     coords: str | None = None, invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked barrier lines/polygons; see `gis.layers.read_barriers`.

    Examples
    --------
    >>> from gis.sources import demo_folder, read_source
    >>> rivers = prepare_barriers(read_source(demo_folder() / "rivers.gpkg").frame)
    >>> len(rivers), list(rivers.columns)
    (1, ['name', 'geometry'])
    """
    frame, notes, src = _checked(gdf, source_name, "barriers", input_crs, coords, invalid)
    return _layers.barriers_from(frame, notes, src, invalid=invalid)


def prepare_gates(gdf: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, *,
                  standard: Standard | None = None, source_name: str = "gates",
                  input_crs: Any = None, coords: str | None = None,
                  invalid: str = "stop") -> gpd.GeoDataFrame:
    """Checked gates naming known estates (a prepared estates layer); see
    `gis.layers.read_gates`.

    Examples
    --------
    >>> from gis.sources import demo_folder, read_source
    >>> est = prepare_estates(read_source(demo_folder() / "estates.gpkg").frame)
    >>> gates = prepare_gates(read_source(demo_folder() / "gates.gpkg").frame, est)
    >>> len(gates), gates["estate_id"].nunique()
    (88, 62)
    """
    frame, notes, src = _checked(gdf, source_name, "gates", input_crs, coords, invalid)
    return _layers.gates_from(frame, notes, src, estates, invalid=invalid)


def prepare_constraint(gdf: gpd.GeoDataFrame, kind: str, *, standard: Standard | None = None,
                       source_name: str | None = None, input_crs: Any = None,
                       invalid: str = "stop", name_field: str | None = None,
                       crown_field: str | None = None) -> Constraint:
    """A constraint layer (历史文化街区 …) checked for its kind; see
    `gis.review.read_constraint`.

    Examples
    --------
    >>> from gis.sources import demo_folder, read_source
    >>> raw = read_source(demo_folder() / "ancient_trees.gpkg").frame
    >>> trees = prepare_constraint(raw, "古树名木", source_name="ancient_trees.gpkg")
    >>> trees.kind, len(trees.layer), list(trees.layer.columns)
    ('ancient_tree', 8, ['name', 'crown_radius_m', 'geometry', 'feature_id', 'species', 'row'])
    """
    kind = constraint_kind(kind)
    frame, notes, src = _checked(gdf, source_name or kind, kind, input_crs, None, invalid)
    return constraint_from(frame, notes, src, kind, name_field=name_field,
                           crown_field=crown_field, invalid=invalid)
