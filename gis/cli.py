"""Command line: ``gis coverage``, ``gis demo``, ``gis standards``.

Thin by design: parse options, read layers, call one analysis, call one writer, print
the paths. A `GisError` prints its message and exits with status 2; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click

from gis.errors import GisError
from gis.i18n import tr

logger = logging.getLogger("gis")



def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FlagFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("gis")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gis-estate-renewal")
def cli() -> None:
    """城镇老旧小区改造 GIS 工具 — estate-renewal GIS toolkit.

    \b
    15分钟生活圈覆盖分析：每个小区步行可达哪些便民设施、最近多远、缺口影响多少户。
    Which of the 15-minute living-circle facilities can each estate's residents reach on
    foot, how far is the nearest, and which estates and households are left without.

    \b
    Start with:  gis demo            (bundled illustrative data → maps/)
    Then:        gis coverage --help  (your own estates, services and streets)
    """
    # Subcommands in other modules (gis programme) print library messages with flags too.
    click.get_current_context().meta["gis.as_flags"] = _as_flags


_common_layer_help = (
    "GeoPackage, GeoJSON, Shapefile (.shp or .zip), CSV/XLSX with lon/lat (经度/纬度), "
    ".osm or .osm.pbf"
)


def _map_options(func: Any) -> Any:
    """Basemap options shared by the commands that draw maps."""
    options = [
        click.option("--basemap", default="none", show_default=True, metavar="NAME|URL",
                     help="none (offline), osm, tianditu (needs --token), amap (data shifted to "
                          "GCJ-02 to line up), or an intranet tile URL with {z}/{x}/{y}."),
        click.option("--token", default=None, help="Key for the tianditu basemap (天地图 tk)."),
        click.option("--cdn", is_flag=True,
                     help="Link Leaflet from public CDNs instead of inlining it (smaller file, "
                          "needs internet to open)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# --- incomplete survey data (issue 18): options shared by coverage, units and review ---
def _invalid_option(func: Any) -> Any:
    """``--invalid stop|skip``: what to do with rows whose geometry cannot be repaired."""
    return click.option(
        "--invalid", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
        help="Rows of any layer whose geometry is missing or cannot be repaired (zero-area "
             "polygons, wrong geometry type): stop naming them, or skip them — left out, "
             "listed in the report and shown as not analysed (like QGIS's skip invalid "
             "features).")(func)


def _assume_option(func: Any) -> Any:
    """``--assume-unknown-eligible``: estates without a build year taken as eligible."""
    return click.option(
        "--assume-unknown-eligible", is_flag=True,
        help="Take estates without a build year (建成年份) as eligible; marked as ASSUMED in "
             "every output. Default: their eligibility is unknown and listed.")(func)


def _param_option(name: str, help: str, *, flag: str | None = None, type: Any = float,
                  metavar: str | None = None) -> Any:
    """An option setting the `gis.params.Params` field ``name``: no default of its own
    (unset, the standard's table or the `Params` default applies), the default and its
    table shown in the help from `Params` itself."""
    from dataclasses import fields

    from gis.params import Params

    f = next(f for f in fields(Params) if f.name == name)
    value = ",".join(f.default) if isinstance(f.default, tuple) else \
        "none" if f.default is None else f.default
    return click.option(
        flag or f"--{name.replace('_', '-')}", name, type=type, default=None,
        metavar=metavar or ("TEXT" if type is str else "NUMBER"),
        help=f"{help} [default: {value}{'' if f.default is None else ' ' + f.metadata['unit']}"
             f", or the standard's [{f.metadata['table']}] {name}]")


def _shared_options(*names: str) -> Any:
    """Options several commands share, declared once: ``lang``, ``verbosity`` (-v/-q),
    ``input_crs``, ``encoding``, ``standard``."""
    table = {
        "standard": [click.option(
            "--standard", default=None, metavar="NAME|FILE",
            help="Standard: a bundled name (see `gis standards`) or a TOML file (thresholds, "
                 "eligibility years, parameter tables). Default: lianyungang_15min.")],
        "input_crs": [click.option(
            "--input-crs", default=None, metavar="EPSG:N",
            help="CRS for input files that carry none (CSV lon/lat, Shapefile without .prj), "
                 "e.g. EPSG:4490 (CGCS2000) or EPSG:4326 (WGS84). Never guessed.")],
        "encoding": [click.option("--encoding", default=None,
                                  help="Attribute encoding if detection fails (e.g. gbk).")],
        "lang": [click.option("--lang", type=click.Choice(["zh", "en"]), default="zh",
                              show_default=True, help="Report and map language.")],
        "verbosity": [click.option("-v", "--verbose", count=True, help="More detail on stderr."),
                      click.option("-q", "--quiet", is_flag=True,
                                   help="Only warnings and errors.")],
    }

    def decorate(func: Any) -> Any:
        for option in reversed([o for n in names for o in table[n]]):
            func = option(func)
        return func

    return decorate


def _echo_summary(lines: list[str], lang: str) -> None:
    click.echo(tr("cli.summary_head", lang))
    for line in lines:
        click.echo(f"  {_as_flags(line)}")


def _data_basemap_options(func: Any) -> Any:
    """--data-basemap/--water/--boundary: the coverage map's offline basemap from the data."""
    options = [
        click.option("--data-basemap", is_flag=True,
                     help="Draw an offline basemap from the data: streets by class (道路等级), "
                          "--water and --boundary (default: the data's extent).",),
        click.option("--water", "water_path", type=click.Path(dir_okay=False),
                     help="Rivers and lakes (水系) for --data-basemap."),
        click.option("--boundary", "boundary_path", type=click.Path(dir_okay=False),
                     help="Study boundary (研究范围) for --data-basemap."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _data_basemap(o: dict[str, Any]) -> dict[str, Any]:
    """coverage_map's data-basemap arguments from the options (layers read here)."""
    if not o.get("data_basemap"):
        return {}
    from gis.constraints import read_constraint
    from gis.layers import read_barriers

    kw = {"input_crs": o.get("input_crs")}
    water = read_barriers(o["water_path"], **kw) if o.get("water_path") else None
    boundary = (read_constraint(o["boundary_path"], "development_boundary", **kw).layer
                if o.get("boundary_path") else None)
    return {"data_basemap": True, "water": water, "boundary": boundary}


@cli.command()
@click.option("--estates", "estates_path", required=True, type=click.Path(dir_okay=False),
              help=f"小区边界 estate polygons with 小区编号/estate_id. {_common_layer_help}.")
@click.option("--services", "services_path", required=True, type=click.Path(dir_okay=False),
              help="设施点 service points (类别/category column, or OSM tags / POI type text).")
@click.option("--streets", "streets_path", type=click.Path(dir_okay=False),
              help="步行路网 street centre-lines; required unless --mode straight.")
@click.option("--gates", "gates_path", type=click.Path(dir_okay=False),
              help="小区出入口 gate points with 小区编号/estate_id (optional).")
@_shared_options("standard")
@click.option("--crs", "analysis_crs", default=None, metavar="EPSG:N",
              help="Metric CRS to measure in. Default: the CGCS2000 3-degree Gauss-Krüger zone "
                   "of the data (UTM outside China), or the estates' own CRS if already metric.")
@_shared_options("input_crs")
@click.option("--mode", type=click.Choice(["network", "straight"]), default="network",
              show_default=True,
              help="network: walking distance along streets; straight: straight lines (labelled).")
@click.option("--node-crossings/--no-node-crossings", default=None,
              help="Join streets where lines cross without a shared vertex, or never. Default: "
                   "automatic, joined only when the layer is detectably unnoded (one line per "
                   "road), never for bridge/tunnel/layer features; every run warns with counts.")
@_param_option("gate_tolerance_m", "Largest distance of a gate from its estate's boundary; "
               "farther gates stop the run.", metavar="M")
@_shared_options("encoding")
@click.option("--coords", "coords", multiple=True, metavar="[LAYER=]SYSTEM",
              help="Coordinate system of lon/lat data: gcj02 (Amap/Gaode, Tencent exports), "
                   "bd09 (Baidu) are converted to WGS84; wgs84/cgcs2000 as they are. Per layer, "
                   "e.g. --coords services=gcj02; without LAYER= for every layer.")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder, or postgresql://…#schema for PostGIS tables.")
@_shared_options("lang")
@click.option("--map/--no-map", "make_map", default=True, show_default=True,
              help="Also write coverage_map.html.")
@click.option("--docx/--no-docx", "docx", default=True, show_default=True,
              help="Also write gap_report.docx (Word, with print-map figures).")
@_data_basemap_options
@_map_options
@_invalid_option
@_shared_options("verbosity")
def coverage(**opts: Any) -> None:
    """生活圈覆盖分析 — coverage of every estate by every facility category.

    \b
    Writes into --out:
      coverage.gpkg     estates with dist_m_<category> (metres), covered_<category>,
                        nearest_<category>, coverage_score; plus a services layer
      coverage.csv      the same table for Excel/WPS (UTF-8 with BOM)
      gap_report.md     coverage rates, every gap by 街道/社区, where new facilities help most
      gap_report.xlsx   the same as sheets
      gap_report.docx   the same for Word/WPS with maps (unless --no-docx)
      coverage_map.html the map (unless --no-map)

    \b
    Distances: walking along the street network from the estate's gates (or street nodes
    inside/within 30 m of its boundary) to the facility, in metres. A search reaches twice
    each category's threshold; farther facilities show as "> 2 × threshold".

    \b
    Example:
      gis coverage --estates 小区.gpkg --services 设施.csv --input-crs EPSG:4490 \\
                   --streets 路网.shp --out 成果
    """
    _run(lambda: _coverage(**opts), opts["verbose"], opts["quiet"])


@cli.command()
@click.option("--out", "out_dir", default="maps", show_default=True,
              type=click.Path(file_okay=False), help="Output folder.")
@_shared_options("lang", "verbosity")
def demo(out_dir: str, lang: str, verbose: int, quiet: bool) -> None:
    """演示 — run the whole chain on the bundled illustrative town.

    Reads layers/demo/ (a FICTIONAL county town: estates, services, streets, gates and
    review constraints), writes the gap report, tables and coverage map into --out
    (default maps/) and the renovation units' review package into --out/review/, and
    prints where they are.
    """
    def job() -> None:
        from gis.sources import demo_folder

        folder = demo_folder()
        cov = _coverage(
            estates_path=str(folder / "estates.gpkg"),
            services_path=str(folder / "services.gpkg"),
            streets_path=str(folder / "streets.gpkg"),
            gates_path=str(folder / "gates.gpkg"),
            standard=None, analysis_crs=None, input_crs=None, mode="network",
            node_crossings=False, encoding=None, out_dir=out_dir, lang=lang, make_map=True,
            illustrative=True, quiet=quiet, data_basemap=True,
            water_path=str(folder / "rivers.gpkg"),
        )
        click.echo("改造单元与审查材料 units and review package:")
        constraints = {option: str(folder / f"{option}.gpkg") for option in _CONSTRAINT_OPTIONS}
        # The demo's own choice: only trunk roads (主干路) keep estates apart; every
        # other number is the `Params` default.
        _units(
            review=True, illustrative=True, estates=cov.estates, notes=[],
            out_dir=str(Path(out_dir) / "review"), lang=lang,
            barrier_paths=[str(folder / "rivers.gpkg"), str(folder / "streets.gpkg")],
            barrier_classes="主干路", **constraints,
        )
        from gis.programme.cli import run_demo

        run_demo(folder, out_dir, cov.estates, lang=lang)
        _demo_siting(cov, out_dir, lang, quiet)

    _run(job, verbose, quiet)


# Options of `gis units` / `gis review` that are `Params` fields (same names).
_UNIT_PARAMS = ("gap_m", "min_facing_m", "max_households", "max_floor_area_m2", "max_estates",
                "min_households", "barrier_classes", "tree_crown_m")
# Options of `gis siting` that are `Params` fields.
_SITING_PARAMS = ("spacing_m", "time_limit_s")


def _unit_options(func: Any) -> Any:
    """Options shared by `gis units` and `gis review`."""
    options = [
        click.option("--estates", "estates_path", required=True, type=click.Path(dir_okay=False),
                     help=f"小区边界 estate polygons (建成年份, 户数, 建筑面积 …). {_common_layer_help}."),
        _shared_options("standard"),
        click.option("--include-2001-2005", "include_extended", is_flag=True,
                     help="Also include estates built 2001–2005 (确需改造的), marked as such."),
        _param_option("gap_m", "Largest gap between neighbouring estates' boundaries."),
        _param_option("min_facing_m", "Shortest shared/facing boundary for a link (corner-only "
                                      "contacts are not linked)."),
        click.option("--barriers", "barrier_paths", multiple=True, type=click.Path(dir_okay=False),
                     help="Roads, rivers or railways that separate estates (repeatable)."),
        _param_option("barrier_classes", "Road classes (道路等级) in a barrier road layer that "
                      "separate estates, comma-separated; `all` uses every feature of the layer "
                      "as a barrier.", type=str),
        click.option("--barrier-min-width-m", type=float, default=None,
                     help="Also treat roads at least this wide (道路宽度, metres) as barriers."),
        _param_option("max_households", "Largest unit, households (0 = no cap)."),
        _param_option("max_floor_area_m2", "Largest unit, total floor area (0 = no cap)."),
        _param_option("max_estates", "Largest unit, number of estates (0 = no cap).", type=int),
        _param_option("min_households", "Units below this merge into a linked neighbour when "
                                        "caps allow."),
        click.option("--decisions", "decisions_path", type=click.Path(dir_okay=False),
                     help="Reviewers' decisions (CSV/XLSX, e.g. the filled-in review.xlsx): "
                          "approve/reject/split (通过/否决/拆分) per link or unit."),
        click.option("--coverage", "coverage_path", type=click.Path(dir_okay=False),
                     help="coverage.gpkg from `gis coverage`, to add each unit's living-circle gaps."),
        _shared_options("input_crs", "encoding"),
        click.option("--coords", "coords", multiple=True, metavar="[LAYER=]SYSTEM",
                     help="gcj02 / bd09 estates from web-map exports are converted to WGS84."),
        _shared_options("lang", "verbosity"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@_unit_options
@_assume_option
@_invalid_option
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False))
def units(**opts: Any) -> None:
    """联动改造单元 — group neighbouring old estates into combined renovation units.

    \b
    1. Eligibility: built by end-2000 (2001–2005 with --include-2001-2005); estates in a
       棚改 plan or to be demolished (拆除新建) are excluded. Every estate gets a reason.
    2. Links: boundaries within --gap-m that face each other along --min-facing-m, not
       separated by a --barriers feature.
    3. Units: linked estates grouped into connected units within the caps; ids derive
       from member ids, so --decisions apply again on every re-run.

    \b
    Writes units.gpkg (units, estates, links), units.csv, unit_members.csv and
    units_report.md (summary, unknowns, rows not analysed) into --out.
    """
    _run(lambda: _units(**opts, review=False), opts["verbose"], opts["quiet"])


@cli.command()
@_unit_options
@_assume_option
@_invalid_option
@click.option("--historic-districts", type=click.Path(dir_okay=False), help="历史文化街区 polygons.")
@click.option("--historic-buildings", type=click.Path(dir_okay=False),
              help="历史建筑 points or polygons.")
@click.option("--ancient-trees", type=click.Path(dir_okay=False),
              help="古树名木 points (冠幅/冠幅半径 field, metres).")
@click.option("--eco-redline", type=click.Path(dir_okay=False), help="生态保护红线 polygons.")
@click.option("--development-boundary", type=click.Path(dir_okay=False),
              help="城镇开发边界 polygons: unit area outside is flagged.")
@click.option("--plan-units", type=click.Path(dir_okay=False),
              help="控规单元 polygons: units straddling two are flagged.")
@_param_option("tree_crown_m", "Crown radius for trees without one; protection = crown + "
                               "tree_margin_m.")
@click.option("--out", "out_dir", default="review", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--map/--no-map", "make_map", default=True, show_default=True,
              help="Also write units_map.html.")
@click.option("--docx/--no-docx", "docx", default=True, show_default=True,
              help="Also write review.docx (Word: units map and one sheet per unit).")
@_map_options
def review(**opts: Any) -> None:
    """审查材料 — review package of combined renovation units for 自然资源局.

    \b
    Forms units as `gis units` does, checks each against the constraint layers given and
    writes into --out:
      units.gpkg             units, member estates, links, conflicts in CGCS2000 (EPSG:4490)
      units_source_crs.gpkg  the same in the data's own CRS
      review.xlsx            审查表: one row per unit with every check, and blank 决定/说明
                             columns; fill them in and pass the file back with --decisions
      review.md              summary: eligibility, units, conflicts, decisions applied
      review.docx            for Word/WPS: units map, one sheet per unit with its map and
                             blank 决定/说明 fields (unless --no-docx)
    """
    _run(lambda: _units(**opts, review=True), opts["verbose"], opts["quiet"])


@cli.group(name="map")
def map_group() -> None:
    """地图 — draw HTML maps from the outputs of `gis coverage` and `gis units`/`gis review`.

    Maps open from disk with no network by default (Leaflet is inlined, no basemap).
    `--format png|pdf` draws a print map instead (A4/A3, title, legend, scale bar,
    north arrow, source, date, CRS note).
    """


def _print_options(func: Any) -> Any:
    """--format/--paper/--dpi: print maps (PNG, PDF) instead of the HTML map."""
    options = [
        click.option("--format", "fmt", type=click.Choice(["html", "png", "pdf"]), default="html",
                     show_default=True, help="html: interactive map; png/pdf: print map with "
                     "title, legend, scale bar, north arrow, source, date and CRS note."),
        click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True,
                     help="Print map paper size (landscape)."),
        click.option("--dpi", type=click.IntRange(72, 1200), default=300, show_default=True,
                     help="Print map resolution (PNG; PDF keeps lines and text as vectors)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _print_path(o: dict[str, Any]) -> Path:
    """--out with the suffix of --format: an .html name (the default) becomes ``….png`` /
    ``….pdf``; any other suffix is left for `_check_map_out` to accept or refuse."""
    path = Path(o["out_path"])
    if o.get("fmt", "html") != "html" and path.suffix.lower() in (".html", ".htm"):
        return path.with_suffix(f".{o['fmt']}")
    return path


@map_group.command(name="coverage")
@click.option("--coverage", "coverage_path", required=True, type=click.Path(),
              help="coverage.gpkg written by `gis coverage` (or its folder).")
@click.option("--streets", "streets_path", type=click.Path(dir_okay=False),
              help="The same streets: adds the walking network and each category's walkable "
                   "service area.")
@_shared_options("standard")
@click.option("--category", default=None, help="Colour estates by this category's distance "
              "(a key such as clinic; see `gis standards`).")
@click.option("--areas/--no-areas", default=None,
              help="Draw each category's walkable service area (default: for walking "
                   "graphs up to 1,000,000 nodes, 20 m pieces counted).")
@_shared_options("input_crs")
@_data_basemap_options
@_map_options
@_shared_options("lang")
@_print_options
@click.option("--out", "out_path", default="maps/coverage_map.html", show_default=True,
              type=click.Path(dir_okay=False), help="Output file; its suffix follows --format.")
@_shared_options("verbosity")
def map_coverage(**o: Any) -> None:
    """生活圈覆盖地图 — the coverage map: estates by facilities missing, services by category."""
    def job() -> None:
        import geopandas as gpd

        from gis.layers import read_streets
        from gis.maps import coverage_map
        from gis.standards import load_standard
        from gis.workflows import read_metadata, saved_coverage

        path = Path(o["coverage_path"])
        path = path / "coverage.gpkg" if path.is_dir() else path
        inputs = [path, o["streets_path"], o["standard"]]
        out_path = _check_map_out(str(_print_path(o)), o["basemap"], o["token"], inputs,
                                  fmt=o["fmt"])
        try:
            estates = gpd.read_file(path, layer="estates")
            services = gpd.read_file(path, layer="services")
        except Exception as err:
            msg = f"{path}: not a coverage.gpkg from `gis coverage` ({err})."
            raise GisError(msg) from err
        if "analysed" in estates:  # rows left out by --invalid skip have no results to draw
            estates = estates[estates["analysed"].astype(bool)].reset_index(drop=True)
        std = load_standard(o["standard"])
        missing = [k for k in std.keys if f"dist_m_{k}" not in estates]
        if missing:
            msg = (f"{path}: has no results for {', '.join(missing)}; pass the --standard the "
                   "coverage was computed with.")
            raise GisError(msg)
        _check_coverage_layers(path, estates, services, std)
        streets = read_streets(o["streets_path"], input_crs=o["input_crs"]) \
            if o["streets_path"] else None
        # The run's own numbers (search factor, CRS, noding, edge length) from its record;
        # a file from an older version has none and gets the `Params` defaults.
        cov = saved_coverage(estates, services, std, read_metadata(path), streets=streets,
                             with_streets=o["fmt"] == "html" and bool(o["data_basemap"]))
        if o["fmt"] != "html":
            from gis.maps.printmap import coverage_print, save_figure

            fig = coverage_print(cov, category=o["category"], lang=o["lang"], paper=o["paper"],
                                 areas=o["areas"])
            click.echo(f"  map       {save_figure(fig, out_path, dpi=o['dpi'])}")
            return
        fmap = coverage_map(cov, category=o["category"], basemap=o["basemap"], token=o["token"],
                            offline=not o["cdn"], lang=o["lang"], areas=o["areas"],
                            **_data_basemap(o))
        click.echo(f"  map       {_write_one_map(fmap, out_path, inputs)}")

    _run(job, o["verbose"], o["quiet"])


@map_group.command(name="units")
@click.option("--units", "units_path", required=True, type=click.Path(),
              help="units.gpkg written by `gis units` or `gis review` (or its folder).")
@click.option("--historic-districts", type=click.Path(dir_okay=False))
@click.option("--historic-buildings", type=click.Path(dir_okay=False))
@click.option("--ancient-trees", type=click.Path(dir_okay=False))
@click.option("--eco-redline", type=click.Path(dir_okay=False))
@click.option("--development-boundary", type=click.Path(dir_okay=False))
@click.option("--plan-units", type=click.Path(dir_okay=False))
@_shared_options("input_crs")
@_map_options
@_shared_options("lang")
@_print_options
@click.option("--out", "out_path", default="maps/units_map.html", show_default=True,
              type=click.Path(dir_okay=False), help="Output file; its suffix follows --format.")
@_shared_options("verbosity")
def map_units(**o: Any) -> None:
    """改造单元地图 — the units map: units, member estates, links, constraints, conflicts."""
    def job() -> None:
        import geopandas as gpd
        import pyogrio

        from gis.constraints import read_constraint
        from gis.maps import units_map
        from gis.review import labelled_layer, review_tables

        path = Path(o["units_path"])
        path = path / "units.gpkg" if path.is_dir() else path
        inputs = [path, *(o.get(opt) for opt in _CONSTRAINT_OPTIONS)]
        out_path = _check_map_out(str(_print_path(o)), o["basemap"], o["token"], inputs,
                                  fmt=o["fmt"])
        try:
            names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
            layers = {n: gpd.read_file(path, layer=n) for n in ("units", "estates", "links",
                                                                   "conflicts") if n in names}
        except Exception as err:
            msg = f"{path}: not a units.gpkg from `gis units`/`gis review` ({err})."
            raise GisError(msg) from err
        if not {"units", "estates", "links"} <= set(layers):
            msg = f"{path}: lacks the units/estates/links layers; rerun `gis units`."
            raise GisError(msg)
        _check_columns(path, layers, _UNITS_COLUMNS, "gis units")
        if "conflicts" in layers:  # labels in --lang where the file allows (gis.review)
            layers["conflicts"] = review_tables(None, layers["conflicts"], o["lang"])[1]
        constraints = {kind: labelled_layer(read_constraint(o[opt], kind, input_crs=o["input_crs"]),
                                            o["lang"])
                       for opt, kind in _CONSTRAINT_OPTIONS.items() if o.get(opt)}
        if o["fmt"] != "html":
            from gis.maps.printmap import save_figure, units_print

            fig = units_print(layers["units"], layers["estates"], layers["links"],
                              conflicts=layers.get("conflicts"), lang=o["lang"],
                              paper=o["paper"])
            click.echo(f"  map       {save_figure(fig, out_path, dpi=o['dpi'])}")
            return
        fmap = units_map(layers["units"], layers["estates"], layers["links"],
                         conflicts=layers.get("conflicts"), constraints=constraints,
                         basemap=o["basemap"], token=o["token"], offline=not o["cdn"],
                         lang=o["lang"])
        click.echo(f"  map       {_write_one_map(fmap, out_path, inputs)}")

    _run(job, o["verbose"], o["quiet"])


@cli.command(name="standards")
def standards_cmd() -> None:
    """List bundled living-circle standards and their thresholds (metres)."""
    from gis.standards import bundled_standards, load_standard

    for name in bundled_standards():
        std = load_standard(name)
        click.echo(f"{name}: {std.name_zh} / {std.name_en}")
        for c in std.categories:
            click.echo(f"  {c.key:<18} {c.name_zh:<8} {c.walk_m:>6.0f} m   {c.source}")


def _run(job: Any, verbose: int, quiet: bool) -> None:
    from gis.report._files import stop_on_signals

    _setup_logging(verbose, quiet)
    logging.captureWarnings(False)
    try:
        with warnings.catch_warnings(), stop_on_signals():
            # Repairs are listed in the report's notes; do not repeat them as Python warnings.
            warnings.simplefilter("ignore", UserWarning)
            job()
    except GisError as err:
        click.echo(f"错误 Error: {_as_flags(str(err))}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        # Staging folders are already gone (removed on the way out); say so in one line.
        click.echo("错误 Error: stopped by SIGINT (Ctrl-C); nothing new was written and "
                   "earlier outputs are untouched.", err=True)
        sys.exit(2)


def _as_flags(message: str) -> str:
    """A library message in the command line's words: every parameter it names (in
    backticks, `gis.notes.PARAMETER`) that is an option of a gis command is shown as that
    option's flag (`node_crossings=False` → `--no-node-crossings`, `invalid="skip"` →
    `--invalid skip`, `coords="gcj02"` for the services → `--coords services=gcj02`); a
    message led by a parameter name (``gap_m: …``) is led by its flag. Reports written to
    files keep the parameter names; this is for what the CLI prints."""
    from gis.notes import rename_parameters
    from gis.params import names

    options = _option_flags()
    head, sep, rest = message.partition(":")
    if sep and head in names():
        lead = _long(options[head]) if head in options else f"--{head.replace('_', '-')}"
        message = f"{lead}:{rest}"

    def flag(name: str, value: str | None, layer: str | None) -> str | None:
        option = options.get(name)
        if option is None:
            return None
        long = _long(option)
        if option.is_flag and not option.count:
            if value is None or value == "True":
                text = long
            elif value == "False" and option.secondary_opts:
                text = option.secondary_opts[0]
            else:
                return None
        elif value is None:
            text = long
        elif layer and option.multiple:
            # Options given per layer (``--coords LAYER=SYSTEM``) carry the layer.
            return f"`{long} {layer}={value}`"
        else:
            text = f"{long} {value}"
        return f"`{text}`" + (f" for the {layer}" if layer else "")

    return rename_parameters(message, flag)


def _long(option: click.Option) -> str:
    """The option's long flag (``--quiet`` of ``-q/--quiet``)."""
    return next((o for o in option.opts if o.startswith("--")), option.opts[0])


@functools.cache
def _option_flags() -> dict[str, click.Option]:
    """Every option of every gis command, by parameter name and by the name its flag
    spells (``analysis_crs`` and ``crs`` → ``--crs``; ``include_extended`` and
    ``include_2001_2005`` → ``--include-2001-2005``)."""
    found: dict[str, click.Option] = {}

    def walk(command: click.Command) -> None:
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                walk(sub)
            return
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            spelt = [o.lstrip("-").replace("-", "_") for o in param.opts if o.startswith("--")]
            for key in (param.name, *spelt):
                if key:
                    found.setdefault(key, param)

    walk(cli)
    return found


class _FlagFormatter(logging.Formatter):
    """Log lines on the console name flags, not parameters (see `_as_flags`)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = _as_flags(record.message)
        return super().formatMessage(record)


def _coverage(
    *,
    estates_path: str,
    services_path: str,
    streets_path: str | None,
    gates_path: str | None,
    standard: str | None,
    analysis_crs: str | None,
    input_crs: str | None,
    mode: str,
    node_crossings: bool | None,
    encoding: str | None,
    out_dir: str,
    lang: str,
    make_map: bool,
    illustrative: bool = False,
    quiet: bool = False,
    basemap: str = "none",
    token: str | None = None,
    cdn: bool = False,
    coords: tuple[str, ...] = (),
    invalid: str = "stop",
    gate_tolerance_m: float | None = None,
    docx: bool = True,
    **extra: Any,
) -> Any:
    from gis.crs import parse_crs
    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.params import Params
    from gis.workflows import coverage_run
    from gis.maps import coverage_map, write_map
    from gis.report import staged_outputs, write_coverage
    from gis.report._files import record_outputs
    from gis.standards import load_standard

    t0 = time.perf_counter()
    map_name = _MAP_FILES["coverage"].format(en=_en_suffix(lang))
    inputs = [estates_path, services_path, streets_path, gates_path, standard]
    to_db = out_dir.startswith(("postgresql://", "postgres://"))  # gis.postgis target
    if not to_db:
        _check_outputs(out_dir, "coverage", lang, make_map, basemap, token, inputs)
        _check_out_dir(out_dir)
    std = load_standard(standard)
    metric = parse_crs(analysis_crs, what="--crs") if analysis_crs else None
    kw = {"input_crs": input_crs, "encoding": encoding, "invalid": invalid}
    sys_of = _coords_map(coords)
    estates = read_estates(estates_path, **kw, coords=sys_of.get("estates"))
    services = read_services(services_path, std, **kw, coords=sys_of.get("services"))
    streets = read_streets(streets_path, **kw, coords=sys_of.get("streets")) if streets_path else None
    gates = read_gates(gates_path, estates, **kw, coords=sys_of.get("gates")) if gates_path else None
    if mode == "network" and streets is None:
        raise GisError("--streets is required in network mode; or pass --mode straight.")
    logger.info("Read %d estates, %d services, %s street lines", len(estates), len(services),
                "no" if streets is None else f"{len(streets):,}")
    run = coverage_run(estates, services, std,
                       Params.from_standard(std, gate_tolerance_m=gate_tolerance_m),
                       streets=streets, gates=gates, mode=mode, crs=metric,
                       node_crossings=node_crossings, progress=not quiet)
    cov = run.coverage
    if to_db:
        from gis.batch import write_coverage_postgis

        paths = write_coverage_postgis(cov, out_dir, lang=lang, sources={
            "estates": estates_path, "services": services_path, "streets": streets_path,
            "gates": gates_path})
    else:
        figures = None
        if docx:
            from gis.maps.printmap import coverage_figures

            figures = coverage_figures(cov, lang=lang, illustrative=illustrative)
        # Tables, Word report and map are staged together: none appears unless all are
        # written, and an earlier run's map never stays beside new tables.
        stale = [m for m in _map_names("coverage") if not (make_map and m == map_name)]
        with staged_outputs(out_dir, stale=stale, inputs=inputs) as stage:
            paths = write_coverage(cov, stage, lang=lang, illustrative=illustrative,
                                   figures=figures)
            record_outputs(paths, run.metadata, lang, ("gpkg",))  # `gis map` reads it back
            if make_map:
                paths["map"] = write_map(
                    coverage_map(cov, lang=lang, illustrative=illustrative, basemap=basemap,
                                 token=token, offline=not cdn,
                                 **_data_basemap({**extra, "input_crs": input_crs})),
                    stage / map_name)
        paths = {k: Path(out_dir) / p.name for k, p in paths.items()}
    summary = cov.estates
    click.echo(
        f"{len(summary)} 个小区 estates; 全部覆盖 fully covered: "
        f"{int((summary['coverage_score'] >= 1).sum())}; 存在缺口 with gaps: "
        f"{int((summary['coverage_score'] < 1).sum())}  ({time.perf_counter() - t0:.1f} s)"
    )
    for key, path in paths.items():
        click.echo(f"  {key:<9} {path}")
    if cov.notes:
        click.echo(f"  {len(cov.notes)} 条数据说明 data notes: see the report's last section.")
    from gis.summary import coverage_summary

    _echo_summary(coverage_summary(cov, lang=lang), lang)
    return cov


_CONSTRAINT_OPTIONS = {
    "historic_districts": "historic_district",
    "historic_buildings": "historic_building",
    "ancient_trees": "ancient_tree",
    "eco_redline": "eco_redline",
    "development_boundary": "development_boundary",
    "plan_units": "plan_unit",
}


def _units(*, review: bool, illustrative: bool = False, estates: Any = None,
           notes: list[str] | None = None, **o: Any) -> None:
    from gis.constraints import read_constraint
    from gis.decisions import read_decisions
    from gis.layers import read_barriers, read_estates
    from gis.params import Params
    from gis.report import staged_outputs
    from gis.report._files import record_outputs
    from gis.standards import load_standard
    from gis.workflows import units_run

    inputs = [o.get("estates_path"), o.get("standard"), o.get("decisions_path"),
              o.get("coverage_path"), *(o.get("barrier_paths") or ()),
              *(o.get(option) for option in _CONSTRAINT_OPTIONS)]
    make_map = review and o.get("make_map", True)
    _check_outputs(o["out_dir"], "review" if review else "units", o.get("lang", "zh"),
                   make_map, o.get("basemap", "none"), o.get("token"), inputs)
    _check_out_dir(o["out_dir"])
    std = load_standard(o.get("standard"))
    # Read first: a decisions file that cannot be used stops the run before any work.
    decisions = read_decisions(o["decisions_path"], encoding=o.get("encoding")) \
        if o.get("decisions_path") else None
    kw = {"input_crs": o.get("input_crs"), "encoding": o.get("encoding"),
          "invalid": o.get("invalid", "stop")}
    if estates is None:
        estates = read_estates(o["estates_path"], **kw,
                               coords=_coords_map(o.get("coords") or ()).get("estates"))
        skipped = list(estates.attrs.get("skipped", []))
        if o.get("coverage_path"):
            estates = _join_coverage(estates, o["coverage_path"])
            notes = [*(notes or []), *_coverage_record_notes(o["coverage_path"], std)]
            estates.attrs["skipped"] = skipped
    skipped = list(estates.attrs.get("skipped", []))
    notes = [*(notes or []), *estates.attrs.get("notes", [])]
    barrier_layers = [(Path(path).name, read_barriers(path, **kw))
                      for path in o.get("barrier_paths") or ()]
    constraints = None
    if review:
        constraints = [read_constraint(o[option], kind, **kw)
                       for option, kind in _CONSTRAINT_OPTIONS.items() if o.get(option)]
    params = Params.from_standard(std, **{k: o.get(k) for k in _UNIT_PARAMS})
    if decisions is not None:
        notes = [*notes, *_decisions_record_notes(o["decisions_path"], params)]
    run = units_run(estates, std, params, barrier_layers=barrier_layers,
                    barrier_min_width_m=o.get("barrier_min_width_m"), decisions=decisions,
                    include_extended=o.get("include_extended", False),
                    assume_unknown_eligible=o.get("assume_unknown_eligible", False),
                    constraints=constraints)
    notes.extend(run.notes)  # the constraint layers' notes and set-aside rows included
    skipped.extend(run.skipped)
    out_dir = o["out_dir"]
    lang = o.get("lang", "zh")
    map_name = _MAP_FILES["review"].format(en=_en_suffix(lang))
    stale = [m for m in _map_names("review") if not (make_map and m == map_name)]
    with staged_outputs(out_dir, stale=stale, inputs=inputs) as stage:
        paths, summary = _write_units(run, estates, notes, stage, lang, illustrative, map_name,
                                      o, skipped=skipped)
        record_outputs(paths, run.metadata, lang, ("gpkg", "gpkg_source"))
    paths = {k: Path(out_dir) / p.name for k, p in paths.items()}
    if decisions is not None:
        applied = run.units.decisions["status"].str.startswith("applied").sum()
        click.echo(f"  审查决定 decisions: {applied}/{len(run.units.decisions)} applied")
    for key, path in paths.items():
        click.echo(f"  {key:<11} {path}")
    _echo_summary(summary, lang)


def _write_units(run: Any, estates: Any, notes: list[str], out_dir: Path, lang: str,
                 illustrative: bool, map_name: str, o: dict[str, Any], *,
                 skipped: list[dict]) -> tuple[dict[str, Path], Any]:
    """Write the units outputs (and for a review, the constraint checks and map) into
    ``out_dir``, the staging folder; return the paths and the run's summary."""
    from gis.report.runs import write_units_run
    from gis.review import labelled_layer

    result, assessed = run.units, run.assessed

    def figures(checks: Any, conflicts: Any) -> Any:  # review.docx's maps
        from gis.maps.printmap import review_figures

        return review_figures(
            result.units.merge(checks, left_on="unit_id", right_index=True, how="left"),
            assessed, result.links, conflicts=conflicts, lang=lang, illustrative=illustrative)

    paths, summary, checks, conflicts = write_units_run(
        run, out_dir, lang=lang, notes=notes, skipped=skipped, illustrative=illustrative,
        figures=figures if o.get("docx", True) else None)
    if run.review is None:
        return paths, summary
    constraints = run.review.constraints
    if o.get("make_map", True):
        from gis.maps import units_map, write_map
        from gis.report.units import link_reasons

        reviewed = result.units.merge(checks, left_on="unit_id", right_index=True, how="left")
        reviewed["link_reasons"] = link_reasons(result).reindex(reviewed["unit_id"]).fillna(
            "").to_numpy()
        fmap = units_map(
            reviewed, assessed.merge(result.membership, on="estate_id", how="left"),
            result.links, conflicts=conflicts.to_crs(estates.crs),
            constraints={c.kind: labelled_layer(c, lang) for c in constraints},
            basemap=o.get("basemap", "none"), token=o.get("token"),
            offline=not o.get("cdn", False), lang=lang, illustrative=illustrative,
        )
        paths["map"] = write_map(fmap, out_dir / map_name)
    return paths, summary


_LAYER_ROLES = ("estates", "services", "streets", "gates")


def _coords_map(values: tuple[str, ...],
                roles: tuple[str, ...] = _LAYER_ROLES) -> dict[str, str]:
    """``("services=gcj02",)`` → {"services": "gcj02"}; a bare system applies to every layer."""
    from gis.layers import COORD_SYSTEMS

    out: dict[str, str] = {}
    for value in values:
        role, _, system = value.rpartition("=")
        system = system.strip().lower().replace("-", "")
        if system not in COORD_SYSTEMS or (role and role not in roles):
            msg = (f"--coords {value!r}: use SYSTEM or LAYER=SYSTEM with SYSTEM in "
                   f"{', '.join(COORD_SYSTEMS)} and LAYER in {', '.join(roles)}.")
            raise GisError(msg)
        for r in [role] if role else roles:
            out[r] = system
    return out


def _check_out_dir(out_dir: str) -> None:
    """Fail before the analysis, not after it, when the output folder cannot be made."""
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"--out {out_dir}: cannot create the output folder ({err.strerror}); choose another."
        raise GisError(msg) from err
    if not os.access(path, os.W_OK):
        msg = f"--out {out_dir}: the folder is not writable; choose another."
        raise GisError(msg)


def _coverage_record_notes(path: str, std: Any) -> list[Any]:
    """Read back the run record of a coverage.gpkg: a note when it was computed with
    another standard than this run's (its gaps are then another standard's gaps)."""
    import hashlib

    from gis.notes import Note
    from gis.workflows import read_metadata

    record = read_metadata(path)
    if not record or not record.get("standard"):
        return []
    theirs = record["standard"]
    mine = Path(std.path)
    digest = hashlib.sha256(mine.read_bytes()).hexdigest() if mine.is_file() else None
    if theirs.get("sha256") in (None, digest):
        return []
    name = Path(path).name
    return [Note.of("cli.coverage_other_standard", file=name, theirs=theirs.get("file"),
                    mine=mine.name)]


def _decisions_record_notes(path: str, params: Any) -> list[Any]:
    """Read back the run record of a filled-in review.xlsx: a note when its units were
    formed with other numbers than this run's (its decisions then name links and units
    formed another way)."""
    from gis.notes import Note
    from gis.workflows import read_record_sheet

    record = read_record_sheet(path)
    theirs = (record or {}).get("params")
    if not isinstance(theirs, dict):
        return []
    mine = params.as_dict()
    forming = [k for k in _UNIT_PARAMS if k != "tree_crown_m"]
    changed = [f"{k} {theirs[k]} → {mine[k]}" for k in forming
               if k in theirs and k in mine and theirs[k] != mine[k]]
    if not changed:
        return []
    return [Note.of("cli.decisions_other_params", file=Path(path).name,
                    changes="; ".join(changed))]


def _join_coverage(estates: Any, path: str) -> Any:
    """Add covered_/dist_m_ columns from a coverage.gpkg written by `gis coverage`."""
    import geopandas as gpd

    try:
        cov = gpd.read_file(path, layer="estates", ignore_geometry=True)
    except Exception as err:
        msg = f"{path}: not a coverage.gpkg from `gis coverage` ({err})."
        raise GisError(msg) from err
    cols = [c for c in cov.columns if c.startswith(("covered_", "dist_m_"))]
    if "estate_id" not in cov or not cols:
        msg = f"{path}: has no estate_id / covered_<category> columns; rerun `gis coverage`."
        raise GisError(msg)
    cov["estate_id"] = cov["estate_id"].astype(str)
    missing = set(estates["estate_id"]) - set(cov["estate_id"])
    if missing:
        msg = (f"{path}: {len(missing)} estates have no coverage result (e.g. "
               f"{', '.join(sorted(missing)[:5])}); run `gis coverage` on the same estates file.")
        raise GisError(msg)
    return estates.merge(cov[["estate_id", *cols]], on="estate_id", how="left")


# Output files per command and language (the writers' names), for the checks made
# before any work; `staged_outputs` checks the files actually written again.
_OUTPUT_FILES = {
    "coverage": ("coverage.gpkg", "coverage.csv", "gap_report{en}.md", "gap_report{en}.xlsx"),
    "units": ("units.gpkg", "units.csv", "unit_members.csv", "units_report{en}.md"),
    "review": ("units.gpkg", "units_source_crs.gpkg", "review{en}.xlsx", "review{en}.md"),
    "siting": ("sites.gpkg", "siting_report{en}.md", "siting_report{en}.xlsx"),
}
_MAP_FILES = {"coverage": "coverage_map{en}.html", "review": "units_map{en}.html",
              "siting": "siting_map{en}.html"}


def _en_suffix(lang: str) -> str:
    """What the writers add to a file name in this language (``gap_report_en.md``)."""
    return tr("cli.file_suffix", lang)


def _map_names(command: str) -> list[str]:
    """The map files `command` writes in any language: those this run does not write
    are removed with its move into place, so no earlier map sits beside new tables."""
    return [_MAP_FILES[command].format(en=en) for en in ("", "_en")]


def _check_outputs(out_dir: str, command: str, lang: str, make_map: bool, basemap: str,
                   token: str | None, inputs: list[Any]) -> None:
    """Everything about the outputs that can fail, checked before any work: the map's
    options, and that no output would replace an input file."""
    from gis.maps import check_basemap
    from gis.report._files import refuse_overwriting_inputs

    en = _en_suffix(lang)
    names = list(_OUTPUT_FILES[command])
    if make_map and command in _MAP_FILES:
        check_basemap(basemap, token)
        names.append(_MAP_FILES[command])
    refuse_overwriting_inputs([Path(out_dir) / n.format(en=en) for n in names], inputs)


def _check_map_out(out_path: str, basemap: str, token: str | None, inputs: list[Any],
                   fmt: str = "html") -> Path:
    """`gis map … --out FILE`: an .html (or --format png/pdf) file, not an input, in a
    writable folder."""
    from gis.maps import check_basemap
    from gis.report._files import refuse_overwriting_inputs

    path = Path(out_path)
    allowed = (".html", ".htm") if fmt == "html" else (f".{fmt}",)
    if path.suffix.lower() not in allowed:
        what = path.suffix or "a name without suffix"
        kind = "a map is an .html file" if fmt == "html" else f"a {fmt} print map is a .{fmt} file"
        msg = (f"--out {out_path}: {kind}, not {what}; name it e.g. "
               f"{path.with_suffix(allowed[0]).name}"
               f"{' (or pass --format png|pdf for a print map)' if fmt == 'html' else ''}.")
        raise GisError(msg)
    check_basemap(basemap, token)
    refuse_overwriting_inputs([path], inputs)
    _check_out_dir(str(path.parent))
    return path


def _write_one_map(fmap: Any, path: Path, inputs: list[Any]) -> Path:
    """Save a map through the same staging as every other output."""
    from gis.maps import write_map
    from gis.report import staged_outputs

    with staged_outputs(path.parent, inputs=inputs) as stage:
        write_map(fmap, stage / path.name)
    return path


def _check_coverage_layers(path: Path, estates: Any, services: Any, std: Any) -> None:
    """A coverage.gpkg lacking columns the map needs (e.g. from an older version)."""
    need = ["estate_id", "name", "n_covered", *(f"{p}_{k}" for k in std.keys
                                                 for p in ("dist_m", "covered", "nearest"))]
    _check_columns(path, {"estates": estates, "services": services},
                   {"estates": need, "services": ["category", "name", "service_id"]},
                   "gis coverage")


# Columns `units_map` needs in each layer of a units.gpkg.
_UNITS_COLUMNS = {"units": ["unit_id", "n_estates"], "estates": ["estate_id", "name"],
                  "links": ["estate_a", "estate_b", "gap_m", "facing_m", "linked"],
                  "conflicts": ["unit_id", "kind", "feature_name"]}


def _check_columns(path: Path, layers: dict[str, Any], need: dict[str, list[str]],
                   command: str) -> None:
    """One line naming the columns missing from a file written by `gis` (an older
    version, or edited), instead of a KeyError while drawing."""
    missing = [f"{layer}.{c}" for layer, cols in need.items() if layer in layers
               for c in cols if c not in layers[layer].columns]
    if missing:
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        msg = (f"{path}: lacks {', '.join(missing[:6])}{more}: written by an older version "
               f"of gis or edited; rerun `{command}` to remake it.")
        raise GisError(msg)


from gis.programme.cli import programme as _programme  # noqa: E402  (gis programme …)

cli.add_command(_programme)


# --- gis batch: many cities on dask.distributed (issue 16; logic in gis.batch) -------------


@cli.command()
@click.option("--manifest", required=True, type=click.Path(dir_okay=False),
              help="CSV/XLSX, one row per city: name (城市), code (代码), estates, services, "
                   "streets, optional gates, standard, mode, input_crs, tile_m, districts. "
                   "Paths relative to the manifest; postgresql://…#schema.table accepted.")
@click.option("--out", "out_dir", required=True,
              help="Output folder: OUT/<code>/ per city, summary.* and summary_map.html; or "
                   "postgresql://…#schema: tables city_<code>_*, batch_summary, gis_runs.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
              help="An existing dask scheduler. Default: a LocalCluster on this machine.")
@click.option("--workers", type=int, default=None,
              help="LocalCluster worker processes (default: one per CPU, at most one per city).")
@click.option("--tile-m", type=float, default=None,
              help="Compute each city in square tiles of this many metres (same results, "
                   "memory bounded by tile size); rows may set their own tile_m.")
@click.option("--standard", default=None, metavar="NAME|FILE",
              help="Standard for rows that name none (default lianyungang_15min).")
@click.option("--force", is_flag=True, help="Re-run cities whose inputs and parameters are "
                                            "unchanged too.")
@click.option("--city-maps", is_flag=True, help="Also write each city's coverage_map.html.")
@click.option("--cities", "cities_path", default=None,
              help="City polygons with a code (代码) column: the summary map draws them.")
@_shared_options("lang", "verbosity")
def batch(**o: Any) -> None:
    """批量 — coverage of many cities as dask.distributed tasks, and a summary.

    \b
    Each city's outputs land in --out/<code>/ all together or not at all; a city that
    fails is reported and the others finish (exit status 2 at the end); a re-run skips
    cities whose inputs and parameters are unchanged (run.json). Writes summary.xlsx,
    summary.md and summary_map.html (cities coloured by coverage).
    """
    def job() -> None:
        from gis.batch import describe, read_cities, read_manifest, run_batch, write_summary

        cities = read_cities(o["cities_path"]) if o["cities_path"] else None
        tasks = read_manifest(o["manifest"], out_dir=o["out_dir"], standard=o["standard"],
                              tile_m=o["tile_m"], lang=o["lang"], make_map=o["city_maps"])

        def progress(r: Any, done: int, total: int) -> None:
            if not o["quiet"] or r.status == "failed":
                click.echo(f"[{done}/{total}] {describe(r, o['lang'])}")

        results = run_batch(tasks, scheduler=o["scheduler"], workers=o["workers"],
                            force=o["force"], on_city=progress)
        for key, path in write_summary(results, tasks[0].standard, o["out_dir"],
                                       lang=o["lang"], cities=cities).items():
            click.echo(f"  {key:<9} {path}")
        failed = [r for r in results if r.status == "failed"]
        if failed:
            raise GisError(f"{len(failed)} of {len(results)} cities failed: "
                           + "; ".join(f"{r.code} ({r.message})" for r in failed[:3]))

    _run(job, o["verbose"], o["quiet"])


# --- gis siting (issue 13) --------------------------------------------------------------


@cli.command()
@click.option("--coverage", "coverage_path", type=click.Path(),
              help="coverage.gpkg from `gis coverage` (or its folder): its estates and services.")
@click.option("--estates", "estates_path", type=click.Path(dir_okay=False),
              help="小区边界 estate polygons, instead of --coverage.")
@click.option("--services", "services_path", type=click.Path(dir_okay=False),
              help="设施点 existing service points, instead of --coverage.")
@click.option("--streets", "streets_path", required=True, type=click.Path(dir_okay=False),
              help="步行路网 the street centre-lines the coverage was measured on.")
@click.option("--gates", "gates_path", type=click.Path(dir_okay=False),
              help="小区出入口 gate points (optional, as for `gis coverage`).")
@click.option("--candidates", "candidate_sources", multiple=True, metavar="FILE|network|estates",
              help="候选点位: a file of candidate sites (可利用空间, public buildings; points or "
                   "polygons; optional capacity_households/容量户数, cost, name), 'network' (points "
                   "along the streets every --spacing-m) or 'estates' (one inside each estate). "
                   "Repeatable. Default: network and estates.")
@_param_option("spacing_m", "Spacing of generated network candidates.")
@click.option("--category", "categories", multiple=True, required=True,
              help="Category key to site (see `gis standards`); repeat with one --k each.")
@click.option("--k", "ks", multiple=True,
              help="Sites to add for the --category in the same position (MCLP), or 'all' "
                   "for the fewest sites covering every reachable gap (LSCP).")
@click.option("--cover-all", is_flag=True,
              help="Every --category: fewest sites covering every reachable gap (LSCP).")
@click.option("--solver", type=click.Choice(["auto", "exact", "greedy"]), default="auto",
              show_default=True,
              help="auto: exact when proven optimal within --time-limit, else greedy.")
@_param_option("time_limit_s", "Seconds per category for the exact solver.",
               flag="--time-limit")
@click.option("--capacity", "use_capacity", is_flag=True,
              help="Respect the candidates' capacity_households (exact solver).")
@_shared_options("standard")
@click.option("--crs", "analysis_crs", default=None, metavar="EPSG:N")
@_shared_options("input_crs", "encoding")
@click.option("--coords", "coords", multiple=True, metavar="[LAYER=]SYSTEM",
              help="gcj02 / bd09 layers from web-map exports (LAYER: estates, services, "
                   "streets, gates, candidates).")
@click.option("--out", "out_dir", default="out", show_default=True,
              type=click.Path(file_okay=False))
@_shared_options("lang")
@click.option("--map/--no-map", "make_map", default=True, show_default=True,
              help="Also write siting_map.html (coverage map with the proposed sites).")
@_map_options
@_shared_options("verbosity")
def siting(**o: Any) -> None:
    """新增设施选址 — where to add facilities to close living-circle gaps (补短板).

    \b
    MCLP: --category charging --k 5 chooses 5 sites newly covering the most households;
    LSCP: --cover-all (or --k all) the fewest sites covering every gap estate a candidate
    can reach. Estates already covered by an existing facility are not targets.
    Walking distances follow the coverage rules exactly.

    \b
    Writes into --out:
      sites.gpkg          chosen sites in order (households/estates newly covered,
                          cumulative coverage), their service areas, estates after
      siting_report.md    the siting section of the gap report: before/after per category
      siting_report.xlsx  the same as sheets
      siting_map.html     the coverage map with the proposed sites (unless --no-map)

    \b
    Example:
      gis siting --coverage 成果/ --streets 路网.shp --candidates 可用地块.gpkg \\
                 --category charging --k 5 --category clinic --k 2 --out 选址
    """
    _run(lambda: _siting(**o), o["verbose"], o["quiet"])


def _siting_demands(categories: tuple[str, ...], ks: tuple[str, ...],
                    cover_all: bool) -> list[tuple[str, int | None]]:
    if cover_all and ks:
        raise GisError("--cover-all and --k exclude each other; give one of them.")
    if cover_all:
        return [(c, None) for c in categories]
    if len(ks) != len(categories):
        msg = (f"{len(categories)} --category but {len(ks)} --k: give one --k per --category "
               "(a number, or 'all'), or --cover-all.")
        raise GisError(msg)
    out: list[tuple[str, int | None]] = []
    for c, k in zip(categories, ks):
        if str(k).strip().lower() in ("all", "全部"):
            out.append((c, None))
            continue
        try:
            out.append((c, int(k)))
        except ValueError:
            raise GisError(f"--k {k!r} for {c}: give a whole number of sites, or 'all'.") from None
    return out


def _siting(*, illustrative: bool = False, cov: Any = None, gates: Any = None,
            **o: Any) -> Any:
    from gis.candidates import read_candidates
    from gis.crs import parse_crs
    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.maps import coverage_map, write_map
    from gis.params import Params
    from gis.report import staged_outputs
    from gis.report._files import record_outputs
    from gis.report.siting import write_siting
    from gis.standards import load_standard
    from gis.workflows import siting_run

    t0 = time.perf_counter()
    demands = _siting_demands(tuple(o["categories"]), tuple(o.get("ks") or ()),
                              bool(o.get("cover_all")))
    lang = o.get("lang", "zh")
    make_map = o.get("make_map", True)
    map_name = _MAP_FILES["siting"].format(en=_en_suffix(lang))
    inputs = [o.get("coverage_path"), o.get("estates_path"), o.get("services_path"),
              o.get("streets_path"), o.get("gates_path"), o.get("standard"),
              *(s for s in (o.get("candidate_sources") or ()) if s not in ("network", "estates"))]
    if o.get("coverage_path") and Path(o["coverage_path"]).is_dir():
        inputs.append(str(Path(o["coverage_path"]) / "coverage.gpkg"))
    _check_outputs(o["out_dir"], "siting", lang, make_map, o.get("basemap", "none"),
                   o.get("token"), inputs)
    _check_out_dir(o["out_dir"])
    std = load_standard(o.get("standard"))
    for c, _ in demands:
        std.category(c)
    params = Params.from_standard(std, **{k: o.get(k) for k in _SITING_PARAMS})
    kw = {"input_crs": o.get("input_crs"), "encoding": o.get("encoding")}
    sys_of = _coords_map(tuple(o.get("coords") or ()), roles=(*_LAYER_ROLES, "candidates"))
    estates = services = streets = metric = path = None
    if cov is None:
        if o.get("coverage_path"):
            path = Path(o["coverage_path"])
            path = path / "coverage.gpkg" if path.is_dir() else path
            if not path.is_file():
                raise GisError(f"--coverage {o['coverage_path']}: no coverage.gpkg there; run "
                               "`gis coverage` first or pass --estates and --services.")
            estates = read_estates(f"{path}:estates", **kw)
            services = read_services(f"{path}:services", std, **kw)
        elif o.get("estates_path") and o.get("services_path"):
            estates = read_estates(o["estates_path"], **kw, coords=sys_of.get("estates"))
            services = read_services(o["services_path"], std, **kw, coords=sys_of.get("services"))
        else:
            raise GisError("Give --coverage (a `gis coverage` output) or both --estates and "
                           "--services.")
        streets = read_streets(o["streets_path"], **kw, coords=sys_of.get("streets"))
        if o.get("gates_path"):
            gates = read_gates(o["gates_path"], estates, **kw, coords=sys_of.get("gates"))
        metric = parse_crs(o["analysis_crs"], what="--crs") if o.get("analysis_crs") else None
    else:
        estates, services = cov.estates, cov.services
    sources = tuple(o.get("candidate_sources") or ()) or ("network", "estates")
    run = siting_run(
        estates, services, std, params, demands=demands, streets=streets, gates=gates,
        candidates=[s if s in ("network", "estates")
                    else read_candidates(s, **kw, coords=sys_of.get("candidates"))
                    for s in sources],
        coverage=cov, crs=metric, solver=o["solver"], use_capacity=bool(o.get("use_capacity")),
        progress=not o.get("quiet"))
    result = run.siting
    if path is not None:
        _same_coverage(path, result.coverage)
    # Tables and map staged together, as for `gis coverage`.
    stale = [m for m in _map_names("siting") if not (make_map and m == map_name)]
    with staged_outputs(o["out_dir"], stale=stale, inputs=inputs) as stage:
        paths = write_siting(result, stage, lang=lang, illustrative=illustrative,
                             spacing_m=params.spacing_m)
        record_outputs(paths, run.metadata, lang, ("gpkg",))
        if make_map:
            fmap = coverage_map(result.coverage, lang=lang, illustrative=illustrative,
                                siting=result, basemap=o.get("basemap", "none"),
                                token=o.get("token"), offline=not o.get("cdn", False))
            paths["map"] = write_map(fmap, stage / map_name)
    paths = {k: Path(o["out_dir"]) / p.name for k, p in paths.items()}
    for r in result.summary.itertuples(index=False):
        click.echo(
            f"{r.name_zh} {r.category}: {r.sites} 处新增 new sites ({r.model.upper()}, "
            f"{r.method}{', proven optimal' if r.optimal else ''}); 覆盖小区 estates covered "
            f"{r.estates_covered_before} → {r.estates_covered_after}/{r.estates}"
        )
    click.echo(f"  ({time.perf_counter() - t0:.1f} s)")
    for key, path in paths.items():
        click.echo(f"  {key:<9} {path}")
    return result


def _same_coverage(path: Path, cov: Any) -> None:
    """Note when the coverage recomputed on these streets differs from the saved one."""
    import geopandas as gpd

    from gis.notes import Note

    saved = gpd.read_file(path, layer="estates", ignore_geometry=True).set_index("estate_id")
    now = cov.estates.set_index("estate_id")
    keys = [k for k in cov.standard.keys if f"covered_{k}" in saved]
    differ = sum(int((saved[f"covered_{k}"].reindex(now.index).fillna(False).astype(bool)
                      != now[f"covered_{k}"].astype(bool)).sum()) for k in keys)
    if differ:
        cov.notes.append(Note.of("cli.coverage_recomputed_differs", file=path.name,
                                 differ=differ))


def _demo_siting(cov: Any, out_dir: str, lang: str, quiet: bool) -> None:
    """The demo's worst gaps: the three categories with the most households uncovered,
    three new sites each, chosen among street points and points inside the estates."""
    from gis.workflows import worst_gaps

    worst = worst_gaps(cov, 3)
    if not worst:
        return
    click.echo("新增设施选址 siting for the worst gaps:")
    _siting(cov=cov, categories=tuple(worst), ks=("3",) * len(worst), cover_all=False,
            candidate_sources=("network", "estates"), solver="auto",
            out_dir=str(Path(out_dir) / "siting"), lang=lang, make_map=True,
            illustrative=True, quiet=quiet)


def main() -> None:
    """Console-script entry point."""
    cli()
