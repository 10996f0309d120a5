"""Outputs appear all together or not at all, never replace inputs, and every refusal is
one line with exit status 2: options checked before any work, write failures and
signals leave the previous outputs byte for byte and no staging folder, decisions are
read from every sheet that offers the column."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import DEMO
from gis.cli import cli
from gis.errors import GisError
from gis.report._files import OutputError, refuse_overwriting_inputs, staged_outputs

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str]):
    return CliRunner().invoke(cli, args)


def coverage_args(out: Path, *extra: str) -> list[str]:
    return ["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
            "--out", str(out), "-q", *extra]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def one_error_line(result, pattern: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("错误 Error:")]
    assert len(errors) == 1, result.output
    assert pattern in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def demo_outputs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


# --- options checked before any work ---------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    (["--basemap", "nosuchmap"], "Unknown basemap 'nosuchmap'"),
    (["--basemap", "tianditu"], "needs a key: pass `--token`"),
])
@pytest.mark.parametrize("command", ["coverage", "review", "map coverage", "map units"])
def test_map_options_fail_before_any_work(tmp_path, monkeypatch, demo_outputs, command, extra,
                                          message):
    import gis.layers

    def no_work(*args, **kwargs):
        raise AssertionError("an input was read before the options were checked")

    out = tmp_path / "out"
    if command == "coverage":
        args = coverage_args(out, *extra)
    elif command == "review":
        args = ["review", "--estates", str(DEMO / "estates.gpkg"), "--out", str(out), "-q", *extra]
    elif command == "map coverage":
        args = ["map", "coverage", "--coverage", str(demo_outputs), "--out",
                str(out / "m.html"), "-q", *extra]
    else:
        args = ["map", "units", "--units", str(demo_outputs / "review"), "--out",
                str(out / "m.html"), "-q", *extra]
    monkeypatch.setattr(gis.layers, "read_estates", no_work)
    monkeypatch.setattr(gpd, "read_file", no_work)
    one_error_line(run(args), message)
    assert not out.exists(), "something was written"


# --- all or nothing ----------------------------------------------------------------------

def test_failing_map_writer_leaves_previous_outputs_untouched(tmp_path, monkeypatch):
    assert run(coverage_args(tmp_path)).exit_code == 0
    before = snapshot(tmp_path)
    assert "coverage_map.html" in before

    import gis.maps

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gis.maps, "write_map", full_disk)
    one_error_line(run(coverage_args(tmp_path, "--lang", "zh")), "No space left on device")
    assert snapshot(tmp_path) == before  # tables not replaced, no staging folder

    def overflow(*args, **kwargs):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(gis.maps, "write_map", overflow)
    result = run(coverage_args(tmp_path))
    assert isinstance(result.exception, OverflowError)  # a bug keeps its traceback ...
    assert snapshot(tmp_path) == before  # ... and still writes nothing



def test_gdal_write_error_is_one_line_and_leaves_previous_outputs(tmp_path, monkeypatch):
    """GDAL reports a full disk through pyogrio's own exception, not OSError."""
    import pyogrio.errors

    assert run(coverage_args(tmp_path)).exit_code == 0
    before = snapshot(tmp_path)

    def gdal_full(*args, **kwargs):
        raise pyogrio.errors.DataSourceError("sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", gdal_full)
    one_error_line(run(coverage_args(tmp_path)), "database or disk is full")
    assert snapshot(tmp_path) == before

def test_no_map_run_removes_the_earlier_map(tmp_path):
    assert run(coverage_args(tmp_path)).exit_code == 0
    assert (tmp_path / "coverage_map.html").exists()
    assert run(coverage_args(tmp_path, "--no-map")).exit_code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert "coverage_map.html" not in names  # never an old map beside new tables
    assert {"coverage.gpkg", "coverage.csv", "gap_report.md", "gap_report.xlsx"} <= names
    # Nor the other language's map: it would show the earlier results.
    assert run(coverage_args(tmp_path)).exit_code == 0
    assert run(coverage_args(tmp_path, "--lang", "en")).exit_code == 0
    maps = {p.name for p in tmp_path.iterdir() if p.suffix == ".html"}
    assert maps == {"coverage_map_en.html"}


def test_units_run_removes_an_earlier_units_map(tmp_path):
    args = ["--estates", str(DEMO / "estates.gpkg"), "--out", str(tmp_path), "-q"]
    assert run(["review", *args]).exit_code == 0
    assert (tmp_path / "units_map.html").exists()
    assert run(["units", *args]).exit_code == 0
    assert not (tmp_path / "units_map.html").exists()


def test_move_into_place_is_all_or_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old a")
    (out / "b.csv").write_text("old b")
    import gis.report._files as files

    real = os.replace

    def fail_on_c(src, dst):
        if Path(src).name == "c.csv":
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", fail_on_c)
    with pytest.raises(OutputError, match="Input/output error"):
        with staged_outputs(out) as stage:
            for name in ("a.csv", "b.csv", "c.csv"):
                (stage / name).write_text(f"new {name}")
    assert snapshot(out) == {"a.csv": b"old a", "b.csv": b"old b"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_writing_leaves_no_staging_folder(tmp_path, signum):
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signum == signal.SIGINT:
        pytest.skip("SIGINT is ignored in this process group (started in the background)")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gis", "demo", "--out", str(out), "-q"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen = False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if out.exists() and any(p.name.startswith(".staging-") for p in out.iterdir()):
            seen = True
            proc.send_signal(signum)
            break
        time.sleep(0.002)
    _, stderr = proc.communicate(timeout=120)
    assert seen, "the run ended before its outputs were staged"
    assert proc.returncode == 2, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == [], (stderr, [sorted(p.rglob("*")) for p in leftovers])
    assert not (out / "coverage.gpkg").exists()  # nothing of the interrupted run


def test_staging_left_by_a_killed_run_is_removed_next_time(tmp_path):
    out = tmp_path / "out"
    killed = out / ".staging-killed"  # SIGKILL: no handler runs
    killed.mkdir(parents=True)
    (killed / "coverage.gpkg").write_text("half")
    recent = out / ".staging-running"  # another run writing right now: kept
    recent.mkdir()
    day_ago = time.time() - 25 * 3600
    os.utime(killed, (day_ago, day_ago))
    with staged_outputs(out) as stage:
        (stage / "a.csv").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [".staging-running", "a.csv"]


# --- outputs never replace inputs --------------------------------------------------------

def test_decisions_workbook_is_not_overwritten_by_its_own_review(tmp_path, demo_outputs):
    review = tmp_path / "review"
    review.mkdir()
    decided = review / "review.xlsx"
    decided.write_bytes((demo_outputs / "review" / "review.xlsx").read_bytes())
    before = decided.read_bytes()
    result = run(["review", "--estates", str(DEMO / "estates.gpkg"), "--decisions", str(decided),
                  "--out", str(review), "-q"])
    one_error_line(result, "would overwrite the input")
    assert decided.read_bytes() == before and snapshot(review) == {"review.xlsx": before}


def test_units_out_onto_the_input_folder_is_refused(tmp_path):
    estates = tmp_path / "units.gpkg"  # an estates file that happens to share an output name
    estates.write_bytes((DEMO / "estates.gpkg").read_bytes())
    before = snapshot(tmp_path)
    one_error_line(run(["units", "--estates", str(estates), "--out", str(tmp_path), "-q"]),
                   f"would overwrite the input {estates}")
    assert snapshot(tmp_path) == before


def test_out_through_a_symlink_to_an_input_is_refused(tmp_path):
    real = tmp_path / "data" / "estates.gpkg"
    real.parent.mkdir()
    real.write_bytes((DEMO / "estates.gpkg").read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    (out / "coverage.gpkg").symlink_to(real)
    with pytest.raises(OutputError, match="would overwrite the input"):
        refuse_overwriting_inputs([out / "coverage.gpkg"], [real])
    refuse_overwriting_inputs([out / "coverage.csv"], [real, None])  # others are fine


def test_out_that_is_an_input_file_is_refused(tmp_path):
    estates = tmp_path / "estates.gpkg"
    estates.write_bytes((DEMO / "estates.gpkg").read_bytes())
    result = run(["units", "--estates", str(estates), "--out", str(estates), "-q"])
    assert result.exit_code == 2 and "is a file" in result.output
    assert estates.read_bytes() == (DEMO / "estates.gpkg").read_bytes()


@pytest.mark.parametrize("name", ["coverage.gpkg", "coverage_map", "map.png"])
def test_map_out_must_be_html(tmp_path, demo_outputs, name):
    folder = tmp_path / "x"
    folder.mkdir()
    gpkg = folder / "coverage.gpkg"
    gpkg.write_bytes((demo_outputs / "coverage.gpkg").read_bytes())
    before = snapshot(folder)
    result = run(["map", "coverage", "--coverage", str(gpkg), "--out", str(folder / name), "-q"])
    one_error_line(result, "a map is an .html file")
    assert snapshot(folder) == before


def test_map_next_to_its_input_is_fine(tmp_path, demo_outputs):
    gpkg = tmp_path / "coverage.gpkg"
    gpkg.write_bytes((demo_outputs / "coverage.gpkg").read_bytes())
    result = run(["map", "coverage", "--coverage", str(tmp_path), "--out",
                  str(tmp_path / "coverage_map.html"), "-q"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"coverage.gpkg", "coverage_map.html"}


# --- one line where a traceback was ------------------------------------------------------

def test_coverage_gpkg_from_an_older_version(tmp_path, demo_outputs):
    old = tmp_path / "coverage.gpkg"
    est = gpd.read_file(demo_outputs / "coverage.gpkg", layer="estates")
    est.drop(columns=["n_covered", *[c for c in est if c.startswith("nearest_")]]).to_file(
        old, layer="estates")
    gpd.read_file(demo_outputs / "coverage.gpkg", layer="services").to_file(old, layer="services")
    result = run(["map", "coverage", "--coverage", str(old), "--out", str(tmp_path / "m.html")])
    one_error_line(result, "estates.n_covered")
    assert "older version" in result.output and "rerun `gis coverage`" in result.output
    assert not (tmp_path / "m.html").exists()


def test_units_gpkg_from_an_older_version(tmp_path, demo_outputs):
    old = tmp_path / "units.gpkg"
    src = demo_outputs / "review" / "units.gpkg"
    for layer in ("units", "estates", "links"):
        g = gpd.read_file(src, layer=layer)
        if layer == "links":
            g = g.drop(columns=["facing_m"])
        g.to_file(old, layer=layer)
    result = run(["map", "units", "--units", str(old), "--out", str(tmp_path / "m.html")])
    one_error_line(result, "lacks links.facing_m: written by an older version")
    assert not (tmp_path / "m.html").exists()


def test_read_only_output_folder_for_gis_map(tmp_path, demo_outputs, monkeypatch):
    import gis.cli

    # Root may write anywhere, so the read-only file system is simulated where the
    # check and the writer meet it: os.access, then the staging folder itself.
    real = os.access
    monkeypatch.setattr(gis.cli.os, "access",
                        lambda path, mode, **kw: mode != os.W_OK and real(path, mode, **kw))
    result = run(["map", "coverage", "--coverage", str(demo_outputs), "--out",
                  str(tmp_path / "ro" / "m.html"), "-q"])
    one_error_line(result, "is not writable")
    monkeypatch.undo()

    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        if Path(path).name.startswith(".staging-"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    for command, source in (("coverage", demo_outputs), ("units", demo_outputs / "review")):
        result = run(["map", command, f"--{command}", str(source), "--out",
                      str(tmp_path / "ro2" / "m.html"), "-q"])
        one_error_line(result, "Read-only file system")
    assert not list((tmp_path / "ro2").iterdir())


# --- reviewers' decisions from every sheet -----------------------------------------------

def review_args(out: Path, *extra: str) -> list[str]:
    return ["review", "--estates", str(DEMO / "estates.gpkg"), "--out", str(out), "-q", *extra]


def linked_pair(folder: Path) -> tuple[str, str]:
    links = gpd.read_file(folder / "units.gpkg", layer="links")
    row = links[links["linked"].astype(bool)].iloc[0]
    return str(row["estate_a"]), str(row["estate_b"])


def set_link_decision(src: Path, dst: Path, pair: tuple[str, str], value: str) -> str:
    book = load_workbook(src)
    ws = book["相邻关系"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if (row[header.index("小区A")].value, row[header.index("小区B")].value) == pair:
            row[header.index("审查决定")].value = value
            book.save(dst)
            return row[header.index("审查决定")].coordinate
    raise AssertionError(f"link {pair} not in the sheet")


def unit_of(folder: Path) -> dict[str, str]:
    est = gpd.read_file(folder / "units.gpkg", layer="estates")
    return dict(zip(est["estate_id"].astype(str), est["unit_id"].astype(str)))


def test_decision_typed_on_the_links_sheet_is_applied(tmp_path):
    first = tmp_path / "first"
    assert run(review_args(first)).exit_code == 0
    a, b = linked_pair(first)
    assert unit_of(first)[a] == unit_of(first)[b]
    set_link_decision(first / "review.xlsx", tmp_path / "decided.xlsx", (a, b), "否决")
    again = tmp_path / "again"
    result = run(review_args(again, "--decisions", str(tmp_path / "decided.xlsx")))
    assert result.exit_code == 0, result.output
    assert "1/1 applied" in result.output
    links = gpd.read_file(again / "units.gpkg", layer="links")
    pair = links[(links["estate_a"] == a) & (links["estate_b"] == b)].iloc[0]
    assert pair["decision"] == "reject"
    # Oracle: the unit the two shared is no longer one unit with both.
    assert unit_of(again)[a] != unit_of(again)[b]
    # The status sheet reports it, under a column that is not read back as a decision.
    status = load_workbook(again / "review.xlsx")["决定执行情况"]
    header = [c.value for c in status[1]]
    assert "已读入的决定" in header and "决定" not in header and "工作表" in header
    assert "| 相邻关系 " in (again / "review.md").read_text(encoding="utf-8")


def test_formula_decision_without_saved_value_is_an_error(tmp_path, demo_outputs):
    a, b = linked_pair(demo_outputs / "review")
    cell = set_link_decision(demo_outputs / "review" / "review.xlsx", tmp_path / "f.xlsx", (a, b),
                             '=IF(1,"否决","")')
    line = one_error_line(run(review_args(tmp_path / "out", "--decisions", str(tmp_path / "f.xlsx"))),
                          "formula whose value was never saved")
    assert f"sheet 相邻关系 cell {cell}" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_same_link_decided_two_ways_is_an_error(tmp_path, demo_outputs):
    import pandas as pd

    a, b = linked_pair(demo_outputs / "review")
    set_link_decision(demo_outputs / "review" / "review.xlsx", tmp_path / "d.xlsx", (a, b), "通过")
    book = load_workbook(tmp_path / "d.xlsx")
    extra = book.create_sheet("补充")
    extra.append(["estate_a", "estate_b", "decision"])
    extra.append([b, a, "reject"])
    book.save(tmp_path / "d.xlsx")
    one_error_line(run(review_args(tmp_path / "out", "--decisions", str(tmp_path / "d.xlsx"))),
                   "says approve but sheet 补充 line 2 says reject")
    assert pd.read_excel(tmp_path / "d.xlsx", sheet_name=None).keys() >= {"相邻关系", "补充"}


def test_gis_errors_are_still_gis_errors():
    assert issubclass(OutputError, GisError) and issubclass(OutputError, OSError)


def test_ids_copied_from_the_csv_outputs_lose_their_quote(tmp_path):
    from gis.decisions import read_decisions

    path = tmp_path / "d.csv"
    path.write_text("estate_a,estate_b,decision\n'=XQ1,'+XQ2,reject\n'XQ3,XQ4,approve\n",
                    encoding="utf-8")
    table = read_decisions(path).table
    # Only the neutralising quote goes; a quote before ordinary text is part of the id.
    assert list(zip(table["estate_a"], table["estate_b"])) == [("+XQ2", "=XQ1"), ("'XQ3", "XQ4")]
