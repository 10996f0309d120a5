"""Tiles: one large region computed piece by piece, with exactly the untiled result.

A region too big for one machine's memory (a province's streets, tens of millions of
nodes) is cut into a grid of square cells. Each estate is *owned* by the cell holding its
representative point (`shapely.point_on_surface`, half-open cells, so exactly one owner).
A tile holds its owned estates, their gates, and every street line and service within
reach of them: the *halo*. Each tile runs `gis.coverage.living_circle` on its own
(a dask task when a client is given) and the owned estates' rows are merged.

Why the halo is sufficient (the merged result equals the untiled run exactly)
------------------------------------------------------------------------------
Write ``L = search_factor × largest walk_m``; the untiled search reports a distance only
when it is at most L (else NaN). Let ``s`` be the longest graph edge after splitting
(``max_edge_m``, or the longest drawn segment when ``max_edge_m = 0``); every point of a
street line is within ``s / 2`` of a graph node on that line.

1. *Access points.* An estate's access nodes are its gates' nearest nodes, or the nodes
   within ``access_radius_m`` of its polygon, or else the polygon's nearest node. Each lies
   within ``r_e = max(access_radius_m, d_e + s/2)`` of the estate's polygon-and-gates box,
   where ``d_e`` is the distance from the polygon or gate to the nearest street *line*
   (the nearest node is at most ``s/2`` farther). The tile's *origin box* ``O`` is the
   bounding box of its owned estates' boxes, each widened by its ``r_e``.
2. *Paths.* A path of network length ≤ L from an access node never leaves ``O ⊕ L``
   (network length ≥ straight length). The tile keeps every street line that comes within
   ``L + h + margin`` of ``O`` (``h`` below), whole, never clipped: each kept line is split
   into exactly the pieces the untiled graph has, vertices merge the same way and nodes keep
   their relative numbering (coordinate order), so every node and edge of the untiled graph
   inside ``O ⊕ (L + h)`` is in the tile graph with the same length, and the tile graph has
   no edge the untiled graph lacks. Shortest distances ≤ L from the access nodes are
   therefore equal, and no distance can come out shorter.
3. *Services.* A service whose walk is ≤ L lies within L of an access node, so within
   ``O ⊕ L``: the tile keeps exactly the services within L of ``O``. Each one must snap to
   the same node as untiled. Its nearest node is at ``hop ≥ d_s`` (distance to the nearest
   line) and ``hop ≤ d_s + s/2``. If ``hop ≤ L``, every node within ``hop`` of the service
   lies in ``O ⊕ (L + hop)``, which the kept lines cover when
   ``h = min(L, max over kept services of d_s + s/2)``: the same nearest node is found
   (ties go to the lowest node number, an order the tile preserves). If ``hop > L`` its
   walk exceeds L whatever node it snaps to in the tile (a subset of the nodes, so the tile
   hop is no shorter), and it changes nothing.
4. *Margin.* Vertices within ``vertex_snap_m`` (0.01 m) merge into one node; a cluster cut
   by the halo's edge could move a node by that much, so the halo adds 1 m.

Hence ``halo = r + L + h + 1 m`` (access reach + search factor × largest threshold + hop):
the distances, covered flags and nearest services of every owned estate equal the untiled
run's. (Exactly equal: the same shortest paths are summed in the same order. Nearest-name
ties between two services at exactly the same distance are settled by search order and
could name the other one; the distance is the same.) Crossings are noded once, on the
whole street layer, before tiling (`living_circle_tiled`): noding per tile would add a
vertex wherever a line crosses one outside the tile, which moves the 20 m pieces.

Memory per task is bounded by the tile plus its halo, not by the region.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.coverage import Coverage, living_circle
from gis.crs import metric_crs, to_metric
from gis.errors import InputError
from gis.notes import Note
from gis.params import Params, default
from gis.standards import Standard

__all__ = [
    "CoverageParams",
    "Tile",
    "living_circle_tiled",
    "merge_tiles",
    "plan_tiles",
    "run_tile",
]

logger = logging.getLogger(__name__)

#: Extra halo beyond the proof's bound, metres (vertex merging, rounding).
HALO_MARGIN_M = 1.0


@dataclass(frozen=True)
class CoverageParams:
    """Every knob of a coverage run, resolved once on the client.

    A task on a worker (another process or machine) reads no module state: whatever it
    needs travels inside this object.
    """

    mode: str = "network"
    crs: str | None = None
    node_crossings: bool | str = "auto"
    search_factor: float = default("search_factor")
    access_radius_m: float = default("access_radius_m")
    max_edge_m: float = default("max_edge_m")
    vertex_snap_m: float = default("vertex_snap_m")
    gate_tolerance_m: float = default("gate_tolerance_m")

    @classmethod
    def resolve(cls, **given: Any) -> CoverageParams:
        """Fill every value not given (or None) with its `gis.params.Params` default."""
        values = {
            "search_factor": default("search_factor"),
            "access_radius_m": default("access_radius_m"),
            "max_edge_m": default("max_edge_m"),
            "vertex_snap_m": default("vertex_snap_m"),
            "gate_tolerance_m": default("gate_tolerance_m"),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        if values.get("crs") is not None:
            values["crs"] = CRS.from_user_input(values["crs"]).to_wkt()
        return cls(**values)

    @classmethod
    def from_params(cls, params: Params, **given: Any) -> CoverageParams:
        """The coverage numbers of a `gis.params.Params` (with their sources), plus
        ``mode`` / ``crs`` / ``node_crossings`` given here."""
        return cls.resolve(**{**params.coverage_values(), **given})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def coverage(self, estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
                 standard: Standard, *, streets: gpd.GeoDataFrame | None,
                 gates: gpd.GeoDataFrame | None, crs: Any = None) -> Coverage:
        """`gis.coverage.living_circle` with every parameter from this object."""
        return living_circle(
            estates, services, standard, streets=streets, gates=gates,
            mode=self.mode,  # type: ignore[arg-type]
            crs=crs if crs is not None else self.crs, node_crossings=self.node_crossings,
            search_factor=self.search_factor, access_radius_m=self.access_radius_m,
            progress=False, max_edge_m=self.max_edge_m, vertex_snap_m=self.vertex_snap_m,
            gate_tolerance_m=self.gate_tolerance_m,
        )


@dataclass(frozen=True)
class Tile:
    """One cell of the grid and the rows (positions in the input layers) it needs.

    Attributes
    ----------
    key : str
        ``"r<row>c<col>"`` of the cell.
    cell : tuple of float
        The owned square ``(x0, y0, x1, y1)`` in the analysis CRS (half-open).
    halo_m : float
        How far beyond the owned estates' access reach the tile's streets extend.
    estates, gates, services, streets : ndarray of int
        Row positions of the owned estates, their gates, and the services and street lines
        within the halo.
    """

    key: str
    cell: tuple[float, float, float, float]
    halo_m: float
    estates: np.ndarray
    gates: np.ndarray
    services: np.ndarray
    streets: np.ndarray = field(repr=False)


def plan_tiles(
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    streets: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None = None,
    tile_m: float | None,
    params: CoverageParams | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> list[Tile]:
    """Cut the region into square cells of ``tile_m`` metres (or into ``districts``) and
    find each one's rows.

    Parameters
    ----------
    estates, services, streets, gates : GeoDataFrame
        As read by `gis.layers` (any CRS; the plan is made in the analysis CRS).
    standard : Standard
    tile_m : float
        Side of a cell, metres. Memory per tile grows with ``(tile_m + 2 × halo)²``.
    params : CoverageParams, optional
        Default: `CoverageParams.resolve()`.
    districts : GeoDataFrame, optional
        Polygons (街道, 区县 …) to use as tiles instead of the grid: an estate belongs to the
        first district holding its representative point, or else the nearest one.

    Returns
    -------
    list of Tile
        Only cells that own at least one estate, in row-major order.

    Examples
    --------
    The demo town in 2 km cells: six cells own estates; each one's halo reaches most of
    the small town's streets.

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> tiles = plan_tiles(read_estates(demo / "estates.gpkg"),
    ...                    read_services(demo / "services.gpkg", standard=std), std,
    ...                    streets=read_streets(demo / "streets.gpkg"), tile_m=2000)
    >>> [(t.key, len(t.estates)) for t in tiles]
    [('r0c0', 6), ('r0c1', 38), ('r0c2', 17), ('r1c0', 4), ('r1c1', 67), ('r1c2', 18)]
    >>> round(tiles[0].halo_m, 1), len(tiles[0].streets)
    (2066.7, 491)

    """
    params = params or CoverageParams.resolve()
    if districts is None and (not tile_m or tile_m <= 0):
        msg = f"Tile size {tile_m!r} m: give a positive size in metres, e.g. 5000."
        raise InputError(msg)
    metric = CRS.from_user_input(params.crs) if params.crs else metric_crs(estates)
    est = np.asarray(to_metric(estates, metric).geometry.values)
    svc_ok = services["category"].notna().to_numpy()
    svc = np.asarray(to_metric(services, metric).geometry.values)
    reach = params.search_factor * max(c.walk_m for c in standard.categories)
    if params.mode == "straight" or streets is None:
        lines = np.zeros(0, dtype=object)
        half_piece = 0.0
    else:
        lines = np.asarray(to_metric(streets, metric).geometry.values)
        half_piece = _longest_piece_m(lines, params.max_edge_m) / 2
    tree = shapely.STRtree(lines) if len(lines) else None

    def to_line(geoms: np.ndarray) -> np.ndarray:
        """Distance from each geometry to the nearest street line (0 without streets)."""
        if tree is None or not len(geoms):
            return np.zeros(len(geoms))
        (gi, _), d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        out = np.full(len(geoms), np.inf)
        out[gi] = d
        return out

    # Each estate's access reach and its polygon-and-gates box (proof, step 1).
    box = shapely.bounds(est)
    r = np.maximum(params.access_radius_m, to_line(est) + half_piece)
    gate_est = np.zeros(0, dtype=np.int64)
    if gates is not None and len(gates) and params.mode == "network":
        pos = pd.Series(np.arange(len(estates)), index=estates["estate_id"].to_numpy())
        gate_est = pos.reindex(gates["estate_id"].to_numpy()).to_numpy()
        known = ~np.isnan(gate_est)
        gate_est = np.where(known, gate_est, -1).astype(np.int64)
        gxy = np.asarray(to_metric(gates, metric).geometry.values)
        gd = to_line(gxy) + half_piece
        gb = shapely.bounds(gxy)
        for i in np.flatnonzero(known):
            e = gate_est[i]
            box[e, :2] = np.minimum(box[e, :2], gb[i, :2])
            box[e, 2:] = np.maximum(box[e, 2:], gb[i, 2:])
            r[e] = max(r[e], gd[i])
    origin = np.column_stack([box[:, :2] - r[:, None], box[:, 2:] + r[:, None]])
    # Ownership: the cell holding the representative point, half-open so exactly one; or
    # the first district holding it (the nearest district for points outside them all).
    points = shapely.point_on_surface(est)
    xy = shapely.get_coordinates(points)
    if districts is not None:
        shapes = np.asarray(to_metric(districts, metric).geometry.values)
        found = shapely.STRtree(shapes)
        pi, di = found.query(points, predicate="within")
        owner = np.full(len(est), -1, dtype=np.int64)
        order = np.lexsort((di, pi))[::-1]  # the lowest district number is written last
        owner[pi[order]] = di[order]
        lost = np.flatnonzero(owner < 0)
        if len(lost):
            li, ld = found.query_nearest(points[lost], all_matches=False)
            owner[lost[li]] = ld
        row, col = np.zeros(len(est), dtype=np.int64), owner
        x0 = y0 = 0.0
    else:
        x0, y0 = np.floor(xy.min(axis=0) / tile_m) * tile_m
        col = np.floor((xy[:, 0] - x0) / tile_m).astype(np.int64)
        row = np.floor((xy[:, 1] - y0) / tile_m).astype(np.int64)
    svc_d = to_line(svc) + half_piece
    svc_tree = shapely.STRtree(svc)
    tiles: list[Tile] = []
    frame = pd.DataFrame({"row": row, "col": col, "i": np.arange(len(est))})
    for (rw, cl), grp in frame.groupby(["row", "col"], sort=True):
        owned = grp["i"].to_numpy()
        o = origin[owned]
        obox = shapely.box(o[:, 0].min(), o[:, 1].min(), o[:, 2].max(), o[:, 3].max())
        near = svc_tree.query(obox, predicate="dwithin", distance=reach)
        near = np.sort(near[svc_ok[near]])
        hop = min(reach, float(svc_d[near].max())) if len(near) else 0.0
        halo = reach + hop + HALO_MARGIN_M
        kept = (np.sort(tree.query(obox, predicate="dwithin", distance=halo))
                if tree is not None else np.zeros(0, dtype=np.int64))
        if districts is not None:
            key, cell = f"d{cl}", tuple(float(v) for v in shapely.bounds(shapes[cl]))
        else:
            x_lo, y_lo = x0 + cl * tile_m, y0 + rw * tile_m
            key = f"r{rw}c{cl}"
            cell = (float(x_lo), float(y_lo), float(x_lo + tile_m), float(y_lo + tile_m))
        tiles.append(Tile(
            key=key,
            cell=cell,  # type: ignore[arg-type]
            halo_m=float(halo + float(r[owned].max())),
            estates=owned,
            gates=np.flatnonzero(np.isin(gate_est, owned)),
            services=near,
            streets=kept,
        ))
    logger.info("Planned %d tiles of %.0f m for %d estates", len(tiles), tile_m, len(est))
    return tiles


def _longest_piece_m(lines: np.ndarray, max_edge_m: float) -> float:
    """The longest graph edge after splitting: ``max_edge_m``, or the longest drawn
    segment when lines are not split (``max_edge_m = 0``) or all segments are shorter."""
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    seg = np.hypot(*(xy[1:][same] - xy[:-1][same]).T)
    longest = float(seg.max()) if len(seg) else 0.0
    return min(longest, max_edge_m) if max_edge_m > 0 else longest


def tile_inputs(
    tile: Tile,
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
) -> dict[str, Any]:
    """The rows one tile needs, in their source CRS (so each is reprojected as untiled)."""
    return {
        "estates": estates.iloc[tile.estates],
        "services": services.iloc[tile.services],
        "streets": streets.iloc[tile.streets] if streets is not None else None,
        "gates": gates.iloc[tile.gates] if gates is not None and len(tile.gates) else None,
    }


def run_tile(key: str, inputs: dict[str, Any], standard: Standard, params: CoverageParams,
             crs_wkt: str) -> tuple[str, pd.DataFrame, pd.Series, list[str]]:
    """Compute one tile (a task: every input travels with it).

    Returns the tile key, the owned estates' result columns (index ``estate_id``), the hop
    of every service the tile used (index: service row label) and the tile's warnings.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> est = read_estates(demo / "estates.gpkg")
    >>> svc = read_services(demo / "services.gpkg", standard=std)
    >>> streets = read_streets(demo / "streets.gpkg")
    >>> first = plan_tiles(est, svc, std, streets=streets, tile_m=2000)[0]
    >>> key, table, hops, caught = run_tile(first.key, tile_inputs(first, est, svc, streets, None),
    ...                                     std, CoverageParams.resolve(),
    ...                                     metric_crs(est).to_wkt())
    >>> key, len(table), len(hops), caught
    ('r0c0', 6, 142, [])

    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = params.coverage(inputs["estates"], inputs["services"], standard,
                              streets=inputs["streets"], gates=inputs["gates"], crs=crs_wkt)
    table = pd.DataFrame(cov.estates.drop(columns="geometry")).set_index("estate_id")
    return key, table, cov.services["hop_m"], [str(w.message) for w in caught]


def merge_tiles(
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    standard: Standard,
    parts: Iterable[tuple[str, pd.DataFrame, pd.Series, list[str]]],
    *,
    params: CoverageParams,
    metric: CRS,
    n_tiles: int,
    tile_m: float,
) -> Coverage:
    """Put the tiles' owned rows back in input order as one `Coverage`.

    Examples
    --------
    Every tile of the demo town run here, then merged: estate 0's walk to a clinic is
    783.86 m, as in the untiled run (`gis.coverage.living_circle`).

    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> est = read_estates(demo / "estates.gpkg")
    >>> svc = read_services(demo / "services.gpkg", standard=std)
    >>> streets = read_streets(demo / "streets.gpkg")
    >>> params, crs = CoverageParams.resolve(), metric_crs(est)
    >>> tiles = plan_tiles(est, svc, std, streets=streets, tile_m=2000, params=params)
    >>> parts = [run_tile(t.key, tile_inputs(t, est, svc, streets, None), std, params,
    ...                   crs.to_wkt()) for t in tiles]
    >>> cov = merge_tiles(est, svc, std, parts, params=params, metric=crs, n_tiles=len(tiles),
    ...                   tile_m=2000)
    >>> len(cov.estates), float(cov.estates.loc[0, "dist_m_clinic"])
    (150, 783.86)
    """
    tables, hops, messages = [], [], []
    for _, table, hop, caught in parts:
        tables.append(table)
        hops.append(hop)
        messages.extend(caught)
    table = pd.concat(tables)
    if table.index.duplicated().any() or len(table) != len(estates):
        msg = "Tiles returned overlapping or missing estates; this is a bug in gis.tiles."
        raise RuntimeError(msg)
    added = [c for c in table.columns if c not in estates.columns]
    out = estates.copy()
    for c in added:
        out[c] = table[c].reindex(out["estate_id"].to_numpy()).to_numpy()
    used = services[services["category"].notna()].copy()
    # A service's hop is exact in every tile where it is at most the search reach (see the
    # proof, step 3); elsewhere a tile can only overstate it, so the least value is kept.
    hop_all = pd.concat(hops) if hops else pd.Series(dtype=float)
    used["hop_m"] = hop_all.groupby(level=0).min().reindex(used.index).to_numpy()
    notes = [*estates.attrs.get("notes", []), *services.attrs.get("notes", [])]
    size = (Note.of("analysis.tiles.size_m", tile_m=tile_m) if tile_m
            else Note.of("analysis.tiles.size_districts"))
    notes.append(Note.of("analysis.tiles.computed", n=n_tiles, size=size))
    for m in dict.fromkeys(messages):
        notes.append(m)
    return Coverage(estates=out, services=used, standard=standard,
                    mode=params.mode, analysis_crs=metric,  # type: ignore[arg-type]
                    search_factor=params.search_factor, graph=None, notes=notes, streets=None)


def living_circle_tiled(
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    streets: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    tile_m: float | None = 5000.0,
    params: CoverageParams | None = None,
    districts: gpd.GeoDataFrame | None = None,
    client: Any = None,
    on_tile: Callable[[str, int, int], None] | None = None,
) -> Coverage:
    """`gis.coverage.living_circle` computed tile by tile, with the same result.

    Parameters
    ----------
    estates, services, standard, streets, gates
        As for `gis.coverage.living_circle`.
    tile_m : float, default 5000
        Side of a tile, metres.
    districts : GeoDataFrame, optional
        Polygons to use as tiles instead of the grid (see `plan_tiles`).
    params : CoverageParams, optional
        Every run parameter; default `CoverageParams.resolve()`.
    client : dask.distributed.Client, optional
        Run the tiles as tasks on this client's cluster (retried if a worker dies);
        default: one after another in this process.
    on_tile : callable, optional
        Called as ``on_tile(key, done, total)`` when a tile finishes.

    Returns
    -------
    Coverage
        Without ``graph`` and ``streets`` (no single graph is ever built).

    Examples
    --------
    The demo town in 2 km tiles gives the untiled result (`gis.coverage.living_circle`:
    148 estates reach a clinic, estate 0 in 783.86 m):

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle_tiled(read_estates(demo / "estates.gpkg"),
    ...                           read_services(demo / "services.gpkg", standard=std), std,
    ...                           streets=read_streets(demo / "streets.gpkg"), tile_m=2000)
    >>> int(cov.estates["covered_clinic"].sum()), float(cov.estates.loc[0, "dist_m_clinic"])
    (148, 783.86)
    >>> print(cov.notes[-1])
    Computed in 6 tiles of 2,000 m; every estate's result equals the untiled run (each
    tile's streets reach past the longest search).

    """
    params = params or CoverageParams.resolve()
    if params.mode == "network" and streets is None:
        msg = 'Network mode needs a streets layer (`streets`); or use `mode="straight"`.'
        raise InputError(msg)
    metric = CRS.from_user_input(params.crs) if params.crs else metric_crs(estates)
    noding_notes: list = []
    if params.mode == "network" and streets is not None:
        streets, params, noding_notes = _noded_once(streets, params, metric)
    tiles = plan_tiles(estates, services, standard, streets=streets, gates=gates,
                       tile_m=tile_m, params=params, districts=districts)
    crs_wkt = metric.to_wkt()
    parts = []
    if client is None:
        for n, t in enumerate(tiles, 1):
            parts.append(run_tile(t.key, tile_inputs(t, estates, services, streets, gates),
                                  standard, params, crs_wkt))
            if on_tile:
                on_tile(t.key, n, len(tiles))
    else:
        from distributed import as_completed

        # Scattered first (one list item, so its key hashes its content; dict keys would be
        # shared by every tile): the rows go to the cluster as data, not inside the task.
        futures = [client.submit(run_tile, t.key,
                                 client.scatter([tile_inputs(t, estates, services, streets,
                                                             gates)])[0],
                                 standard, params, crs_wkt, key=f"tile-{t.key}-{id(tiles)}",
                                 retries=2)
                   for t in tiles]
        for n, fut in enumerate(as_completed(futures), 1):
            parts.append(fut.result())
            if on_tile:
                on_tile(parts[-1][0], n, len(tiles))
    merged = merge_tiles(estates, services, standard, parts, params=params, metric=metric,
                         n_tiles=len(tiles), tile_m=tile_m or 0.0)
    merged.notes[:0] = noding_notes
    return merged


def _noded_once(streets: gpd.GeoDataFrame, params: CoverageParams, metric: CRS
                ) -> tuple[gpd.GeoDataFrame, CoverageParams, list]:
    """Decide noding on the whole street layer (as the untiled run does) and apply it
    here, so every tile sees the same lines and is built with noding off."""
    from dataclasses import replace

    from gis.crs import to_metric
    from gis.noding import node_streets, street_census

    if params.node_crossings is False:
        return streets, params, []
    streets_m = to_metric(streets, metric)
    forced = None if params.node_crossings in (None, "auto") else bool(params.node_crossings)
    census = street_census(streets_m)
    noded = census.unnoded if forced is None else forced
    notes = census.notes(noded=noded, forced=forced)
    if noded:
        streets = node_streets(streets_m)
    return streets, replace(params, node_crossings=False), notes

