"""Many cities at once: one coverage run per city as dask.distributed tasks, and a summary.

A manifest (CSV/XLSX, one row per city or district) names each city's layers. Each city
is one task: it reads its layers, runs `gis.coverage.living_circle` (or
`gis.tiles.living_circle_tiled` when the row gives ``tile_m``) with parameters that travel
inside the task (`gis.tiles.CoverageParams`: no `gis.settings` is read on a worker), and
writes its outputs into ``OUT/<code>/`` all together or not at all. A city whose data are
broken is reported with its one-line error while the others finish. A worker that dies
mid-task loses nothing: dask runs the task again elsewhere.

Re-runs skip a city whose inputs (file contents, or table contents in PostGIS) and
parameters have the fingerprint recorded in its ``run.json``.

The summary (``summary.xlsx``, ``summary.md``, ``summary_map.html``) has one row per city:
estates, households, coverage rate per category by estates and by households, gaps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gis.errors import GisError, InputError
from gis.i18n import tr
from gis.standards import Standard, load_standard
from gis.text import id_text
from gis.tiles import CoverageParams

__all__ = [
    "CityResult",
    "CityTask",
    "read_manifest",
    "run_batch",
    "run_city",
    "summary_map",
    "summary_table",
    "write_summary",
]

logger = logging.getLogger(__name__)

#: Manifest columns and the names accepted for them.
MANIFEST_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "城市", "名称", "城市名称", "区县", "city", "district"),
    "code": ("code", "代码", "编码", "行政区划代码", "区划代码", "adcode"),
    "estates": ("estates", "小区", "小区边界"),
    "services": ("services", "设施", "设施点"),
    "streets": ("streets", "路网", "道路"),
    "gates": ("gates", "出入口", "小区出入口"),
    "standard": ("standard", "标准"),
    "mode": ("mode", "模式"),
    "input_crs": ("input_crs", "坐标系"),
    "tile_m": ("tile_m", "分块", "分块米"),
    "districts": ("districts", "分区", "区划"),
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RUN_FILE = "run.json"


@dataclass(frozen=True)
class CityTask:
    """Everything one city's run needs; sent whole to a worker.

    Layer sources are absolute paths or PostGIS URLs. ``fingerprint`` is computed on the
    client before the task is sent.
    """

    code: str
    name: str
    estates: str
    services: str
    streets: str | None
    gates: str | None
    standard: Standard
    params: CoverageParams
    out_dir: str
    input_crs: str | None = None
    tile_m: float | None = None
    lang: str = "zh"
    make_map: bool = False
    units: bool = True
    districts: str | None = None
    fingerprint: str = ""


@dataclass
class CityResult:
    """What a city task reports back (small: the outputs stay in the city's folder)."""

    code: str
    name: str
    status: str  # "done", "unchanged" or "failed"
    message: str = ""
    seconds: float = 0.0
    estates: int = 0
    households: float = math.nan
    estates_with_gaps: int = 0
    gaps: int = 0
    score: float = math.nan
    eligible: int = 0
    units: int | None = None
    joint_units: int | None = None
    rates: dict[str, dict[str, float]] = field(default_factory=dict)
    lonlat: tuple[float, float] | None = None
    outputs: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# manifest


def read_manifest(
    path: str | Path,
    *,
    out_dir: str | Path,
    standard: str | None = None,
    params: CoverageParams | None = None,
    tile_m: float | None = None,
    lang: str = "zh",
    make_map: bool = False,
    encoding: str | None = None,
) -> list[CityTask]:
    """Read a manifest into one `CityTask` per row.

    Relative layer paths are taken from the manifest's folder; a cell may hold a PostGIS
    source (``postgresql://…#schema.table``). Options given here apply to every row that
    leaves the column blank.

    Raises
    ------
    InputError
        Missing columns, blank or duplicate codes, codes unusable as folder names, layer
        files that do not exist, a bad mode or tile size. One line naming rows and fix.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> demo = demo_folder()
    >>> tmp = tempfile.TemporaryDirectory()
    >>> small = Path(tmp.name) / "estates_20.gpkg"  # a small town: the demo's first 20 estates
    >>> gpd.read_file(demo / "estates.gpkg", rows=20).to_file(small)
    >>> manifest = Path(tmp.name) / "cities.csv"
    >>> _ = manifest.write_text("城市,代码,小区,设施,模式\\n"
    ...                         f"示范县,320700,{small},{demo / 'services.gpkg'},straight\\n",
    ...                         encoding="utf-8")
    >>> tasks = read_manifest(manifest, out_dir=Path(tmp.name) / "out")
    >>> [(t.code, t.name, Path(t.estates).name, t.streets, t.params.mode) for t in tasks]
    [('320700', '示范县', 'estates_20.gpkg', None, 'straight')]
    >>> _ = manifest.write_text("name,code,estates,services\\nA,1,a.gpkg,b.gpkg\\n")
    >>> read_manifest(manifest, out_dir=Path(tmp.name) / "out")
    Traceback (most recent call last):
    gis.errors.InputError: .../cities.csv: row 2 has no streets layer; fill it in.
    >>> tmp.cleanup()
    """
    from gis.layers import find_field, read_table, rows_phrase

    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such manifest file. Give a CSV/XLSX with one row per city."
        raise InputError(msg)
    df, _ = read_table(path, encoding=encoding)
    cols = {}
    for key, aliases in MANIFEST_FIELDS.items():
        found = find_field(df.columns, aliases)
        if found is not None:
            cols[key] = found
    missing = [k for k in ("name", "code", "estates", "services") if k not in cols]
    if missing:
        msg = (f"{path}: the manifest lacks column(s) {', '.join(missing)}; it needs name (城市), "
               "code (代码), estates (小区), services (设施) and streets (路网) per city.")
        raise InputError(msg)
    table = pd.DataFrame({k: df[c] for k, c in cols.items()})
    table = table.astype(object).where(table.notna(), None)

    def text(v: Any) -> str | None:
        if v is None:
            return None
        s = str(v).strip()
        if s.endswith(".0") and s[:-2].isdigit():
            s = s[:-2]  # codes read as numbers by Excel
        return s or None

    codes = [text(v) for v in table["code"]]
    blank = [i for i, c in enumerate(codes) if c is None]
    if blank:
        msg = f"{path}: {rows_phrase([i + 2 for i in blank], 'have')} no code (代码); fill it in."
        raise InputError(msg)
    bad = [i for i, c in enumerate(codes) if not _CODE.match(c or "")]
    if bad:
        msg = (f"{path}: {rows_phrase([i + 2 for i in bad], 'have')} a code that cannot name a "
               "folder (use letters, digits, '-', '_' or '.', e.g. 320700).")
        raise InputError(msg)
    seen: dict[str, int] = {}
    for i, c in enumerate(codes):
        if c in seen:
            msg = (f"{path}: rows {seen[c] + 2} and {i + 2} share the code {c}; each city needs "
                   "its own code (its output folder).")
            raise InputError(msg)
        seen[c] = i
    base = params or CoverageParams.resolve()
    std_cache: dict[str | None, Standard] = {}
    tasks = []
    for i, row in enumerate(table.to_dict("records")):
        line = i + 2

        def source(key: str, *, required: bool, row: dict = row, line: int = line) -> str | None:
            value = text(row.get(key))
            if value is None:
                if required:
                    msg = f"{path}: row {line} has no {key} layer; fill it in."
                    raise InputError(msg)
                return None
            if value.startswith(("postgresql://", "postgres://")):
                return value
            p = Path(value)
            p = p if p.is_absolute() else path.parent / p
            from gis.layers import split_layer

            if not split_layer(p)[0].exists():
                msg = f"{path}: row {line}: {key} file {value} does not exist; fix the path."
                raise InputError(msg)
            return str(p)

        mode = text(row.get("mode")) or base.mode
        if mode not in ("network", "straight"):
            msg = f"{path}: row {line}: mode {mode!r}; use network or straight."
            raise InputError(msg)
        streets = source("streets", required=mode == "network")
        std_name = text(row.get("standard")) or standard
        if std_name not in std_cache:
            std_cache[std_name] = load_standard(std_name)
        row_tile = text(row.get("tile_m"))
        try:
            tm = float(row_tile) if row_tile is not None else tile_m
        except ValueError:
            tm = -1.0
        if tm is not None and not tm > 0:
            msg = f"{path}: row {line}: tile_m {row_tile!r} is not a positive number of metres."
            raise InputError(msg)
        code = codes[i] or ""
        tasks.append(CityTask(
            code=code, name=text(row["name"]) or code,
            estates=source("estates", required=True) or "",
            services=source("services", required=True) or "",
            streets=streets, gates=source("gates", required=False),
            standard=std_cache[std_name], params=replace(base, mode=mode),
            out_dir=_city_out(out_dir, code), input_crs=text(row.get("input_crs")),
            tile_m=tm, lang=lang, make_map=make_map,
            districts=source("districts", required=False),
        ))
    return tasks


def _city_out(out_dir: str | Path, code: str) -> str:
    """``OUT/<code>`` for a folder; a PostGIS target (``postgresql://…#schema``) as is,
    the city's tables then being prefixed ``city_<code>_``."""
    from gis.postgis import is_postgis

    return str(out_dir) if is_postgis(str(out_dir)) else str(Path(out_dir) / code)


def table_prefix(code: str) -> str:
    """Prefix of a city's tables in a PostGIS target: ``city_<code>_``."""
    return "city_" + re.sub(r"\W", "_", code) + "_"


# ---------------------------------------------------------------------------
# fingerprints


def source_digest(source: str) -> str:
    """SHA-256 of a layer's content: the file's bytes (a Shapefile's sidecar files too),
    or the rows of a PostGIS table or query."""
    if source.startswith(("postgresql://", "postgres://")):
        from gis.postgis import table_digest

        return table_digest(source)
    from gis.layers import split_layer

    p, layer = split_layer(source)
    h = hashlib.sha256(str(layer).encode())
    files = sorted(p.parent.glob(p.stem + ".*")) if p.suffix.lower() == ".shp" else [p]
    for f in files:
        h.update(f.name.encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def fingerprint(task: CityTask) -> str:
    """One hash of the inputs' contents, the parameters, the standard and the tool version."""
    try:
        from importlib.metadata import version

        tool = version("gis-estate-renewal")
    except Exception:  # not installed: the source tree's version is unknown
        tool = "source"
    parts = {
        "tool": tool,
        "params": task.params.as_dict(),
        "standard": [(c.key, c.walk_m) for c in task.standard.categories],
        "input_crs": task.input_crs, "tile_m": task.tile_m, "lang": task.lang,
        "map": task.make_map, "units": task.units,
        "inputs": {k: source_digest(v) for k in ("estates", "services", "streets", "gates",
                                                  "districts") if (v := getattr(task, k))},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def previous_result(task: CityTask) -> CityResult | None:
    """The recorded result of an earlier run with the same fingerprint, if its outputs
    are all still there."""
    from gis.postgis import is_postgis, last_run

    if is_postgis(task.out_dir):
        record = last_run(task.out_dir, code=task.code)
        if record is None or record.get("fingerprint") != task.fingerprint:
            return None
    else:
        path = Path(task.out_dir) / RUN_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("fingerprint") != task.fingerprint or record.get("status") != "done":
            return None
        if not all((Path(task.out_dir) / name).is_file() for name in record.get("outputs", [])):
            return None
    result = CityResult(**{k: v for k, v in record["result"].items()
                           if k in CityResult.__dataclass_fields__})
    result.status = "unchanged"
    result.name = task.name
    result.lonlat = tuple(result.lonlat) if result.lonlat else None  # type: ignore[assignment]
    return result


# ---------------------------------------------------------------------------
# one city (runs on a worker)


def run_city(task: CityTask) -> CityResult:
    """Run one city and write its outputs into ``task.out_dir`` atomically.

    Never raises for bad data: a `GisError` (or any other failure) comes back as a
    ``failed`` result with a one-line message, so the other cities go on.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> demo = demo_folder()
    >>> tmp = tempfile.TemporaryDirectory()
    >>> small = Path(tmp.name) / "estates_20.gpkg"  # a small town: the demo's first 20 estates
    >>> gpd.read_file(demo / "estates.gpkg", rows=20).to_file(small)
    >>> manifest = Path(tmp.name) / "cities.csv"
    >>> _ = manifest.write_text("城市,代码,小区,设施,模式\\n"
    ...                         f"示范县,320700,{small},{demo / 'services.gpkg'},straight\\n",
    ...                         encoding="utf-8")
    >>> tasks = read_manifest(manifest, out_dir=Path(tmp.name) / "out")
    >>> r = run_city(tasks[0])  # in this process; `run_batch` sends it to a worker
    >>> r.status, r.estates, round(r.score, 3), r.units, r.outputs[:3]
    ('done', 20, 0.986, 8, ['coverage.csv', 'coverage.gpkg', 'gap_report.md'])
    >>> broken = run_city(replace(tasks[0], estates=str(demo / "gates.gpkg")))
    >>> broken.status, broken.message  # doctest: +ELLIPSIS
    ('failed', 'gates.gpkg: rows 1, 2, 3, 4, 5 … (88 in all) are Point, not polygons; ...')
    >>> tmp.cleanup()
    """
    t0 = time.perf_counter()
    try:
        return _run_city(task, t0)
    except GisError as err:
        return CityResult(code=task.code, name=task.name, status="failed", message=str(err),
                          seconds=time.perf_counter() - t0)
    except Exception as err:  # a bug, but one city's bug must not stop a province
        where = traceback.extract_tb(err.__traceback__)[-1]
        return CityResult(code=task.code, name=task.name, status="failed",
                          message=f"{type(err).__name__}: {err} ({Path(where.filename).name}:"
                                  f"{where.lineno})",
                          seconds=time.perf_counter() - t0)


def _run_city(task: CityTask, t0: float) -> CityResult:
    import warnings

    from gis.coverage import category_summary, gap_list
    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.report import write_coverage
    from gis.report._files import staged_outputs
    from gis.tiles import living_circle_tiled

    kw = {"input_crs": task.input_crs}
    with warnings.catch_warnings():
        # Warnings become the report's notes; a worker has no one to show them to.
        warnings.simplefilter("ignore", UserWarning)
        estates = read_estates(task.estates, **kw)
        services = read_services(task.services, task.standard, **kw)
        streets = read_streets(task.streets, **kw) if task.streets else None
        gates = read_gates(task.gates, estates, **kw) if task.gates else None
        if task.tile_m or task.districts:
            from gis.layers import read_layer

            districts = (read_layer(task.districts, role="districts", layer=None,
                                    input_crs=task.input_crs, encoding=None)[0]
                         if task.districts else None)
            cov = living_circle_tiled(estates, services, task.standard, streets=streets,
                                      gates=gates, tile_m=task.tile_m, params=task.params,
                                      districts=districts)
        else:
            cov = task.params.coverage(estates, services, task.standard, streets=streets,
                                       gates=gates)
    summary = category_summary(cov, lang=task.lang)
    est = cov.estates
    hh = est["households"]
    centre = est.geometry.union_all().centroid
    lonlat = None
    if not centre.is_empty:
        import geopandas as gpd

        pt = gpd.GeoSeries([centre], crs=est.crs).to_crs(4326).iloc[0]
        lonlat = (round(float(pt.x), 6), round(float(pt.y), 6))
    result = CityResult(
        code=task.code, name=task.name, status="done",
        estates=len(est), households=float(hh.sum()) if hh.notna().any() else math.nan,
        estates_with_gaps=int((est["coverage_score"] < 1).sum()),
        gaps=len(gap_list(cov, lang=task.lang)),
        score=float(est["coverage_score"].mean()) if len(est) else math.nan,
        rates={r["category"]: {"estate_rate": float(r["estate_rate"]),
                               "household_rate": float(r["household_rate"])}
               for r in summary.to_dict("records")},
        lonlat=lonlat,
    )
    units = None
    if task.units:
        from gis.eligibility import assess_eligibility
        from gis.units import renovation_units

        # Combined renovation units with the CLI's default rules, from the estates with
        # their coverage columns (so each unit lists its living-circle gaps). Without a
        # single eligible estate (e.g. no build years) there is nothing to group.
        assessed = assess_eligibility(cov.estates, task.standard)
        result.eligible = int(assessed["eligible"].sum())
        result.units = result.joint_units = 0
        if result.eligible:
            units, assessed = renovation_units(cov.estates, task.standard)
            result.units = len(units.units)
            result.joint_units = int((units.units["n_estates"] > 1).sum())
    record = {"fingerprint": task.fingerprint, "status": "done", "code": task.code,
              "params": task.params.as_dict(),
              "sources": {k: _safe_source(getattr(task, k))
                          for k in ("estates", "services", "streets", "gates")}}
    if task.out_dir.startswith(("postgresql://", "postgres://")):
        extra = {} if units is None else {"units": units.units, "unit_links": units.links}
        result.seconds = round(time.perf_counter() - t0, 3)
        result.outputs = list(write_coverage_postgis(
            cov, task.out_dir, lang=task.lang, prefix=table_prefix(task.code), extra=extra,
            run={**record, "result": asdict(result)}).values())
        return result
    with staged_outputs(task.out_dir) as stage:
        paths = write_coverage(cov, stage, lang=task.lang)
        if units is not None:
            from gis.report import write_units

            paths.update({f"units_{k}": v for k, v in
                          write_units(units, assessed, stage, lang=task.lang).items()})
        names = [Path(p).name for p in paths.values()]
        if task.make_map and cov.graph is not None:
            from gis.maps import coverage_map, write_map

            name = tr("batch.file.coverage_map", task.lang)
            write_map(coverage_map(cov, lang=task.lang), stage / name)
            names.append(name)
        result.seconds = round(time.perf_counter() - t0, 3)
        result.outputs = sorted(names)
        record.update({"outputs": result.outputs, "result": asdict(result),
                       "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        (stage / RUN_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    return result


def _safe_source(source: str | None) -> str | None:
    """A source as recorded: a PostGIS URL without its password."""
    if source and source.startswith(("postgresql://", "postgres://")):
        from gis.postgis import redact

        return redact(source)
    return source


# ---------------------------------------------------------------------------
# many cities


def run_batch(
    tasks: list[CityTask],
    *,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    on_city: Callable[[CityResult, int, int], None] | None = None,
) -> list[CityResult]:
    """Run every city on a dask.distributed cluster; results in manifest order.

    Parameters
    ----------
    tasks : list of CityTask
        From `read_manifest`.
    client : dask.distributed.Client, optional
        Use this client. Otherwise connect to ``scheduler`` (``tcp://host:8786``), or
        start a `LocalCluster` of ``workers`` single-threaded processes (default: one per
        CPU, at most one per city), closed at the end.
    force : bool, default False
        Run cities whose fingerprint is unchanged too.
    on_city : callable, optional
        ``on_city(result, done, total)`` as each city finishes (progress).

    Examples
    --------
    On a cluster of one in-process worker (a real run would pass ``scheduler`` or let
    ``run_batch`` start a `LocalCluster` of worker processes):

    >>> import tempfile
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> demo = demo_folder()
    >>> tmp = tempfile.TemporaryDirectory()
    >>> small = Path(tmp.name) / "estates_20.gpkg"  # a small town: the demo's first 20 estates
    >>> gpd.read_file(demo / "estates.gpkg", rows=20).to_file(small)
    >>> manifest = Path(tmp.name) / "cities.csv"
    >>> _ = manifest.write_text("城市,代码,小区,设施,模式\\n"
    ...                         f"示范县,320700,{small},{demo / 'services.gpkg'},straight\\n",
    ...                         encoding="utf-8")
    >>> tasks = read_manifest(manifest, out_dir=Path(tmp.name) / "out")
    >>> tasks = [replace(t, units=False) for t in tasks]  # coverage only: a faster example
    >>> from distributed import Client, LocalCluster
    >>> with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
    ...                   dashboard_address=None) as cluster, Client(cluster) as client:
    ...     first = run_batch(tasks, client=client)
    >>> again = run_batch(tasks)  # unchanged inputs: the recorded result, no cluster needed
    >>> [(r.code, r.status, r.estates) for r in first + again]
    [('320700', 'done', 20), ('320700', 'unchanged', 20)]
    >>> run_batch(tasks, scheduler="tcp://scheduler.example:8786", force=True)  # doctest: +SKIP
    >>> tmp.cleanup()
    """
    tasks = [replace(t, fingerprint=fingerprint(t)) for t in tasks]
    results: dict[str, CityResult] = {}
    todo = []
    for t in tasks:
        old = None if force else previous_result(t)
        if old is not None:
            results[t.code] = old
            if on_city:
                on_city(old, len(results), len(tasks))
        else:
            todo.append(t)
    if todo:
        own = None
        if client is None:
            own, client = _start_client(scheduler, workers, len(todo))
        try:
            from distributed import as_completed

            futures = {client.submit(run_city, t, key=f"city-{t.code}-{t.fingerprint[:12]}",
                                     pure=False, retries=2): t for t in todo}
            for fut in as_completed(futures):
                t = futures[fut]
                try:
                    r = fut.result()
                except Exception as err:  # e.g. KilledWorker after repeated worker deaths
                    r = CityResult(code=t.code, name=t.name, status="failed",
                                   message=f"{type(err).__name__}: {err}")
                results[t.code] = r
                if on_city:
                    on_city(r, len(results), len(tasks))
        finally:
            if own is not None:
                client.close()
                own.close()
    return [results[t.code] for t in tasks]


def _start_client(scheduler: str | None, workers: int | None, n_tasks: int) -> tuple[Any, Any]:
    import os

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return None, Client(scheduler, timeout="20s")
        except OSError as err:
            msg = f"`scheduler={scheduler}`: cannot reach the dask scheduler ({err})."
            raise GisError(msg) from err
    n = workers or max(1, min(os.cpu_count() or 1, n_tasks))
    # One thread per process: the work is numpy/scipy/GEOS, and processes keep a city's
    # memory apart and let a dying worker be replaced.
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0",
                           silence_logs=logging.ERROR)
    return cluster, Client(cluster)


# ---------------------------------------------------------------------------
# summary

#: Words of the summary (table columns, statuses, titles): ids ``batch.<word>``.
_WORDS = ("code", "name", "status", "estates", "households", "score", "with_gaps", "gaps",
          "seconds", "message", "estate_rate", "household_rate", "done", "unchanged", "failed",
          "title", "failed_head", "map_title", "legend", "total", "eligible", "units", "joint")
_BINS = [(0.9, "#1a9850"), (0.75, "#91cf60"), (0.6, "#fee08b"), (0.4, "#fc8d59"), (0.0, "#d73027")]


def summary_table(results: list[CityResult], standard: Standard, *,
                  lang: str = "zh") -> pd.DataFrame:
    """One row per city: counts, mean coverage and each category's rates (0–1).

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> std = load_standard("lianyungang_15min")
    >>> results = [CityResult("320700", "示范县", "done", seconds=1.2, estates=150,
    ...                       households=31203.0, estates_with_gaps=37, gaps=47, score=0.955,
    ...                       rates={"clinic": {"estate_rate": 0.967, "household_rate": 0.904}},
    ...                       lonlat=(119.2, 34.6)),
    ...            CityResult("999999", "坏数据县", "failed", message="duplicate ids")]
    >>> table = summary_table(results, std, lang="en")
    >>> table.columns[:6].tolist(), table["Status"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    (['Code', 'City/district', 'Status', 'Estates', 'Households', 'Mean coverage'],
     ['done', 'failed'])
    >>> zh = summary_table(results, std)
    >>> zh.columns[:4].tolist(), zh.iloc[0, :3].tolist(), float(zh.iloc[0]["户数"])
    (['代码', '城市/区县', '状态', '小区数'], ['320700', '示范县', '完成'], 31203.0)
    """
    t = _words(lang)
    rows = []
    for r in results:
        row: dict[str, Any] = {
            t["code"]: r.code, t["name"]: r.name, t["status"]: t[r.status],
            t["estates"]: r.estates if r.status != "failed" else None,
            t["households"]: r.households if r.status != "failed" else None,
            t["score"]: r.score if r.status != "failed" else None,
            t["with_gaps"]: r.estates_with_gaps if r.status != "failed" else None,
            t["gaps"]: r.gaps if r.status != "failed" else None,
            t["eligible"]: r.eligible if r.units is not None else None,
            t["units"]: r.units, t["joint"]: r.joint_units,
        }
        for c in standard.categories:
            rate = r.rates.get(c.key, {})
            row[f"{c.label(lang)} {t['estate_rate']}"] = rate.get("estate_rate")
            row[f"{c.label(lang)} {t['household_rate']}"] = rate.get("household_rate")
        row[t["seconds"]] = round(r.seconds, 2)
        row[t["message"]] = r.message
        rows.append(row)
    return pd.DataFrame(rows)


def write_summary(results: list[CityResult], standard: Standard, out_dir: str | Path, *,
                  lang: str = "zh", cities: Any = None) -> dict[str, Path]:
    """Write ``summary.xlsx``, ``summary.md`` and the city map, all together or not at all.

    ``cities``: optional GeoDataFrame of city polygons with a ``code`` column for the map.

    Examples
    --------
    >>> import tempfile
    >>> from gis.standards import load_standard
    >>> std = load_standard("lianyungang_15min")
    >>> results = [CityResult("320700", "示范县", "done", seconds=1.2, estates=150,
    ...                       households=31203.0, estates_with_gaps=37, gaps=47, score=0.955,
    ...                       rates={"clinic": {"estate_rate": 0.967, "household_rate": 0.904}},
    ...                       lonlat=(119.2, 34.6)),
    ...            CityResult("999999", "坏数据县", "failed", message="duplicate ids")]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_summary(results, std, tmp, lang="en")
    ...     md = paths["markdown"].read_text(encoding="utf-8")
    >>> {k: p.name for k, p in paths.items()}
    {'xlsx': 'summary_en.xlsx', 'markdown': 'summary_en.md', 'map': 'summary_map_en.html'}
    >>> md.splitlines()[2]
    'Total: 2 · done/unchanged (previous result kept): 1 · failed: 1 · Estates: 150'
    """
    from openpyxl import Workbook

    from gis.maps import write_map
    from gis.report._files import autofit, staged_outputs

    t = _words(lang)
    table = summary_table(results, standard, lang=lang)
    from gis.postgis import is_postgis, write_tables

    if is_postgis(str(out_dir)):
        plain = summary_table(results, standard, lang="en")
        plain.columns = [re.sub(r"\W+", "_", c.lower()).strip("_") for c in plain.columns]
        written = write_tables(str(out_dir), {"batch_summary": plain}, run={
            "command": "batch summary", "cities": len(results),
            "failed": [r.code for r in results if r.status == "failed"]})
        return {"summary": written[0]}  # type: ignore[dict-item]
    names = {"xlsx": tr("batch.file.summary_xlsx", lang),
             "markdown": tr("batch.file.summary_md", lang),
             "map": tr("batch.file.summary_map", lang)}
    with staged_outputs(out_dir) as stage:
        book = Workbook()
        ws = book.active
        ws.title = tr("batch.sheet", lang)
        ws.append(list(table.columns))
        for rec in table.itertuples(index=False):
            ws.append([_cell(v) for v in rec])
            for c in ws[ws.max_row]:
                if isinstance(c.value, str):
                    c.data_type = "s"  # text stays text: a name like "=1+1" is no formula
        rate_cols = [i + 1 for i, c in enumerate(table.columns)
                     if c == t["score"] or c.endswith((t["estate_rate"], t["household_rate"]))]
        for col in rate_cols:
            for cell in ws.iter_cols(min_col=col, max_col=col, min_row=2):
                for c in cell:
                    c.number_format = "0.0%"
        autofit(book)
        book.save(stage / names["xlsx"])
        (stage / names["markdown"]).write_text(_markdown(results, table, lang), encoding="utf-8")
        write_map(summary_map(results, lang=lang, cities=cities), stage / names["map"])
    return {k: Path(out_dir) / v for k, v in names.items()}


def _words(lang: str) -> dict[str, str]:
    """The summary's words in ``lang``, by key (`_WORDS`)."""
    return {k: tr(f"batch.{k}", lang) for k in _WORDS}


def _cell(v: Any) -> Any:
    """Numbers stay numbers; every text value is a text cell (never a formula)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v) if isinstance(v, (float, np.floating)) else int(v)
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", str(v))


def _markdown(results: list[CityResult], table: pd.DataFrame, lang: str) -> str:
    from gis.report._files import md_table

    t = _words(lang)

    def fmt(v: Any, col: str) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "—"
        if col == t["score"] or col.endswith((t["estate_rate"], t["household_rate"])):
            return f"{v:.1%}"
        if isinstance(v, float):
            return f"{v:,.0f}" if col != t["seconds"] else f"{v:.1f}"
        return str(v).replace("\n", " ")

    done = [r for r in results if r.status != "failed"]
    lines = [f"# {t['title']}", ""]
    lines.append(f"{t['total']}: {len(results)} · {t['done']}/{t['unchanged']}: {len(done)} · "
                 f"{t['failed']}: {len(results) - len(done)} · {t['estates']}: "
                 f"{sum(r.estates for r in done):,}")
    lines.append("")
    cols = list(table.columns)
    lines.append(md_table(cols, [[fmt(v, c) for v, c in zip(rec, cols)]
                                 for rec in table.itertuples(index=False)]))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        lines += ["", f"## {t['failed_head']}", ""]
        lines += [f"- {r.code} {r.name}: {r.message}".replace("\n", " ") for r in failed]
    return "\n".join(lines) + "\n"


def summary_map(results: list[CityResult], *, lang: str = "zh", cities: Any = None) -> Any:
    """Cities coloured by mean coverage: circles at their estates' centre, or the
    polygons of a ``cities`` layer (GeoDataFrame with a ``code`` column). Names reach the
    page only as text.

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> std = load_standard("lianyungang_15min")
    >>> results = [CityResult("320700", "示范县", "done", seconds=1.2, estates=150,
    ...                       households=31203.0, estates_with_gaps=37, gaps=47, score=0.955,
    ...                       rates={"clinic": {"estate_rate": 0.967, "household_rate": 0.904}},
    ...                       lonlat=(119.2, 34.6)),
    ...            CityResult("999999", "坏数据县", "failed", message="duplicate ids")]
    >>> page = summary_map(results, lang="en").get_root().render()
    >>> page.count('"type": "Point"'), "Mean living-circle coverage by city" in page
    (1, True)
    """
    import folium
    from folium.utilities import JsCode

    from gis.maps._page import JS_ESCAPE, GeoJson, leaflet_style, legend_html, new_page, title_html

    t = _words(lang)
    placed = [r for r in results if r.lonlat is not None and r.status != "failed"]
    shapes: dict[str, Any] = {}
    if cities is not None and len(cities):
        wgs = cities.to_crs(4326)
        shapes = {str(c): g for c, g in zip(wgs["code"], wgs.geometry.values) if g is not None}
    if placed:
        lon = [r.lonlat[0] for r in placed]  # type: ignore[index]
        lat = [r.lonlat[1] for r in placed]  # type: ignore[index]
        bounds = (min(lon) - 0.05, min(lat) - 0.05, max(lon) + 0.05, max(lat) + 0.05)
    else:
        bounds = (73.0, 18.0, 135.0, 54.0)  # China
    page = new_page(bounds, lang=lang)
    features = []
    for r in placed:
        colour = next(c for lo, c in _BINS if (r.score if r.score == r.score else 0) >= lo)
        shape = shapes.get(r.code)
        geometry = (shape.__geo_interface__ if shape is not None
                    else {"type": "Point", "coordinates": list(r.lonlat)})  # type: ignore[arg-type]
        features.append({
            "type": "Feature",
            "geometry": geometry,
            "properties": {"name": r.name, "code": r.code, "fill": colour,
                           "score": f"{r.score:.1%}", "estates": r.estates,
                           "gaps": r.estates_with_gaps},
        })
    words = json.dumps({"score": t["score"], "estates": t["estates"], "gaps": t["with_gaps"]},
                       ensure_ascii=False).replace("</", "<\\/")
    tip = JsCode(
        "function (f, l) { %s var W = %s, p = f.properties; l.bindTooltip('<b>' + gisEsc(p.name) "
        "+ '</b> (' + gisEsc(p.code) + ')<br>' + W.score + ': ' + gisEsc(p.score) + '<br>' + "
        "W.estates + ': ' + gisEsc(p.estates) + ' · ' + W.gaps + ': ' + gisEsc(p.gaps)); }"
        % (JS_ESCAPE.replace("\n", " "), words)
    )
    GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=t["map_title"],
        marker=folium.CircleMarker(radius=9),
        style=leaflet_style({"color": "#333", "weight": 1, "fillOpacity": 0.85},
                            fillColor="fill"),
        on_each_feature=tip,
    ).add_to(page.map)
    page.map.get_root().html.add_child(title_html(t["map_title"]))
    labels = ["≥ 90%", "75–90%", "60–75%", "40–60%", "< 40%"]
    page.map.get_root().html.add_child(
        legend_html(t["legend"], [(c, lab) for (_, c), lab in zip(_BINS, labels)]))
    return page.map


def read_cities(path: str, *, input_crs: Any = None) -> Any:
    """A polygon layer of cities for the summary map, keyed by its code (代码) column."""
    from gis.layers import find_field, read_layer

    gdf, _, src = read_layer(path, role="cities", layer=None, input_crs=input_crs, encoding=None)
    code = find_field(gdf.columns, MANIFEST_FIELDS["code"])
    if code is None:
        msg = f"{src}: the cities layer needs a code (代码) column matching the manifest's codes."
        raise InputError(msg)
    text = gdf[code].map(id_text)  # the one id rule: a code read as 320700.0 is 320700
    return gdf.assign(code=text)[["code", "geometry"]]


def describe(result: CityResult, lang: str = "zh") -> str:
    """One progress line for a city (names printed as plain text)."""
    t = _words(lang)
    if result.status == "failed":
        return f"{result.code} {result.name}: {t['failed']} — {result.message}"
    return (f"{result.code} {result.name}: {t[result.status]}, {result.estates} {t['estates']}, "
            f"{t['score']} {result.score:.1%} ({result.seconds:.1f} s)")


# ---------------------------------------------------------------------------
# PostGIS output of one coverage run


def write_coverage_postgis(cov: Any, target: str, *, lang: str = "zh",
                           sources: dict[str, str | None] | None = None, prefix: str = "coverage_",
                           extra: dict[str, Any] | None = None,
                           run: dict[str, Any] | None = None) -> dict[str, str]:
    """Write a coverage run into a PostGIS schema (``postgresql://…#schema``).

    Tables ``coverage_estates`` and ``coverage_services`` (geometry, source CRS, GiST
    index), ``coverage_gaps`` and ``coverage_summary``, and a row of ``gis_runs`` with the
    parameters and inputs (URLs without credentials), in one transaction.
    """
    from gis.coverage import category_summary, gap_list
    from gis.postgis import write_tables

    run = {
        "command": "coverage" if run is None else "batch", "mode": cov.mode,
        "search_factor": cov.search_factor,
        "analysis_crs": cov.analysis_crs.to_string(),
        "standard": {c.key: c.walk_m for c in cov.standard.categories},
        "inputs": {k: _safe_source(v) for k, v in (sources or {}).items()},
        "estates": len(cov.estates), "notes": [str(n) for n in cov.notes],
        **(run or {}),
    }
    tables = {"estates": cov.estates, "services": cov.services,
              "gaps": gap_list(cov, lang=lang), "summary": category_summary(cov, lang=lang),
              **(extra or {})}
    written = write_tables(target, {prefix + k: v for k, v in tables.items()}, run=run)
    return {name.split(".", 1)[1].removeprefix(prefix): name for name in written}
