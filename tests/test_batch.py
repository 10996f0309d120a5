"""`gis batch` on a real dask.distributed LocalCluster (2 worker processes).

Oracle: each city's own single run (`living_circle` on that city's files, in this
process); the batch must write exactly those distances and flags. The demo town is cut
into cities by subdistrict (街道), plus one city with broken data.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DEMO, ROOT
from gis.batch import read_manifest, run_batch, write_summary
from gis.cli import cli
from gis.coverage import living_circle
from gis.errors import InputError
from gis.layers import read_estates, read_gates, read_services, read_streets
from gis.tiles import CoverageParams, living_circle_tiled
from gis.units import renovation_units


# Killing a worker leaves distributed's sockets to that worker to the garbage collector;
# their ResourceWarning says nothing about gis.
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0",
                           silence_logs=50)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def make_cities(folder: Path, *, broken: bool = True) -> Path:
    """Demo cut by subdistrict into four cities (their own estates and gates files; shared
    services and streets), the whole demo as a fifth, and a city with duplicate ids."""
    folder.mkdir(parents=True, exist_ok=True)
    estates = gpd.read_file(DEMO / "estates.gpkg")
    gates = gpd.read_file(DEMO / "gates.gpkg")
    rows = []
    for i, (sub, part) in enumerate(estates.groupby("所属街道", sort=True)):
        part.to_file(folder / f"estates_{i}.gpkg")
        g = gates[gates[gates.columns[0]].isin(part["小区编号"])]
        g.to_file(folder / f"gates_{i}.gpkg")
        rows.append({"城市": f"示范县{sub}", "代码": f"3207{i:02d}",
                     "小区": f"estates_{i}.gpkg", "设施": str(DEMO / "services.gpkg"),
                     "路网": str(DEMO / "streets.gpkg"), "出入口": f"gates_{i}.gpkg"})
    # The whole town, tiled by its subdistricts' hulls (the oracle is still the untiled run).
    hulls = estates.dissolve("所属街道").convex_hull.reset_index(drop=True)
    gpd.GeoDataFrame({"名称": list("甲乙丙丁")[:len(hulls)]}, geometry=hulls,
                     crs=estates.crs).to_file(folder / "districts.gpkg")
    rows.append({"城市": "=1+1 示范县全域 <b>&", "代码": "320799", "小区": str(DEMO / "estates.gpkg"),
                 "设施": str(DEMO / "services.gpkg"), "路网": str(DEMO / "streets.gpkg"),
                 "出入口": str(DEMO / "gates.gpkg"), "分区": "districts.gpkg"})
    if broken:
        rows.append({"城市": "坏数据县", "代码": "999999",
                     "小区": str(ROOT / "tests" / "bad_inputs" / "duplicate_ids.gpkg"),
                     "设施": str(DEMO / "services.gpkg"), "路网": str(DEMO / "streets.gpkg"),
                     "出入口": "", "分区": ""})
    path = folder / "cities.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def single_run(task, standard):
    estates = read_estates(task.estates)
    services = read_services(task.services, standard)
    streets = read_streets(task.streets)
    gates = read_gates(task.gates, estates) if task.gates else None
    return living_circle(estates, services, standard, streets=streets, gates=gates)


def assert_city_equals_single_run(out: Path, task, standard) -> None:
    written = gpd.read_file(out / task.code / "coverage.gpkg", layer="estates")
    oracle = single_run(task, standard).estates
    assert list(written["estate_id"]) == list(oracle["estate_id"])
    for c in standard.categories:
        np.testing.assert_array_equal(written[f"dist_m_{c.key}"].to_numpy(dtype=float),
                                      oracle[f"dist_m_{c.key}"].to_numpy(dtype=float))
        np.testing.assert_array_equal(written[f"covered_{c.key}"].to_numpy(dtype=bool),
                                      oracle[f"covered_{c.key}"].to_numpy(dtype=bool))


def test_batch_gives_each_city_its_single_run_and_reports_the_broken_one(
        tmp_path, client, standard):
    manifest = make_cities(tmp_path / "in")
    out = tmp_path / "out"
    tasks = read_manifest(manifest, out_dir=out)
    seen = []
    results = run_batch(tasks, client=client, on_city=lambda r, d, n: seen.append((r.code, d, n)))
    by_code = {r.code: r for r in results}
    assert [r.code for r in results] == [t.code for t in tasks]
    assert sorted(d for _, d, _ in seen) == list(range(1, len(tasks) + 1))
    assert by_code["999999"].status == "failed"
    assert "duplicate" in by_code["999999"].message.lower() or "重复" in by_code["999999"].message
    assert not (out / "999999").exists()  # nothing written for the failed city
    assert tasks[4].districts and tasks[4].districts.endswith("districts.gpkg")
    for t in tasks[:-1]:
        assert by_code[t.code].status == "done", by_code[t.code].message
        assert_city_equals_single_run(out, t, standard)
    # Summary numbers: the cities' estates add up to the whole town's.
    parts = sum(by_code[t.code].estates for t in tasks[:4])
    assert parts == by_code["320799"].estates == 150
    whole = single_run(tasks[4], standard)
    assert by_code["320799"].estates_with_gaps == int((whole.estates["coverage_score"] < 1).sum())
    units, assessed = renovation_units(whole.estates, standard)
    assert by_code["320799"].units == len(units.units) > 0
    assert by_code["320799"].eligible == int(assessed["eligible"].sum())
    assert (out / "320799" / "units.gpkg").is_file()
    clinic = whole.estates["covered_clinic"].mean()
    assert by_code["320799"].rates["clinic"]["estate_rate"] == pytest.approx(clinic)
    paths = write_summary(results, standard, out)
    book = openpyxl.load_workbook(paths["xlsx"])
    values = [c.value for c in next(book.active.iter_rows(min_row=2, max_row=2))]
    assert values[0] == tasks[0].code
    town = next(book.active.iter_rows(min_row=6, max_row=6))
    assert town[1].value == "=1+1 示范县全域 <b>&" and town[1].data_type == "s"
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "坏数据县" in md and "失败" in md
    page = paths["map"].read_text(encoding="utf-8")
    assert "=1+1 示范县全域 <b>&" not in page  # the name reaches the page only as JSON text
    assert "gisEsc" in page


def test_rerun_skips_unchanged_cities_and_reruns_a_changed_one(tmp_path, client, standard):
    manifest = make_cities(tmp_path / "in", broken=False)
    out = tmp_path / "out"
    first = run_batch(read_manifest(manifest, out_dir=out), client=client)
    assert {r.status for r in first} == {"done"}
    stamp = (out / "320700" / "run.json").stat().st_mtime_ns
    # Change one city's estates file (drop an estate): only that city runs again.
    part = gpd.read_file(tmp_path / "in" / "estates_1.gpkg")
    part.iloc[1:].to_file(tmp_path / "in" / "estates_1.gpkg")
    second = run_batch(read_manifest(manifest, out_dir=out), client=client)
    status = {r.code: r.status for r in second}
    assert status.pop("320701") == "done"
    assert set(status.values()) == {"unchanged"}
    assert (out / "320700" / "run.json").stat().st_mtime_ns == stamp
    assert {r.code: r.estates for r in second}["320701"] == len(part) - 1
    # A changed parameter is a changed fingerprint too.
    third = run_batch(read_manifest(manifest, out_dir=out,
                                    params=CoverageParams.resolve(access_radius_m=50.0)),
                      client=client)
    assert {r.status for r in third} == {"done"}


def test_a_worker_killed_mid_batch_loses_no_city(tmp_path, client, standard):
    manifest = make_cities(tmp_path / "in", broken=False)
    out = tmp_path / "out"
    tasks = read_manifest(manifest, out_dir=out)
    pids = client.run(os.getpid)
    killed = []

    def kill_once(result, done, total):
        if not killed:
            # Kill a worker while the other cities are still queued or running on it.
            busy = [w for w, keys in client.processing().items() if keys] or list(pids)
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

    results = run_batch(tasks, client=client, force=True, on_city=kill_once)
    assert killed
    assert [r.status for r in results] == ["done"] * len(tasks)
    for t in tasks:
        assert_city_equals_single_run(out, t, standard)
    client.wait_for_workers(2, timeout=60)  # the nanny replaces the killed worker


def _skew_settings(**values):
    import gis.settings

    for k, v in values.items():
        setattr(gis.settings, k, v)


def test_tiles_on_the_cluster_equal_untiled(client, standard):
    """Also: the workers' own gis.settings are skewed and must not matter (every parameter
    travels with the task)."""
    client.run(_skew_settings, search_factor=0.5, access_radius_m=300.0, max_edge_m=0.0,
               vertex_snap_m=5.0)
    estates = read_estates(DEMO / "estates.gpkg")
    services = read_services(DEMO / "services.gpkg", standard)
    streets = read_streets(DEMO / "streets.gpkg")
    gates = read_gates(DEMO / "gates.gpkg", estates)
    untiled = living_circle(estates, services, standard, streets=streets, gates=gates)
    try:
        tiled = living_circle_tiled(estates, services, standard, streets=streets, gates=gates,
                                    tile_m=600.0, client=client)
    finally:
        client.run(_skew_settings, search_factor=2.0, access_radius_m=30.0, max_edge_m=20.0,
                   vertex_snap_m=0.01)
    pd.testing.assert_frame_equal(pd.DataFrame(untiled.estates.drop(columns="geometry")),
                                  pd.DataFrame(tiled.estates.drop(columns="geometry")),
                                  check_exact=True)


def test_cli_batch_runs_the_demo_as_several_cities(tmp_path, standard):
    manifest = make_cities(tmp_path / "in")
    out = tmp_path / "out"
    estates = gpd.read_file(DEMO / "estates.gpkg")
    hulls = estates.dissolve("所属街道").convex_hull.reset_index(drop=True)
    gpd.GeoDataFrame({"代码": [f"3207{i:02d}" for i in range(len(hulls))]}, geometry=hulls,
                     crs=estates.crs).to_file(tmp_path / "cities.gpkg")
    result = CliRunner().invoke(cli, ["batch", "--manifest", str(manifest), "--out", str(out),
                                      "--workers", "2", "--tile-m", "800", "-q",
                                      "--cities", str(tmp_path / "cities.gpkg")])
    assert result.exit_code == 2, result.output
    assert "1 of 6 cities failed" in result.output and "999999" in result.output
    assert (out / "summary.xlsx").is_file() and (out / "summary_map.html").is_file()
    page = (out / "summary_map.html").read_text(encoding="utf-8")
    assert page.count('"type": "Polygon"') == 4  # 4 districts; the whole town a circle
    assert page.count('"type": "Point"') == 1
    tasks = read_manifest(manifest, out_dir=out)
    for t in tasks[:-1]:
        assert_city_equals_single_run(out, t, standard)  # tiled per city: still exact
        record = json.loads((out / t.code / "run.json").read_text(encoding="utf-8"))
        assert record["params"]["search_factor"] == 2.0 and len(record["fingerprint"]) == 64


@pytest.mark.parametrize("content, message", [
    ("城市,小区,设施\nA,a.gpkg,b.gpkg\n", "lacks column"),
    ("name,code,estates,services,streets\nA,1,{d}/estates.gpkg,{d}/services.gpkg,{d}/streets.gpkg\n"
     "B,1,{d}/estates.gpkg,{d}/services.gpkg,{d}/streets.gpkg\n", "share the code 1"),
    ("name,code,estates,services,streets\nA,../x,{d}/estates.gpkg,{d}/services.gpkg,{d}/streets.gpkg\n",
     "cannot name a folder"),
    ("name,code,estates,services,streets\nA,1,missing.gpkg,{d}/services.gpkg,{d}/streets.gpkg\n",
     "does not exist"),
    ("name,code,estates,services,streets\nA,1,{d}/estates.gpkg,{d}/services.gpkg,\n",
     "no streets layer"),
])
def test_bad_manifest_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "m.csv"
    path.write_text(content.format(d=DEMO), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_manifest(path, out_dir=tmp_path / "out")
