"""Sources: read a layer from wherever it lives, as it is, before any check.

`read_source` gives a raw GeoDataFrame and the name to use for it in messages; the
checks and repairs that make it an estates / services / streets / gates layer are
`gis.prepare`'s. A frame that is already in memory (QGIS, PostGIS through your own
connection, a notebook) skips this module and goes straight to `gis.prepare`.

Supported: GeoPackage (``FILE:LAYER`` or ``layer=``), GeoJSON, Shapefile (``.cpg``
honoured, GBK detected), zipped Shapefile, CSV/XLSX with lon/lat columns, OpenStreetMap
``.osm`` / ``.osm.pbf`` (``role`` says which features), and ``postgresql://…#schema.table``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from gis.errors import GisError
from gis.layers import read_raw
from gis.skipped import check_invalid_mode

__all__ = ["Source", "demo_folder", "read_source"]


@dataclass
class Source:
    """A layer as read: ``frame`` (attrs ``notes`` hold reading notes such as the encoding
    used), ``name`` for messages (``file.gpkg:layer``), ``where`` (the path; None for a
    database table) and whether it came from OpenStreetMap."""

    frame: gpd.GeoDataFrame
    name: str
    where: str | None = None
    from_osm: bool = False

    def __iter__(self) -> Any:  # ``gdf, name = read_source(...)``
        return iter((self.frame, self.name))


def read_source(src: str | Path, layer: str | None = None, *, role: str | None = None,
                input_crs: Any = None, encoding: str | None = None,
                invalid: str = "stop") -> Source:
    """Read one layer from a file or database as it is.

    Parameters
    ----------
    src : str or Path
        A file path (``data.gpkg:layer`` names a layer), or a PostGIS URL.
    layer : str, optional
        Layer inside a multi-layer file.
    role : {"estates", "services", "streets", "gates", "barriers"}, optional
        What the layer is: needed for OpenStreetMap files, which hold every kind.
    input_crs : optional
        Only for database queries without a registered SRID; files get theirs in
        `gis.prepare` (a CRS is never guessed).
    encoding : str, optional
        Attribute encoding when detection fails (e.g. ``"gbk"``).
    invalid : {"stop", "skip"}, default "stop"
        For CSV/XLSX rows without numeric coordinates: stop, or keep them without
        geometry for `gis.prepare` to leave out and list.

    Returns
    -------
    Source
        Unpacks as ``(frame, name)``; the frame's ``_row`` column is not yet added.

    Raises
    ------
    InputError
        No such file, empty file, unknown format, unreadable layer.

    Examples
    --------
    >>> src = read_source(demo_folder() / "estates.gpkg")
    >>> src.name, len(src.frame), src.from_osm, list(src.frame.columns[:3])
    ('estates.gpkg', 150, False, ['小区编号', '小区名称', '建成年份'])
    >>> frame, name = read_source(f"{demo_folder() / 'gates.gpkg'}:gates")  # FILE:LAYER
    >>> name, len(frame)
    ('gates.gpkg:gates', 88)

    A missing file is a one-line error naming it:

    >>> read_source(demo_folder() / "nothing.gpkg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gis.errors.InputError: .../nothing.gpkg: no such file...
    """
    check_invalid_mode(invalid)
    from gis.layers import _is_osm  # one test of "is this OpenStreetMap", shared with layers

    gdf, notes, name, where = read_raw(src, role=role, layer=layer, input_crs=input_crs,
                                       encoding=encoding, invalid=invalid)
    gdf.attrs["notes"] = list(notes)
    return Source(gdf, name, where, from_osm=where is not None and _is_osm(where))


def demo_folder() -> Path:
    """The bundled demo layers: ``./layers/demo``, else next to the installed package.

    The demo is a fictional county town (estates, services, streets, gates, constraint
    layers and a survey workbook); the examples in these docstrings run on it.

    Raises
    ------
    GisError
        When neither place holds ``estates.gpkg``.

    Examples
    --------
    >>> sorted(p.name for p in demo_folder().glob("*.gpkg"))[:3]
    ['ancient_trees.gpkg', 'development_boundary.gpkg', 'eco_redline.gpkg']
    """
    import gis

    for base in (Path.cwd(), Path(gis.__file__).resolve().parents[1]):
        folder = base / "layers" / "demo"
        if (folder / "estates.gpkg").is_file():
            return folder
    msg = ("Demo data not found: run from the project folder (it holds layers/demo/) or "
           "regenerate it with `python scripts/make_demo_data.py`.")
    raise GisError(msg)
