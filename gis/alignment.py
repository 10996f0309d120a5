"""Do the layers line up? Detect GCJ-02 / BD-09 offsets between any pair of layers.

Points exported from Amap/Gaode or Tencent (GCJ-02) and Baidu (BD-09) sit a few hundred
metres off their true (WGS84/CGCS2000) positions, in a direction that varies only slowly
across a town. Any layer may be the shifted one: services from Amap among surveyed
estates and streets, or estates and streets traced on Amap with services from OSM.

`offset_notes` tests every layer against every other on samples: for each layer it
considers "as read", "GCJ-02" and "BD-09" (and, for a layer the user converted with
``coords``, "that conversion was wrong"), and scores each combination by how close the
layers then come to each other:

* estate boundaries to streets,
* services to streets and to estates (0 inside),
* gates to estate boundaries and to streets.

A combination's score is the sum over those pairs of ``log(median gap + 5 m)``. The best
combination is reported when it improves the score by at least `MIN_GAIN` (the median
gaps shrink by a fifth or more, on the geometric mean) and names the layers to pass to
``coords``. Shifting *every* layer by the same offset changes nothing measurable, so
only relative offsets are detected; the reported fix converts the fewest layers.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from gis.crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, transformer, wgs84_to_gcj02
from gis.notes import Note

__all__ = ["MIN_GAIN", "PAIRS", "Alignment", "alignment", "offset_notes"]

logger = logging.getLogger(__name__)

MIN_GAIN = float(np.log(1 / 0.8))
SAMPLE = 2000
# (points of, measured to): which layers should lie close to which.
PAIRS = (("estates", "streets"), ("services", "streets"), ("services", "estates"),
         ("gates", "estates"), ("gates", "streets"))
_FLOOR_M = 5.0

LonLat = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _identity(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lon, lat


def _bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


# hypothesis -> (to true WGS84, from true WGS84 back to the layer's frame)
_AS_READ = ("as read", _identity, _identity)
_GCJ = ("gcj02", gcj02_to_wgs84, wgs84_to_gcj02)
_BD = ("bd09", _bd09_to_wgs84, _wgs84_to_bd09)
_UNDO = {"gcj02": ("undo gcj02", wgs84_to_gcj02, gcj02_to_wgs84),
         "bd09": ("undo bd09", _wgs84_to_bd09, _bd09_to_wgs84)}
_LABEL = {"gcj02": "GCJ-02 (Amap/Gaode, Tencent)", "bd09": "BD-09 (Baidu)"}


@dataclass(frozen=True)
class Alignment:
    """The outcome of `alignment`.

    Attributes
    ----------
    best : dict
        Layer role -> hypothesis name ("as read", "gcj02", "bd09", "undo gcj02", …) of
        the best-scoring combination.
    gaps_as_read, gaps_best : dict
        (points layer, reference layer) -> median gap in metres, as read and under ``best``.
    gain : float
        Score improvement of ``best`` over "as read" (natural log units).
    """

    best: dict[str, str]
    gaps_as_read: dict[tuple[str, str], float]
    gaps_best: dict[tuple[str, str], float]
    gain: float

    @property
    def significant(self) -> bool:
        """``best`` is a real improvement, not noise."""
        return self.gain >= MIN_GAIN and any(h != "as read" for h in self.best.values())


def _sample_points(gdf: gpd.GeoDataFrame, role: str, rng: np.random.Generator) -> np.ndarray:
    """Up to `SAMPLE` lon/lat points of the layer: boundary points for estates."""
    geoms = np.asarray(gdf.geometry.values)
    geoms = geoms[~shapely.is_empty(geoms) & shapely.is_valid_input(geoms)]
    if len(geoms) > SAMPLE:
        geoms = geoms[rng.choice(len(geoms), SAMPLE, replace=False)]
    if role == "estates":
        rings = shapely.get_exterior_ring(shapely.get_parts(geoms))
        rings = rings[rng.choice(len(rings), min(len(rings), SAMPLE), replace=False)]
        pts = shapely.line_interpolate_point(rings, rng.uniform(0, 1, len(rings)),
                                             normalized=True)
    elif role == "streets":
        pts = shapely.line_interpolate_point(geoms, rng.uniform(0, 1, len(geoms)),
                                             normalized=True)
    else:
        pts = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(pts)
    crs = CRS(gdf.crs)
    if not crs.equals(CRS(4326)):
        x, y = transformer(crs, CRS(4326)).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([x, y])
    return xy[np.isfinite(xy).all(axis=1)]


class _Reference:
    """A layer's geometry in metres, searchable for the nearest feature."""

    def __init__(self, gdf: gpd.GeoDataFrame, role: str, metric: CRS) -> None:
        geoms = np.asarray(gdf.geometry.values)
        if not CRS(gdf.crs).equals(metric):
            t = transformer(CRS(gdf.crs), metric)
            geoms = shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0],
                                                                                    xy[:, 1])))
        if role == "estates":
            # Gates are measured to boundaries; services to areas (0 inside).
            self.by_boundary = shapely.STRtree(shapely.boundary(geoms))
        self.tree = shapely.STRtree(geoms)
        self.to_metric = transformer(CRS(4326), metric)

    def median_gap(self, lonlat: np.ndarray, *, boundary: bool = False) -> float:
        x, y = self.to_metric.transform(lonlat[:, 0], lonlat[:, 1])
        tree = self.by_boundary if boundary else self.tree
        _, d = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        return float(np.median(d)) if len(d) else float("nan")


def alignment(
    layers: dict[str, gpd.GeoDataFrame], metric: CRS, *, seed: int = 0
) -> Alignment | None:
    """Score every combination of offsets for ``layers`` and return the best.

    Parameters
    ----------
    layers : dict
        Role ("estates", "services", "streets", "gates") -> layer in its own CRS, as read
        (after any ``coords`` conversion, named in ``attrs["coords"]``).
    metric : CRS
        Metric CRS to measure gaps in.
    seed : int, default 0
        Seed of the samples.

    Returns
    -------
    Alignment or None
        None when no pair of the layers can be compared or the layers are not in China
        (where the offsets are zero).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.crs import metric_crs
    >>> from gis.sources import demo_folder
    >>> layers = {r: gpd.read_file(demo_folder() / f"{r}.gpkg")
    ...           for r in ("estates", "services", "streets")}
    >>> found = alignment(layers, metric_crs(layers["estates"]))
    >>> found.best, found.significant
    ({'estates': 'as read', 'services': 'as read', 'streets': 'as read'}, False)
    >>> {pair: round(gap, 1) for pair, gap in found.gaps_as_read.items()}
    {('estates', 'streets'): 18.0, ('services', 'streets'): 15.3, ('services', 'estates'): 36.0}
    """
    rng = np.random.default_rng(seed)
    layers = {r: g for r, g in layers.items() if g is not None and len(g)}
    pairs = [(a, b) for a, b in PAIRS if a in layers and b in layers]
    if not pairs:
        return None
    points = {r: _sample_points(layers[r], r, rng) for r in sorted({a for a, _ in pairs})}
    # A handful of points (five gates) says nothing; leave such a layer out of the pairs.
    pairs = [(a, b) for a, b in pairs if len(points[a]) >= 10]
    if not pairs:
        return None
    layers = {r: g for r, g in layers.items() if any(r in p for p in pairs)}
    lon, lat = np.median(np.concatenate(list(points.values())), axis=0)
    dx, _ = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    if dx[0] == lon:
        return None  # outside China: no offsets to find
    refs = {r: _Reference(layers[r], r, metric) for r in {b for _, b in pairs}}
    hyps: dict[str, list[tuple[str, LonLat, LonLat]]] = {}
    for r in layers:
        done = str(layers[r].attrs.get("coords", "as labelled"))
        hyps[r] = [_AS_READ, _UNDO[done]] if done in _UNDO else [_AS_READ, _GCJ, _BD]
    cache: dict[tuple[str, str, str, str], float] = {}

    def gap(a: str, b: str, ha: tuple, hb: tuple) -> float:
        key = (a, b, ha[0], hb[0])
        if key not in cache:
            if ha[0] == hb[0]:
                # The same offset on both layers leaves them as close as they were.
                cache[key] = gap(a, b, _AS_READ, _AS_READ) if ha[0] != "as read" else \
                    refs[b].median_gap(points[a], boundary=(a == "gates" and b == "estates"))
            else:
                xy = points[a]
                x, y = hb[2](*ha[1](xy[:, 0], xy[:, 1]))
                cache[key] = refs[b].median_gap(np.column_stack([x, y]),
                                                boundary=(a == "gates" and b == "estates"))
        return cache[key]

    roles = sorted(layers)
    best: tuple[float, int, dict[str, tuple]] | None = None
    for combo in itertools.product(*(hyps[r] for r in roles)):
        chosen = dict(zip(roles, combo))
        if all(h[0] == chosen[roles[0]][0] for h in combo) and combo[0][0] != "as read":
            continue  # everything shifted alike: the same as nothing shifted
        score = sum(np.log(gap(a, b, chosen[a], chosen[b]) + _FLOOR_M) for a, b in pairs)
        changed = sum(h[0] != "as read" for h in combo)
        if best is None or (score, changed) < (best[0], best[1]):
            best = (score, changed, chosen)
    assert best is not None
    base = sum(np.log(gap(a, b, _AS_READ, _AS_READ) + _FLOOR_M) for a, b in pairs)
    chosen = best[2]
    result = Alignment(
        best={r: h[0] for r, h in chosen.items()},
        gaps_as_read={(a, b): gap(a, b, _AS_READ, _AS_READ) for a, b in pairs},
        gaps_best={(a, b): gap(a, b, chosen[a], chosen[b]) for a, b in pairs},
        gain=float(base - best[0]),
    )
    logger.info("Layer alignment: %s", result)
    return result


def _layers(roles: dict[str, str]) -> Note:
    """The layers named, in both languages ("estates and streets", "小区、道路")."""
    return Note.each("inputs.layer", ({"layer": Note.of(f"inputs.layer.{r}")}
                                      for r in sorted(roles)), join="inputs.and_sep")


def _coords_option(systems: dict[str, str]) -> Note:
    """The library's ``coords`` for each layer: `coords="gcj02"` for the services, …"""
    return Note.each("inputs.coords_for", ({"system": h, "layer": Note.of(f"inputs.layer.{r}")}
                                          for r, h in sorted(systems.items())),
                     join="inputs.and_sep")


def offset_notes(layers: dict[str, gpd.GeoDataFrame], metric: CRS) -> list[Note]:
    """Warnings naming the layers that look GCJ-02/BD-09 shifted against the others, and
    the ``coords`` conversions that made the alignment worse. Empty when all is well.

    Examples
    --------
    The demo's services shifted as an Amap (GCJ-02) export would be:

    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import shapely
    >>> from gis.crs import metric_crs, wgs84_to_gcj02
    >>> from gis.sources import demo_folder
    >>> layers = {r: gpd.read_file(demo_folder() / f"{r}.gpkg")
    ...           for r in ("estates", "services", "streets")}
    >>> metric = metric_crs(layers["estates"])
    >>> offset_notes(layers, metric)
    []
    >>> amap = layers["services"].copy()
    >>> amap["geometry"] = shapely.transform(np.asarray(amap.geometry.values), lambda xy:
    ...                                      np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    >>> [note] = offset_notes(dict(layers, services=amap), metric)
    >>> print(note)
    The services sit off the other layers the way GCJ-02 (Amap/Gaode, Tencent) coordinates do
    (median gaps as read vs converted: services to streets 29 m → 15 m; services to estates
    56 m → 36 m): they look like a web-map export. Pass `coords="gcj02"` for the services.
    """
    found = alignment(layers, metric)
    if found is None or not found.significant:
        return []
    changed = {r: h for r, h in found.best.items() if h != "as read"}
    pairs = [p for p in found.gaps_as_read if p[0] in changed or p[1] in changed]
    detail = Note.each("inputs.offset_gap", (
        {"a": Note.of(f"inputs.layer.{a}"), "b": Note.of(f"inputs.layer.{b}"),
         "before": found.gaps_as_read[(a, b)], "after": found.gaps_best[(a, b)]}
        for a, b in pairs), join="clause_sep")
    out: list[Note] = []
    convert = {r: h for r, h in changed.items() if not h.startswith("undo")}
    undo = {r: h.split()[-1] for r, h in changed.items() if h.startswith("undo")}
    if convert:
        labels = " / ".join(sorted({_LABEL[h] for h in convert.values()}))
        out.append(Note.of("inputs.offset_convert", what=_layers(convert), labels=labels,
                           detail=detail, fix=_coords_option(convert)))
    if undo:
        out.append(Note.of("inputs.offset_undo", what=_layers(undo), detail=detail,
                           given=_coords_option(undo)))
    return out
