"""The in-memory core (issue 12): workflows on frames, parameters with sources, sources
apart from preparation, run records in the outputs — and that none of it changed a result.

Oracles: the demo's result tables fingerprinted from the code before the refactoring
(tests/fixtures/demo_tables.json, see tests/demo_tables.py); the file readers of
`gis.layers` (prepared frames must equal what the readers give); brute-force shapely
distances for a workflow on frames built in memory.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal

from conftest import DEMO, ROOT
from demo_tables import table_digests
from gis.errors import InputError
from gis.layers import read_estates, read_gates, read_services, read_streets
from gis.params import Params, default, describe
from gis.prepare import (prepare_constraint, prepare_estates, prepare_gates, prepare_services,
                         prepare_streets)
from gis.review import read_constraint
from gis.sources import read_source
from gis.standards import load_standard
from gis.workflows import coverage_run, read_metadata, units_run

FIXTURE = Path(__file__).parent / "fixtures" / "demo_tables.json"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    from gis.cli import cli

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_demo_tables_identical_to_before_the_refactoring(demo_out):
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert table_digests(demo_out) == expected


def test_outputs_carry_the_run_record(demo_out):
    cov = read_metadata(demo_out / "coverage.gpkg")
    assert cov["workflow"] == "coverage" and cov["standard"]["name"] == "lianyungang_15min"
    assert cov["params"] == Params().as_dict()
    assert cov["inputs"]["estates"]["rows"] == 150 and len(cov["inputs"]["estates"]["sha256"]) == 64
    assert cov["crs"].startswith("EPSG:45")  # the CGCS2000 GK zone the run measured in
    units = read_metadata(demo_out / "review" / "units.gpkg")
    assert units["workflow"] == "review" and units["params"]["gap_m"] == 15.0
    assert read_metadata(DEMO / "estates.gpkg") is None  # a file without a record


def test_import_and_coverage_on_frames_in_memory_without_files():
    """`import gis; from gis.workflows import coverage_run` on frames built in memory:
    straight-line distances equal brute-force shapely distances."""
    code = """
import gis
from gis.workflows import coverage_run
import geopandas as gpd, numpy as np, shapely
from gis.prepare import prepare_estates, prepare_services
from gis.standards import load_standard
std = load_standard(None)
rng = np.random.default_rng(7)
x, y = rng.uniform(0, 3000, 20), rng.uniform(0, 3000, 20)
est = gpd.GeoDataFrame({"estate_id": [f"E{i}" for i in range(20)]},
                       geometry=shapely.box(x, y, x + 80, y + 60), crs="EPSG:4547")
px, py = rng.uniform(0, 3000, 15), rng.uniform(0, 3000, 15)
cats = [std.keys[i % len(std.keys)] for i in range(15)]
svc = gpd.GeoDataFrame({"category": cats}, geometry=shapely.points(px, py), crs="EPSG:4547")
run = coverage_run(prepare_estates(est), prepare_services(svc, standard=std), std,
                   mode="straight")
for key in std.keys:
    pts = svc.geometry[svc["category"] == key]
    want = np.array([pts.distance(g).min() for g in est.geometry])
    got = run.coverage.estates[f"dist_m_{key}"].to_numpy(dtype=float)
    far = want > 2 * std.category(key).walk_m
    assert np.allclose(got[~far], want[~far], atol=0.01), key
    assert np.isnan(got[far]).all(), key
print("ok", run.metadata["workflow"], run.metadata["inputs"]["estates"]["rows"])
"""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok coverage 20"


def test_prepared_frames_equal_the_file_readers():
    std = load_standard(None)
    pairs = [
        (read_estates(DEMO / "estates.gpkg"), prepare_estates(gpd.read_file(DEMO / "estates.gpkg"),
                                                              source_name="estates.gpkg")),
        (read_services(DEMO / "services.gpkg", std),
         prepare_services(gpd.read_file(DEMO / "services.gpkg"), standard=std,
                          source_name="services.gpkg")),
        (read_streets(DEMO / "streets.gpkg"),
         prepare_streets(read_source(DEMO / "streets.gpkg").frame, source_name="streets.gpkg")),
    ]
    estates = pairs[0][0]
    pairs.append((read_gates(DEMO / "gates.gpkg", estates),
                  prepare_gates(gpd.read_file(DEMO / "gates.gpkg"), estates,
                                source_name="gates.gpkg")))
    for old, new in pairs:
        assert_geodataframe_equal(old, new)
        assert [str(n) for n in old.attrs.get("notes", [])] == \
               [str(n) for n in new.attrs.get("notes", [])]
    old = read_constraint(DEMO / "ancient_trees.gpkg", "ancient_tree")
    new = prepare_constraint(gpd.read_file(DEMO / "ancient_trees.gpkg"), "ancient_tree",
                             source_name="ancient_trees.gpkg")
    assert_geodataframe_equal(old.layer, new.layer)


def test_prepare_checks_frames_and_leaves_them_unchanged():
    raw = gpd.read_file(DEMO / "estates.gpkg")
    before = raw.copy()
    dup = raw.iloc[[0, 0]].copy()
    with pytest.raises(InputError, match="repeat"):
        prepare_estates(dup, source_name="mine")
    prepare_estates(raw)
    assert_geodataframe_equal(raw, before)
    no_crs = raw.set_crs(None, allow_override=True)
    with pytest.raises(Exception, match="CRS|crs"):
        prepare_estates(no_crs)
    frame, name = read_source(DEMO / "estates.gpkg")
    assert name == "estates.gpkg" and len(frame) == 150 and "_row" not in frame


def test_units_run_equals_the_cli_units(demo_out):
    """units_run on prepared demo estates gives the demo's units (no barriers, no decisions:
    compared to a direct call with the caps spelled out)."""
    from gis.units import UnitCaps, renovation_units

    std = load_standard(None)
    estates = read_estates(DEMO / "estates.gpkg")
    run = units_run(estates, std)
    ref, _ = renovation_units(estates, std, gap_m=15.0, min_facing_m=10.0,
                              caps=UnitCaps(3000.0, 300_000.0, 12, None))
    assert sorted(run.units.units["unit_id"]) == sorted(ref.units["unit_id"])
    assert run.metadata["params"]["max_estates"] == 12
    pickle.loads(pickle.dumps(run))  # slim enough to travel to a worker


def test_progress_is_a_callback():
    std = load_standard(None)
    estates = read_estates(DEMO / "estates.gpkg")
    services = read_services(DEMO / "services.gpkg", std)
    streets = read_streets(DEMO / "streets.gpkg")
    heard: list[tuple[int, int, str]] = []
    run = coverage_run(estates, services, std, streets=streets,
                       progress=lambda done, total, key: heard.append((done, total, key)))
    n = len(std.categories)
    assert heard == [(i + 1, n, c.key) for i, c in enumerate(std.categories)]
    quiet = coverage_run(estates, services, std, streets=streets)
    cols = [c for c in run.coverage.estates if c.startswith("dist_m_")]
    assert np.array_equal(run.coverage.estates[cols].to_numpy(dtype=float),
                          quiet.coverage.estates[cols].to_numpy(dtype=float), equal_nan=True)


def test_params_defaults_sources_and_standard_tables(tmp_path):
    rows = describe()
    assert all(r["source"] and r["unit"] for r in rows)
    assert Params().gap_m == 15.0 and Params().max_households == 3000.0
    text = (ROOT / "gis" / "standards" / "lianyungang_15min.toml").read_text(encoding="utf-8")
    mine = tmp_path / "mine.toml"
    mine.write_text(text + "\n[units]\ngap_m = 20\nbarrier_classes = [\"主干路\"]\n"
                    "\n[params]\nsearch_factor = 3\n", encoding="utf-8")
    std = load_standard(str(mine))
    p = Params.from_standard(std, min_facing_m=5)
    assert (p.gap_m, p.min_facing_m, p.search_factor, p.barrier_classes) == (20, 5, 3, ("主干路",))
    assert Params.from_standard(std, gap_m=None).gap_m == 20  # unset options fall through
    bad = tmp_path / "bad.toml"
    bad.write_text(text + "\n[units]\nsearch_factor = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\[units\] search_factor .*\[params\]"):
        Params.from_standard(load_standard(str(bad)))
    with pytest.raises(InputError, match="gap_m"):
        Params(gap_m=-1)


def test_cli_defaults_come_from_params():
    """The options have no default of their own (so a standard's table applies when they
    are unset); the default they show is the `Params` one (every command and option:
    tests/test_cli_workflows.py)."""
    from gis.cli import cli

    for command in ("units", "review"):
        opts = {p.name: p for p in cli.commands[command].params}
        for name in ("gap_m", "min_facing_m", "max_households", "max_floor_area_m2",
                     "max_estates"):
            assert opts[name].default is None, (command, name)
            assert f"[default: {default(name)} " in opts[name].help, (command, name)
    tree = {p.name: p for p in cli.commands["review"].params}["tree_crown_m"]
    assert tree.default is None and f"[default: {default('tree_crown_m')} " in tree.help


def test_cli_names_the_flag_of_a_bad_parameter(tmp_path):
    from gis.cli import cli

    result = CliRunner().invoke(cli, ["units", "--estates", str(DEMO / "estates.gpkg"),
                                      "--gap-m", "-1", "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    assert "错误 Error: --gap-m: -1.0 must be a finite number ≥ 0 (m)." in result.output
    assert not (tmp_path / "o" / "units.gpkg").exists()


def test_coverage_params_fed_by_params():
    from gis.tiles import CoverageParams

    assert CoverageParams.from_params(Params()) == CoverageParams.resolve()
    given = CoverageParams.from_params(Params(max_edge_m=5.0, search_factor=3.0), mode="straight")
    assert (given.max_edge_m, given.search_factor, given.mode) == (5.0, 3.0, "straight")


def test_units_reads_back_the_standard_of_a_coverage_file(demo_out, tmp_path):
    """A coverage.gpkg computed with another standard than the units run's is named in
    the report's notes (read from its run record, not guessed)."""
    from gis.cli import cli

    cov = demo_out / "coverage.gpkg"
    for standard, expect in (("gb50180_tiered", True), ("lianyungang_15min", False)):
        out = tmp_path / standard
        result = CliRunner().invoke(cli, ["units", "--estates", str(DEMO / "estates.gpkg"),
                                          "--coverage", str(cov), "--standard", standard,
                                          "--out", str(out), "-q"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        md = (out / "units_report.md").read_text(encoding="utf-8")
        assert ("覆盖分析所用标准为 lianyungang_15min.toml" in md) is expect, standard
        assert read_metadata(out / "units.gpkg")["standard"]["name"] == standard


def test_osm_extract_tables_identical_to_the_previous_release(tmp_path):
    """`gis coverage` on the bundled OpenStreetMap test extract (pyrosm's test.osm.pbf: real
    OSM data nobody here drew) gives the tables the previous release gave, fingerprinted in
    tests/fixtures/osm_extract_tables.json from release 94ff015."""
    import pyrosm

    from gis.cli import cli

    pbf = pyrosm.get_data("test_pbf")
    result = CliRunner().invoke(cli, ["coverage", "--estates", pbf, "--services", pbf,
                                      "--streets", pbf, "--out", str(tmp_path), "-q",
                                      "--no-map"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    expected = json.loads((FIXTURE.parent / "osm_extract_tables.json").read_text(encoding="utf-8"))
    assert table_digests(tmp_path, ("coverage.gpkg",)) == expected
