"""Is the street layer noded? Count crossings without a shared vertex, and join them.

Lines of a street layer join the walking graph only where they share a vertex (see
`gis.network`). Road layers exported from Amap/Gaode and many CAD or survey sources are
drawn one polyline per named road: roads cross without a shared vertex and the graph
falls apart into hundreds of pieces, so a run on them gives wrong distances without any
error. `street_census` counts what gives that away, and `node_streets` joins the lines.

What is counted (metres, in the layer's metric CRS):

* *unnoded crossings*: points where two lines meet (cross, or one ends on the other) but
  at least one of them has no vertex there. Crossings where either line is marked as a
  bridge, tunnel or on another ``layer`` (OpenStreetMap tags; 桥梁/隧道/层 columns) are
  grade-separated on purpose and are not counted;
* *noded junctions*: street nodes where three or more edges meet;
* *near misses*: line ends that touch nothing but come within ``near_m`` (2 m) of
  another line: digitising gaps that noding cannot close.

Choice of default (``node_crossings="auto"``): a layer is *detectably unnoded* when it
has at least `AUTO_MIN_CROSSINGS` unnoded crossings and they are at least
`AUTO_MIN_SHARE` of all its junctions (a noded layer whose bridges are not tagged has a
few percent). Such a layer is noded, except its bridge/tunnel/layer features; any other
layer with unnoded crossings or near misses is kept as drawn, with a warning giving the
numbers and the option to pass. ``True`` / ``False`` force either way.

Large layers are checked on a sample of `SAMPLE_LINES` lines and the counts scaled up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.layers import LEVEL_FIELDS
from gis.network import WalkGraph, build_walk_graph
from gis.notes import Note

__all__ = [
    "AUTO_MIN_CROSSINGS",
    "AUTO_MIN_SHARE",
    "LEVEL_FIELDS",
    "NodingCensus",
    "grade_separated",
    "node_streets",
    "street_census",
    "walk_graph",
]

logger = logging.getLogger(__name__)

AUTO_MIN_CROSSINGS = 10
AUTO_MIN_SHARE = 0.5
SAMPLE_LINES = 5_000
WARN_MIN_SHARE = 0.02
_YES = {"yes", "true", "1", "1.0", "t", "y", "是", "viaduct", "aqueduct", "boardwalk",
        "cantilever", "covered", "movable", "trestle", "building_passage", "culvert", "桥",
        "隧道", "桥梁"}
_NO = {"", "no", "false", "0", "0.0", "f", "n", "否", "nan", "none", "<na>"}


@dataclass(frozen=True)
class NodingCensus:
    """What `street_census` found.

    Attributes
    ----------
    unnoded_crossings : int
        Points where lines meet without a vertex of both there (estimated when sampled).
    noded_junctions : int
        Street nodes where three or more edges meet.
    near_misses : int
        Line ends within ``near_m`` of another line without touching it.
    near_m : float
        Distance, metres, under which a line end counts as a near miss.
    separated_lines : int
        Lines marked as bridge, tunnel or on another layer (never noded).
    sampled : bool
        The counts were scaled up from a sample of lines.
    """

    unnoded_crossings: int
    noded_junctions: int
    near_misses: int
    near_m: float
    separated_lines: int = 0
    sampled: bool = False

    @property
    def share(self) -> float:
        """Unnoded crossings as a share of all junctions (0–1)."""
        total = self.unnoded_crossings + self.noded_junctions
        return self.unnoded_crossings / total if total else 0.0

    @property
    def unnoded(self) -> bool:
        """The layer is detectably unnoded: many crossings, most junctions without a vertex."""
        return (self.unnoded_crossings >= AUTO_MIN_CROSSINGS
                and self.share >= AUTO_MIN_SHARE)

    def notes(self, *, noded: bool, forced: bool | None) -> list[Note]:
        """The warnings a run should show, in English and Chinese.

        Parameters
        ----------
        noded : bool
            Whether crossings were joined in this run.
        forced : bool or None
            The user's explicit choice (``None``: automatic).
        """
        out: list[Note] = []
        about = Note.of("inputs.about") if self.sampled else ""
        counts = Note.of("inputs.street_counts", about=about, crossings=self.unnoded_crossings,
                         junctions=self.noded_junctions, share=self.share)
        n_apart = self.separated_lines
        if self.unnoded_crossings and (self.unnoded or self.share >= WARN_MIN_SHARE):
            if noded and forced is None:
                out.append(Note.of("inputs.noding_auto", counts=counts, apart=Note.of(
                    "inputs.noding_apart", n=n_apart) if n_apart else ""))
            elif noded:
                out.append(Note.of("inputs.noding_forced", counts=counts, apart=Note.of(
                    "inputs.noding_apart_comma", n=n_apart) if n_apart else ""))
            elif not noded:
                why = Note.of("inputs.noding_why.asked" if forced is False
                              else "inputs.noding_why.maybe_bridges")
                out.append(Note.of("inputs.noding_off", counts=counts, why=why))
        if self.near_misses:
            out.append(Note.of("inputs.near_misses", about=about, n=self.near_misses,
                               near_m=self.near_m))
        return out


def grade_separated(streets: pd.DataFrame) -> np.ndarray:
    """Which rows are bridges, tunnels or on another level, from `LEVEL_FIELDS` columns.

    A ``layer`` of 0 (or empty) is ground level; any other value separates the line, as
    does any ``bridge``/``tunnel`` value other than no/false/0/否.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> roads = gpd.GeoDataFrame(
    ...     {"bridge": [None, "否", "yes"], "layer": [0, None, 1]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)]),
    ...               shapely.LineString([(50, 0), (50, 100)]),
    ...               shapely.LineString([(20, 0), (20, 100)])], crs=4548)
    >>> grade_separated(roads).tolist()
    [False, False, True]
    """
    out = np.zeros(len(streets), dtype=bool)
    for col in streets.columns:
        name = str(col).strip().lower()
        if name not in LEVEL_FIELDS:
            continue
        text = streets[col].astype(str).str.strip().str.lower()
        blank = streets[col].isna().to_numpy() | text.isin(_NO).to_numpy()
        if name in ("layer", "层"):
            level = pd.to_numeric(streets[col], errors="coerce").to_numpy(dtype=float)
            out |= ~blank & ~(level == 0)
        else:
            out |= ~blank
    return out


def street_census(
    streets: gpd.GeoDataFrame,
    *,
    near_m: float = 2.0,
    snap_m: float = 0.01,
    sample_lines: int = SAMPLE_LINES,
    seed: int = 0,
) -> NodingCensus:
    """Count unnoded crossings, noded junctions and near-miss line ends.

    Parameters
    ----------
    streets : GeoDataFrame
        Street LineStrings in a metric CRS (as `gis.layers.read_streets` gives, reprojected).
    near_m : float, default 2.0
        A line end within this many metres of another line, not touching it, is a near miss.
    snap_m : float, default 0.01
        Vertices this close are one node (as in `gis.network.build_walk_graph`).
    sample_lines : int, default 5,000
        Larger layers are checked on this many randomly chosen lines (seeded).
    seed : int, default 0

    Returns
    -------
    NodingCensus

    Examples
    --------
    Two roads crossing without a shared vertex, and a bridge over one of them:

    >>> import geopandas as gpd
    >>> import shapely
    >>> roads = gpd.GeoDataFrame(
    ...     {"bridge": [None, None, "yes"]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)]),
    ...               shapely.LineString([(50, 0), (50, 100)]),
    ...               shapely.LineString([(20, 0), (20, 100)])], crs=4548)
    >>> census = street_census(roads)
    >>> census.unnoded_crossings, census.noded_junctions, census.separated_lines
    (1, 0, 1)

    The demo town's streets are drawn noded: one crossing without a vertex among 321
    junctions.

    >>> from gis.sources import demo_folder
    >>> streets = gpd.read_file(demo_folder() / "streets.gpkg").to_crs(4548)
    >>> census = street_census(streets)
    >>> census.unnoded_crossings, census.noded_junctions, census.unnoded
    (1, 321, False)
    """
    lines = np.asarray(streets.geometry.values)
    ok = ~shapely.is_empty(lines) & shapely.is_valid_input(lines)
    separated = grade_separated(streets)[ok]
    lines = lines[ok]
    if shapely.has_z(lines).any():
        lines = shapely.force_2d(lines)
    n = len(lines)
    if n == 0:
        return NodingCensus(0, 0, 0, near_m)
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    # Vertices on a snap grid: equal keys are one node (close enough to the graph's rule).
    key = np.round(coords / snap_m).astype(np.int64)
    node, count = _groups(_flat(key))
    junctions = _junction_count(node, line_of)
    sampled = n > sample_lines
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, sample_lines, replace=False)) if sampled else np.arange(n)
    scale = n / len(chosen)
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines[chosen], predicate="intersects")
    a = chosen[a]
    keep = (a != b) & ~separated[a] & ~separated[b]
    if not sampled:
        keep &= a < b  # each pair once
    a, b = a[keep], b[keep]
    crossings = 0
    if len(a):
        where = shapely.intersection(lines[a], lines[b])
        parts, pair = shapely.get_parts(where, return_index=True)
        points = shapely.get_type_id(parts) == 0
        xy = shapely.get_coordinates(parts[points])
        pair = pair[points]
        # Is the point a vertex of line a, and of line b? Compare (line, grid cell) codes.
        pkey = np.round(xy / snap_m).astype(np.int64)
        cell, _ = _groups(_flat(np.concatenate([key, pkey])))
        n_cells = int(cell.max()) + 1
        vertex_code = np.sort(line_of.astype(np.int64) * n_cells + cell[:len(key)])
        pcell = cell[len(key):]
        on_a = _member(a[pair].astype(np.int64) * n_cells + pcell, vertex_code)
        on_b = _member(b[pair].astype(np.int64) * n_cells + pcell, vertex_code)
        unnoded = ~(on_a & on_b)
        spot = pkey[unnoded]
        if not sampled:
            crossings = len(np.unique(_flat(spot)))
        else:
            # Count (sampled line, point) incidences: a crossing has two lines, either of
            # which may be drawn, so the layer holds about incidences × scale / 2.
            seen = np.unique(np.column_stack([a[pair[unnoded]], np.unique(
                _flat(spot), return_inverse=True)[1]]), axis=0)
            crossings = int(round(len(seen) * scale / 2))
    near = _near_misses(lines, coords, line_of, node, count, chosen, tree, near_m, snap_m)
    census = NodingCensus(
        unnoded_crossings=int(crossings), noded_junctions=int(junctions),
        near_misses=int(round(near * scale)), near_m=near_m,
        separated_lines=int(separated.sum()), sampled=sampled,
    )
    logger.info("Street census: %s", census)
    return census


def _groups(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each value (0… in sorted order) and each group's size: what
    ``np.unique(return_inverse=True, return_counts=True)`` gives, by one argsort."""
    if not len(x):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(x, kind="stable")
    sx = x[order]
    new = np.r_[True, sx[1:] != sx[:-1]]
    ids = np.cumsum(new) - 1
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = ids
    return inverse, np.bincount(ids)


def _member(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin(x, sorted_values)`` for a sorted array, by binary search."""
    if not len(sorted_values):
        return np.zeros(len(x), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_values, x), len(sorted_values) - 1)
    return sorted_values[i] == x


def _flat(ij: np.ndarray) -> np.ndarray:
    """One int64 per row of an (n, 2) integer array, equal exactly when the rows are
    (a 1-D sort is many times faster than ``np.unique(axis=0)``)."""
    if not len(ij):
        return np.zeros(0, dtype=np.int64)
    lo = ij.min(axis=0)
    width = int(ij[:, 1].max() - lo[1]) + 1
    if (int(ij[:, 0].max() - lo[0]) + 1) * width >= 2**62:
        return np.unique(ij, axis=0, return_inverse=True)[1].ravel().astype(np.int64)
    return (ij[:, 0] - lo[0]) * width + (ij[:, 1] - lo[1])


def _junction_count(node: np.ndarray, line_of: np.ndarray) -> int:
    """Nodes where three or more distinct street edges meet."""
    same = line_of[1:] == line_of[:-1]
    u, v = node[:-1][same], node[1:][same]
    keep = u != v
    u, v = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    if not len(u):
        return 0
    code = np.sort(u.astype(np.int64) * (int(node.max()) + 1) + v)
    code = code[np.r_[True, code[1:] != code[:-1]]]
    degree = np.bincount(np.concatenate([code // (int(node.max()) + 1),
                                         code % (int(node.max()) + 1)]))
    return int((degree >= 3).sum())


def _near_misses(
    lines: np.ndarray, coords: np.ndarray, line_of: np.ndarray, node: np.ndarray,
    count: np.ndarray, chosen: np.ndarray, tree: shapely.STRtree, near_m: float, snap_m: float,
) -> int:
    """Dangling line ends (their node used once) of the chosen lines that come within
    ``near_m`` of another line without touching it."""
    first = np.r_[0, np.flatnonzero(line_of[1:] != line_of[:-1]) + 1]
    last = np.r_[first[1:] - 1, len(line_of) - 1]
    ends = np.concatenate([first, last])
    ends = ends[np.isin(line_of[ends], chosen) & (count[node[ends]] == 1)]
    if not len(ends):
        return 0
    pts = shapely.points(coords[ends])
    p, other = tree.query(pts, predicate="dwithin", distance=near_m)
    mine = line_of[ends][p]
    p, other = p[other != mine], other[other != mine]
    if not len(p):
        return 0
    gap = shapely.distance(pts[p], lines[other])
    touching = np.zeros(len(ends), dtype=bool)
    touching[p[gap <= snap_m]] = True
    near = np.zeros(len(ends), dtype=bool)
    near[p[gap > snap_m]] = True
    return int((near & ~touching).sum())


def node_streets(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Split street lines at every crossing, except bridge/tunnel/layer features.

    Returns
    -------
    GeoDataFrame
        The lines noded among themselves (attributes dropped, since a noded piece may
        come from several lines), then the grade-separated lines as drawn, in the same CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> roads = gpd.GeoDataFrame(
    ...     {"bridge": [None, None, "yes"]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)]),
    ...               shapely.LineString([(50, 0), (50, 100)]),
    ...               shapely.LineString([(20, 0), (20, 100)])], crs=4548)
    >>> noded = node_streets(roads)  # the crossing split, the bridge left whole
    >>> [round(line.length, 1) for line in noded.geometry]
    [50.0, 50.0, 50.0, 50.0, 100.0]
    """
    lines = np.asarray(streets.geometry.values)
    lines = lines[~shapely.is_empty(lines) & shapely.is_valid_input(lines)]
    separated = grade_separated(streets.loc[~shapely.is_empty(np.asarray(streets.geometry.values))
                                            & shapely.is_valid_input(np.asarray(
                                                streets.geometry.values))])
    ground = lines[~separated]
    parts = (np.asarray(shapely.get_parts(shapely.node(shapely.multilinestrings(ground))))
             if len(ground) else np.zeros(0, dtype=object))
    out = np.concatenate([parts, lines[separated]])
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(out, crs=streets.crs), crs=streets.crs)


def walk_graph(
    streets_m: gpd.GeoDataFrame, node_crossings: bool | str | None = "auto", *,
    max_edge_m: float | None = None, vertex_snap_m: float | None = None,
) -> tuple[WalkGraph, list[Note]]:
    """The walking graph of ``streets_m`` (metric CRS), noded as asked or, with ``"auto"``
    (or ``None``), as `street_census` finds; and the warnings the census gives.

    Every command that builds a graph from a street file goes through here, so a map's
    service areas use the same network as the coverage run.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import shapely
    >>> roads = gpd.GeoDataFrame(
    ...     {"bridge": [None, None, "yes"]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)]),
    ...               shapely.LineString([(50, 0), (50, 100)]),
    ...               shapely.LineString([(20, 0), (20, 100)])], crs=4548)
    >>> graph, notes = walk_graph(roads)  # one crossing: too few to join automatically
    >>> graph.n_components
    3
    >>> graph, notes = walk_graph(roads, node_crossings=True)
    >>> graph.n_components  # the crossing joined, the bridge still apart
    2
    >>> print(notes[0])
    1 street crossings without a shared vertex against 0 noded junctions (100%): joined as
    junctions as asked (`node_crossings=True`), except 1 bridge/tunnel/layer features.
    """
    forced = None if node_crossings in (None, "auto") else bool(node_crossings)
    census = street_census(streets_m)
    noded = census.unnoded if forced is None else forced
    graph = build_walk_graph(node_streets(streets_m) if noded else streets_m,
                             max_edge_m=max_edge_m, vertex_snap_m=vertex_snap_m)
    notes = census.notes(noded=noded, forced=forced)
    for note in notes:
        logger.warning("%s", note)
    return graph, notes
