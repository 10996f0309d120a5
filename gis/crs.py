"""Coordinate reference systems: refuse to guess, and analyse in metres.

Analysis runs in one metric CRS: the CGCS2000 3-degree Gauss-Krüger zone
(EPSG:4534–4554, central meridians 75°E–135°E, no zone prefix on eastings) for data
in China, UTM elsewhere, unless the user names one. Results go back to the source CRS.
"""

from __future__ import annotations

import functools
import logging

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from gis.errors import CRSError

__all__ = [
    "MAX_SCALE_ERROR_M_PER_KM",
    "WARN_SCALE_ERROR_M_PER_KM",
    "bd09_to_gcj02",
    "data_centre",
    "far_from_rest",
    "lonlat_sample",
    "scale_error_m_per_km",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_metric",
    "metric_crs",
    "parse_crs",
    "require_crs",
    "to_metric",
    "transformer",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

# CGCS2000 / 3-degree Gauss-Kruger CM 75E is EPSG:4534; each 3 degrees east adds one.
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135
# Rough mainland-China envelope (lon, lat) used only to choose GK over UTM.
_CHINA_BBOX = (73.0, 18.0, 135.5, 53.6)


def parse_crs(value: str | int | CRS, *, what: str = "crs") -> CRS:
    """Turn ``"EPSG:4547"``, ``4547`` or a WKT/PROJ string into a `pyproj.CRS`.

    Raises
    ------
    CRSError
        If pyproj does not recognise the value.

    Examples
    --------
    >>> parse_crs("EPSG:4547").name
    'CGCS2000 / 3-degree Gauss-Kruger CM 114E'
    >>> parse_crs(4490).to_epsg()
    4490
    >>> parse_crs("EPSG:99999", what="input_crs")
    Traceback (most recent call last):
    ...
    gis.errors.CRSError: `input_crs` 'EPSG:99999' is not a CRS pyproj knows; use e.g. 'EPSG:4490' or 'EPSG:4547'.
    """
    try:
        return CRS.from_user_input(value)
    except Exception as err:  # pyproj raises CRSError/TypeError/ValueError variously
        msg = f"`{what}` {value!r} is not a CRS pyproj knows; use e.g. 'EPSG:4490' or 'EPSG:4547'."
        raise CRSError(msg) from err


def require_crs(
    gdf: gpd.GeoDataFrame, *, source: str, crs: str | int | CRS | None = None
) -> gpd.GeoDataFrame:
    """Return ``gdf`` with a CRS, never guessing one, and check its coordinates fit it.

    Parameters
    ----------
    gdf : GeoDataFrame
        A layer as read from ``source``.
    source : str
        File name used in messages.
    crs : str, int or CRS, optional
        CRS for a layer that has none (a CSV, a Shapefile without ``.prj``). A layer
        that has its own CRS keeps it.

    Raises
    ------
    CRSError
        If the layer has no CRS and none is given, or its coordinates cannot be in its
        CRS (degrees beyond ±180/±90: metres labelled as lon/lat, or swapped columns).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> require_crs(estates, source="estates.gpkg").crs.to_string()
    'EPSG:4490'
    >>> require_crs(estates.set_crs(None, allow_override=True), source="estates.csv")
    Traceback (most recent call last):
    ...
    gis.errors.CRSError: estates.csv: the layer has no CRS. Pass `input_crs` (e.g. EPSG:4490 for CGCS2000 lon/lat, EPSG:4326 for WGS84, EPSG:4547 for CGCS2000 GK CM 114E) or add the .prj file.
    >>> require_crs(estates.set_crs(None, allow_override=True), source="estates.csv",
    ...             crs="EPSG:4490").crs.to_epsg()
    4490
    """
    if gdf.crs is None:
        if crs is None:
            msg = (
                f"{source}: the layer has no CRS. Pass `input_crs` (e.g. EPSG:4490 for "
                "CGCS2000 lon/lat, EPSG:4326 for WGS84, EPSG:4547 for CGCS2000 GK CM 114E) "
                "or add the .prj file."
            )
            raise CRSError(msg)
        gdf = gdf.set_crs(parse_crs(crs, what="input_crs"))
    elif crs is not None and not CRS(gdf.crs).equals(parse_crs(crs), ignore_axis_order=True):
        logger.info("%s: keeping the file's own CRS %s (`input_crs` is for files without one)",
                    source, CRS(gdf.crs).to_string())
    _check_range(gdf, source)
    return gdf


def _check_range(gdf: gpd.GeoDataFrame, source: str) -> None:
    crs = CRS(gdf.crs)
    if not crs.is_geographic or len(gdf) == 0:
        return
    minx, miny, maxx, maxy = gdf.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return
    if min(minx, miny) < -180 or maxx > 180 or max(abs(miny), abs(maxy)) > 90:
        if -90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180:
            hint = "longitude and latitude look swapped: exchange the 经度/纬度 columns"
        else:
            hint = ("the coordinates look like metres: the file's CRS label (.prj) is wrong; "
                    "fix it or re-export the layer with its real projected CRS")
        msg = (f"{source}: coordinates (x {minx:,.1f}…{maxx:,.1f}, y {miny:,.1f}…{maxy:,.1f}) "
               f"cannot be in {crs.to_string()} (degrees); {hint}.")
        raise CRSError(msg)


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Choose a metric CRS for analysing ``gdf``.

    The layer's own CRS when it is already projected in metres (not Web Mercator);
    else the CGCS2000 3-degree Gauss-Krüger zone whose central meridian is nearest the
    layer's centre when that centre lies in China; otherwise the UTM zone of the centre.
    The centre is the median of the features' positions (`data_centre`), so one stray
    feature cannot move it the way it moves a bounding box's centre.

    Raises
    ------
    CRSError
        If the layer has no CRS or no finite extent.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> metric_crs(estates).to_string()  # the demo town lies near 117.6°E
    'EPSG:4548'
    """
    if gdf.crs is None:
        msg = "Cannot choose a metric CRS for a layer without a CRS; set one first."
        raise CRSError(msg)
    if _is_true_metric(CRS(gdf.crs)):
        # Already in local metres (a GK zone, UTM, a city grid): reprojecting would only
        # add scale error.
        return CRS(gdf.crs)
    lon, lat = data_centre(gdf)
    x0, y0, x1, y1 = _CHINA_BBOX
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        cm = int(round(lon / 3.0) * 3)
        cm = min(max(cm, _GK3_FIRST_CM), _GK3_LAST_CM)
        return CRS.from_epsg(_GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3)
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    if not infos:
        msg = f"No UTM zone covers lon {lon:.3f}, lat {lat:.3f}; pass `crs` with a metric CRS."
        raise CRSError(msg)
    return CRS.from_epsg(int(infos[0].code))


def lonlat_sample(gdf: gpd.GeoDataFrame, *, max_points: int = 5000, seed: int = 0) -> np.ndarray:
    """Lon/lat (WGS84 degrees) of one point per feature, for at most ``max_points``
    features drawn at random (seeded): what robust checks need, at any layer size.

    Raises
    ------
    CRSError
        If the layer has no CRS or no finite coordinates.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> lonlat = lonlat_sample(estates)
    >>> lonlat.shape, lonlat_sample(estates, max_points=20).shape
    ((150, 2), (20, 2))
    >>> [round(float(v), 3) for v in lonlat[0]]
    [117.588, 34.41]
    """
    if gdf.crs is None:
        msg = "A layer without a CRS has no position; set one first."
        raise CRSError(msg)
    geoms = np.asarray(gdf.geometry.values)
    geoms = geoms[~shapely.is_empty(geoms) & shapely.is_valid_input(geoms)]
    if len(geoms) > max_points:
        geoms = geoms[np.sort(np.random.default_rng(seed).choice(len(geoms), max_points,
                                                                 replace=False))]
    # The middle of each feature's bounds: cheap, and inside any small feature.
    b = shapely.bounds(geoms)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    crs = CRS(gdf.crs)
    if not crs.equals(CRS(4326)):
        x, y = transformer(crs, CRS(4326)).transform(x, y)
    xy = np.column_stack([x, y])
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        msg = "Cannot place the layer: it has no finite coordinates."
        raise CRSError(msg)
    return xy


@functools.lru_cache(maxsize=32)
def transformer(src: CRS, dst: CRS) -> Transformer:
    """A lon/lat-ordered (x, y) transformer, made once per CRS pair (making one costs
    about 0.1 s, more than transforming thousands of points).

    Examples
    --------
    >>> t = transformer(parse_crs(4490), parse_crs(4548))
    >>> [round(v, 1) for v in t.transform(117.0, 34.0)]
    [500000.0, 3763661.4]
    """
    return Transformer.from_crs(src, dst, always_xy=True)


def data_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """Median longitude and latitude of the features (WGS84 degrees).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> [round(v, 4) for v in data_centre(estates)]
    [117.601, 34.3989]
    """
    xy = lonlat_sample(gdf)
    return float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))


_EARTH_M = 6_371_008.8


def _ecef(lonlat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    return _EARTH_M * np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon),
                                       np.sin(lat)])


def far_from_rest(gdf: gpd.GeoDataFrame, *, far_m: float = 50_000.0,
                  reference: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """Which features lie more than ``far_m`` from the main group of features.

    Features are grouped by single linkage at ``far_m`` (two features closer than that
    are in one group); the main group is the largest. A feature is far when no member of
    the main group lies within ``far_m`` of it (great-circle chords, exact to well under a
    metre at 50 km). With ``reference``, far means more than ``far_m`` from every feature
    of ``reference`` instead.

    Returns
    -------
    ndarray of bool
        One flag per row of ``gdf`` (empty geometries are never far).

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> int(far_from_rest(estates).sum())
    0
    >>> stray = estates.copy()
    >>> stray.loc[7, "geometry"] = shapely.box(0, 0, 0.001, 0.001)  # digitised at (0°, 0°)
    >>> [int(i) for i in far_from_rest(stray).nonzero()[0]]
    [7]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    geoms = np.asarray(gdf.geometry.values)
    ok = ~shapely.is_empty(geoms) & shapely.is_valid_input(geoms)
    out = np.zeros(len(geoms), dtype=bool)
    if not ok.any():
        return out
    xyz = _ecef(lonlat_sample(gdf[ok], max_points=len(geoms)))
    if reference is not None:
        main = cKDTree(_ecef(lonlat_sample(reference, max_points=len(reference))))
    else:
        # Link occupied 2 km cells whose centres are within far_m, then measure exactly
        # from the features outside the largest group to those inside it.
        cell = np.floor(xyz / 2000.0).astype(np.int64)
        cells, of, counts = np.unique(cell, axis=0, return_inverse=True, return_counts=True)
        of = of.ravel()
        centre = (cells + 0.5) * 2000.0
        pairs = cKDTree(centre).query_pairs(far_m, output_type="ndarray")
        n = len(cells)
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) \
            if len(pairs) else coo_matrix((n, n))
        _, label = connected_components(graph, directed=False)
        weight = np.bincount(label, weights=counts)
        in_main = label[of] == int(np.argmax(weight))
        if in_main.all():
            return out
        main = cKDTree(xyz[in_main])
    d, _ = main.query(xyz, k=1)
    out[np.flatnonzero(ok)] = d > far_m
    return out


MAX_SCALE_ERROR_M_PER_KM = 5.0
WARN_SCALE_ERROR_M_PER_KM = 1.0


def scale_error_m_per_km(crs: CRS, lonlat: np.ndarray) -> float:
    """Largest scale error of ``crs`` over the points ``lonlat``, in metres per kilometre.

    The larger of the meridian and parallel scale factors' departure from 1, so a
    non-conformal projection is charged for its worst direction. Web Mercator at 34°N
    gives about 210 m per km; a 3-degree Gauss-Krüger zone at most about 0.4 m per km
    inside its band.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> lonlat = lonlat_sample(gpd.read_file(demo_folder() / "estates.gpkg"))
    >>> round(scale_error_m_per_km(parse_crs(4548), lonlat), 3)  # Gauss-Krüger near its meridian
    0.039
    >>> round(scale_error_m_per_km(parse_crs(3857), lonlat), 1)  # Web Mercator at 34°N
    212.1
    """
    from pyproj import Proj

    f = Proj(CRS(crs)).get_factors(lonlat[:, 0], lonlat[:, 1])
    err = np.maximum(np.abs(np.asarray(f.meridional_scale) - 1),
                     np.abs(np.asarray(f.parallel_scale) - 1))
    err = err[np.isfinite(err)]
    return float(err.max() * 1000.0) if len(err) else float("inf")


def is_metric(crs: CRS | str | int) -> bool:
    """Projected with metre axes: the one test every module uses before measuring.

    Examples
    --------
    >>> is_metric("EPSG:4548"), is_metric(4490)
    (True, False)
    """
    crs = CRS(crs)
    return bool(crs.is_projected and crs.axis_info[0].unit_name in ("metre", "meter"))


def _is_true_metric(crs: CRS) -> bool:
    """Projected in metres and not a (Web) Mercator, whose scale error grows with latitude."""
    if not is_metric(crs):
        return False
    op = crs.coordinate_operation
    method = (op.method_name if op is not None else "").lower()
    return "mercator" not in method or "transverse" in method


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to the metric ``crs`` (a no-op when it is already there).

    Raises
    ------
    CRSError
        If ``crs`` is not projected in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> metric = to_metric(estates, metric_crs(estates))
    >>> metric.crs.to_epsg(), round(float(metric.geometry.area.sum()) / 1e6, 3)  # km²
    (4548, 1.756)
    """
    crs = CRS(crs)
    if not is_metric(crs):
        msg = f"Analysis CRS {crs.to_string()} is not projected in metres; pass a metric CRS."
        raise CRSError(msg)
    if CRS(gdf.crs).equals(crs):
        return gdf
    return gdf.to_crs(crs)


# ---------------------------------------------------------------------------
# Chinese web-map coordinates: GCJ-02 (Amap/Gaode, Tencent) and BD-09 (Baidu).
# The published algorithm, vectorised; outside China the offsets are zero.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0


def _outside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return ~((lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55))


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    out = _outside_china(lon, lat)
    return np.where(out, 0.0, dlon), np.where(out, 0.0, dlat)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (or CGCS2000) lon/lat to GCJ-02, in degrees. Vectorised; zero shift abroad.

    Examples
    --------
    >>> import numpy as np
    >>> lon, lat = wgs84_to_gcj02(np.array([118.0]), np.array([34.0]))
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (118.00563, 33.99864)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offsets(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: np.ndarray, lat: np.ndarray, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat to WGS84 by fixed-point iteration (round trip < 0.01 m).

    Examples
    --------
    >>> import numpy as np
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(np.array([118.0]), np.array([34.0])))
    >>> round(float(lon[0]), 6), round(float(lat[0]), 6)
    (118.0, 34.0)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu BD-09 lon/lat, in degrees.

    Examples
    --------
    >>> import numpy as np
    >>> lon, lat = gcj02_to_bd09(np.array([118.00563]), np.array([33.99864]))
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (118.01222, 34.00439)
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: np.ndarray, lat: np.ndarray, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to GCJ-02 lon/lat: the published inverse, refined by iteration.

    Examples
    --------
    >>> import numpy as np
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(np.array([118.00563]), np.array([33.99864])))
    >>> round(float(lon[0]), 5), round(float(lat[0]), 5)
    (118.00563, 33.99864)
    """
    blon, blat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    # The closed form is good to ~5 cm; a few fixed-point steps make it exact.
    for _ in range(max_iter):
        elon, elat = (a - b for a, b in zip(gcj02_to_bd09(glon, glat), (blon, blat)))
        glon, glat = glon - elon, glat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return glon, glat
