"""Hostile names (markup, script, formulas, line separators) in every text field of every
layer reach the outputs as text: no workbook cell is a formula, CSV cells that a
spreadsheet would read as a formula start with ``'``, and the names read back unchanged.
The browser side is in test_hostile_maps_browser.py."""

from __future__ import annotations

import csv
import json
import importlib.util
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.cli import cli
from gis.maps._page import jinja_inert, js_json

HOSTILE_DIR = Path(__file__).resolve().parent / "hostile_inputs"
NAMES = HOSTILE_DIR / "names"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONSTRAINTS = {"historic-districts": "historic_districts", "historic-buildings": "historic_buildings",
               "ancient-trees": "ancient_trees", "eco-redline": "eco_redline",
               "development-boundary": "development_boundary", "plan-units": "plan_units"}


def _generator():
    spec = importlib.util.spec_from_file_location("make_hostile_names",
                                                  HOSTILE_DIR / "make_hostile_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hostile_args(kind: str, out: Path, *extra: str) -> list[str]:
    """CLI arguments running ``kind`` (coverage, units, review) on the hostile corpus."""
    if kind == "coverage":
        return ["coverage", *[a for r in ("estates", "services", "streets", "gates")
                              for a in (f"--{r}", str(NAMES / f"{r}.geojson"))],
                "--out", str(out), "-q", *extra]
    args = [kind, "--estates", str(NAMES / "estates.geojson"),
            "--barriers", str(NAMES / "streets.geojson"), "--barriers", str(NAMES / "rivers.geojson"),
            "--out", str(out), "-q", *extra]
    if kind == "review":
        args += [a for opt, f in CONSTRAINTS.items() for a in (f"--{opt}", str(NAMES / f"{f}.geojson"))]
    return args


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory) -> Path:
    """coverage/, units/ and review/ (with coverage and every constraint) from the corpus."""
    out = tmp_path_factory.mktemp("hostile")
    runner = CliRunner()
    for kind, extra in (("coverage", []), ("units", []),
                        ("review", ["--coverage", str(out / "coverage" / "coverage.gpkg")])):
        result = runner.invoke(cli, hostile_args(kind, out / kind, *extra), catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return out


def test_corpus_regenerates_byte_for_byte(tmp_path):
    _generator().main(tmp_path)
    committed = sorted(p.name for p in NAMES.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    assert len(committed) == 11
    for name in committed:
        assert (tmp_path / name).read_bytes() == (NAMES / name).read_bytes(), name


def test_every_text_field_of_every_layer_is_hostile():
    gen = _generator()
    for layer, fields in gen.TEXT_FIELDS.items():
        g = gpd.read_file(NAMES / f"{layer}.geojson")
        for field in fields:
            values = g[field].astype(str)
            assert values.map(lambda v: any(v.startswith(h) for h in gen.HOSTILE)).all(), (layer, field)
    ids = gpd.read_file(NAMES / "estates.geojson")["小区编号"]
    assert ids.str.contains("<").any() and ids.str.startswith("=").any()
    # Every kind of hostile text is used somewhere, many times.
    est = gpd.read_file(NAMES / "estates.geojson")
    assert {h for h in gen.HOSTILE if est["小区名称"].str.startswith(h).any()} == set(gen.HOSTILE)


def test_names_read_back_unchanged(hostile_outputs):
    src = gpd.read_file(NAMES / "estates.geojson").set_index("小区编号")
    out = gpd.read_file(hostile_outputs / "coverage" / "coverage.gpkg", layer="estates")
    out = out.set_index("estate_id")
    assert sorted(out.index) == sorted(src.index)
    assert (out["name"] == src.loc[out.index, "小区名称"]).all()
    assert (out["community"] == src.loc[out.index, "所属社区"]).all()


def workbooks(folder: Path) -> list[Path]:
    books = sorted(folder.rglob("*.xlsx"))
    assert {p.name for p in books} == {"gap_report.xlsx", "review.xlsx"}
    return books


def test_no_workbook_cell_is_a_formula(hostile_outputs):
    for book_path in workbooks(hostile_outputs):
        book = openpyxl.load_workbook(book_path)
        texts = []
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book_path.name} {ws.title}!{cell.coordinate}"
                    if isinstance(cell.value, str):
                        texts.append(cell.value)
        # The formula-like names are there, as text (so the check above saw them).
        assert any(t.startswith('=HYPERLINK("http://example.invalid"') for t in texts), book_path
        assert any(t.startswith("@SUM(A1)") for t in texts), book_path
        # Saved values are the names themselves: no formula was evaluated or cached.
        values = openpyxl.load_workbook(book_path, data_only=True)
        assert any(isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
                   for ws in values.worksheets for row in ws.iter_rows() for c in row)


def test_csv_cells_that_look_like_formulas_are_prefixed(hostile_outputs):
    files = sorted(hostile_outputs.rglob("*.csv"))
    assert {p.name for p in files} == {"coverage.csv", "units.csv", "unit_members.csv"}
    src = gpd.read_file(NAMES / "estates.geojson")
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        cells = [c for r in body for c in r]
        assert not [c for c in cells if c.startswith(FORMULA_START)], path.name
        assert any(c.startswith("'=HYPERLINK(") or c.startswith("'@SUM(A1)") or c.startswith("'-1+2")
                   for c in cells), path.name
        # Numbers stay numbers: households are plain digits, not quoted text.
        hh = [h for h in header if "户数" in h or h.lower().startswith("households")]
        assert hh, header
        column = [r[header.index(hh[0])] for r in body]
        assert all(v == "" or float(v) >= 0 for v in column)
    # Stripping the one added quote gives the name back (OWASP: only a prefix is added).
    with (hostile_outputs / "coverage" / "coverage.csv").open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    names = {r["小区名称"] for r in table}
    expected = {("'" + n) if n.startswith(FORMULA_START) else n for n in src["小区名称"]}
    assert names == expected


def test_markdown_reports_keep_rows_and_show_markup_as_text(hostile_outputs):
    reports = [hostile_outputs / "coverage" / "gap_report.md", hostile_outputs / "review" / "review.md"]
    for path in reports:
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text and "<script" not in text and "<!--" not in text, path.name
        if path.name == "review.md":  # lists units by member ids: hostile ones, escaped
            assert "&lt;i>XQ" in text
        # A CR, LF or U+2028 inside a name never splits a table row.
        lines = text.replace("\r\n", "\n").split("\n")
        assert "\r" not in text and "\u2028" not in text
        assert all(line.startswith("|") for line in lines if " | " in line), path.name
        rows = [line for line in lines if line.startswith("|")]
        assert rows and all(line.endswith("|") for line in rows)


# --- the escaping functions on arbitrary text ---------------------------------------------

TEXT = st.text(alphabet=st.one_of(st.sampled_from(list("<>&'\"\\/=+-@\t\r\n!-\u2028\u2029")),
                                  st.characters()), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=5))
def test_js_json_round_trips_and_cannot_leave_a_script(values):
    import json

    from gis.maps._page import js_json

    text = js_json({"names": values})
    assert json.loads(text) == {"names": values}  # the page reads back exactly the data
    assert not any(c in text for c in "<>&\u2028\u2029")  # so no tag, comment or line end


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=5), st.lists(st.integers(-10**6, 10**6), min_size=5,
                                                          max_size=5))
def test_csv_safe_only_prefixes_formula_starts(values, numbers):
    import pandas as pd

    from gis.report._files import csv_safe

    table = pd.DataFrame({"text": (values * 5)[:5], "n": numbers})
    safe = csv_safe(table)
    for before, after in zip(table["text"], safe["text"]):
        if before.startswith(FORMULA_START):
            assert after == "'" + before
        else:
            assert after == before
        assert not after.startswith(FORMULA_START)
    assert safe["n"].tolist() == numbers and safe["n"].dtype == table["n"].dtype


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_md_text_is_one_line_without_tags(value):
    from gis.report._files import md_text

    text = md_text(value)
    assert not any(c in text for c in "<\r\n\u2028\u2029")
    # Nothing else changes: line breaks become spaces, "<" becomes "&lt;".
    squeeze = str.maketrans("", "", " \r\n\u2028\u2029")
    assert text.translate(squeeze) == value.translate(squeeze).replace("<", "&lt;")


#: Names that are Jinja template syntax: folium builds pages with Jinja, and text handed
#: to ``folium.Element`` is parsed as a template (found by attacking the maps with braces:
#: a service named ``{}{{}}`` stopped `gis coverage` with a TemplateSyntaxError, and
#: ``{{ … }}`` would have been evaluated while the map was written).
TEMPLATE_NAMES = ["{{ 7 * 7 }}", "{% raw %}", "{# x", "{}{{}}`crs`", "{households:,} {0}"]


def test_template_syntax_in_names_is_shown_as_written(tmp_path):
    from gis.sources import demo_folder

    demo = demo_folder()
    estates = gpd.read_file(demo / "estates.gpkg")
    services = gpd.read_file(demo / "services.gpkg")
    for i, name in enumerate(TEMPLATE_NAMES):
        estates.loc[i, "小区名称"] = name
        services.loc[i, "名称"] = name
    estates.to_file(tmp_path / "estates.gpkg")
    services.to_file(tmp_path / "services.gpkg")
    for lang in ("zh", "en"):
        out = tmp_path / lang
        result = CliRunner().invoke(cli, [
            "coverage", "--estates", str(tmp_path / "estates.gpkg"),
            "--services", str(tmp_path / "services.gpkg"), "--streets",
            str(demo / "streets.gpkg"), "--out", str(out), "--lang", lang, "-q"])
        assert result.exit_code == 0, result.output
        page = next(out.glob("coverage_map*.html")).read_text(encoding="utf-8")
        # Every name reaches the page as written, its Jinja openers broken by an invisible
        # U+200B (layer data) or written as a JSON escape (popup data), never evaluated.
        for name in TEMPLATE_NAMES:
            assert json.dumps(jinja_inert(name))[1:-1] in page, name
            assert js_json(name)[1:-1] in page, name
        result = CliRunner().invoke(cli, [
            "review", "--estates", str(tmp_path / "estates.gpkg"), "--ancient-trees",
            str(demo / "ancient_trees.gpkg"), "--out", str(out / "review"), "--lang", lang,
            "-q"])
        assert result.exit_code == 0, result.output
