"""Workflows: one analysis step on prepared frames in memory, with a record of the run.

Each ``*_run`` takes layers already prepared (`gis.prepare`, or `gis.layers`' readers), a
`Standard` and `Params`, calls the analysis and returns a small picklable result that
carries a metadata record: the parameters, the standard, the analysis CRS, fingerprints
of the inputs, the version and the time. No file is read or written here: the CLI (and
later QGIS or a cluster) read, call a workflow, and write; the writers store the record
in every output (`write_metadata`: a ``gis_metadata`` table in a GeoPackage) and `gis map`
reads it back (`read_metadata`) instead of guessing.
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

from gis.coverage import Coverage, living_circle
from gis.params import Params
from gis.review import Constraint, check_units
from gis.standards import Standard
from gis.units import UnitCaps, Units, renovation_units

__all__ = ["CoverageRun", "ReviewRun", "UnitsRun", "coverage_run", "fingerprint",
           "read_metadata", "review_run", "run_record", "units_run", "write_metadata"]

METADATA_LAYER = "gis_metadata"
Progress = Callable[[int, int, str], Any]


@dataclass
class CoverageRun:
    """`coverage` (a `gis.coverage.Coverage`) and the run's ``metadata`` record."""

    coverage: Coverage
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitsRun:
    """`units` (`gis.units.Units`), ``assessed`` estates and the ``metadata`` record."""

    units: Units
    assessed: gpd.GeoDataFrame
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReviewRun:
    """Per-unit ``checks``, the ``conflicts`` and the ``metadata`` record."""

    checks: pd.DataFrame
    conflicts: gpd.GeoDataFrame
    metadata: dict[str, Any] = field(default_factory=dict)


def fingerprint(gdf: pd.DataFrame | None) -> dict[str, Any] | None:
    """Rows, source name and a SHA-256 of a layer's attributes (as text) and geometry
    (WKB): the same frame always gives the same digest, any changed value another."""
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
    """The metadata record every output stores (plain JSON-able values)."""
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
              barriers: gpd.GeoDataFrame | None = None, decisions: Any = None,
              include_extended: bool = False,
              assume_unknown_eligible: bool = False) -> UnitsRun:
    """Eligibility, neighbour links and combined units (`gis.units.renovation_units`)
    with the gap, facing length and caps from ``params``."""
    params = params if params is not None else Params.from_standard(standard)
    units, assessed = renovation_units(
        estates, standard, include_extended=include_extended, gap_m=params.gap_m,
        min_facing_m=params.min_facing_m, barriers=barriers, caps=UnitCaps(**params.caps()),
        decisions=decisions, assume_unknown_eligible=assume_unknown_eligible)
    record = run_record("units", standard, params, {"estates": estates, "barriers": barriers},
                        crs=estates.crs,
                        options={"include_extended": include_extended,
                                 "assume_unknown_eligible": assume_unknown_eligible,
                                 "decisions": decisions is not None})
    return UnitsRun(units, assessed, record)


def review_run(units: gpd.GeoDataFrame, constraints: list[Constraint], standard: Standard | None,
               params: Params | None = None) -> ReviewRun:
    """Check units (in a metric CRS) against constraint layers in that CRS
    (`gis.review.check_units`) with the tree and overlap numbers from ``params``."""
    params = params if params is not None else Params.from_standard(standard)
    checks, conflicts = check_units(units, constraints, tree_default_crown_m=params.tree_crown_m,
                                    tree_margin_m=params.tree_margin_m,
                                    min_overlap_m2=params.min_overlap_m2)
    record = run_record("review", standard, params,
                        {"units": units, **{c.kind: c.layer for c in constraints}},
                        crs=units.crs)
    return ReviewRun(checks, conflicts, record)


def write_metadata(path: str | Path, record: dict[str, Any]) -> None:
    """Add (or replace) the ``gis_metadata`` table of a GeoPackage: one row per key, the
    value as JSON text (nested values stay JSON)."""
    import pyogrio

    rows = pd.DataFrame({"key": list(record),
                         "value": [json.dumps(v, ensure_ascii=False, default=str)
                                   for v in record.values()]})
    pyogrio.write_dataframe(rows, path, layer=METADATA_LAYER, driver="GPKG")


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The record `write_metadata` stored, or None for a file written without one (an
    older version of gis): callers then fall back to defaults and say so."""
    import pyogrio

    try:
        if METADATA_LAYER not in {str(n) for n in pyogrio.list_layers(path)[:, 0]}:
            return None
        rows = pyogrio.read_dataframe(path, layer=METADATA_LAYER)
        return {str(k): json.loads(v) for k, v in zip(rows["key"], rows["value"])}
    except Exception:  # unreadable or hand-edited: treat as absent, never guess from it
        return None
