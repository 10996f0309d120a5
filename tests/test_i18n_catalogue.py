"""One mechanism for Chinese/English text (issue 12 item 5).

Report, map and programme code asks `gis.i18n.tr` for a message id; no module there picks
words with an inline language switch (``"..." if en else "..."``, ``lang == "en"``) or a
per-module ``{"zh": ..., "en": ...}`` table. Every message has both languages with the
same template fields, so a message can never render in one language and fail in the other.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from gis.i18n import LANGS, MESSAGES

GIS = Path(__file__).resolve().parents[1] / "gis"

#: An inline language switch: a conditional on ``en`` / ``lang``, or a language-keyed table.
SWITCH = re.compile(
    r"""\bif\s+(not\s+)?en\s+else\b"""
    r"""|\blang\s*[!=]=\s*["'](en|zh)["']"""
    r"""|["'](en|zh)["']\s+if\s+lang\b"""
    r"""|^\s*["'](en|zh)["']\s*:\s*[{(\[]""", re.MULTILINE)

#: Folders whose code renders text: report and map writers, the programme's outputs.
RENDERING = ["report", "maps", "programme", "summary.py", "skipped.py", "batch.py",
             "units.py", "cli.py"]


def _switches(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [f"{path.relative_to(GIS.parent)}:{text.count(chr(10), 0, m.start()) + 1}"
            for m in SWITCH.finditer(text)]


@pytest.mark.parametrize("where", RENDERING)
def test_no_inline_language_switch(where):
    target = GIS / where
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    found = [hit for path in files for hit in _switches(path)]
    assert not found, "words picked inline instead of through gis.i18n.tr: " + ", ".join(found)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("msg_id", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_fields(msg_id):
    texts = MESSAGES[msg_id]
    assert len(texts) == len(LANGS)
    zh, en = texts
    assert en.strip() or not zh.strip(), f"{msg_id} has no English"
    assert _fields(zh) == _fields(en), f"{msg_id}: fields differ between zh and en"


#: ``Note("english", "中文")`` written at a call site: a second way of choosing words.
INLINE_NOTE = re.compile(r"\bNote\(\s*(f?[\"']|msg\b|en\b)")


@pytest.mark.parametrize("path", sorted(p.relative_to(GIS).as_posix() for p in GIS.rglob("*.py")
                                        if p.name != "notes.py"))
def test_notes_come_from_the_catalogue(path):
    """Every note is `Note.of(msg_id, ...)`: its words live in `gis.i18n`, not at the call."""
    text = (GIS / path).read_text(encoding="utf-8")
    lines = [str(text.count("\n", 0, m.start()) + 1) for m in INLINE_NOTE.finditer(text)]
    assert not lines, f"gis/{path}: notes written inline at lines {', '.join(lines)}"
