"""15-minute living-circle coverage: how far each estate walks to each facility category.

An estate's distance to a category is the minimum, over its access points and the
category's services, of ``access cost + network distance + service hop`` (metres; see
`gis.network` for the rules). It is covered when that distance is at most the
category's ``walk_m``. Searches stop at ``search_factor × walk_m`` (default 2×), so a
gap can say how far the nearest facility is; beyond that the distance is missing (NaN)
and reports say "> 2 × threshold".

Speed: one bounded multi-source Dijkstra per category (scipy.sparse.csgraph), never a
search per estate. Each service node gets a virtual source whose single edge carries the
service's hop, so offsets are exact and the search also says which service is nearest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from gis import settings
from gis.alignment import offset_notes
from gis.crs import far_from_rest, metric_crs, to_metric
from gis.errors import CRSError, InputError
from gis.i18n import join, tr
from gis.notes import Note
from gis.access import Access, estate_access, snap_points
from gis.network import WalkGraph
from gis.search import reachable_nodes, search_graph, thin_access, with_sources
from gis.noding import walk_graph
from gis.params import default
from gis.standards import Standard

__all__ = [
    "Coverage",
    "category_summary",
    "gap_list",
    "living_circle",
    "missing_categories",
    "nearest_by_network",
    "nearest_straight",
    "service_areas",
]

logger = logging.getLogger(__name__)

Mode = Literal["network", "straight"]


@dataclass(frozen=True)
class Coverage:
    """Result of `living_circle`.

    Attributes
    ----------
    estates : GeoDataFrame
        The input estates (source CRS) with, per category key ``k``: ``dist_m_k``
        (metres, NaN beyond the search), ``covered_k`` (bool), ``nearest_k`` (name of the
        nearest service), and overall ``n_covered``, ``coverage_score`` (0–1),
        ``missing`` (names of uncovered categories) and ``dist_mode`` ("network" or
        "straight").
    services : GeoDataFrame
        The classified services used (source CRS), with ``hop_m`` (metres to the network,
        NaN in straight mode).
    standard : Standard
    mode : {"network", "straight"}
        ``straight`` distances are straight lines from the estate boundary.
    analysis_crs : pyproj.CRS
        Metric CRS the distances were measured in.
    search_factor : float
        Searches reached this many times each threshold.
    graph : WalkGraph or None
        The walking graph (network mode).
    streets : GeoDataFrame or None
        The street lines in the analysis CRS (network mode), for maps.
    notes : list of str
        Field mappings, repairs and warnings to show in reports.
    skipped : list of dict
        Input rows left out (no usable geometry; see `gis.skipped`), from every layer's
        ``attrs["skipped"]``; reports list them and show skipped estates as not analysed.
    """

    estates: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    standard: Standard
    mode: Mode
    analysis_crs: CRS
    search_factor: float
    graph: WalkGraph | None = None
    notes: list[str] = field(default_factory=list)
    streets: gpd.GeoDataFrame | None = None
    skipped: list[dict] = field(default_factory=list)


def living_circle(
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    streets: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    mode: Mode = "network",
    crs: CRS | str | int | None = None,
    node_crossings: bool | Literal["auto"] | None = "auto",
    search_factor: float | None = None,
    access_radius_m: float | None = None,
    progress: bool | Callable[[int, int, str], Any] | None = None,
    gate_tolerance_m: float | None = None,
    max_edge_m: float | None = None,
    vertex_snap_m: float | None = None,
) -> Coverage:
    """Measure every estate's walk to every facility category of ``standard``.

    Parameters
    ----------
    estates : GeoDataFrame
        From `gis.layers.read_estates` (``estate_id`` unique, polygons).
    services : GeoDataFrame
        From `gis.layers.read_services` (``category`` holds category keys).
    standard : Standard
        Categories and walking thresholds (metres).
    streets : GeoDataFrame, optional
        Street centre-lines; required in network mode.
    gates : GeoDataFrame, optional
        Estate gates; estates with gates are entered only through them.
    mode : {"network", "straight"}, default "network"
        ``straight`` measures straight lines (no street layer needed) and is labelled so.
    crs : CRS, optional
        Metric analysis CRS. Default: the CGCS2000 3-degree GK zone (China) or UTM zone
        chosen by `gis.crs.metric_crs`.
    node_crossings : bool or "auto", default "auto"
        Join street lines where they cross without a shared vertex. ``"auto"`` (or
        ``None``) does so only when the layer is detectably unnoded (see `gis.noding`),
        never for bridge/tunnel/layer features; every run counts the crossings and warns.
    search_factor : float, optional
        Searches reach this many times each threshold. Default ``Params.search_factor`` (2).
    access_radius_m : float, optional
        Street nodes within this many metres of an estate are its access points.
        Default ``Params.access_radius_m`` (30 m).
    progress : bool or callable, optional
        Show a progress bar over categories, or call ``progress(done, total, key)`` after
        each category (network mode). Default ``settings.progress``.
    gate_tolerance_m : float, optional
        A gate may lie at most this many metres from its estate's boundary (digitising
        slack, a gate set back across a forecourt); farther gates stop the run naming their
        rows. Default ``Params.gate_tolerance_m`` (50 m).
    max_edge_m, vertex_snap_m : float, optional
        Graph-building rules passed to `gis.network.build_walk_graph` (defaults from
        `gis.params.Params`); batch and tile tasks pass them explicitly.

    Returns
    -------
    Coverage

    Raises
    ------
    InputError
        If ``mode="network"`` and no streets are given, an unknown mode, or a gate farther
        than ``gate_tolerance_m`` from its estate's boundary.
    CRSError
        If ``crs`` has a scale error above 5 m per km over the estates (Web Mercator, a
        distant UTM/GK zone).

    Notes
    -----
    Warnings go to ``Coverage.notes`` (and the log): unnoded streets and near misses
    (`gis.noding`), web-map offsets between any two layers (`gis.alignment`), services
    far from every estate, a mildly distorting ``crs``.

    Examples
    --------
    On the bundled demo town (150 estates, network distances):

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     streets=read_streets(demo / "streets.gpkg"), progress=False)
    >>> len(cov.estates), cov.mode, int(cov.estates["covered_clinic"].sum())
    (150, 'network', 148)
    >>> float(cov.estates.loc[0, "dist_m_clinic"])
    783.86
    """
    if search_factor is None:
        search_factor = default("search_factor")
    if progress is None:
        progress = settings.progress
    if mode not in ("network", "straight"):
        msg = f"Unknown mode {mode!r}; use 'network' or 'straight'."
        raise InputError(msg)
    notes = [*estates.attrs.get("notes", []), *services.attrs.get("notes", [])]
    skipped = [r for layer in (estates, services, streets, gates) if layer is not None
               for r in layer.attrs.get("skipped", [])]
    metric = CRS.from_user_input(crs) if crs is not None else metric_crs(estates)
    if crs is not None:
        notes.extend(_check_analysis_crs(metric, estates))
    logger.info("Analysing in %s (%s)", metric.to_string(), metric.name)
    notes.extend(_far_notes(estates, services, streets))
    est_m = to_metric(estates, metric)
    usable = services[services["category"].notna()]
    svc_m = to_metric(usable, metric).sort_values(["category", "service_id"], kind="stable")
    _same_place(est_m, svc_m, "services")
    notes.extend(_placement_warnings(est_m, svc_m, streets, metric,
                                     services.attrs.get("coords", "as labelled")))
    if streets is not None:
        notes.extend(streets.attrs.get("notes", []))
    offsets = offset_notes({"estates": estates, "services": usable, "streets": streets,
                            "gates": gates}, metric)
    for note in offsets:
        logger.warning("%s", note)
    notes.extend(offsets)
    graph = None
    streets_m = None
    t0 = time.perf_counter()
    if mode == "network":
        if streets is None:
            msg = 'Network mode needs a streets layer (`streets`); or use `mode="straight"`.'
            raise InputError(msg)
        streets_m = to_metric(streets, metric)
        _same_place(est_m, streets_m, "streets")
        graph, noding_notes = walk_graph(streets_m, node_crossings, max_edge_m=max_edge_m,
                                         vertex_snap_m=vertex_snap_m)
        notes.extend(noding_notes)
        if gates is not None:
            notes.extend(gates.attrs.get("notes", []))
            gates = to_metric(gates, metric)
            _refuse_far_gates(est_m, gates, gate_tolerance_m)
        access = estate_access(graph, est_m, gates=gates, access_radius_m=access_radius_m)
        far = _far_from_streets(access, len(est_m))
        if len(far):
            ids = ", ".join(est_m["estate_id"].iloc[far[:5]])
            notes.append(Note.of("analysis.coverage.far_from_streets", n=len(far), ids=ids))
        table, hops = nearest_by_network(
            graph, access, svc_m, standard, search_factor=search_factor, progress=progress
        )
        if graph.n_components > 1:
            share = np.bincount(graph.component).max() / graph.n_nodes
            notes.append(Note.of("analysis.coverage.disconnected", parts=graph.n_components,
                                 share=share))
    else:
        table = nearest_straight(est_m, svc_m, standard, search_factor=search_factor)
        hops = pd.Series(np.nan, index=svc_m.index)
        notes.append(Note.of("analysis.coverage.straight"))
    logger.info("Coverage (%s) for %d estates in %.2f s", mode, len(est_m), time.perf_counter() - t0)
    absent = [c for c in standard.categories if not (svc_m["category"] == c.key).any()]
    if absent:
        # The standard names each category in both languages: a phrase in both.
        names = Note(join((c.name_en for c in absent), "en"),
                     join((c.name_zh for c in absent), "zh"))
        notes.append(Note.of("analysis.coverage.absent", names=names))
    hh_missing = int(estates["households"].isna().sum()) if "households" in estates else len(estates)
    if 0 < hh_missing < len(estates):
        notes.append(Note.of("analysis.coverage.households_missing", n=hh_missing))
    out = estates.copy()
    for c in standard.categories:
        # Decide on the stored (rounded) value so a report never shows 1,000 m as a gap.
        dist = np.round(table[f"dist_m_{c.key}"].to_numpy(), 2)
        out[f"dist_m_{c.key}"] = dist
        out[f"covered_{c.key}"] = dist <= c.walk_m
        names = svc_m["name"].fillna(svc_m["service_id"]).astype(object).to_numpy()
        pos = table[f"nearest_{c.key}"].to_numpy()
        out[f"nearest_{c.key}"] = np.where(pos >= 0, names[np.maximum(pos, 0)], None)
    covered = out[[f"covered_{k}" for k in standard.keys]].to_numpy()
    out["n_covered"] = covered.sum(axis=1)
    out["coverage_score"] = np.round(out["n_covered"] / len(standard.keys), 4)
    # Straight-line results must never pass for walking distances, whatever file they land in.
    out["dist_mode"] = mode
    out["missing"] = missing_categories(out, standard)
    used = usable.copy()
    used["hop_m"] = hops.reindex(used.index).to_numpy()
    return Coverage(
        estates=out,
        services=used,
        standard=standard,
        mode=mode,
        analysis_crs=metric,
        search_factor=search_factor,
        graph=graph,
        notes=notes,
        streets=streets_m if mode == "network" else None,
        skipped=skipped,
    )


def missing_categories(estates: pd.DataFrame, standard: Standard, lang: str = "zh") -> list[str]:
    """Per estate, the categories it lacks as one text cell in ``lang``.

    Rendered from the machine columns ``covered_<key>`` (never by splitting the stored
    ``missing`` text); names and separator come from the standard and `gis.i18n`.

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> std = load_standard()
    >>> row = {f"covered_{k}": True for k in std.keys}
    >>> row[f"covered_{std.keys[0]}"] = False
    >>> missing_categories(pd.DataFrame([row]), std, "en") == [std.categories[0].name_en]
    True
    >>> missing_categories(pd.DataFrame([row]), std)[0] == std.categories[0].name_zh
    True
    """
    covered = estates[[f"covered_{k}" for k in standard.keys]].to_numpy(dtype=bool)
    names = np.array([c.label(lang) for c in standard.categories], dtype=object)
    sep = tr("category_sep", lang)
    return [sep.join(names[~row]) for row in covered]


def nearest_by_network(
    graph: WalkGraph,
    access: Access,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    search_factor: float = 2.0,
    progress: bool | Callable[[int, int, str], Any] = False,
) -> tuple[pd.DataFrame, pd.Series]:
    """Network distance from every estate to the nearest service of each category.

    One bounded Dijkstra per category over the graph plus one virtual source per
    service node; cost is independent of the number of estates.

    Parameters
    ----------
    graph : WalkGraph
    access : Access
        From `gis.network.estate_access`.
    services : GeoDataFrame
        Points in the graph's CRS with ``category`` keys. Of services snapped to the same
        node the earlier row wins; a tie between different nodes goes to whichever the
        search settles first (fixed for a given graph, whatever the input row order).
    standard : Standard
    search_factor : float, default 2.0
        Search radius as a multiple of each category's ``walk_m``.
    progress : bool or callable, default False
        True draws a tqdm bar; a callable is called ``progress(done, total, key)`` after
        each category.

    Returns
    -------
    (DataFrame, Series)
        One row per estate position: ``dist_m_<key>`` (metres, NaN beyond
        ``search_factor × walk_m``) and ``nearest_<key>`` (row position in
        ``services`` of the nearest service, -1 if none); and each service's hop (metres).

    Examples
    --------
    On the demo town's streets (a plain graph, without joining crossings):

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.network import build_walk_graph
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> est = read_estates(demo / "estates.gpkg")
    >>> crs = metric_crs(est)
    >>> graph = build_walk_graph(to_metric(read_streets(demo / "streets.gpkg"), crs))
    >>> est_m = to_metric(est, crs)
    >>> svc_m = to_metric(read_services(demo / "services.gpkg", standard=std), crs)
    >>> table, hops = nearest_by_network(graph, estate_access(graph, est_m), svc_m, std)
    >>> len(table), round(float(table["dist_m_community_service"].iloc[0]), 1)
    (150, 763.5)
    >>> round(float(hops.max()), 1)  # the longest straight hop of a service onto a street
    24.7

    """
    n_est = access.n_estates
    svc_node, svc_hop = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    # Only access and service nodes matter here: search the street graph with just those
    # piece nodes (exact), about a tenth of the full graph at city scale.
    access = thin_access(graph, access, svc_node)
    small, kept = search_graph(graph, np.concatenate([access.node, svc_node]))
    svc_node = kept[len(access.node):]
    access = Access(estate=access.estate, node=kept[:len(access.node)], cost_m=access.cost_m,
                    n_estates=n_est)
    by_estate = _EstateGroups(access)
    cats = services["category"].to_numpy()
    result: dict[str, np.ndarray] = {}
    rows_of = {c.key: np.flatnonzero(cats == c.key) for c in standard.categories}
    with_services = [c for c in standard.categories if len(rows_of[c.key])]
    aug, starts, picks = with_sources(
        small, [(svc_node[rows_of[c.key]], svc_hop[rows_of[c.key]]) for c in with_services]
    )
    search = {c.key: (starts[i], picks[i]) for i, c in enumerate(with_services)}
    # A callable hears (done, total, category key) after each category (QGIS feedback, a
    # notebook); True draws a tqdm bar on stderr (the CLI); False/None stays quiet.
    report = progress if callable(progress) else None
    bar = tqdm(
        standard.categories, desc="生活圈覆盖 coverage", unit="类",
        disable=report is not None or not progress, delay=1.0
    )
    for done, c in enumerate(bar, start=1):
        rows = np.flatnonzero(cats == c.key)
        limit = search_factor * c.walk_m
        dist = np.full(n_est, np.nan)
        nearest = np.full(n_est, -1, dtype=np.int64)
        if len(rows):
            node_dist, node_best = _search(aug, small.n_nodes, *search[c.key], limit)
            dist, best = by_estate.minimum(node_dist, limit)
            nearest = np.where(best >= 0, rows[node_best[np.maximum(best, 0)]], -1)
        result[f"dist_m_{c.key}"] = dist
        result[f"nearest_{c.key}"] = nearest
        if report is not None:
            report(done, len(standard.categories), c.key)
    table = pd.DataFrame(result)
    return table, pd.Series(svc_hop, index=services.index)


def _search(
    aug: sp.csr_matrix, n: int, start: int, pick: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    dist, _, src = dijkstra(
        aug,
        directed=True,
        indices=np.arange(start, start + len(pick)),
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    which = np.where(src[:n] >= n, pick[np.clip(src[:n] - start, 0, len(pick) - 1)], -1)
    return dist[:n], which


class _EstateGroups:
    """Access points grouped by estate once, so each category's per-estate minimum is a
    linear pass (`numpy.minimum.reduceat`) rather than a sort of every access point."""

    def __init__(self, access: Access) -> None:
        order = np.argsort(access.estate, kind="stable")
        self.estate = access.estate[order]
        self.node = access.node[order]
        self.cost_m = access.cost_m[order]
        self.n_estates = access.n_estates
        new = np.ones(len(order), dtype=bool)
        new[1:] = self.estate[1:] != self.estate[:-1]
        self.start = np.flatnonzero(new)
        self.group = np.cumsum(new) - 1

    def minimum(self, node_dist: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """Per estate: min over its access points of cost + node distance (NaN beyond
        ``limit``), and the node of the first access point reaching it (-1 if none)."""
        dist = np.full(self.n_estates, np.nan)
        node = np.full(self.n_estates, -1, dtype=np.int64)
        if not len(self.start):
            return dist, node
        total = self.cost_m + node_dist[self.node]
        best = np.minimum.reduceat(total, self.start)
        hit = np.flatnonzero(total == best[self.group])
        first = hit[np.r_[True, self.group[hit][1:] != self.group[hit][:-1]]]
        ok = np.isfinite(best) & (best <= limit)
        est = self.estate[self.start]
        dist[est[ok]] = best[ok]
        node[est[ok]] = self.node[first][ok]
        return dist, node


def nearest_straight(
    estates: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    search_factor: float = 2.0,
) -> pd.DataFrame:
    """Straight-line distance from each estate boundary to the nearest service per category.

    Zero when a service lies inside the estate. Same columns as `nearest_by_network`.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services
    >>> from gis.standards import load_standard
    >>> std = load_standard()
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> crs = metric_crs(est)
    >>> svc_m = to_metric(read_services(demo_folder() / "services.gpkg", standard=std), crs)
    >>> table = nearest_straight(to_metric(est, crs), svc_m, std)
    >>> round(float(table["dist_m_community_service"].iloc[0]), 1)
    580.6

    """
    polys = np.asarray(estates.geometry.values)
    cats = services["category"].to_numpy()
    points = np.asarray(services.geometry.values)
    result: dict[str, np.ndarray] = {}
    for c in standard.categories:
        rows = np.flatnonzero(cats == c.key)
        dist = np.full(len(polys), np.nan)
        nearest = np.full(len(polys), -1, dtype=np.int64)
        if len(rows):
            tree = shapely.STRtree(points[rows])
            (pi, si), d = tree.query_nearest(
                polys,
                max_distance=search_factor * c.walk_m,
                return_distance=True,
                all_matches=False,
            )
            dist[pi] = d
            nearest[pi] = rows[si]
        result[f"dist_m_{c.key}"] = dist
        result[f"nearest_{c.key}"] = nearest
    return pd.DataFrame(result)


def _placement_warnings(
    estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame, streets: gpd.GeoDataFrame | None,
    metric: CRS, coords: str,
) -> list[str]:
    """Warn of services mostly outside the study area (offsets: `gis.alignment`)."""
    out: list[str] = []
    if not len(services):
        return out
    area = shapely.buffer(shapely.box(*estates.total_bounds), 2000.0)
    outside = 1 - shapely.intersects(area, np.asarray(services.geometry.values)).mean()
    if outside > 0.5:
        out.append(Note.of("analysis.coverage.services_outside", share=outside))
    return out


def _same_place(estates: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, what: str,
                near_m: float = 5000.0) -> None:
    """Refuse layers that lie nowhere near the estates: a wrong CRS label or coordinates."""
    if not len(layer):
        return
    area = shapely.buffer(shapely.box(*estates.total_bounds), near_m)
    if not shapely.intersects(area, np.asarray(layer.geometry.values)).any():
        msg = (
            f"No {what} lie within {near_m / 1000:.0f} km of the estates: the layers are in "
            "different places. Check each file's CRS (.prj) and coordinates (swapped lon/lat, "
            "metres labelled as degrees)."
        )
        raise InputError(msg)


def _far_from_streets(access: Access, n_est: int, far_m: float = 200.0) -> np.ndarray:
    best = np.full(n_est, np.inf)
    np.minimum.at(best, access.estate, access.cost_m)
    return np.flatnonzero(best > far_m)


def category_summary(cov: Coverage, *, lang: str = "zh") -> pd.DataFrame:
    """Coverage rate per category, by estates and by households.

    Returns
    -------
    DataFrame
        One row per category: ``category``, ``name``, ``walk_m``, ``estates``,
        ``estates_covered``, ``estate_rate`` (0–1), ``households``,
        ``households_covered``, ``household_rate`` (0–1); household figures count estates
        with a known household number and are NaN when none is known.

    Examples
    --------
    Straight-line coverage of the demo town:

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services
    >>> from gis.standards import load_standard
    >>> std = load_standard()
    >>> cov = living_circle(read_estates(demo_folder() / "estates.gpkg"),
    ...                     read_services(demo_folder() / "services.gpkg", standard=std), std,
    ...                     mode="straight")
    >>> s = category_summary(cov, lang="en")
    >>> str(s.loc[1, "name"]), int(s.loc[1, "estates_covered"]), round(float(s.loc[1, "estate_rate"]), 3)
    ('Clinic / community health centre', 149, 0.993)

    """
    est = cov.estates
    known = est["households"].notna().to_numpy() if "households" in est else np.zeros(len(est), bool)
    hh = est["households"].fillna(0).to_numpy() if "households" in est else np.zeros(len(est))
    rows = []
    for c in cov.standard.categories:
        cov_mask = est[f"covered_{c.key}"].to_numpy()
        total_hh = hh.sum() if known.any() else np.nan
        rows.append(
            {
                "category": c.key,
                "name": c.label(lang),
                "walk_m": c.walk_m,
                "estates": len(est),
                "estates_covered": int(cov_mask.sum()),
                "estate_rate": cov_mask.mean() if len(est) else np.nan,
                "households": total_hh,
                "households_covered": hh[cov_mask].sum() if known.any() else np.nan,
                "household_rate": hh[cov_mask].sum() / total_hh if total_hh else np.nan,
            }
        )
    return pd.DataFrame(rows)


def gap_list(cov: Coverage, *, lang: str = "zh") -> pd.DataFrame:
    """Every (estate, category) pair that is not covered.

    Returns
    -------
    DataFrame
        Columns ``estate_id``, ``name``, ``subdistrict``/``community`` (when present),
        ``category``, ``category_name``, ``walk_m``, ``dist_m`` (NaN = beyond
        ``search_factor × walk_m``), ``excess_m`` (metres over the threshold, NaN when
        unknown), ``households``, ``nearest``, ``no_facility`` (the input has no service of
        that category at all); sorted by area, category, then largest excess.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_services
    >>> from gis.standards import load_standard
    >>> std = load_standard()
    >>> cov = living_circle(read_estates(demo_folder() / "estates.gpkg"),
    ...                     read_services(demo_folder() / "services.gpkg", standard=std), std,
    ...                     mode="straight")
    >>> gaps = gap_list(cov, lang="en")
    >>> first = gaps.iloc[0]
    >>> len(gaps), first["estate_id"], first["category_name"], float(first["excess_m"])
    (10, 'XQ007', 'EV / e-bike charging', 368.46)

    """
    est = cov.estates
    group_cols = [c for c in ("subdistrict", "community") if c in est.columns]
    parts = []
    for i, c in enumerate(cov.standard.categories):
        miss = ~est[f"covered_{c.key}"].to_numpy()
        if not miss.any():
            continue
        sub = est.loc[miss, ["estate_id", "name", *group_cols, "households"]].copy()
        sub["category"] = c.key
        sub["category_order"] = i
        sub["category_name"] = c.label(lang)
        sub["walk_m"] = c.walk_m
        sub["dist_m"] = est.loc[miss, f"dist_m_{c.key}"].to_numpy()
        sub["excess_m"] = np.round(sub["dist_m"] - c.walk_m, 2)
        sub["nearest"] = est.loc[miss, f"nearest_{c.key}"].to_numpy()
        sub["no_facility"] = not (cov.services["category"] == c.key).any()
        parts.append(sub)
    cols = [
        "estate_id", "name", *group_cols, "category", "category_name", "walk_m", "dist_m",
        "excess_m", "households", "nearest", "no_facility",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    gaps = pd.concat(parts, ignore_index=True)
    gaps["_far"] = gaps["dist_m"].isna()
    gaps = gaps.sort_values(
        [*group_cols, "category_order", "_far", "excess_m", "estate_id"],
        ascending=[*([True] * len(group_cols)), True, False, False, True],
        kind="stable",
    )
    return gaps[cols].reset_index(drop=True)


def service_areas(
    graph: WalkGraph,
    services: gpd.GeoDataFrame,
    standard: Standard,
    *,
    cell_m: float = 50.0,
    max_cells: int = 200_000,
) -> gpd.GeoDataFrame:
    """Each category's walkable service area: where the streets within its threshold run.

    The area is drawn on a grid: every ``cell_m`` square holding a street node within the
    threshold, widened by one cell, merged. With edges at most 20 m long this follows the
    reachable streets to within a cell or two, and stays fast for city-sized networks.

    Parameters
    ----------
    graph : WalkGraph
    services : GeoDataFrame
        Classified services in the graph's CRS.
    standard : Standard
        Thresholds (``walk_m``, metres).
    cell_m : float, default 50.0
        Grid cell, metres; grown for very large extents so at most ``max_cells`` cells span
        the network's bounding box. 50 m fills ordinary blocks, so an area reads as the
        neighbourhood within reach rather than a lace of street outlines, and stays small.
    max_cells : int, default 200_000

    Returns
    -------
    GeoDataFrame
        One row per category with services: ``category``, ``walk_m``, geometry (graph CRS).

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_services, read_streets
    >>> from gis.network import build_walk_graph
    >>> from gis.standards import load_standard
    >>> std = load_standard()
    >>> streets = read_streets(demo_folder() / "streets.gpkg")
    >>> crs = metric_crs(streets)
    >>> graph = build_walk_graph(to_metric(streets, crs))
    >>> svc_m = to_metric(read_services(demo_folder() / "services.gpkg", standard=std), crs)
    >>> areas = service_areas(graph, svc_m, std)
    >>> len(areas), areas.columns.tolist(), areas["category"].iloc[0]
    (7, ['category', 'walk_m', 'geometry'], 'community_service')
    >>> round(float(areas.area.iloc[0]) / 1e6, 2)  # km² around streets within 1,000 m
    7.3

    """
    svc_node, svc_hop = snap_points(graph, shapely.get_coordinates(services.geometry.values))
    cats = services["category"].to_numpy()
    # Piece nodes lie on the street edges, so the street nodes span the same extent.
    xy = graph.street_xy
    span = np.maximum(xy.max(axis=0) - xy.min(axis=0), 1.0)
    # Whole metres and an origin on the grid, so neighbouring squares share edges exactly
    # (the coverage union below needs that, or it returns thousands of fragments).
    cell = float(np.ceil(max(cell_m, float(np.sqrt(span[0] * span[1] / max_cells)))))
    origin = np.floor(xy.min(axis=0) / cell) * cell
    around = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
    rows = []
    for c in standard.categories:
        rows_c = np.flatnonzero(cats == c.key)
        if not len(rows_c):
            continue
        near_xy, _ = reachable_nodes(graph, svc_node[rows_c], svc_hop[rows_c], c.walk_m)
        reached = _unique_cells(np.floor((near_xy - origin) / cell).astype(np.int64))
        if not len(reached):
            continue
        cells = _unique_cells((reached[:, None, :] + around[None]).reshape(-1, 2))
        # Both edges from integer indices: x1 of one square is bit-identical to x0 of the next.
        x0, y0 = origin[0] + cells[:, 0] * cell, origin[1] + cells[:, 1] * cell
        x1, y1 = origin[0] + (cells[:, 0] + 1) * cell, origin[1] + (cells[:, 1] + 1) * cell
        boxes = shapely.box(x0, y0, x1, y1)
        # Grid squares share edges exactly, so the fast coverage union applies.
        area = shapely.simplify(shapely.coverage_union_all(boxes), cell / 2)
        rows.append({"category": c.key, "walk_m": c.walk_m, "geometry": area})
    return gpd.GeoDataFrame(rows, columns=["category", "walk_m", "geometry"],
                            geometry="geometry", crs=graph.crs)


def _unique_cells(ij: np.ndarray) -> np.ndarray:
    """Distinct integer grid cells, as ``np.unique(ij, axis=0)`` (a sort of one int64 key
    rather than of row bytes)."""
    if not len(ij):
        return ij.reshape(0, 2)
    lo = ij.min(axis=0)
    width = int(ij[:, 1].max() - lo[1]) + 1
    key = np.sort((ij[:, 0] - lo[0]) * width + (ij[:, 1] - lo[1]))
    key = key[np.r_[True, key[1:] != key[:-1]]]
    return np.stack([key // width + lo[0], key % width + lo[1]], axis=1)


def _check_analysis_crs(metric: CRS, estates: gpd.GeoDataFrame) -> list[str]:
    """Refuse a given CRS that is not local and conformal for the data; note a mild one."""
    from gis.crs import (
        MAX_SCALE_ERROR_M_PER_KM,
        WARN_SCALE_ERROR_M_PER_KM,
        is_metric,
        lonlat_sample,
        scale_error_m_per_km,
    )

    if not is_metric(metric):
        return []  # to_metric refuses it with its own message
    err = scale_error_m_per_km(metric, lonlat_sample(estates))
    best = metric_crs(estates.to_crs(4326))
    name = metric.to_string()
    if err > MAX_SCALE_ERROR_M_PER_KM:
        msg = (f"The analysis CRS {name} ({metric.name}) has a scale error of up to {err:,.1f} m "
               f"per km over the estates: every distance would be off by that much. Leave `crs` "
               f"out to use {best.to_string()} ({best.name}), or give a local conformal projection "
               "(the Gauss-Krüger or UTM zone of the data).")
        raise CRSError(msg)
    if err > WARN_SCALE_ERROR_M_PER_KM:
        note = Note.of("analysis.coverage.scale_error", name=name, err=err,
                       best=best.to_string())
        logger.warning("%s", note)
        return [note]
    return []


def _far_notes(estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame,
               streets: gpd.GeoDataFrame | None, far_m: float | None = None) -> list[str]:
    """Services and streets beyond walking range of every estate are harmless (the CRS is
    chosen from the estates) but worth a note: a stray point or the wrong file."""
    far_m = default("far_feature_m") if far_m is None else far_m
    out: list[str] = []
    far = far_from_rest(services, far_m=far_m, reference=estates)
    if far.any():
        rows = (np.flatnonzero(far) + 1).tolist()
        shown = ", ".join(map(str, rows[:5])) + (f" … ({len(rows)} in all)" if len(rows) > 5 else "")
        out.append(Note.of("analysis.coverage.far_services", n=len(rows), far_km=far_m / 1000,
                           rows=shown))
    if streets is not None and len(streets):
        sample = streets if len(streets) <= 5000 else streets.sample(5000, random_state=0)
        share = far_from_rest(sample, far_m=far_m, reference=estates).mean()
        if share > 0:
            out.append(Note.of("analysis.coverage.far_streets", share=share, far_km=far_m / 1000))
    return out


def _refuse_far_gates(estates_m: gpd.GeoDataFrame, gates_m: gpd.GeoDataFrame,
                      tolerance_m: float | None) -> None:
    """A gate far from its estate would replace the estate's walk with the gate's."""
    if tolerance_m is None:
        tolerance_m = default("gate_tolerance_m")
    if not (np.isfinite(tolerance_m) and tolerance_m >= 0):
        msg = f"The gate tolerance must be a finite number of metres >= 0, not {tolerance_m!r}."
        raise InputError(msg)
    polys = estates_m.set_index("estate_id").geometry
    mine = np.asarray(polys.reindex(gates_m["estate_id"]).values)
    known = ~pd.isna(mine)
    gap = np.zeros(len(gates_m))
    gap[known] = shapely.distance(shapely.boundary(mine[known].astype(object)),
                                  np.asarray(gates_m.geometry.values)[known])
    far = gap > tolerance_m
    if far.any():
        rows = np.flatnonzero(far)
        shown = ", ".join(f"{r + 1} ({gates_m['estate_id'].iloc[r]}, {gap[r]:,.0f} m)"
                          for r in rows[:5])
        more = f" … ({len(rows)} in all)" if len(rows) > 5 else ""
        src = gates_m.attrs.get("source") or "gates"
        msg = (f"{src}: {'row' if len(rows) == 1 else 'rows'} {shown}{more} "
               f"{'lies' if len(rows) == 1 else 'lie'} farther than {tolerance_m:g} m from "
               "the estate's boundary; a gate sits on its estate's boundary. Fix the gate's "
               "position or its 小区编号, or raise `gate_tolerance_m`.")
        raise InputError(msg)
