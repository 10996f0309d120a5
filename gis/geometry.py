"""Polygon repair and polygonal parts: the one implementation every layer uses.

Estates, constraint layers and renovation units all arrive with the same faults (a
self-intersecting boundary, a ring that folds back on itself, a spike) and all need the
same answer: `shapely.make_valid`, then the polygonal part of what it returns (it may
return a collection of a polygon and the stray lines of a collapsed spike), and the rows
that have no area left named, since a boundary with no area cannot be analysed. What to
say about the repair and whether a lost row stops the run is the caller's: the wording
and the rule differ by layer, the geometry does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["PolygonRepair", "polygonal", "repair_polygons"]

# shapely type ids of Polygon and MultiPolygon
_POLYGONAL = (3, 6)


def polygonal(geoms: np.ndarray | list, *, dissolve: bool = False) -> np.ndarray:
    """The polygonal part of each geometry.

    Polygons and MultiPolygons pass unchanged; from a collection (a polygon plus stray
    lines left by `shapely.make_valid` or an intersection) the polygons are kept, as
    one MultiPolygon. A geometry with no polygon gives an empty MultiPolygon.

    Parameters
    ----------
    geoms : array-like of shapely geometries
    dissolve : bool, default False
        Union a collection's polygons instead of collecting them: a collection that
        holds one polygon gives that Polygon back, and overlapping parts merge into one
        valid geometry. Estates use it (an estate stays a Polygon); constraint layers and
        overlays keep the faster MultiPolygon of parts.

    Returns
    -------
    numpy.ndarray of shapely geometries, one per input

    Examples
    --------
    A boundary with a spike: `make_valid` gives the square and the spike's line; the
    square's 100 m² are what is kept.

    >>> import shapely
    >>> from gis.geometry import polygonal
    >>> spike = shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5, 15), (5, 10), (0, 10)])
    >>> fixed = shapely.make_valid(spike)
    >>> fixed.geom_type
    'GeometryCollection'
    >>> kept = polygonal([fixed, shapely.Point(0, 0)])
    >>> [g.geom_type for g in kept], float(kept[0].area), bool(kept[1].is_empty)
    (['MultiPolygon', 'MultiPolygon'], 100.0, True)
    >>> polygonal([fixed], dissolve=True)[0].geom_type
    'Polygon'
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), _POLYGONAL))
    if not len(mixed):
        return out
    parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
    sub, sub_idx = shapely.get_parts(parts, return_index=True)  # flatten nested multis
    idx = idx[sub_idx]
    poly = shapely.get_type_id(sub) == 3
    target = np.full(len(mixed), shapely.MultiPolygon(), dtype=object)
    if poly.any():
        shapely.multipolygons(sub[poly], indices=idx[poly], out=target)
    if dissolve:
        # union_all of one polygon returns it unchanged, so a lone polygon stays a Polygon
        some = ~shapely.is_empty(target)
        target[some] = [shapely.union_all(g) for g in target[some]]
    out[mixed] = target
    return out


@dataclass(frozen=True)
class PolygonRepair:
    """What `repair_polygons` did.

    Attributes
    ----------
    geoms : numpy.ndarray
        The geometries, each invalid polygon replaced by its repair; one with no area
        left is an empty MultiPolygon.
    repaired : numpy.ndarray of int
        Positions of the invalid polygons repaired (they keep an area).
    reasons : numpy.ndarray of str
        `shapely.is_valid_reason` of each repaired polygon before the repair.
    lost : numpy.ndarray of int
        Positions of the invalid polygons with no area once repaired (collapsed rings).
    """

    geoms: np.ndarray
    repaired: np.ndarray
    reasons: np.ndarray
    lost: np.ndarray


def repair_polygons(geoms: np.ndarray | list, *, dissolve: bool = False) -> PolygonRepair:
    """Repair the invalid polygons of ``geoms`` with `shapely.make_valid`.

    Only Polygons and MultiPolygons are looked at (points and lines pass unchanged);
    each invalid one is replaced by the polygonal part of its repair (`polygonal`, with
    ``dissolve``). A polygon whose repair has no area is *lost*: its place holds an empty
    MultiPolygon, and the caller stops or sets the row aside.

    Parameters
    ----------
    geoms : array-like of shapely geometries
    dissolve : bool, default False
        Passed to `polygonal`.

    Returns
    -------
    PolygonRepair

    Examples
    --------
    A bow-tie (its boundary crosses itself), a collapsed ring and a valid square:

    >>> import shapely
    >>> from gis.geometry import repair_polygons
    >>> bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    >>> flat = shapely.Polygon([(0, 0), (10, 0), (20, 0)])
    >>> fix = repair_polygons([bowtie, flat, shapely.box(0, 0, 5, 5)])
    >>> fix.repaired.tolist(), fix.lost.tolist(), fix.reasons.tolist()
    ([0], [1], ['Self-intersection[5 5]'])
    >>> [g.geom_type for g in fix.geoms], [float(g.area) for g in fix.geoms]
    (['MultiPolygon', 'MultiPolygon', 'Polygon'], [50.0, 0.0, 25.0])
    """
    geoms = np.asarray(geoms, dtype=object)
    candidates = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    invalid = np.flatnonzero(candidates & ~shapely.is_valid(geoms))
    if not len(invalid):
        none = np.array([], dtype=int)
        return PolygonRepair(geoms, none, np.array([], dtype=object), none)
    reasons = np.asarray(shapely.is_valid_reason(geoms[invalid]), dtype=object)
    fixed = polygonal(shapely.make_valid(geoms[invalid]), dissolve=dissolve)
    lost = shapely.is_empty(fixed) | (shapely.area(fixed) == 0)
    fixed[lost] = shapely.MultiPolygon()
    geoms = geoms.copy()
    geoms[invalid] = fixed
    return PolygonRepair(geoms, invalid[~lost], reasons[~lost], invalid[lost])
