"""Seeded synthetic cities shared by the tests, the benchmarks and the examples.

One module generates every synthetic city of the project (before, bench/ and
tests/conftest.py each kept their own copy):

* `make_city` — the benchmark city: a perturbed street grid of about ``n_nodes`` graph
  nodes (`make_streets`), rectangular estates in street blocks clustered towards the old
  town (`make_estates`) and services of every category, mostly near estates
  (`make_services`); vectorised, so a 100,000-estate city takes seconds;
* `make_block_city` — estates only, 1–6 to a street block, touching, 0.3 m apart or a
  lane apart, as the renovation-unit benchmark needs;
* `random_town` — the small town of the property tests: a jittered grid of multi-vertex
  street polylines with missing links and overpasses that cross without a shared vertex,
  box estates and points of every category, one exactly on a street vertex.

All are pure functions of their arguments and seed (numpy ``default_rng``), in a metric
CRS, and draw exactly what they drew before they moved here, so every seeded test and
every benchmark sees the same inputs.

Examples
--------
>>> city = make_city(200, 20, seed=1)
>>> len(city.estates), sorted(set(city.services["category"]))[:2]
(20, ['charging', 'clinic'])
>>> streets, estates, services = random_town(1)
>>> len(estates), streets.crs.to_epsg()
(25, 4548)
>>> make_block_city(30, seed=2)["block"].nunique() < 30
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "CRS_METRIC",
    "ESTATES_PER_SERVICE",
    "City",
    "make_block_city",
    "make_city",
    "make_estates",
    "make_services",
    "make_streets",
    "random_town",
]

#: CGCS2000 / 3-degree Gauss-Krüger CM 120°E, the zone of Lianyungang (metres).
CRS_METRIC = "EPSG:4549"
#: South-west corner of the synthetic city in `CRS_METRIC` (near Lianyungang, 34.6°N).
ORIGIN_XY = (470_000.0, 3_820_000.0)
#: Estates per service of each category of the default standard (realistic orders of
#: magnitude: an express locker or shop every ~30 estates, a community service centre
#: per community of ~150 estates, charging stations still rare).
ESTATES_PER_SERVICE = {
    "community_service": 150.0,
    "clinic": 100.0,
    "toilet": 40.0,
    "express": 30.0,
    "convenience_store": 30.0,
    "parking": 60.0,
    "charging": 200.0,
}
#: Share of blocks holding 1, 2, ..., 6 estates.
ESTATES_PER_BLOCK_P = (0.10, 0.15, 0.20, 0.22, 0.18, 0.15)
#: Gap between two estates of one block: (share, low, high) in metres.
INNER_GAPS = ((0.55, 0.0, 0.0), (0.20, 0.3, 0.3), (0.25, 1.0, 8.0))
#: CRS of `random_town`: CGCS2000 / 3-degree GK CM 117E (metres).
TOWN_CRS = "EPSG:4548"
#: Category keys of the bundled default standard, drawn by `random_town`.
TOWN_CATEGORIES = ("community_service", "clinic", "toilet", "express", "convenience_store",
                   "parking", "charging")


@dataclass(frozen=True)
class City:
    """A synthetic city in a metric CRS.

    Attributes
    ----------
    streets : GeoDataFrame
        Street centre-lines (LineStrings), one per link, some with a bend vertex.
    estates : GeoDataFrame
        Rectangular estate polygons with ``estate_id``, ``name``, ``households``.
    services : GeoDataFrame
        Service points with ``service_id``, ``name``, ``category``.
    grid_shape : tuple of int
        Junctions of the street grid along x and y.
    spacing_m : float
        Street spacing in metres.
    seed : int
        Seed everything was drawn from.
    """

    streets: gpd.GeoDataFrame
    estates: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    grid_shape: tuple[int, int]
    spacing_m: float
    seed: int


def _grid_shape(n_nodes: int, bend_frac: float, drop_frac: float) -> tuple[int, int]:
    """Square grid whose junctions plus bend vertices number about ``n_nodes``."""
    # A g x g grid has ~2g^2 links; (1 - drop_frac) survive and bend_frac of them add a node.
    per_junction = 1.0 + 2.0 * (1.0 - drop_frac) * bend_frac
    side = max(3, round(math.sqrt(n_nodes / per_junction)))
    return side, side


def make_streets(
    n_nodes: int,
    *,
    spacing_m: float = 150.0,
    jitter_m: float = 15.0,
    drop_frac: float = 0.10,
    bend_frac: float = 0.20,
    bend_m: float = 10.0,
    seed: int = 0,
    crs: str = CRS_METRIC,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """A perturbed street grid of about ``n_nodes`` graph nodes.

    Junctions sit on a square grid ``spacing_m`` apart, each moved by up to ``jitter_m``
    in x and y; neighbouring junctions are linked by a street, ``drop_frac`` of the
    links are removed (dead ends, missing links, small islands), and ``bend_frac`` of
    the rest get a middle vertex pushed up to ``bend_m`` sideways (a degree-2 node).

    Parameters
    ----------
    n_nodes : int
        Target number of graph nodes (junctions plus bend vertices).
    spacing_m, jitter_m, bend_m : float
        Street spacing, junction jitter and bend offset, in metres.
    drop_frac, bend_frac : float
        Share of links removed, and of the remaining links given a bend.
    seed : int
    crs : str
        Metric CRS of the output.

    Returns
    -------
    (GeoDataFrame, ndarray of shape (gx, gy, 2))
        The streets (column ``street_id``), and the junction coordinates.

    Examples
    --------
    >>> streets, junctions = make_streets(200, seed=1)
    >>> len(streets), junctions.shape, streets.crs.to_string()
    (234, (12, 12, 2), 'EPSG:4549')
    >>> round(float(streets.length.sum()), 1)  # metres of street
    35109.8
    """
    rng = np.random.default_rng([seed, 1])
    gx, gy = _grid_shape(n_nodes, bend_frac, drop_frac)
    ix, iy = np.meshgrid(np.arange(gx), np.arange(gy), indexing="ij")
    base = np.stack([ix, iy], axis=-1).astype(float) * spacing_m + np.asarray(ORIGIN_XY)
    xy = base + rng.uniform(-jitter_m, jitter_m, size=base.shape)
    ids = np.arange(gx * gy).reshape(gx, gy)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(len(u)) >= drop_frac
    u, v = u[keep], v[keep]
    flat = xy.reshape(-1, 2)
    a, b = flat[u], flat[v]
    bend = rng.random(len(u)) < bend_frac
    # Middle vertex: the link's midpoint pushed sideways (perpendicular) by up to bend_m.
    d = b - a
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.hypot(d[:, 0], d[:, 1])[:, None]
    mid = (a + b) / 2 + normal * rng.uniform(-bend_m, bend_m, size=len(u))[:, None]
    n_vert = np.where(bend, 3, 2)
    starts = np.concatenate([[0], np.cumsum(n_vert)[:-1]])
    coords = np.empty((int(n_vert.sum()), 2))
    coords[starts] = a
    coords[starts[bend] + 1] = mid[bend]
    coords[starts + n_vert - 1] = b
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(u)), n_vert))
    streets = gpd.GeoDataFrame({"street_id": np.arange(len(u))}, geometry=lines, crs=crs)
    return streets, xy


def make_estates(
    junctions: np.ndarray,
    n_estates: int,
    *,
    setback_m: tuple[float, float] = (8.0, 25.0),
    core_sd_frac: float = 0.12,
    households_per_ha: tuple[float, float] = (60.0, 180.0),
    seed: int = 0,
    crs: str = CRS_METRIC,
) -> gpd.GeoDataFrame:
    """Rectangular estates inside street blocks, clustered towards the old town.

    Blocks (grid cells) are drawn without replacement with a Gaussian preference for
    the city centre (standard deviation ``core_sd_frac`` × city width), as old estates
    concentrate in the old town. Each estate is the largest axis-parallel rectangle
    inside its block's junctions, set back from the streets by a random distance.

    Parameters
    ----------
    junctions : ndarray of shape (gx, gy, 2)
        Junction coordinates from `make_streets`.
    n_estates : int
        At most the number of blocks, ``(gx - 1) × (gy - 1)``.
    setback_m : (float, float)
        Range of the distance between the estate fence and the street corners, metres.
    core_sd_frac : float
        Spread of the estate cluster as a share of the city width.
    households_per_ha : (float, float)
        Range of household density, households per hectare.
    seed : int
    crs : str

    Returns
    -------
    GeoDataFrame
        ``estate_id``, ``name``, ``households``, geometry (Polygon).

    Raises
    ------
    ValueError
        If there are fewer blocks than ``n_estates``.

    Examples
    --------
    >>> streets, junctions = make_streets(200, seed=1)
    >>> estates = make_estates(junctions, 10, seed=1)
    >>> len(estates), estates["estate_id"].iloc[0], int(estates["households"].sum())
    (10, 'E000000', 1376)
    >>> round(float(estates.area.min()), 1)  # m², the smallest estate
    8150.6
    """
    rng = np.random.default_rng([seed, 2])
    gx, gy = junctions.shape[:2]
    n_blocks = (gx - 1) * (gy - 1)
    if n_estates > n_blocks:
        msg = f"{n_estates:,} estates do not fit in {n_blocks:,} street blocks; ask for more nodes."
        raise ValueError(msg)
    sw, se = junctions[:-1, :-1], junctions[1:, :-1]
    nw, ne = junctions[:-1, 1:], junctions[1:, 1:]
    centre = ((sw + se + nw + ne) / 4).reshape(-1, 2)
    mid = (junctions[0, 0] + junctions[-1, -1]) / 2
    sd = core_sd_frac * float(np.ptp(junctions[..., 0]))
    weight = np.exp(-0.5 * np.sum(((centre - mid) / sd) ** 2, axis=1)) + 1e-6
    # Weighted sampling without replacement in O(n): the k smallest exponential keys.
    keys = rng.exponential(size=n_blocks) / weight
    pick = np.sort(np.argpartition(keys, n_estates - 1)[:n_estates]) if n_estates else []
    pick = np.asarray(pick, dtype=np.int64)
    setback = rng.uniform(*setback_m, size=(len(pick), 4))
    xmin = np.maximum(sw[..., 0], nw[..., 0]).ravel()[pick] + setback[:, 0]
    xmax = np.minimum(se[..., 0], ne[..., 0]).ravel()[pick] - setback[:, 1]
    ymin = np.maximum(sw[..., 1], se[..., 1]).ravel()[pick] + setback[:, 2]
    ymax = np.minimum(nw[..., 1], ne[..., 1]).ravel()[pick] - setback[:, 3]
    polys = shapely.box(xmin, ymin, xmax, ymax)
    area_ha = (xmax - xmin) * (ymax - ymin) / 10_000
    households = np.round(area_ha * rng.uniform(*households_per_ha, size=len(pick)))
    estate_id = pd.Series(np.arange(len(pick))).astype(str).str.zfill(6).radd("E").to_numpy()
    return gpd.GeoDataFrame(
        {
            "estate_id": estate_id,
            "name": pd.Series(estate_id).radd("小区").to_numpy(),
            "households": households.astype(np.int64),
        },
        geometry=polys,
        crs=crs,
    )


def make_services(
    estates: gpd.GeoDataFrame,
    street_xy: np.ndarray,
    bounds: tuple[float, float, float, float],
    *,
    estates_per_service: dict[str, float] | None = None,
    near_frac: float = 0.7,
    near_sd_m: float = 300.0,
    on_node_frac: float = 0.03,
    min_per_category: int = 3,
    seed: int = 0,
    crs: str = CRS_METRIC,
) -> gpd.GeoDataFrame:
    """Service points for each category, mostly near estates.

    Category ``k`` gets ``max(min_per_category, round(n_estates / estates_per_service[k]))``
    points:
    ``near_frac`` of them scattered (normal, ``near_sd_m``) around random estates, the
    rest uniform over ``bounds``; ``on_node_frac`` of all points are then moved exactly
    onto a street node (a zero hop, as for facilities geocoded to a junction).

    Parameters
    ----------
    estates : GeoDataFrame
    street_xy : ndarray of shape (k, 2)
        Candidate street node coordinates for the on-node points.
    bounds : (float, float, float, float)
        ``xmin, ymin, xmax, ymax`` of the city, metres.
    estates_per_service : dict of str to float, optional
        Default `ESTATES_PER_SERVICE`.
    near_frac, near_sd_m, on_node_frac : float
    min_per_category : int, default 3
        Fewest points of any category (even a small town has a few).
    seed : int
    crs : str

    Returns
    -------
    GeoDataFrame
        ``service_id``, ``name``, ``category``, geometry (Point).

    Examples
    --------
    >>> from gis.network import build_walk_graph
    >>> streets, junctions = make_streets(200, seed=1)
    >>> estates = make_estates(junctions, 10, seed=1)
    >>> nodes = build_walk_graph(streets, max_edge_m=0).street_xy
    >>> services = make_services(estates, nodes, tuple(streets.total_bounds), seed=1)
    >>> len(services), int(services["category"].value_counts()["clinic"])  # 3 of each, at least
    (21, 3)
    """
    rng = np.random.default_rng([seed, 3])
    rates = ESTATES_PER_SERVICE if estates_per_service is None else estates_per_service
    n_est = len(estates)
    counts = {k: max(min_per_category, round(n_est / r)) for k, r in rates.items()}
    category = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    n = len(category)
    xmin, ymin, xmax, ymax = bounds
    anchor = shapely.get_coordinates(shapely.centroid(np.asarray(estates.geometry.values)))
    near = rng.random(n) < near_frac
    xy = np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)])
    if n_est:
        pos = rng.integers(0, n_est, size=n)
        xy[near] = anchor[pos[near]] + rng.normal(0.0, near_sd_m, size=(int(near.sum()), 2))
    xy[:, 0] = np.clip(xy[:, 0], xmin, xmax)
    xy[:, 1] = np.clip(xy[:, 1], ymin, ymax)
    on_node = rng.random(n) < on_node_frac
    xy[on_node] = street_xy[rng.integers(0, len(street_xy), size=int(on_node.sum()))]
    service_id = pd.Series(np.arange(n)).astype(str).str.zfill(6).radd("S").to_numpy()
    return gpd.GeoDataFrame(
        {"service_id": service_id, "name": service_id, "category": category},
        geometry=shapely.points(xy),
        crs=crs,
    )


def make_city(n_nodes: int, n_estates: int, *, seed: int = 0) -> City:
    """The synthetic city of the benchmark: streets, estates and services.

    Parameters
    ----------
    n_nodes : int
        About this many street graph nodes.
    n_estates : int
    seed : int

    Returns
    -------
    City

    Examples
    --------
    >>> city = make_city(200, 20, seed=1)
    >>> len(city.streets), len(city.estates), len(city.services), city.grid_shape, city.spacing_m
    (234, 20, 21, (12, 12), 150.0)
    """
    spacing = 150.0
    streets, junctions = make_streets(n_nodes, spacing_m=spacing, seed=seed)
    estates = make_estates(junctions, n_estates, seed=seed)
    bounds = tuple(float(b) for b in streets.total_bounds)
    services = make_services(estates, junctions.reshape(-1, 2), bounds, seed=seed)
    return City(
        streets=streets,
        estates=estates,
        services=services,
        grid_shape=(int(junctions.shape[0]), int(junctions.shape[1])),
        spacing_m=spacing,
        seed=seed,
    )


def _group_starts(group: np.ndarray) -> np.ndarray:
    """Whether each element of a sorted group array starts its group."""
    return np.r_[True, group[1:] != group[:-1]]


def make_block_city(
    n_estates: int,
    *,
    block_w_m: tuple[float, float] = (200.0, 420.0),
    block_h_m: tuple[float, float] = (180.0, 380.0),
    road_m: tuple[float, float] = (20.0, 34.0),
    kerb_m: tuple[float, float] = (0.0, 3.0),
    households_per_ha: float = 300.0,
    m2_per_household: tuple[float, float] = (60.0, 110.0),
    seed: int = 0,
    crs: str = CRS_METRIC,
) -> gpd.GeoDataFrame:
    """Estates in street blocks of 1–6, the way old-town estates sit in a city.

    Blocks lie on a grid whose column widths, row heights and road widths vary; each
    block is set back from the road by ``kerb_m`` on every side, so estates in different
    blocks are 20–40 m apart. A block of ``k`` estates is one row of ``k`` or (mostly for
    ``k >= 3``) two rows, each cut at random widths; two estates of one block touch (55 %),
    are 0.3 m apart (20 %) or a 1–8 m lane apart (25 %). Because the two rows are cut
    independently, estates across the row line overlap by any length down to a bare
    corner. Households are ``households_per_ha`` × area × a log-normal factor, kept within
    30–1,500; floor area is households × 60–110 m².

    Parameters
    ----------
    n_estates : int
    block_w_m, block_h_m : (float, float)
        Ranges of block width and height (road to road), metres.
    road_m : (float, float)
        Range of road width between two block columns or rows, metres.
    kerb_m : (float, float)
        Range of each block side's extra setback from the road, metres.
    households_per_ha : float
        Median household density.
    m2_per_household : (float, float)
        Range of floor area per household, square metres.
    seed : int
    crs : str
        Metric CRS of the output.

    Returns
    -------
    GeoDataFrame
        ``estate_id`` ("E000000", ...), ``name``, ``households`` (int), ``floor_area_m2``,
        ``block`` (int), ``row`` (0 or 1 within the block), geometry (axis-parallel
        rectangles).

    Examples
    --------
    >>> estates = make_block_city(30, seed=2)
    >>> len(estates), estates["block"].nunique(), int(estates["households"].sum())
    (30, 7, 11978)
    >>> list(estates.columns)
    ['estate_id', 'name', 'households', 'floor_area_m2', 'block', 'row', 'geometry']
    """
    rng = np.random.default_rng([seed, 21])
    p = np.asarray(ESTATES_PER_BLOCK_P)
    n_try = n_estates + 1  # enough even if every block held one estate
    k = rng.choice(np.arange(1, 7), size=n_try, p=p / p.sum())
    n_blocks = int(np.searchsorted(np.cumsum(k), n_estates)) + 1 if n_estates else 0
    k = k[:n_blocks]
    if n_blocks:
        k[-1] -= int(k.sum()) - n_estates  # trim the last block to exactly n_estates
    side = max(1, int(np.ceil(np.sqrt(n_blocks))))
    width = rng.uniform(*block_w_m, size=side)
    height = rng.uniform(*block_h_m, size=side)
    x0 = ORIGIN_XY[0] + np.r_[0.0, np.cumsum(width[:-1] + rng.uniform(*road_m, side - 1))]
    y0 = ORIGIN_XY[1] + np.r_[0.0, np.cumsum(height[:-1] + rng.uniform(*road_m, side - 1))]
    bcol, brow = np.arange(n_blocks) % side, np.arange(n_blocks) // side
    kerb = rng.uniform(*kerb_m, size=(n_blocks, 4))
    bx0, bx1 = x0[bcol] + kerb[:, 0], x0[bcol] + width[bcol] - kerb[:, 1]
    by0, by1 = y0[brow] + kerb[:, 2], y0[brow] + height[brow] - kerb[:, 3]
    draw = rng.random(n_blocks)
    two_rows = np.where(k >= 3, draw < 0.75, (k == 2) & (draw < 0.3))
    n_low = np.where(two_rows, k // 2, k)  # estates in row 0 (the southern or only row)

    # One entry per estate, ordered by block, row, position in row.
    blk = np.repeat(np.arange(n_blocks), k)
    rank = np.arange(n_estates) - np.repeat(np.cumsum(k) - k, k)
    row = (rank >= n_low[blk]).astype(np.int64)
    group = blk * 2 + row
    start = _group_starts(group)
    # Column cuts: widths proportional to random weights within each (block, row).
    weight = rng.uniform(0.6, 1.4, size=n_estates)
    csum = np.cumsum(weight)
    base = np.maximum.accumulate(np.where(start, csum - weight, 0.0))
    total = pd.Series(weight).groupby(group).transform("sum").to_numpy()
    f0, f1 = (csum - weight - base) / total, (csum - base) / total
    gap = _inner_gaps(rng, n_estates)
    gap_right = np.where(np.r_[start[1:], True], 0.0, gap)  # the last of a row has none
    gap_left = np.r_[0.0, gap_right[:-1]]
    bw = bx1[blk] - bx0[blk]
    ex0 = bx0[blk] + f0 * bw + gap_left / 2
    ex1 = bx0[blk] + f1 * bw - gap_right / 2
    # Rows: a cut at 35–65 % of the block height, with its own gap.
    cut = by0 + rng.uniform(0.35, 0.65, n_blocks) * (by1 - by0)
    row_gap = _inner_gaps(rng, n_blocks)
    split = two_rows[blk]
    ey0 = np.where(split & (row == 1), cut[blk] + row_gap[blk] / 2, by0[blk])
    ey1 = np.where(split & (row == 0), cut[blk] - row_gap[blk] / 2, by1[blk])

    area_ha = (ex1 - ex0) * (ey1 - ey0) / 10_000
    hh = np.clip(np.round(area_ha * households_per_ha * rng.lognormal(0.0, 0.45, n_estates)),
                 30, 1500)
    floor = np.round(hh * rng.uniform(*m2_per_household, size=n_estates), 1)
    estate_id = pd.Series(np.arange(n_estates)).astype(str).str.zfill(6).radd("E").to_numpy()
    return gpd.GeoDataFrame(
        {
            "estate_id": estate_id,
            "name": pd.Series(estate_id, dtype=object).radd("小区").to_numpy(),
            "households": hh.astype(np.int64),
            "floor_area_m2": floor,
            "block": blk,
            "row": row,
        },
        geometry=shapely.box(ex0, ey0, ex1, ey1),
        crs=crs,
    )


def _inner_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gaps between two estates of a block, drawn from `INNER_GAPS`."""
    shares = np.array([s for s, _, _ in INNER_GAPS])
    kind = rng.choice(len(INNER_GAPS), size=n, p=shares / shares.sum())
    lo = np.array([lo for _, lo, _ in INNER_GAPS])[kind]
    hi = np.array([hi for _, _, hi in INNER_GAPS])[kind]
    return lo + rng.random(n) * (hi - lo)


def random_town(
    seed: int,
    *,
    nx_: int = 9,
    ny_: int = 7,
    spacing: float = 120.0,
    drop: float = 0.15,
    n_estates: int = 25,
    n_services: int = 30,
    categories: tuple[str, ...] = TOWN_CATEGORIES,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A jittered street grid with missing links, box estates and categorised points.

    Streets are multi-vertex polylines (a whole grid row or column, cut where links are
    missing) so junctions are shared vertices, plus a few stray segments that cross
    without a shared vertex.

    Examples
    --------
    >>> streets, estates, services = random_town(1)
    >>> len(streets), len(estates), len(services), estates.crs.to_string()
    (30, 25, 30, 'EPSG:4548')
    >>> sorted(services["category"].unique())[:3]
    ['charging', 'clinic', 'community_service']
    """
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 3_800_000.0
    gx = x0 + np.arange(nx_) * spacing + rng.uniform(-25, 25, (ny_, nx_))
    gy = y0 + np.arange(ny_)[:, None] * spacing + rng.uniform(-25, 25, (ny_, nx_))
    lines = []
    for j in range(ny_):  # rows
        run = [(gx[j, 0], gy[j, 0])]
        for i in range(1, nx_):
            if rng.random() < drop:
                if len(run) > 1:
                    lines.append(shapely.LineString(run))
                run = [(gx[j, i], gy[j, i])]
            else:
                mid = ((gx[j, i - 1] + gx[j, i]) / 2 + rng.uniform(-8, 8),
                       (gy[j, i - 1] + gy[j, i]) / 2 + rng.uniform(-8, 8))
                run += [mid, (gx[j, i], gy[j, i])]
        if len(run) > 1:
            lines.append(shapely.LineString(run))
    for i in range(nx_):  # columns
        run = [(gx[0, i], gy[0, i])]
        for j in range(1, ny_):
            if rng.random() < drop:
                if len(run) > 1:
                    lines.append(shapely.LineString(run))
                run = [(gx[j, i], gy[j, i])]
            else:
                run.append((gx[j, i], gy[j, i]))
        if len(run) > 1:
            lines.append(shapely.LineString(run))
    for _ in range(3):  # overpasses: cross the grid with no shared vertex
        a = (x0 + rng.uniform(0, nx_ * spacing), y0 - 30)
        b = (x0 + rng.uniform(0, nx_ * spacing), y0 + ny_ * spacing)
        lines.append(shapely.LineString([a, b]))
    streets = gpd.GeoDataFrame({"name": [f"路{i}" for i in range(len(lines))]},
                               geometry=lines, crs=TOWN_CRS)
    cx = rng.uniform(x0 - 60, x0 + nx_ * spacing + 60, n_estates)
    cy = rng.uniform(y0 - 60, y0 + ny_ * spacing + 60, n_estates)
    w = rng.uniform(20, 90, n_estates)
    h = rng.uniform(20, 90, n_estates)
    estates = gpd.GeoDataFrame(
        {
            "estate_id": [f"E{i:03d}" for i in range(n_estates)],
            "name": [f"小区{i}" for i in range(n_estates)],
            "households": rng.integers(20, 800, n_estates).astype(float),
        },
        geometry=shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
        crs=TOWN_CRS,
    )
    sx = rng.uniform(x0 - 40, x0 + nx_ * spacing + 40, n_services)
    sy = rng.uniform(y0 - 40, y0 + ny_ * spacing + 40, n_services)
    services = gpd.GeoDataFrame(
        {
            "service_id": [f"S{i:03d}" for i in range(n_services)],
            "name": [f"设施{i}" for i in range(n_services)],
            "category": rng.choice(list(categories), n_services),
        },
        geometry=shapely.points(sx, sy),
        crs=TOWN_CRS,
    )
    # One service exactly on a street vertex: a zero-length hop.
    services.loc[0, "geometry"] = shapely.Point(gx[1, 1], gy[1, 1])
    return streets, estates, services
