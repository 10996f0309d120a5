"""`--lang en` outputs carry no Chinese except data values (issue 12 item 5).

The demo (coverage, review package, siting, programme) and `gis units` are run in
English; every written text output — Markdown, CSV, XLSX cell values and sheet names,
HTML (visible text and the JSON the pages carry), Word documents — is searched for CJK
characters after the data values are removed: every string of the demo inputs (names,
ids, districts, field names, layer names, survey cells) and the citations of the bundled
policy documents (`source` values of the standards and programme tables, which quote
Chinese documents by their Chinese titles). Whatever Chinese is left is text the tool
wrote and did not translate.
"""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

from gis.cli import cli
from gis.i18n import LANGS, MESSAGES, join, tr
from gis.params import Params

from conftest import DEMO, ROOT

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")

#: Simulated district submissions the demo imports (`gis programme update` input, in the
#: import format districts fill in): inputs, not reports.
INPUT_SHEETS = re.compile(r"programme/(进度表|progress)_.*\.xlsx$")


def layer_strings(folder: Path) -> set[str]:
    """Every string of the GeoPackages in ``folder``: layer names, field names, values."""
    values: set[str] = set()
    for path in folder.glob("*.gpkg"):
        for layer, _ in pyogrio.list_layers(path):
            frame = gpd.read_file(path, layer=layer)
            values |= {layer, *map(str, frame.columns)}
            for col in frame.columns.drop("geometry", errors="ignore"):
                values |= {str(v) for v in frame[col].dropna()}
    return values


def _data_values() -> list[str]:
    """Every string of the demo inputs and every policy citation, longest first."""
    values = layer_strings(DEMO)
    for sheet in openpyxl.load_workbook(DEMO / "survey.xlsx"):
        for row in sheet.iter_rows(values_only=True):
            values |= {str(v) for v in row if isinstance(v, str)}
    # Road classes (道路等级 values of the street data) that keep estates apart: a
    # parameter the data are matched against, recorded as it is in the run record sheet.
    values |= set(Params().barrier_classes)
    for toml in [*(ROOT / "gis" / "standards").glob("*.toml"),
                 *(ROOT / "gis" / "programme" / "data").glob("*.toml")]:
        values |= set(_sources(tomllib.loads(toml.read_text(encoding="utf-8"))))
    return sorted((v for v in values if CJK.search(v)), key=len, reverse=True)


def _sources(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items()
                for s in ([v] if k == "source" and isinstance(v, str) else _sources(v))]
    if isinstance(node, list):
        return [s for v in node for s in _sources(v)]
    return []


def _texts(path: Path) -> list[str]:
    suffix = path.suffix
    if suffix in (".md", ".csv", ".html", ".json"):
        text = path.read_text(encoding="utf-8")
        # Map data travel as JSON with \uXXXX escapes: read them as the browser will.
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
        return [html.unescape(text)]
    if suffix == ".xlsx":
        out = []
        for sheet in openpyxl.load_workbook(path):
            out.append(sheet.title)
            out += [v for row in sheet.iter_rows(values_only=True) for v in row
                    if isinstance(v, str)]
        return out
    if suffix == ".docx":
        import docx

        d = docx.Document(str(path))
        cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
        return [p.text for p in d.paragraphs] + cells
    return []


def untranslated(folder: Path, values: list[str]) -> dict[str, set[str]]:
    """Per output file (relative path), the Chinese runs left once data values are removed."""
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if INPUT_SHEETS.search(rel):
            continue
        for text in _texts(path):
            for v in values:
                if v in text:
                    text = text.replace(v, " ")
            runs = set(CJK.findall(text))
            if runs:
                found.setdefault(rel, set()).update(runs)
    return found


@pytest.fixture(scope="module")
def english_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("en")
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--out", str(out / "demo"), "--lang", "en", "-q"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["units", "--estates", str(DEMO / "estates.gpkg"),
                                 "--out", str(out / "units"), "--lang", "en", "-q"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_english_outputs_have_no_chinese_outside_data_values(english_outputs):
    values = _data_values()
    written = {p.suffix for p in english_outputs.rglob("*")}
    assert {".md", ".csv", ".xlsx", ".html", ".docx"} <= written  # the check reads them all
    leaks = {f: sorted(r) for f, r in untranslated(english_outputs, values).items()}
    assert not leaks, f"untranslated Chinese in --lang en outputs: {leaks}"


def test_the_check_finds_chinese_text_and_spares_data_values(tmp_path):
    values = ["人民路", "新华社区"]
    (tmp_path / "a.md").write_text("Estate 新华社区 on 人民路: gap 间距 12 m", encoding="utf-8")
    (tmp_path / "b.csv").write_text("name\n人民路\n", encoding="utf-8")
    assert untranslated(tmp_path, values) == {"a.md": {"间距"}}


def test_every_message_has_both_languages_with_the_same_fields():
    field = re.compile(r"{(\w+)")
    for msg_id, texts in MESSAGES.items():
        assert len(texts) == len(LANGS), msg_id
        zh, en = texts
        assert set(field.findall(zh)) == set(field.findall(en)), msg_id
        # Only the Chinese field names a planner types into the input stay in English text.
        words = set(CJK.findall(en)) - {"户数", "建筑面积", "/", "名称", "编号", "冠幅半径", "冠幅"}
        assert not words, f"{msg_id}: English text has Chinese: {en!r}"


def test_catalogue_lookup():
    assert tr("link_reason", "en", a="A", b="B", gap_m="0.3", facing_m="119") == (
        "A–B: gap 0.3 m, facing 119 m")
    assert join(["甲", "乙"]) == "甲、乙"
    with pytest.raises(ValueError, match="fr"):
        tr("list_sep", "fr")
    with pytest.raises(KeyError):
        tr("no such message", "en")


def test_english_tables_show_words_not_status_keys(english_outputs):
    """Machine values stay in the data; a table that counts them shows their words. The
    review's eligibility table printed the status keys (``extended_not_included``) in
    English while the Chinese one printed words."""
    from gis.eligibility import STATUSES

    md = next(english_outputs.rglob("review_en.md")).read_text(encoding="utf-8")
    table = md.split("## Eligibility", 1)[1].split("\n## ", 1)[0]
    labels = [row.split("|")[1].strip() for row in table.splitlines()
              if row.startswith("| ") and not row.startswith("| Status")]
    assert labels and not set(labels) & set(STATUSES), labels
    assert "built 2001–2005: not included" in labels
