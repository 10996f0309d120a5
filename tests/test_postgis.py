"""PostGIS round trips against a real throw-away server (tests/pg_server.py).

Oracle: the same analysis on the demo files. The tables are loaded with GeoPandas' own
`to_postgis` and read back with `read_postgis`, independently of gis.postgis.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DEMO
from gis.batch import read_manifest, run_city, fingerprint
from gis.cli import cli
from gis.coverage import living_circle
from gis.errors import CRSError, InputError
from gis.layers import read_estates, read_gates, read_services, read_streets
from pg_server import PASSWORD, start_server


LAYERS = ("estates", "services", "streets", "gates")


@pytest.fixture(scope="session")
def pg():
    server, stop = start_server()
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(server.url())
        with engine.begin() as conn:
            for name in LAYERS:
                gpd.read_file(DEMO / f"{name}.gpkg").to_postgis(name, conn, schema="public")
            conn.execute(text("CREATE SCHEMA city"))
            conn.execute(text("CREATE TABLE city.plain (id int, name text)"))
            conn.execute(text("INSERT INTO city.plain VALUES (1, 'a')"))
            conn.execute(text("CREATE TABLE city.no_srid AS SELECT 小区编号, "
                              "ST_SetSRID(geometry, 0) AS geom FROM public.estates"))
        engine.dispose()
        yield server
    finally:
        stop()


def file_run(standard):
    estates = read_estates(DEMO / "estates.gpkg")
    return living_circle(estates, read_services(DEMO / "services.gpkg", standard), standard,
                         streets=read_streets(DEMO / "streets.gpkg"),
                         gates=read_gates(DEMO / "gates.gpkg", estates))


def test_layers_read_from_postgis_give_the_file_results(pg, standard):
    url = pg.url()
    estates = read_estates(f"{url}#public.estates")
    services = read_services(f"{url}#public.services", standard)
    streets = read_streets(f"{url}#streets")  # schema defaults to public
    gates = read_gates(f"{url}#public.gates", estates)
    assert estates.crs.to_epsg() == 4490
    db = living_circle(estates, services, standard, streets=streets, gates=gates)
    files = file_run(standard)
    a = pd.DataFrame(files.estates.drop(columns="geometry"))
    b = pd.DataFrame(db.estates.drop(columns="geometry"))
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=False)
    assert shapely_equal(files.estates.geometry, db.estates.geometry)


def shapely_equal(a, b) -> bool:
    return bool(np.all(a.geom_equals_exact(b, tolerance=0).to_numpy()))


def test_an_sql_query_is_a_source(pg, standard):
    query = f"{pg.url()}#SELECT * FROM public.estates WHERE 所属街道 = '东城街道'"
    estates = read_estates(query)
    assert len(estates) == 51 and set(estates["subdistrict"]) == {"东城街道"}


def test_cli_coverage_from_postgis_to_postgis(pg, tmp_path, standard):
    url = pg.url()
    out = f"{url}#results"
    args = ["coverage", "--estates", f"{url}#public.estates", "--services",
            f"{url}#public.services", "--streets", f"{url}#public.streets", "--gates",
            f"{url}#public.gates", "--out", out, "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        written = gpd.read_postgis("SELECT * FROM results.coverage_estates", conn,
                                   geom_col="geometry")
        gaps = pd.read_sql("SELECT * FROM results.coverage_gaps", conn)
        index = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE schemaname='results' "
                                  "AND tablename='coverage_estates'")).scalars().all()
        runs = conn.execute(text("SELECT tables, run FROM results.gis_runs")).all()
    engine.dispose()
    files = file_run(standard)
    for c in standard.categories:
        np.testing.assert_array_equal(written[f"dist_m_{c.key}"].to_numpy(dtype=float),
                                      files.estates[f"dist_m_{c.key}"].to_numpy(dtype=float))
        np.testing.assert_array_equal(written[f"covered_{c.key}"].to_numpy(dtype=bool),
                                      files.estates[f"covered_{c.key}"].to_numpy(dtype=bool))
    assert len(gaps) == int((~files.estates.filter(like="covered_")).to_numpy().sum())
    assert any("gist" in d.lower() for d in index)
    assert len(runs) == 1 and "results.coverage_estates" in runs[0][0]
    run = runs[0][1] if isinstance(runs[0][1], dict) else json.loads(runs[0][1])
    assert run["estates"] == 150 and PASSWORD not in json.dumps(run)
    assert run["inputs"]["estates"].startswith("postgresql://127.0.0.1")


def test_credentials_from_pgpassword_and_pgpass(pg, tmp_path, monkeypatch):
    bare = pg.url(password=False)
    with pytest.raises(InputError) as err:
        read_estates(f"{bare}#public.estates")
    assert "cannot connect" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert len(read_estates(f"{bare}#public.estates")) == 150
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:*:gis_test:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert len(read_estates(f"{bare}#public.estates")) == 150


@pytest.mark.parametrize("fragment, error, words", [
    ("public.nothing", InputError, "no such table"),
    ("city.plain", InputError, "no geometry column"),
    ("city.no_srid", CRSError, "no SRID"),
    ("SELECT * FROM nowhere", InputError, "query failed"),
    ("", InputError, "name the table"),
])
def test_broken_sources_are_one_clear_line(pg, fragment, error, words):
    with pytest.raises(error) as err:
        read_estates(f"{pg.url()}#{fragment}")
    message = str(err.value)
    assert words in message and "\n" not in message and PASSWORD not in message


def test_connection_errors_are_one_line_without_the_password(pg):
    wrong = pg.url().replace(PASSWORD, "wrong-" + PASSWORD)
    for url in (wrong + "#public.estates",
                f"postgresql://gis_test:{PASSWORD}@127.0.0.1:1/gis_test#public.estates",
                pg.url(database="no_postgis") + "#public.estates"):
        with pytest.raises(InputError) as err:
            read_estates(url)
        message = str(err.value)
        assert PASSWORD not in message and "\n" not in message
    assert "no PostGIS" in message or "cannot connect" in message


def test_a_malformed_url_is_one_line_without_the_password():
    with pytest.raises(InputError) as err:
        read_estates(f"postgresql://gis_test:{PASSWORD}@127.0.0.1:notaport/db#public.estates")
    assert "not a PostgreSQL URL" in str(err.value) and PASSWORD not in str(err.value)


def test_cli_reports_a_database_error_with_status_2(pg, tmp_path):
    result = CliRunner().invoke(cli, [
        "coverage", "--estates", f"{pg.url()}#public.nothing", "--services",
        str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
        "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "no such table" in result.output and PASSWORD not in result.output


def test_batch_city_from_postgis_fingerprints_table_contents(pg, tmp_path, standard):
    url = pg.url()
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "name,code,estates,services,streets,gates\n"
        f"库中城市,db1,{url}#public.estates,{url}#public.services,{url}#public.streets,"
        f"{url}#public.gates\n", encoding="utf-8")
    task = read_manifest(manifest, out_dir=tmp_path / "out")[0]
    first = fingerprint(task)
    from dataclasses import replace

    result = run_city(replace(task, fingerprint=first))
    assert result.status == "done", result.message
    written = gpd.read_file(tmp_path / "out" / "db1" / "coverage.gpkg", layer="estates")
    files = file_run(standard)
    np.testing.assert_array_equal(written["dist_m_clinic"].to_numpy(dtype=float),
                                  files.estates["dist_m_clinic"].to_numpy(dtype=float))
    record = (tmp_path / "out" / "db1" / "run.json").read_text(encoding="utf-8")
    assert PASSWORD not in record
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE public.services SET 名称 = 名称 || '*' WHERE ctid = "
                          "(SELECT min(ctid) FROM public.services)"))
    engine.dispose()
    assert fingerprint(task) != first


def test_batch_into_postgis_writes_city_tables_and_skips_unchanged(pg, tmp_path, standard):
    """`gis batch --out postgresql://…#schema`: each city's tables in one transaction, a
    gis_runs record with its fingerprint, unchanged cities skipped on a re-run."""
    from dataclasses import replace

    from gis.batch import previous_result, write_summary

    url = pg.url()
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "name,code,estates,services,streets,gates\n"
        f"示范县,320799,{DEMO}/estates.gpkg,{DEMO}/services.gpkg,{DEMO}/streets.gpkg,"
        f"{DEMO}/gates.gpkg\n", encoding="utf-8")
    target = f"{url}#province"
    task = read_manifest(manifest, out_dir=target)[0]
    task = replace(task, fingerprint=fingerprint(task))
    assert previous_result(task) is None
    result = run_city(task)
    assert result.status == "done", result.message
    assert previous_result(task).status == "unchanged"
    assert previous_result(replace(task, fingerprint="0" * 64)) is None
    paths = write_summary([result], standard, target)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        written = gpd.read_postgis("SELECT * FROM province.city_320799_estates", conn,
                                   geom_col="geometry")
        units = gpd.read_postgis("SELECT * FROM province.city_320799_units", conn,
                                 geom_col="geometry")
        summary = pd.read_sql("SELECT * FROM province.batch_summary", conn)
    engine.dispose()
    files = file_run(standard)
    np.testing.assert_array_equal(written["dist_m_toilet"].to_numpy(dtype=float),
                                  files.estates["dist_m_toilet"].to_numpy(dtype=float))
    assert len(units) == result.units > 0
    assert summary.loc[0, "code"] == "320799" and summary.loc[0, "estates"] == 150
    assert paths["summary"] == "province.batch_summary"
