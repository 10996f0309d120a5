"""Print maps and Word reports: drawn, not blank, Chinese glyphs really rendered, true to
scale, and the documents hold the same numbers as the coverage and review outputs."""

from __future__ import annotations

import io
import logging
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from conftest import DEMO
from gis.cli import cli

docx = pytest.importorskip("docx")


def run(args: list[str]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_docx")
    run(["demo", "--out", str(out), "-q"])
    return out


@pytest.fixture(scope="module")
def demo_cov():
    import gis.coverage
    import gis.layers
    import gis.standards

    std = gis.standards.load_standard()
    est = gis.layers.read_estates(DEMO / "estates.gpkg")
    return gis.coverage.living_circle(
        est, gis.layers.read_services(DEMO / "services.gpkg", std), std,
        streets=gis.layers.read_streets(DEMO / "streets.gpkg"), progress=False)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def dark_share(img: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Share of dark pixels (text, lines) in a box given as fractions (x0, y0, x1, y1)
    of the image, y from the top."""
    h, w = img.shape
    x0, y0, x1, y1 = box
    part = img[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]
    return float((part < 100).mean())


# ---------------------------------------------------------------------------
# Fonts


def test_cjk_font_found_has_every_glyph_by_freetype():
    """fontTools says the font has the glyphs; FreeType (matplotlib's renderer) agrees."""
    from matplotlib.ft2font import FT2Font

    from gis.report.fonts import GLYPH_PROBE, cjk_font, font_has_glyphs

    font = cjk_font()
    if font.family is None:
        pytest.skip("no CJK font installed (scripts/test installs fonts-noto-cjk)")
    assert font_has_glyphs(font.path, GLYPH_PROBE, family=font.family)
    ft = FT2Font(font.path)  # first face of a collection: the oracle only needs its cmap
    assert all(ft.get_char_index(ord(ch)) > 0 for ch in GLYPH_PROBE)


def test_latin_font_lacks_chinese_glyphs():
    import matplotlib
    from matplotlib import font_manager

    from gis.report.fonts import font_has_glyphs

    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    assert Path(dejavu).exists() and matplotlib.__version__
    assert font_has_glyphs(dejavu, "Ground floor")
    assert not font_has_glyphs(dejavu, "小区")
    assert not font_has_glyphs("/no/such/font.ttf", "a")


# ---------------------------------------------------------------------------
# Print maps


@pytest.mark.parametrize("category", [None, "clinic"])
def test_print_map_not_blank_and_chinese_rendered(demo_cov, category):
    from gis.maps.printmap import coverage_print, figure_bytes
    from gis.report.fonts import cjk_font

    if cjk_font().family is None:
        pytest.skip("no CJK font installed")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig = coverage_print(demo_cov, category=category, illustrative=True)
        img = pixels(figure_bytes(fig, dpi=100))
    # matplotlib warns "Glyph … missing from font(s)" for every tofu box it draws.
    assert not [w for w in seen if "missing from font" in str(w.message)]
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "15分钟生活圈" in texts and "示例数据" in texts
    assert img.std() > 30 and len(np.unique(img)) > 50
    assert dark_share(img, (0.02, 0.01, 0.6, 0.07)) > 0.02  # the title's glyphs
    assert dark_share(img, (0.75, 0.12, 0.97, 0.35)) > 0.01  # the legend's glyphs and keys
    legend = fig.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    if category is None:
        n_cat = len(demo_cov.standard.categories)
        missing = n_cat - demo_cov.estates["n_covered"].to_numpy()
        # The legend's counts are the estates' own, class by class.
        assert labels[0] == f"设施齐全（{int((missing == 0).sum()):,}）"
        assert labels[-1] == "道路"
    else:
        covered = int(demo_cov.estates["covered_clinic"].sum())
        assert f"已覆盖（≤1000米）（{covered:,}）" in labels


def test_print_map_is_true_to_scale(demo_cov):
    """One metre is as long across as up (no stretch), and the scale bar's label is its
    length in the map's metres."""
    from matplotlib.patches import Rectangle

    from gis.maps.printmap import coverage_print

    fig = coverage_print(demo_cov, paper="A3")
    fig.canvas.draw()
    ax = fig.axes[0]
    bbox = ax.get_window_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (x1 - x0) / bbox.width == pytest.approx((y1 - y0) / bbox.height, rel=1e-3)
    cells = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_zorder() == 20]
    bar_m = sum(p.get_width() for p in cells)
    label = max((t for t in ax.texts if t.get_text().endswith(("m", "km"))),
                key=lambda t: t.get_position()[0])
    value, unit = label.get_text().split()
    assert bar_m == pytest.approx(float(value) * (1000 if unit == "km" else 1))
    est = demo_cov.estates.to_crs(demo_cov.analysis_crs).total_bounds
    assert x0 <= est[0] and x1 >= est[2] and y0 <= est[1] and y1 >= est[3]


@given(st.floats(min_value=0.5, max_value=5e6))
def test_scale_bar_length_is_round_and_fits(target):
    from gis.maps.printmap import _nice_length

    v = _nice_length(target)
    mantissa = v / 10 ** math.floor(math.log10(v))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert target / 2.5 - 1e-9 <= v <= target + 1e-9


def test_no_cjk_font_falls_back_to_english_loudly(demo_cov, monkeypatch, caplog):
    import gis.maps.printmap as pm
    from gis.report.fonts import PrintFont

    monkeypatch.setattr(pm, "cjk_font", lambda: PrintFont(None, None))
    # The CLI's logging setup (run by earlier tests) stops "gis" records propagating.
    monkeypatch.setattr(logging.getLogger("gis"), "propagate", True)
    with caplog.at_level("WARNING", logger="gis"):
        fig = pm.coverage_print(demo_cov, lang="zh")
    assert "fonts-noto-cjk" in caplog.text
    titles = [t.get_text() for t in fig.texts]
    assert titles[0] == "15-minute living circle: facility coverage"


def test_cli_print_maps_png_size_and_pdf_fonts(demo_out, tmp_path):
    run(["map", "coverage", "--coverage", str(demo_out), "--category", "parking",
         "--format", "png", "--paper", "A3", "--dpi", "100", "--out", str(tmp_path / "p.html"),
         "-q"])
    with Image.open(tmp_path / "p.png") as im:
        # A3 landscape, 420 × 297 mm at 100 dpi (matplotlib truncates the fraction).
        assert im.size == (int(420 / 25.4 * 100), int(297 / 25.4 * 100))
    run(["map", "units", "--units", str(demo_out / "review"), "--format", "pdf",
         "--out", str(tmp_path / "units.pdf"), "-q"])
    pdf = (tmp_path / "units.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # Text stays text: the CJK font is embedded (Type 42), not drawn as boxes or paths.
    assert b"FontFile2" in pdf and b"CJK" in pdf
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------
# Word reports


def _images(document) -> list[bytes]:
    return [document.part.related_parts[s._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
            for s in document.inline_shapes]


def _headings(document, prefix: str = "Heading") -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith(prefix)]


def test_gap_report_docx_matches_the_coverage(demo_out):
    d = docx.Document(demo_out / "gap_report.docx")
    est = gpd.read_file(demo_out / "coverage.gpkg", layer="estates")
    covered = est[[c for c in est.columns if c.startswith("covered_")]]
    with_gaps = int((~covered.all()).sum())
    images = _images(d)
    assert len(images) == 1 + with_gaps  # the overview and one map per category with gaps
    for png in images:
        img = pixels(png)
        assert img.std() > 30 and dark_share(img, (0.02, 0.01, 0.6, 0.07)) > 0.02
    heads = _headings(d)
    assert {"分类覆盖率", "缺口清单", "优先补点建议（按缺口户数）", "数据处理说明"} <= set(heads)
    assert _headings(d, "Title") == ["15分钟生活圈设施覆盖缺口报告"]
    # Gap tables: one row per uncovered (estate, category) pair, as in the XLSX.
    gap_tables = [t for t in d.tables if t.rows[0].cells[0].text == "小区名称"]
    assert sum(len(t.rows) - 1 for t in gap_tables) == int((~covered).sum().sum())
    for t in d.tables[1:]:
        if len(t.rows) > 1 and t.rows[0].cells[0].paragraphs[0].runs[0].bold:
            assert t.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # repeats on every page
    rates = d.tables[2]
    assert rates.rows[0].cells[0].text == "设施类别" and len(rates.rows) == 1 + 7
    clinic = next(r for r in rates.rows if r.cells[0].text == "医疗服务中心")
    assert clinic.cells[2].text == f"{int(est['covered_clinic'].sum())}/150"
    xml = d.styles["Normal"].element.xml
    assert 'w:eastAsia="' in xml


def test_review_docx_one_sheet_per_unit(demo_out):
    d = docx.Document(demo_out / "review" / "review.docx")
    units = gpd.read_file(demo_out / "review" / "units.gpkg", layer="units")
    unit_heads = [h for h in _headings(d, "Heading 1") if h.startswith("改造单元 ")]
    assert sorted(h.split()[1] for h in unit_heads) == sorted(units["unit_id"])
    images = _images(d)
    assert len(images) == 1 + len(units)
    assert all(pixels(png).std() > 20 for png in images)
    text = "\n".join(c.text for t in d.tables for r in t.rows for c in r.cells)
    assert text.count("☐ 通过") == len(units)  # a blank decision field on every sheet
    conflicts = gpd.read_file(demo_out / "review" / "units.gpkg", layer="conflicts")
    conflict_rows = [t for t in d.tables if t.rows[0].cells[0].text == "约束类型"]
    assert sum(len(t.rows) - 1 for t in conflict_rows) == len(conflicts)
    members = sum(len(t.rows) - 1 for t in d.tables if t.rows[0].cells[0].text == "小区编号")
    assert members == int(units["n_estates"].sum())


def test_english_docx_and_no_docx(tmp_path):
    args = ["coverage", "--estates", str(DEMO / "estates.gpkg"), "--services",
            str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"), "--no-map",
            "-q"]
    run([*args, "--lang", "en", "--out", str(tmp_path / "en")])
    d = docx.Document(tmp_path / "en" / "gap_report_en.docx")
    assert {"Coverage by category", "Gaps"} <= set(_headings(d))
    assert all("\u4e00" > ch for h in _headings(d, "Caption") for ch in h if h.startswith("Figure"))
    run([*args, "--no-docx", "--out", str(tmp_path / "plain")])
    assert not list((tmp_path / "plain").glob("*.docx"))


def test_docx_keeps_values_as_text(tmp_path, demo_cov):
    """Markup and control characters in a name stay text; the document still opens."""
    import dataclasses

    from gis.coverage import category_summary, gap_list
    from gis.report.coverage import gap_priorities
    from gis.report.docx import gap_report_docx

    est = demo_cov.estates.copy()
    est["covered_clinic"] = False
    est.loc[est.index[0], "name"] = '<w:p>&"x"\x07</w:p>'
    cov = dataclasses.replace(demo_cov, estates=est)
    gaps = gap_list(cov)
    gap_report_docx(tmp_path / "g.docx", cov, category_summary(cov), gaps, gap_priorities(gaps),
                    figures={})
    d = docx.Document(tmp_path / "g.docx")
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    assert any(c.startswith('<w:p>&"x" </w:p>') for c in cells)


def test_docx_failure_writes_nothing(tmp_path, monkeypatch):
    import gis.report.docx

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gis.report.docx, "gap_report_docx", broken)
    # An OSError while writing is one line and exit 2 (gis.report._files.OutputError).
    result = CliRunner().invoke(cli, ["coverage", "--estates", str(DEMO / "estates.gpkg"),
                                      "--services", str(DEMO / "services.gpkg"), "--streets",
                                      str(DEMO / "streets.gpkg"), "--no-map", "-q", "--out",
                                      str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "disk full" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_english_review_docx(tmp_path):
    run(["review", "--estates", str(DEMO / "estates.gpkg"), "--barriers",
         str(DEMO / "rivers.gpkg"), "--historic-districts", str(DEMO / "historic_districts.gpkg"),
         "--lang", "en", "--no-map", "--out", str(tmp_path / "en"), "-q"])
    d = docx.Document(tmp_path / "en" / "review_en.docx")
    units = gpd.read_file(tmp_path / "en" / "units.gpkg", layer="units")
    heads = [h for h in _headings(d, "Heading 1") if h.startswith("Unit ")]
    assert len(heads) == len(units) and len(_images(d)) == 1 + len(units)
    text = "\n".join(c.text for t in d.tables for r in t.rows for c in r.cells)
    assert text.count("☐ approve") == len(units) and "通过" not in text
    run(["review", "--estates", str(DEMO / "estates.gpkg"), "--no-docx", "--no-map",
         "--out", str(tmp_path / "plain"), "-q"])
    assert not list((tmp_path / "plain").glob("*.docx"))


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 4), st.integers(0, 500)),
                min_size=1, max_size=40), st.integers(1, 45))
def test_sheet_units_priority(rows, cap):
    """Brute force: the chosen units are the first ``cap`` by (conflicts, joint,
    households) and keep the units' own order."""
    import pandas as pd

    from gis.report.docx import sheet_units

    units = pd.DataFrame({"unit_id": [f"U{i}" for i in range(len(rows))],
                          "n_conflicts": [r[0] for r in rows], "n_estates": [r[1] for r in rows],
                          "households": [float(r[2]) for r in rows]})
    got = sheet_units(units, cap)
    assert len(got) == min(cap, len(units))
    assert got == [u for u in units["unit_id"] if u in set(got)]  # table order kept
    key = {f"U{i}": (r[0] > 0, r[1] > 1, r[2]) for i, r in enumerate(rows)}
    left = [u for u in units["unit_id"] if u not in set(got)]
    if left:
        assert min(key[u] for u in got) >= max(key[u] for u in left)


def test_review_docx_english_without_reason_texts_has_no_chinese(tmp_path):
    """An estate without a reason text is named by its status in the document's language
    (review.docx used Chinese status words for it even in English); in Chinese the
    words are those of the status table, in English no CJK is left but the names."""
    import re

    import pandas as pd

    from gis.eligibility import STATUSES
    from gis.report.docx import review_docx

    statuses = ["eligible", "eligible_extended", "extended_not_included", "too_new",
                "shantytown", "demolish"]
    assert set(statuses) <= set(STATUSES)
    ids = [f"E{i}" for i in range(len(statuses))]
    estates = pd.DataFrame({"estate_id": ids, "name": [f"小区{i}" for i in ids],
                            "build_year": 1995, "households": 100.0,
                            "eligibility": statuses, "eligible": True, "unit_id": "U-1"})
    units = pd.DataFrame({"unit_id": ["U-1"], "n_estates": [len(ids)], "households": [600.0],
                          "floor_area_m2": [np.nan], "n_conflicts": [0]})
    for lang in ("zh", "en"):
        review_docx(tmp_path / f"{lang}.docx", units, estates, lang=lang)
    rows = {lang: [[c.text for c in r.cells] for t in docx.Document(tmp_path / f"{lang}.docx")
                   .tables for r in t.rows if r.cells[0].text in ids] for lang in ("zh", "en")}
    assert [r[-1] for r in rows["zh"]] == ["纳入改造", "2001–2005年建成，按需纳入",
                                          "2001–2005年建成，未纳入", "2005年后建成",
                                          "已纳入棚改计划", "拟拆除新建"]
    english = [r[-1] for r in rows["en"]]
    assert len(english) == len(ids) and all(english)
    text = "\n".join(p.text for p in docx.Document(tmp_path / "en.docx").paragraphs)
    text += "\n".join(c for r in rows["en"] for c in r)
    for name in estates["name"]:
        text = text.replace(name, "")
    assert not re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text)


def test_review_docx_caps_sheets_and_says_so(tmp_path, demo_out):
    from gis.report.docx import review_docx

    units = gpd.read_file(demo_out / "review" / "units.gpkg", layer="units")
    estates = gpd.read_file(demo_out / "review" / "units.gpkg", layer="estates")
    review_docx(tmp_path / "r.docx", units, estates, max_sheets=5)
    d = docx.Document(tmp_path / "r.docx")
    heads = [h for h in _headings(d, "Heading 1") if h.startswith("改造单元 ")]
    assert len(heads) == 5
    flagged = units[units["n_conflicts"] > 0]
    if len(flagged) >= 5:
        assert {h.split()[1] for h in heads} <= set(flagged["unit_id"])
    assert any(f"共 {len(units)} 个改造单元" in p.text for p in d.paragraphs)


def test_road_rank_reads_chinese_and_osm_classes():
    from gis.maps.cityscale import road_rank

    assert [road_rank(c) for c in ("快速路", "主干路", "次干路", "支路", "小区内部路", None)] == \
        [0, 0, 1, 2, 3, 3]
    assert [road_rank(c) for c in ("trunk", "primary_link", "tertiary", "residential",
                                   "footway")] == [0, 0, 1, 2, 3]
