"""Command line: ``gis coverage``, ``gis demo``, ``gis standards``.

Thin by design: parse options, read layers, call one analysis, call one writer, print
the paths. A `GisError` prints its message and exits with status 2; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click

from gis.errors import GisError

logger = logging.getLogger("gis")



def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
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
    from gis.layers import read_barriers
    from gis.review import read_constraint

    kw = {"crs": o.get("input_crs")}
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
@click.option("--standard", default=None, metavar="NAME|FILE",
              help="Living-circle standard: a bundled name (see `gis standards`) or a TOML file. "
                   "Default: lianyungang_15min.")
@click.option("--crs", "analysis_crs", default=None, metavar="EPSG:N",
              help="Metric CRS to measure in. Default: the CGCS2000 3-degree Gauss-Krüger zone "
                   "of the data (UTM outside China), or the estates' own CRS if already metric.")
@click.option("--input-crs", default=None, metavar="EPSG:N",
              help="CRS for input files that carry none (CSV lon/lat, Shapefile without .prj), "
                   "e.g. EPSG:4490 (CGCS2000) or EPSG:4326 (WGS84). Never guessed.")
@click.option("--mode", type=click.Choice(["network", "straight"]), default="network",
              show_default=True,
              help="network: walking distance along streets; straight: straight lines (labelled).")
@click.option("--node-crossings", is_flag=True,
              help="Join streets where lines cross without a shared vertex. Off by default so "
                   "bridges and tunnels stay unconnected.")
@click.option("--encoding", default=None, help="Attribute encoding if detection fails (e.g. gbk).")
@click.option("--coords", "coords", multiple=True, metavar="[LAYER=]SYSTEM",
              help="Coordinate system of lon/lat data: gcj02 (Amap/Gaode, Tencent exports), "
                   "bd09 (Baidu) are converted to WGS84; wgs84/cgcs2000 as they are. Per layer, "
                   "e.g. --coords services=gcj02; without LAYER= for every layer.")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Report and map language.")
@click.option("--map/--no-map", "make_map", default=True, show_default=True,
              help="Also write coverage_map.html.")
@click.option("--docx/--no-docx", "docx", default=True, show_default=True,
              help="Also write gap_report.docx (Word, with print-map figures).")
@_data_basemap_options
@_map_options
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
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
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
def demo(out_dir: str, lang: str, verbose: int, quiet: bool) -> None:
    """演示 — run the whole chain on the bundled illustrative town.

    Reads layers/demo/ (a FICTIONAL county town: estates, services, streets, gates and
    review constraints), writes the gap report, tables and coverage map into --out
    (default maps/) and the renovation units' review package into --out/review/, and
    prints where they are.
    """
    def job() -> None:
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
        _units(
            review=True, illustrative=True, estates=cov.estates, notes=[],
            out_dir=str(Path(out_dir) / "review"), lang=lang, gap_m=15.0, min_facing_m=10.0,
            barrier_paths=[str(folder / "rivers.gpkg"), str(folder / "streets.gpkg")],
            barrier_classes="主干路", max_households=3000, max_floor_area_m2=300_000,
            max_estates=12, tree_crown_m=5.0, **constraints,
        )

    _run(job, verbose, quiet)


def _unit_options(func: Any) -> Any:
    """Options shared by `gis units` and `gis review`."""
    options = [
        click.option("--estates", "estates_path", required=True, type=click.Path(dir_okay=False),
                     help=f"小区边界 estate polygons (建成年份, 户数, 建筑面积 …). {_common_layer_help}."),
        click.option("--standard", default=None, metavar="NAME|FILE",
                     help="Standard giving the eligibility years (default: built by end-2000)."),
        click.option("--include-2001-2005", "include_extended", is_flag=True,
                     help="Also include estates built 2001–2005 (确需改造的), marked as such."),
        click.option("--gap-m", default=15.0, show_default=True,
                     help="Largest gap between neighbouring estates' boundaries, metres."),
        click.option("--min-facing-m", default=10.0, show_default=True,
                     help="Shortest shared/facing boundary for a link, metres (corner-only "
                          "contacts are not linked)."),
        click.option("--barriers", "barrier_paths", multiple=True, type=click.Path(dir_okay=False),
                     help="Roads, rivers or railways that separate estates (repeatable)."),
        click.option("--barrier-classes", default="主干路,快速路", show_default=True,
                     help="Road classes (道路等级) in a barrier road layer that separate estates."),
        click.option("--barrier-min-width-m", type=float, default=None,
                     help="Also treat roads at least this wide (道路宽度, metres) as barriers."),
        click.option("--max-households", type=float, default=3000, show_default=True,
                     help="Largest unit, households (0 = no cap)."),
        click.option("--max-floor-area-m2", type=float, default=300_000, show_default=True,
                     help="Largest unit, total floor area in m² (0 = no cap)."),
        click.option("--max-estates", type=int, default=12, show_default=True,
                     help="Largest unit, number of estates (0 = no cap)."),
        click.option("--min-households", type=float, default=None,
                     help="Units below this merge into a linked neighbour when caps allow."),
        click.option("--decisions", "decisions_path", type=click.Path(dir_okay=False),
                     help="Reviewers' decisions (CSV/XLSX, e.g. the filled-in review.xlsx): "
                          "approve/reject/split (通过/否决/拆分) per link or unit."),
        click.option("--coverage", "coverage_path", type=click.Path(dir_okay=False),
                     help="coverage.gpkg from `gis coverage`, to add each unit's living-circle gaps."),
        click.option("--input-crs", default=None, metavar="EPSG:N",
                     help="CRS for input files that carry none. Never guessed."),
        click.option("--encoding", default=None, help="Attribute encoding if detection fails."),
        click.option("--coords", "coords", multiple=True, metavar="[LAYER=]SYSTEM",
                     help="gcj02 / bd09 estates from web-map exports are converted to WGS84."),
        click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True),
        click.option("-v", "--verbose", count=True, help="More detail on stderr."),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@_unit_options
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
    Writes units.gpkg (units, estates, links), units.csv and unit_members.csv into --out.
    """
    _run(lambda: _units(**opts, review=False), opts["verbose"], opts["quiet"])


@cli.command()
@_unit_options
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
@click.option("--tree-crown-m", default=5.0, show_default=True,
              help="Crown radius for trees without one, metres; protection = crown + 5 m.")
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
    """--out with the suffix of --format (the default ``….html`` becomes ``….png``)."""
    path = Path(o["out_path"])
    return path if path.suffix.lower() == f".{o['fmt']}" else path.with_suffix(f".{o['fmt']}")


@map_group.command(name="coverage")
@click.option("--coverage", "coverage_path", required=True, type=click.Path(),
              help="coverage.gpkg written by `gis coverage` (or its folder).")
@click.option("--streets", "streets_path", type=click.Path(dir_okay=False),
              help="The same streets: adds the walking network and each category's walkable "
                   "service area.")
@click.option("--standard", default=None, metavar="NAME|FILE",
              help="The standard the coverage was computed with (default: lianyungang_15min).")
@click.option("--category", default=None, help="Colour estates by this category's distance "
              "(a key such as clinic; see `gis standards`).")
@click.option("--areas/--no-areas", default=None,
              help="Draw each category's walkable service area (default: for walking "
                   "graphs up to 1,000,000 nodes, 20 m pieces counted).")
@click.option("--input-crs", default=None, metavar="EPSG:N")
@_data_basemap_options
@_map_options
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_print_options
@click.option("--out", "out_path", default="maps/coverage_map.html", show_default=True,
              type=click.Path(dir_okay=False), help="Output file; its suffix follows --format.")
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
def map_coverage(**o: Any) -> None:
    """生活圈覆盖地图 — the coverage map: estates by facilities missing, services by category."""
    def job() -> None:
        import geopandas as gpd

        import dataclasses

        from gis import settings as gis_settings
        from gis.coverage import Coverage
        from gis.crs import metric_crs, to_metric
        from gis.layers import read_streets
        from gis.maps import coverage_map, write_map
        from gis.network import build_walk_graph
        from gis.standards import load_standard

        path = Path(o["coverage_path"])
        path = path / "coverage.gpkg" if path.is_dir() else path
        try:
            estates = gpd.read_file(path, layer="estates")
            services = gpd.read_file(path, layer="services")
        except Exception as err:
            msg = f"{path}: not a coverage.gpkg from `gis coverage` ({err})."
            raise GisError(msg) from err
        std = load_standard(o["standard"])
        missing = [k for k in std.keys if f"dist_m_{k}" not in estates]
        if missing:
            msg = (f"{path}: has no results for {', '.join(missing)}; pass the --standard the "
                   "coverage was computed with.")
            raise GisError(msg)
        metric = metric_crs(estates)
        graph = None
        if o["streets_path"]:
            streets = read_streets(o["streets_path"], crs=o["input_crs"])
            graph = build_walk_graph(to_metric(streets, metric))
        mode = str(estates["dist_mode"].iloc[0]) if "dist_mode" in estates else "network"
        cov = Coverage(estates=estates, services=services, standard=std, mode=mode,  # type: ignore[arg-type]
                       analysis_crs=metric, search_factor=gis_settings.search_factor, graph=graph)
        if o["fmt"] != "html":
            from gis.maps.printmap import coverage_print, save_figure

            fig = coverage_print(cov, category=o["category"], lang=o["lang"], paper=o["paper"],
                                 areas=o["areas"])
            click.echo(f"  map       {save_figure(fig, _print_path(o), dpi=o['dpi'])}")
            return
        if o["streets_path"] and o["data_basemap"]:  # the street file has the road classes
            cov = dataclasses.replace(cov, streets=to_metric(streets, metric))
        fmap = coverage_map(cov, category=o["category"], basemap=o["basemap"], token=o["token"],
                            offline=not o["cdn"], lang=o["lang"], areas=o["areas"],
                            **_data_basemap(o))
        click.echo(f"  map       {write_map(fmap, o['out_path'])}")

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
@click.option("--input-crs", default=None, metavar="EPSG:N")
@_map_options
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_print_options
@click.option("--out", "out_path", default="maps/units_map.html", show_default=True,
              type=click.Path(dir_okay=False), help="Output file; its suffix follows --format.")
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
def map_units(**o: Any) -> None:
    """改造单元地图 — the units map: units, member estates, links, constraints, conflicts."""
    def job() -> None:
        import geopandas as gpd
        import pyogrio

        from gis.maps import units_map, write_map
        from gis.review import read_constraint

        path = Path(o["units_path"])
        path = path / "units.gpkg" if path.is_dir() else path
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
        constraints = {kind: read_constraint(o[opt], kind, crs=o["input_crs"]).layer
                       for opt, kind in _CONSTRAINT_OPTIONS.items() if o.get(opt)}
        if o["fmt"] != "html":
            from gis.maps.printmap import save_figure, units_print

            fig = units_print(layers["units"], layers["estates"], layers["links"],
                              conflicts=layers.get("conflicts"), lang=o["lang"],
                              paper=o["paper"])
            click.echo(f"  map       {save_figure(fig, _print_path(o), dpi=o['dpi'])}")
            return
        fmap = units_map(layers["units"], layers["estates"], layers["links"],
                         conflicts=layers.get("conflicts"), constraints=constraints,
                         basemap=o["basemap"], token=o["token"], offline=not o["cdn"],
                         lang=o["lang"])
        click.echo(f"  map       {write_map(fmap, o['out_path'])}")

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


def demo_folder() -> Path:
    """The bundled demo layers: ./layers/demo, else next to the installed package."""
    import gis

    for base in (Path.cwd(), Path(gis.__file__).resolve().parents[1]):
        folder = base / "layers" / "demo"
        if (folder / "estates.gpkg").is_file():
            return folder
    msg = ("Demo data not found: run from the project folder (it holds layers/demo/) or "
           "regenerate it with `python scripts/make_demo_data.py`.")
    raise GisError(msg)


def _run(job: Any, verbose: int, quiet: bool) -> None:
    _setup_logging(verbose, quiet)
    logging.captureWarnings(False)
    try:
        with warnings.catch_warnings():
            # Repairs are listed in the report's notes; do not repeat them as Python warnings.
            warnings.simplefilter("ignore", UserWarning)
            job()
    except GisError as err:
        click.echo(f"错误 Error: {err}", err=True)
        sys.exit(2)


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
    node_crossings: bool,
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
    docx: bool = True,
    **extra: Any,
) -> Any:
    from gis.coverage import living_circle
    from gis.crs import parse_crs
    from gis.layers import read_estates, read_gates, read_services, read_streets
    from gis.maps import coverage_map, write_map
    from gis.report import write_coverage
    from gis.standards import load_standard

    t0 = time.perf_counter()
    _check_out_dir(out_dir)
    std = load_standard(standard)
    metric = parse_crs(analysis_crs, what="--crs") if analysis_crs else None
    kw = {"crs": input_crs, "encoding": encoding}
    sys_of = _coords_map(coords)
    estates = read_estates(estates_path, **kw, coords=sys_of.get("estates"))
    services = read_services(services_path, std, **kw, coords=sys_of.get("services"))
    streets = read_streets(streets_path, **kw, coords=sys_of.get("streets")) if streets_path else None
    gates = read_gates(gates_path, estates, **kw, coords=sys_of.get("gates")) if gates_path else None
    if mode == "network" and streets is None:
        raise GisError("--streets is required in network mode; or pass --mode straight.")
    logger.info("Read %d estates, %d services, %s street lines", len(estates), len(services),
                "no" if streets is None else f"{len(streets):,}")
    cov = living_circle(estates, services, std, streets=streets, gates=gates, mode=mode,  # type: ignore[arg-type]
                        crs=metric, node_crossings=node_crossings, progress=not quiet)
    figures = None
    if docx:
        from gis.maps.printmap import coverage_figures

        figures = coverage_figures(cov, lang=lang, illustrative=illustrative)
    paths = write_coverage(cov, out_dir, lang=lang, illustrative=illustrative, figures=figures)
    if make_map:
        name = "coverage_map.html" if lang == "zh" else "coverage_map_en.html"
        paths["map"] = write_map(coverage_map(cov, lang=lang, illustrative=illustrative,
                                              basemap=basemap, token=token, offline=not cdn,
                                              **_data_basemap({**extra, "input_crs": input_crs})),
                                 Path(out_dir) / name)
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
    import pandas as pd

    from gis.adjacency import barrier_features
    from gis.crs import metric_crs, to_metric
    from gis.decisions import read_decisions
    from gis.layers import read_barriers, read_estates
    from gis.report import write_review, write_units
    from gis.review import Constraint, check_units, read_constraint
    from gis.standards import load_standard
    from gis.units import UnitCaps, renovation_units

    _check_out_dir(o["out_dir"])
    std = load_standard(o.get("standard"))
    kw = {"crs": o.get("input_crs"), "encoding": o.get("encoding")}
    if estates is None:
        estates = read_estates(o["estates_path"], **kw,
                               coords=_coords_map(o.get("coords") or ()).get("estates"))
        if o.get("coverage_path"):
            estates = _join_coverage(estates, o["coverage_path"])
    notes = [*(notes or []), *estates.attrs.get("notes", [])]
    classes = tuple(c.strip() for c in str(o.get("barrier_classes") or "").split(",") if c.strip())
    parts = []
    for path in o.get("barrier_paths") or ():
        layer = read_barriers(path, **kw)
        lines = layer.geometry.geom_type.str.contains("Line").all()
        parts.append(barrier_features(
            layer, kind=Path(path).stem,
            road_classes=classes if lines else (),
            min_width_m=o.get("barrier_min_width_m") if lines else None,
        ).to_crs(estates.crs))
    barriers = pd.concat(parts, ignore_index=True) if parts else None

    def cap(value: float | None) -> float | None:
        return None if value is None or value <= 0 else value

    caps = UnitCaps(
        max_households=cap(o.get("max_households")),
        max_floor_area_m2=cap(o.get("max_floor_area_m2")),
        max_estates=int(o["max_estates"]) if cap(o.get("max_estates")) else None,
        min_households=cap(o.get("min_households")),
    )
    decisions = read_decisions(o["decisions_path"], encoding=o.get("encoding")) \
        if o.get("decisions_path") else None
    result, assessed = renovation_units(
        estates, std, include_extended=o.get("include_extended", False), gap_m=o["gap_m"],
        min_facing_m=o["min_facing_m"], barriers=barriers, caps=caps, decisions=decisions,
    )
    out_dir = o["out_dir"]
    lang = o.get("lang", "zh")
    if not review:
        paths = write_units(result, assessed, out_dir, lang=lang)
    else:
        metric = metric_crs(estates)
        constraints = []
        for option, kind in _CONSTRAINT_OPTIONS.items():
            if o.get(option):
                c = read_constraint(o[option], kind, **kw)
                constraints.append(Constraint(kind, to_metric(c.layer, metric), c.source))
        checks, conflicts = check_units(to_metric(result.units, metric), constraints,
                                        tree_default_crown_m=o.get("tree_crown_m", 5.0))
        for c in constraints:
            notes.extend(c.layer.attrs.get("notes", []))
        figures = None
        if o.get("docx", True):
            from gis.maps.printmap import review_figures

            figures = review_figures(
                result.units.merge(checks, left_on="unit_id", right_index=True, how="left"),
                assessed, result.links, conflicts=conflicts, lang=lang,
                illustrative=illustrative)
        paths = write_review(result, assessed, checks, conflicts.to_crs(estates.crs), out_dir,
                             lang=lang, illustrative=illustrative, notes=notes,
                             constraint_sources=[c.source for c in constraints], figures=figures)
        if o.get("make_map", True):
            from gis.maps import units_map, write_map

            reviewed = result.units.merge(checks, left_on="unit_id", right_index=True, how="left")
            from gis.report.units import link_reasons

            reviewed["link_reasons"] = link_reasons(result).reindex(reviewed["unit_id"]).fillna(
                "").to_numpy()
            fmap = units_map(
                reviewed, assessed.merge(result.membership, on="estate_id", how="left"),
                result.links, conflicts=conflicts.to_crs(estates.crs),
                constraints={c.kind: c.layer for c in constraints},
                basemap=o.get("basemap", "none"), token=o.get("token"),
                offline=not o.get("cdn", False), lang=lang, illustrative=illustrative,
            )
            name = "units_map.html" if lang != "en" else "units_map_en.html"
            paths["map"] = write_map(fmap, Path(out_dir) / name)
    u = result.units
    click.echo(
        f"{int(assessed['eligible'].sum())}/{len(assessed)} 个小区纳入改造 eligible; "
        f"{len(u)} 个改造单元 units, {int((u['n_estates'] > 1).sum())} 个联动 joint"
    )
    if decisions is not None:
        applied = result.decisions["status"].str.startswith("applied").sum()
        click.echo(f"  审查决定 decisions: {applied}/{len(result.decisions)} applied")
    for key, path in paths.items():
        click.echo(f"  {key:<11} {path}")


_LAYER_ROLES = ("estates", "services", "streets", "gates")


def _coords_map(values: tuple[str, ...]) -> dict[str, str]:
    """``("services=gcj02",)`` → {"services": "gcj02"}; a bare system applies to every layer."""
    from gis.layers import COORD_SYSTEMS

    out: dict[str, str] = {}
    for value in values:
        role, _, system = value.rpartition("=")
        system = system.strip().lower().replace("-", "")
        if system not in COORD_SYSTEMS or (role and role not in _LAYER_ROLES):
            msg = (f"--coords {value!r}: use SYSTEM or LAYER=SYSTEM with SYSTEM in "
                   f"{', '.join(COORD_SYSTEMS)} and LAYER in {', '.join(_LAYER_ROLES)}.")
            raise GisError(msg)
        for r in [role] if role else _LAYER_ROLES:
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


def main() -> None:
    """Console-script entry point."""
    cli()
