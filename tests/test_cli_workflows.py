"""The thin CLI (issue 12 item 4): no analysis in gis/cli.py, every parameter default from
`gis.params`, and the run record in every output, read back by `gis map` / `gis review`.

Oracles: the source of gis/cli.py itself (its imports, parsed with `ast`); the `Params`
field defaults and the library's own argument defaults (`inspect`); the GeoPackage's
``gis_metadata`` table (`read_metadata`) against the XLSX 运行记录 sheet; a coverage run
with a non-default ``search_factor`` (set in a standard's ``[params]`` table) against the
distances the map then draws (threshold × factor).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from dataclasses import fields
from pathlib import Path

import click
import geopandas as gpd
import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DEMO, ROOT
from gis import settings
from gis.candidates import network_candidates
from gis.cli import cli
from gis.coverage import living_circle
from gis.params import Params
from gis.siting import site_facilities
from gis.standards import load_standard
from gis.tiles import CoverageParams
from gis.workflows import read_metadata, read_record_sheet, record_rows

CLI = ROOT / "gis" / "cli.py"

#: What the command line may import from `gis`: whole modules that are no analysis
#: (workflows; readers of sources; writers of reports and maps; parameters, errors, text;
#: the console summaries; the other command adapters) ...
WHOLE = {"gis.workflows", "gis.sources", "gis.prepare", "gis.params", "gis.errors",
         "gis.i18n", "gis.notes", "gis.report", "gis.maps", "gis.summary",
         "gis.programme.cli", "gis.batch"}
#: ... and the readers (and option parsers) of modules that also hold analysis.
READERS = {
    "gis.layers": {"read_estates", "read_services", "read_streets", "read_gates",
                   "read_barriers", "COORD_SYSTEMS"},
    "gis.constraints": {"read_constraint"},
    "gis.candidates": {"read_candidates"},
    "gis.decisions": {"read_decisions"},
    "gis.standards": {"load_standard", "bundled_standards"},
    "gis.crs": {"parse_crs"},
    # Renderers kept beside the review: conflict labels and tables in the output language.
    "gis.review": {"review_tables", "labelled_layer"},
}


def analysis_imports(source: str) -> list[str]:
    """``module.name`` of every `gis` import in ``source`` that is not allowed above."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gis":
            whole = any(node.module == m or node.module.startswith(m + ".") for m in WHOLE)
            for alias in node.names:
                if not whole and alias.name not in READERS.get(node.module, set()):
                    bad.append(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("gis")
                    and not any(a.name == m or a.name.startswith(m + ".") for m in WHOLE)]
    return bad


def test_the_cli_calls_no_analysis_module():
    assert analysis_imports(CLI.read_text(encoding="utf-8")) == []


def test_the_import_check_finds_analysis_calls():
    code = ("from gis.coverage import living_circle\nfrom gis.crs import to_metric, parse_crs\n"
            "import gis.units\nfrom gis.layers import read_estates\n"
            "from gis.maps.printmap import save_figure\n")
    assert analysis_imports(code) == ["gis.coverage.living_circle", "gis.crs.to_metric",
                                      "gis.units"]


def _commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
        elif cmd.callback is not None and cmd.callback.__module__ == "gis.cli":
            out.append((f"{prefix}{name}", cmd))
    return out


PARAMS = {f.name: f for f in fields(Params)}
#: Numeric defaults of options that change no result (print resolution).
KNOBS = {"dpi": 300}


def test_every_parameter_option_takes_its_default_from_params():
    seen = set()
    for name, cmd in _commands():
        for opt in cmd.params:
            if not isinstance(opt, click.Option):
                continue
            if opt.name in PARAMS:
                seen.add(opt.name)
                # No default of its own: unset, the standard's table or Params applies.
                assert opt.default is None, f"gis {name} {opt.opts[0]}: default {opt.default}"
                default = PARAMS[opt.name].default
                shown = ",".join(default) if isinstance(default, tuple) else \
                    "none" if default is None else str(default)
                assert re.search(rf"\[default: {re.escape(shown)}\b", opt.help), \
                    f"gis {name} {opt.opts[0]}: {opt.help}"
            elif isinstance(opt.default, (int, float)) and not isinstance(opt.default, bool) \
                    and not opt.count:
                assert KNOBS.get(opt.name) == opt.default, (
                    f"gis {name} {opt.opts[0]}: numeric default {opt.default} not from Params")
    assert {"gap_m", "min_facing_m", "max_households", "max_floor_area_m2", "max_estates",
            "min_households", "barrier_classes", "tree_crown_m", "gate_tolerance_m",
            "spacing_m", "time_limit_s"} <= seen


def test_params_defaults_are_the_library_defaults():
    """Where a library function or setting has its own default, it is the Params one."""
    p = Params()
    assert p.spacing_m == inspect.signature(network_candidates).parameters["spacing_m"].default
    assert p.time_limit_s == inspect.signature(site_facilities).parameters["time_limit_s"].default
    sig = inspect.signature(living_circle).parameters
    assert p.gate_tolerance_m == CoverageParams().gate_tolerance_m
    # gis.settings holds no result-changing number any more: one home for each default.
    for name in ("access_radius_m", "search_factor", "vertex_snap_m", "max_edge_m",
                 "gate_tolerance_m", "far_feature_m"):
        assert not hasattr(settings, name), name
        assert getattr(CoverageParams(), name, getattr(p, name)) == getattr(p, name), name
        assert name not in sig or sig[name].default is None, name


def _standard_with(tmp_path: Path, table: str) -> Path:
    """The bundled standard with a parameter table appended."""
    text = (ROOT / "gis" / "standards" / "lianyungang_15min.toml").read_text(encoding="utf-8")
    path = tmp_path / "custom_15min.toml"
    path.write_text(text + "\n" + table, encoding="utf-8")
    return path


def _run(args: list[str]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _sheet_rows(path: Path, sheet: str) -> list[tuple[str, str]]:
    ws = openpyxl.load_workbook(path)[sheet]
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row if c.value is not None)
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    return rows[1:]


def _map_limits(html: str) -> list[float]:
    """The distance limits (search factor × threshold) the coverage map's popups carry."""
    found = re.search(r'"limits":\s*(\[[^\]]*\])', html)
    assert found, "no limits in the map"
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def factor3(tmp_path_factory):
    """`gis coverage` on the demo with ``search_factor = 3`` from the standard's table."""
    tmp = tmp_path_factory.mktemp("factor3")
    std = _standard_with(tmp, "[params]\nsearch_factor = 3.0\n")
    out = tmp / "out"
    _run(["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
          str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
          "--standard", str(std), "--no-node-crossings", "--no-map", "--no-docx",
          "--out", str(out), "-q"])
    return std, out


def test_coverage_xlsx_holds_the_gpkg_record(factor3):
    _, out = factor3
    record = read_metadata(out / "coverage.gpkg")
    assert record["params"]["search_factor"] == 3.0  # the standard's table, not the default
    assert record["standard"]["file"] == "custom_15min.toml"
    assert _sheet_rows(out / "gap_report.xlsx", "运行记录") == record_rows(record, "zh")
    assert read_record_sheet(out / "gap_report.xlsx") == {
        **record, "standard": {k: v for k, v in record["standard"].items() if k != "name_en"}}


def test_the_map_draws_with_the_runs_parameter(factor3, tmp_path):
    std, out = factor3
    walk = [c.walk_m for c in load_standard(str(std)).categories]
    _run(["map", "coverage", "--coverage", str(out), "--standard", str(std),
          "--out", str(tmp_path / "m.html"), "-q"])
    assert _map_limits((tmp_path / "m.html").read_text(encoding="utf-8")) == [3 * w for w in walk]
    # A coverage.gpkg without a record (an older version): the Params default, 2×.
    old = tmp_path / "old" / "coverage.gpkg"
    old.parent.mkdir()
    for layer in ("estates", "services"):
        gpd.read_file(out / "coverage.gpkg", layer=layer).to_file(old, layer=layer)
    assert read_metadata(old) is None
    _run(["map", "coverage", "--coverage", str(old), "--standard", str(std),
          "--out", str(tmp_path / "old.html"), "-q"])
    assert _map_limits((tmp_path / "old.html").read_text(encoding="utf-8")) == [
        Params().search_factor * w for w in walk]


def test_units_take_the_standards_table_and_the_option_over_it(tmp_path):
    std = _standard_with(tmp_path, "[units]\ngap_m = 20.0\n")
    _run(["units", "--estates", str(DEMO / "estates.gpkg"), "--standard", str(std),
          "--out", str(tmp_path / "a"), "-q"])
    assert read_metadata(tmp_path / "a" / "units.gpkg")["params"]["gap_m"] == 20.0
    _run(["units", "--estates", str(DEMO / "estates.gpkg"), "--standard", str(std),
          "--gap-m", "12", "--out", str(tmp_path / "b"), "-q"])
    assert read_metadata(tmp_path / "b" / "units.gpkg")["params"]["gap_m"] == 12.0


def test_review_xlsx_holds_the_record_and_review_reads_it_back(tmp_path):
    first = tmp_path / "first"
    _run(["review", "--estates", str(DEMO / "estates.gpkg"), "--gap-m", "20", "--lang", "en",
          "--ancient-trees", str(DEMO / "ancient_trees.gpkg"), "--no-map", "--no-docx",
          "--out", str(first), "-q"])
    record = read_metadata(first / "units.gpkg")
    assert record == read_metadata(first / "units_source_crs.gpkg")
    assert record["workflow"] == "review" and record["params"]["gap_m"] == 20.0
    assert "ancient_tree" in record["review_inputs"]
    assert _sheet_rows(first / "review_en.xlsx", "Run record") == record_rows(record, "en")
    # The filled-in workbook goes back with --decisions to a run with another gap:
    # the review says its decisions were made on units formed another way.
    second = tmp_path / "second"
    _run(["review", "--estates", str(DEMO / "estates.gpkg"), "--decisions",
          str(first / "review_en.xlsx"), "--no-map", "--no-docx", "--out", str(second), "-q"])
    md = (second / "review.md").read_text(encoding="utf-8")
    assert "review_en.xlsx：其中的决定针对按不同参数组成的改造单元（gap_m 20.0 → 15.0）" in md


def test_siting_outputs_hold_the_record(tmp_path):
    _run(["siting", "--estates", str(DEMO / "estates.gpkg"), "--services",
          str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
          "--category", "charging", "--k", "2", "--spacing-m", "150", "--no-map",
          "--out", str(tmp_path), "-q"])
    record = read_metadata(tmp_path / "sites.gpkg")
    assert record["workflow"] == "siting" and record["params"]["spacing_m"] == 150.0
    assert record["options"]["demands"] == [["charging", 2]]
    assert _sheet_rows(tmp_path / "siting_report.xlsx", "运行记录") == record_rows(record, "zh")


def test_siting_run_is_the_chain_it_replaces_and_pickles():
    """`siting_run` gives what the CLI's steps gave (coverage, candidates, choice), and its
    result travels whole to another process (pickle)."""
    import pickle

    from gis.candidates import gather_candidates
    from gis.coverage import living_circle
    from gis.synthetic import random_town
    from gis.workflows import siting_run

    streets, estates, services = random_town(3)
    std = load_standard(None)
    demands = [("charging", 2), ("clinic", None)]
    run = siting_run(estates, services, std, demands=demands, streets=streets)
    cov = living_circle(estates, services, std, streets=streets)
    cands = gather_candidates(["network", "estates"], estates=cov.estates, streets=cov.streets,
                              analysis_crs=cov.analysis_crs,
                              reach_m=max(std.category(c).walk_m for c, _ in demands))
    direct = site_facilities(cov, cands, demands)
    cols = ["category", "order", "candidate_id", "new_households", "cum_households"]
    assert set(run.siting.sites["category"]) == {"charging", "clinic"}
    assert run.siting.sites[cols].equals(direct.sites[cols])
    assert run.siting.summary.drop(columns="seconds").equals(
        direct.summary.drop(columns="seconds"))
    back = pickle.loads(pickle.dumps(run))
    assert back.siting.sites[cols].equals(run.siting.sites[cols])
    assert back.metadata == run.metadata and back.metadata["inputs"]["estates"]["rows"] == 25
