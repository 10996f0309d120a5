"""Fonts for Chinese text in print maps and Word reports: one that exists on this machine.

No font is bundled (the common CJK fonts are large, and some are proprietary): the
machine's fonts are searched, free ones first (Debian/Ubuntu ``fonts-noto-cjk``,
``fonts-wqy-*``), then those Windows and macOS ship, and a font counts only when it
maps every character of `GLYPH_PROBE` to a glyph (checked with fontTools), so a map
never prints empty boxes ("tofu").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = ["DOCX_FALLBACK_FONT", "GLYPH_PROBE", "PrintFont", "cjk_font", "font_has_glyphs"]

# Families tried in order: free CJK fonts first, then the ones Windows and macOS ship.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
                 "Noto Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei",
                 "Microsoft YaHei", "PingFang SC", "Heiti SC", "Noto Serif CJK SC",
                 "AR PL UMing CN", "Droid Sans Fallback")
#: Characters every Chinese map and report uses: a font lacking any of them prints boxes.
GLYPH_PROBE = "小区改造生活圈设施覆盖缺口图例比例尺北米数据来源坐标系日期单元示例审查决定说明"
#: East Asian font a Word report names when this machine has none: 宋体 ships with every
#: Windows and with WPS, and Word substitutes its own default where it is missing.
DOCX_FALLBACK_FONT = "SimSun"


@dataclass(frozen=True)
class PrintFont:
    """The font a print map uses: ``family`` (None = matplotlib's default) and ``path``."""

    family: str | None
    path: str | None


@cache
def cjk_font() -> PrintFont:
    """A CJK font installed on this machine that has the glyphs maps need.

    Returns
    -------
    PrintFont
        ``family`` None when no installed font has them.

    Examples
    --------
    Which font is found depends on the machine; whichever it is has every glyph of
    `GLYPH_PROBE`:

    >>> font = cjk_font()
    >>> font.family is None or font_has_glyphs(font.path, GLYPH_PROBE, family=font.family)
    True
    """
    from matplotlib import font_manager

    by_name: dict[str, str] = {}
    for f in sorted(font_manager.fontManager.ttflist,
                    key=lambda f: f.weight not in ("normal", "regular", 400)):
        by_name.setdefault(f.name, f.fname)  # the regular face where there is one
    for family in _CJK_FAMILIES:
        path = by_name.get(family)
        if path and font_has_glyphs(path, GLYPH_PROBE, family=family):
            return PrintFont(family, path)
    return PrintFont(None, None)


def font_has_glyphs(path: str, text: str, *, family: str | None = None) -> bool:
    """Whether the font file ``path`` maps every character of ``text`` to a glyph.

    For a collection (``.ttc``) the face named ``family`` is checked (else the first).

    Examples
    --------
    matplotlib's own DejaVu Sans has Latin letters but no Chinese:

    >>> from pathlib import Path
    >>> import matplotlib
    >>> dejavu = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    >>> font_has_glyphs(dejavu, "Scale 1:5000 m"), font_has_glyphs(dejavu, "比例尺")
    (True, False)
    >>> font_has_glyphs("no-such-font.ttf", "m")  # unreadable: not usable
    False
    """
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if str(path).lower().endswith(".ttc"):
            faces = TTCollection(path, lazy=True)
            try:
                fonts = faces.fonts
                face = next((f for f in fonts if family is None
                             or family in {n.toUnicode() for n in f["name"].names
                                           if n.nameID in (1, 16)}), fonts[0])
                cmap = dict(face.getBestCmap() or {})
            finally:
                faces.close()
        else:
            with TTFont(path, lazy=True) as face:
                cmap = dict(face.getBestCmap() or {})
    except Exception:  # an unreadable font file is simply not usable
        return False
    return all(ord(ch) in cmap for ch in text if not ch.isspace())
