"""Workflows: one analysis step on prepared frames in memory, with a record of the run.

Each ``*_run`` (`coverage_run`, `units_run`, `review_run`, `siting_run`) takes layers
already prepared (`gis.prepare`, or `gis.layers`' readers), a
`Standard` and `Params`, calls the analysis and returns a small picklable result that
carries a metadata record: the parameters, the standard, the analysis CRS, fingerprints
of the inputs, the version and the time. No file is read or written here: the CLI (and
later QGIS or a cluster) read, call a workflow, and write; the writers store the record
in every output (`write_metadata`: a ``gis_metadata`` table in a GeoPackage; `record_rows`:
the key/value rows of the XLSX 运行记录 sheet) and `gis map` reads it back (`read_metadata`,
`saved_coverage`) instead of guessing.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.adjacency import BarrierLayer, barrier_notes, blocked_by_layer, select_barriers
from gis.candidates import gather_candidates
from gis.coverage import Coverage, living_circle
from gis.crs import metric_crs, to_metric
from gis.noding import walk_graph
from gis.params import Params
from gis.review import Constraint, check_units
from gis.siting import Siting, site_facilities
from gis.standards import Standard
from gis.units import UnitCaps, Units, renovation_units

__all__ = ["CoverageRun", "ReviewRun", "SitingRun", "UnitsRun", "coverage_run", "fingerprint",
           "read_metadata", "read_record_sheet", "record_rows", "review_run", "run_record", "saved_coverage",
           "siting_run", "units_run", "worst_gaps", "write_metadata"]

METADATA_LAYER = "gis_metadata"
Progress = Callable[[int, int, str], Any]


@dataclass
class CoverageRun:
    """`coverage` (a `gis.coverage.Coverage`) and the run's ``metadata`` record."""

    coverage: Coverage
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReviewRun:
    """Per-unit ``checks``, the ``conflicts``, the ``metadata`` record and the
    ``constraints`` checked (in the metric CRS of the check, for maps)."""

    checks: pd.DataFrame
    conflicts: gpd.GeoDataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)


@dataclass
class UnitsRun:
    """`units` (`gis.units.Units`), ``assessed`` estates and the ``metadata`` record;
    with barrier layers, how each was read (``barrier_layers``), the links each kept
    apart (``blocked``), their ``notes`` and rows ``skipped``; with constraint layers,
    the ``review`` (a `ReviewRun`)."""

    units: Units
    assessed: gpd.GeoDataFrame
    metadata: dict[str, Any] = field(default_factory=dict)
    barrier_layers: list[BarrierLayer] = field(default_factory=list)
    blocked: dict[str, int] = field(default_factory=dict)
    notes: list[Any] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    review: ReviewRun | None = None


@dataclass
class SitingRun:
    """`siting` (`gis.siting.Siting`: sites, before/after summary, the coverage it
    started from) and the run's ``metadata`` record."""

    siting: Siting
    metadata: dict[str, Any] = field(default_factory=dict)


def fingerprint(gdf: pd.DataFrame | None) -> dict[str, Any] | None:
    """Rows, source name and a SHA-256 of a layer's attributes (as text) and geometry
    (WKB): the same frame always gives the same digest, any changed value another.

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> estates = read_estates(demo_folder() / "estates.gpkg")
    >>> fp = fingerprint(estates)
    >>> fp["rows"], len(fp["sha256"]), fp == fingerprint(estates.copy())
    (150, 64, True)
    >>> fingerprint(estates.head(149))["sha256"] == fp["sha256"]
    False
    """
    if gdf is None:
        return None
    h = hashlib.sha256()
    attrs = gdf.drop(columns=[c for c in gdf.columns if c == getattr(gdf, "_geometry_column_name",
                                                                     None)])
    h.update(attrs.astype(str).to_csv(index=False).encode("utf-8"))
    if isinstance(gdf, gpd.GeoDataFrame):
        for geom in np.asarray(gdf.geometry.values, dtype=object):
            h.update(b"" if geom is None else geom.wkb)
        h.update(str(gdf.crs.to_string() if gdf.crs else None).encode())
    return {"source": gdf.attrs.get("source"), "rows": int(len(gdf)), "sha256": h.hexdigest()}


def run_record(workflow: str, standard: Standard | None, params: Params,
               inputs: dict[str, pd.DataFrame | None], *, crs: Any = None,
               options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metadata record every output stores (plain JSON-able values).

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> record = run_record("units", load_standard(None), Params(gap_m=20.0), {},
    ...                     crs="EPSG:4548")
    >>> sorted(record)
    ['crs', 'inputs', 'options', 'params', 'standard', 'timestamp', 'tool', 'version', 'workflow']
    >>> record["standard"]["name"], record["params"]["gap_m"], record["crs"]
    ('lianyungang_15min', 20.0, 'EPSG:4548')
    """
    import gis

    std = None
    if standard is not None:
        path = Path(standard.path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        std = {"name": path.stem, "file": path.name, "sha256": digest,
               "name_zh": standard.name_zh, "name_en": standard.name_en}
    return {
        "tool": "gis", "version": gis.__version__, "workflow": workflow,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "standard": std, "params": params.as_dict(),
        "crs": None if crs is None else str(getattr(crs, "to_string", lambda: crs)()),
        "inputs": {k: fingerprint(v) for k, v in inputs.items() if v is not None},
        "options": options or {},
    }


def coverage_run(estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame, standard: Standard,
                 params: Params | None = None, *, streets: gpd.GeoDataFrame | None = None,
                 gates: gpd.GeoDataFrame | None = None, mode: str = "network",
                 crs: Any = None, node_crossings: bool | str | None = "auto",
                 progress: bool | Progress | None = None) -> CoverageRun:
    """Living-circle coverage of prepared layers (`gis.coverage.living_circle`) with every
    number from ``params`` (default: `Params.from_standard(standard)`).

    ``progress`` is a callable ``progress(done, total, category_key)`` (QGIS feedback),
    True for a tqdm bar, or None/False for silence.

    Examples
    --------
    >>> from gis.layers import read_estates, read_services
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> std, demo = load_standard(None), demo_folder()
    >>> run = coverage_run(read_estates(demo / "estates.gpkg"),
    ...                    read_services(demo / "services.gpkg", std), std, mode="straight")
    >>> int((run.coverage.estates["coverage_score"] >= 1).sum()), run.metadata["crs"]
    (140, 'EPSG:4548')
    >>> run.metadata["inputs"]["estates"]["rows"], run.metadata["options"]["mode"]
    (150, 'straight')
    """
    params = params if params is not None else Params.from_standard(standard)
    cov = living_circle(estates, services, standard, streets=streets, gates=gates,
                        mode=mode,  # type: ignore[arg-type]
                        crs=crs, node_crossings=node_crossings,
                        progress=progress if progress is not None else False,
                        **params.coverage_values())
    record = run_record("coverage", standard, params,
                        {"estates": estates, "services": services, "streets": streets,
                         "gates": gates}, crs=cov.analysis_crs,
                        options={"mode": mode, "node_crossings": node_crossings})
    return CoverageRun(cov, record)


def units_run(estates: gpd.GeoDataFrame, standard: Standard, params: Params | None = None, *,
              barriers: gpd.GeoDataFrame | None = None,
              barrier_layers: list[tuple[str, gpd.GeoDataFrame]] | None = None,
              barrier_min_width_m: float | None = None, decisions: Any = None,
              include_extended: bool = False, assume_unknown_eligible: bool = False,
              constraints: list[Constraint] | None = None) -> UnitsRun:
    """Eligibility, neighbour links and combined units (`gis.units.renovation_units`)
    with the gap, facing length, caps and barrier road classes from ``params``.

    Parameters
    ----------
    estates : GeoDataFrame
        Prepared estates (`gis.layers.read_estates`, `gis.prepare.prepare_estates`).
    standard : Standard
    params : Params, optional
        Default: `Params.from_standard(standard)`.
    barriers : GeoDataFrame, optional
        Barrier features already selected (any CRS).
    barrier_layers : list of (source name, GeoDataFrame), optional
        Prepared barrier layers (`gis.layers.read_barriers`): the features of
        ``params.barrier_classes`` (or at least ``barrier_min_width_m`` wide) keep
        estates apart (`gis.adjacency.select_barriers`); the result says how many links
        each layer kept apart, with a note per layer.
    decisions, include_extended, assume_unknown_eligible
        As in `gis.units.renovation_units`.
    constraints : list of Constraint, optional
        Given (even empty), the units are also reviewed against these constraint layers
        (`review_run`) in the estates' metric CRS; the record is then the review's.

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> run = units_run(read_estates(demo_folder() / "estates.gpkg"), load_standard(None))
    >>> len(run.units.units), int(run.assessed["eligible"].sum()), run.metadata["params"]["gap_m"]
    (48, 85, 15.0)
    """
    params = params if params is not None else Params.from_standard(standard)
    infos: list[BarrierLayer] = []
    notes: list[Any] = []
    skipped: list[dict[str, Any]] = []
    parts = [] if barriers is None else [barriers.to_crs(estates.crs)]
    for source, layer in barrier_layers or ():
        notes.extend(layer.attrs.get("notes", []))
        skipped.extend(layer.attrs.get("skipped", []))
        chosen, info = select_barriers(layer, source=source, road_classes=params.barrier_classes,
                                       min_width_m=barrier_min_width_m)
        parts.append(chosen.to_crs(estates.crs))
        infos.append(info)
    selected = pd.concat(parts, ignore_index=True) if parts else None
    units, assessed = renovation_units(
        estates, standard, include_extended=include_extended, gap_m=params.gap_m,
        min_facing_m=params.min_facing_m, barriers=selected, caps=UnitCaps(**params.caps()),
        decisions=decisions, assume_unknown_eligible=assume_unknown_eligible)
    record = run_record("units", standard, params, {"estates": estates, "barriers": selected},
                        crs=estates.crs,
                        options={"include_extended": include_extended,
                                 "assume_unknown_eligible": assume_unknown_eligible,
                                 "decisions": decisions is not None})
    blocked = blocked_by_layer(units.links, infos) if infos else {}
    notes.extend(barrier_notes(infos, blocked))
    review = None
    if constraints is not None:
        metric = metric_crs(estates)
        review = review_run(to_metric(units.units, metric), constraints, None, params, crs=metric)
        # What reading the constraint layers noted or set aside belongs to this run's
        # record too (each adapter used to gather it itself).
        for c in constraints:
            notes.extend(c.layer.attrs.get("notes", []))
            skipped.extend(c.layer.attrs.get("skipped", []))
        record = {**record, "workflow": "review", "review_inputs": review.metadata["inputs"]}
    return UnitsRun(units, assessed, record, infos, blocked, notes, skipped, review)


def review_run(units: gpd.GeoDataFrame, constraints: list[Constraint], standard: Standard | None,
               params: Params | None = None, *, crs: Any = None) -> ReviewRun:
    """Check units against constraint layers (`gis.review.check_units`) with the tree and
    overlap numbers from ``params``, in the metric ``crs`` (default: the units' CRS when
    metric, else `gis.crs.metric_crs` of the units); layers in another CRS are
    reprojected to it.

    Examples
    --------
    >>> from gis.constraints import read_constraint
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> run = units_run(read_estates(demo_folder() / "estates.gpkg"), load_standard(None))
    >>> trees = read_constraint(demo_folder() / "ancient_trees.gpkg", "ancient_tree")
    >>> review = review_run(run.units.units, [trees], None)
    >>> len(review.checks), len(review.conflicts), review.metadata["crs"]
    (48, 6, 'EPSG:4548')
    """
    params = params if params is not None else Params.from_standard(standard)
    metric = crs if crs is not None else metric_crs(units)
    units = to_metric(units, metric)
    constraints = [Constraint(c.kind, to_metric(c.layer, metric), c.source) for c in constraints]
    checks, conflicts = check_units(units, constraints, tree_default_crown_m=params.tree_crown_m,
                                    tree_margin_m=params.tree_margin_m,
                                    min_overlap_m2=params.min_overlap_m2)
    record = run_record("review", standard, params,
                        {"units": units, **{c.kind: c.layer for c in constraints}},
                        crs=units.crs)
    return ReviewRun(checks, conflicts, record, constraints)


def siting_run(estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame, standard: Standard,
               params: Params | None = None, *, demands: list[tuple[str, int | None]],
               streets: gpd.GeoDataFrame | None = None, gates: gpd.GeoDataFrame | None = None,
               candidates: tuple[Any, ...] | list[Any] = ("network", "estates"),
               coverage: Coverage | None = None, crs: Any = None,
               node_crossings: bool | str | None = "auto", solver: str = "auto",
               use_capacity: bool = False,
               progress: bool | Progress | None = None) -> SitingRun:
    """New facility sites closing the living-circle gaps: the coverage (`coverage_run`,
    unless ``coverage`` is given), the candidates (`gis.candidates.gather_candidates`,
    study area: the estates' hull grown by the longest threshold sited), and the choice
    (`gis.siting.site_facilities`), every number from ``params``.

    Parameters
    ----------
    estates, services, streets, gates : GeoDataFrame
        Prepared layers, as for `coverage_run` (streets are required: siting needs
        walking distances).
    standard : Standard
    params : Params, optional
        Default: `Params.from_standard(standard)`; ``spacing_m`` and ``time_limit_s``
        are the siting's own.
    demands : list of (category key, k)
        ``k`` sites newly covering the most households (MCLP), or ``None`` for the
        fewest sites covering every reachable gap (LSCP).
    candidates : sequence
        ``"network"``, ``"estates"`` and/or frames from `gis.candidates.read_candidates`.
    coverage : Coverage, optional
        A coverage already measured on these layers (the demo's), not measured again.
    crs, node_crossings, progress
        As in `coverage_run`.
    solver, use_capacity
        As in `gis.siting.site_facilities`.

    Raises
    ------
    InputError
        A category the standard does not have (before any work), and as
        `gis.siting.site_facilities`.

    Examples
    --------
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> std, demo = load_standard(None), demo_folder()
    >>> run = siting_run(read_estates(demo / "estates.gpkg"),
    ...                  read_services(demo / "services.gpkg", std), std,
    ...                  streets=read_streets(demo / "streets.gpkg"), node_crossings=False,
    ...                  demands=[("charging", 2)])
    >>> r = run.siting.summary.iloc[0]
    >>> int(r.sites), int(r.estates_covered_before), int(r.estates_covered_after)
    (2, 130, 150)
    >>> run.metadata["workflow"], run.metadata["options"]["demands"]
    ('siting', [['charging', 2]])
    """
    params = params if params is not None else Params.from_standard(standard)
    for c, _ in demands:
        standard.category(c)  # an unknown key stops here, naming the standard's keys
    if coverage is None:
        coverage = coverage_run(estates, services, standard, params, streets=streets,
                                gates=gates, crs=crs, node_crossings=node_crossings,
                                progress=progress).coverage
    sources = list(candidates) or ["network", "estates"]
    chosen = gather_candidates(
        sources, estates=coverage.estates, streets=coverage.streets,
        analysis_crs=coverage.analysis_crs,
        reach_m=max((standard.category(c).walk_m for c, _ in demands), default=0.0),
        spacing_m=params.spacing_m)
    siting = site_facilities(coverage, chosen, demands, gates=gates,
                             access_radius_m=params.access_radius_m, solver=solver,  # type: ignore[arg-type]
                             time_limit_s=params.time_limit_s, use_capacity=use_capacity)
    files = [s for s in sources if isinstance(s, gpd.GeoDataFrame)]
    record = run_record(
        "siting", standard, params,
        {"estates": estates, "services": services, "streets": streets, "gates": gates,
         **{f"candidates_{i + 1}": f for i, f in enumerate(files)}},
        crs=coverage.analysis_crs,
        options={"demands": [[c, k] for c, k in demands],
                 "candidates": [s if isinstance(s, str)
                                else s.attrs.get("source_name", "candidates") for s in sources],
                 "solver": solver, "use_capacity": use_capacity,
                 "node_crossings": node_crossings})
    return SitingRun(siting, record)


def worst_gaps(coverage: Coverage, n: int = 3) -> list[str]:
    """The ``n`` category keys leaving the most households uncovered (those with any),
    most first: what the demo sites.

    Examples
    --------
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> std, demo = load_standard(None), demo_folder()
    >>> run = coverage_run(read_estates(demo / "estates.gpkg"),
    ...                    read_services(demo / "services.gpkg", std), std,
    ...                    streets=read_streets(demo / "streets.gpkg"), node_crossings=False)
    >>> worst_gaps(run.coverage)
    ['charging', 'parking', 'toilet']
    """
    est = coverage.estates
    hh = est["households"].fillna(0).to_numpy()
    lacking = sorted(((float(hh[~est[f"covered_{k}"].to_numpy(bool)].sum()), k)
                      for k in coverage.standard.keys), reverse=True)
    return [k for h, k in lacking[:n] if h > 0]


def saved_coverage(estates: gpd.GeoDataFrame, services: gpd.GeoDataFrame, standard: Standard,
                   record: dict[str, Any] | None = None, *,
                   streets: gpd.GeoDataFrame | None = None,
                   with_streets: bool = False) -> Coverage:
    """A `Coverage` rebuilt from a saved ``coverage.gpkg`` (its estates and services
    layers) to draw it again, with the numbers of the run that wrote it: the search
    factor, the CRS measured in and, given the same ``streets``, the walking graph
    noded and split as that run did (``record`` from `read_metadata`; a file written
    without one gets the `Params` defaults and the data's metric CRS). ``with_streets``
    keeps the street lines too (their classes draw the offline data basemap).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> from gis.layers import read_estates, read_services
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> std, demo = load_standard(None), demo_folder()
    >>> run = coverage_run(read_estates(demo / "estates.gpkg"),
    ...                    read_services(demo / "services.gpkg", std), std,
    ...                    Params(search_factor=3.0), mode="straight")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "coverage.gpkg"
    ...     run.coverage.estates.to_file(path, layer="estates")
    ...     write_metadata(path, run.metadata)
    ...     cov = saved_coverage(gpd.read_file(path, layer="estates"), run.coverage.services,
    ...                          std, read_metadata(path))
    >>> cov.search_factor, cov.mode, cov.analysis_crs.to_string()
    (3.0, 'straight', 'EPSG:4548')
    """
    from pyproj import CRS

    record = record or {}
    params = Params().with_(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in (record.get("params") or {}).items()
                               if k in Params.__dataclass_fields__})
    metric = CRS(record["crs"]) if record.get("crs") else metric_crs(estates)
    graph = None
    if streets is not None:
        noding = (record.get("options") or {}).get("node_crossings", "auto")
        graph, _ = walk_graph(to_metric(streets, metric), noding, max_edge_m=params.max_edge_m,
                              vertex_snap_m=params.vertex_snap_m)
    mode = str(estates["dist_mode"].iloc[0]) if "dist_mode" in estates and len(estates) \
        else "network"
    return Coverage(estates=estates, services=services, standard=standard,
                    mode=mode,  # type: ignore[arg-type]
                    analysis_crs=metric, search_factor=float(params.search_factor), graph=graph,
                    streets=to_metric(streets, metric) if streets is not None and with_streets
                    else None)


def record_rows(record: dict[str, Any], lang: str | None = None) -> list[tuple[str, str]]:
    """The run record as key/value text rows (the XLSX 运行记录 sheet): nested keys
    joined by ``.``, strings as they are, every other value as JSON; ``json.loads`` of a
    non-string value gives back the value `read_metadata` reads from the GeoPackage.
    With ``lang``, the standard's name in the other language is left out (an English
    report names it in English only).

    Examples
    --------
    >>> rows = record_rows({"workflow": "units", "params": {"gap_m": 15.0,
    ...                     "barrier_classes": ["主干路"]}, "crs": None})
    >>> rows
    [('workflow', 'units'), ('params.gap_m', '15.0'), ('params.barrier_classes', '["主干路"]'), ('crs', 'null')]
    """
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            rows.append((prefix, value if isinstance(value, str)
                         else json.dumps(value, ensure_ascii=False, default=str)))

    walk("", record)
    other = {"zh": "standard.name_en", "en": "standard.name_zh"}.get(lang or "")
    return [(k, v) for k, v in rows if k != other]


def write_metadata(path: str | Path, record: dict[str, Any]) -> None:
    """Add (or replace) the ``gis_metadata`` table of a GeoPackage: one row per key, the
    value as JSON text (nested values stay JSON).

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> import pyogrio
    >>> import shapely
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "units.gpkg"
    ...     gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[shapely.box(0, 0, 1, 1)],
    ...                      crs="EPSG:4548").to_file(path, layer="units")
    ...     write_metadata(path, {"workflow": "units", "params": {"gap_m": 15.0}})
    ...     sorted(str(n) for n in pyogrio.list_layers(path)[:, 0])
    ['gis_metadata', 'units']
    """
    import pyogrio

    rows = pd.DataFrame({"key": list(record),
                         "value": [json.dumps(v, ensure_ascii=False, default=str)
                                   for v in record.values()]})
    pyogrio.write_dataframe(rows, path, layer=METADATA_LAYER, driver="GPKG")


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The record `write_metadata` stored, or None for a file written without one (an
    older version of gis): callers then fall back to defaults and say so.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> import shapely
    >>> from gis.sources import demo_folder
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "units.gpkg"
    ...     gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[shapely.box(0, 0, 1, 1)],
    ...                      crs="EPSG:4548").to_file(path, layer="units")
    ...     write_metadata(path, {"workflow": "units", "params": {"gap_m": 15.0}})
    ...     read_metadata(path)
    {'workflow': 'units', 'params': {'gap_m': 15.0}}
    >>> read_metadata(demo_folder() / "estates.gpkg") is None  # written without a record
    True
    """
    import pyogrio

    try:
        if METADATA_LAYER not in {str(n) for n in pyogrio.list_layers(path)[:, 0]}:
            return None
        rows = pyogrio.read_dataframe(path, layer=METADATA_LAYER)
        return {str(k): json.loads(v) for k, v in zip(rows["key"], rows["value"])}
    except Exception:  # unreadable or hand-edited: treat as absent, never guess from it
        return None


def read_record_sheet(path: str | Path) -> dict[str, Any] | None:
    """The run record of an XLSX report (its 运行记录 / ``Run record`` sheet, see
    `record_rows`) as `read_metadata` gives it, or None for a workbook without one (an
    older version, a hand-made sheet). Text that is not JSON stays text.

    Examples
    --------
    >>> import tempfile
    >>> import openpyxl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     book = openpyxl.Workbook()
    ...     ws = book.active
    ...     ws.title = "运行记录"
    ...     for row in [("项目", "值"), *record_rows({"workflow": "units",
    ...                                                 "params": {"gap_m": 20.0}})]:
    ...         ws.append(row)
    ...     book.save(Path(tmp) / "review.xlsx")
    ...     read_record_sheet(Path(tmp) / "review.xlsx")
    {'workflow': 'units', 'params': {'gap_m': 20.0}}
    """
    import openpyxl

    from gis.i18n import LANGS, tr

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook (a CSV of decisions): no record to read
        return None
    try:
        names = [tr("workflow.record_sheet", lang) for lang in LANGS]
        sheet = next((book[n] for n in names if n in book.sheetnames), None)
        if sheet is None:
            return None
        record: dict[str, Any] = {}
        for row in list(sheet.iter_rows(values_only=True))[1:]:
            if not row or row[0] is None:
                continue
            value: Any = row[1] if len(row) > 1 else None
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            *heads, last = str(row[0]).split(".")
            node = record
            for h in heads:
                node = node.setdefault(h, {})
            node[last] = value
        return record
    finally:
        book.close()
