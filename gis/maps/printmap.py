"""Print maps: static PNG and PDF maps for reports and filing (matplotlib, offline).

Every map has a title, a legend, a scale bar, a north arrow, the data source and date,
and the coordinate-system note (CGCS2000 Gauss-Krüger zone the analysis measured in), on
A4 or A3 landscape at 300 dpi. The same figures go into the DOCX reports
(`gis.report.docx`), so the printed map and the report's figure are one drawing.

Chinese labels need a CJK font: `cjk_font` finds one that exists on the machine (Noto
Sans CJK, Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei …) and checks it has the
glyphs. With none, Chinese maps are drawn with English labels and a warning says which
package to install, rather than printing empty boxes ("tofu").

Maps are drawn in the metric analysis CRS, so the scale bar is exact in the map's
centre; grid north is marked (the Gauss-Krüger meridian convergence is under 1.5° within
a 3-degree zone).
"""

from __future__ import annotations

import io
import logging
import math
import os
import tempfile
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import geopandas as gpd
import matplotlib
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
import numpy as np
import pandas as pd
import shapely

from gis.coverage import Coverage, service_areas
from gis.crs import metric_crs
from gis.errors import InputError
from gis.i18n import tr
from gis.maps.coverage import CATEGORY_COLOURS
from gis.report.fonts import PrintFont, cjk_font

__all__ = ["PAPERS", "coverage_figures", "coverage_print", "figure_bytes", "review_figures",
           "save_figure", "unit_prints", "units_print"]

logger = logging.getLogger(__name__)

#: Paper sizes, landscape, in millimetres. A5 is the size the Word reports embed (shown
#: 16 cm wide, its text stays legible).
PAPERS = {"A5": (210.0, 148.0), "A4": (297.0, 210.0), "A3": (420.0, 297.0)}
PRINT_DPI = 300
_MM = 1 / 25.4
_MISSING_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
_GAP_COLOURS = ("#1a9850", "#fc8d59", "#b2182b")  # covered, gap within search, beyond it
_HALO = [patheffects.withStroke(linewidth=2.0, foreground="white")]
_ELIGIBLE = {"eligible": "#4575b4", "eligible_extended": "#91bfdb"}
#: Languages whose labels need a CJK font; without one they print in English.
_CJK_LANGS = frozenset({"zh"})
#: Words of every page (messages ``maps.print.<key>``).
_WORD_KEYS = ("legend", "source", "date", "crs", "crs_note", "north", "streets", "estates",
              "illustrative", "scale")


def _lang_for(lang: str) -> tuple[str, PrintFont]:
    """The language a map can be printed in here, and the font to use."""
    font = cjk_font()  # English maps still print Chinese names and sources
    if lang not in _CJK_LANGS:
        return lang, font
    if font.family is None:
        logger.warning(
            "No Chinese (CJK) font is installed, so print maps use English labels rather "
            "than empty boxes. Install one (Debian/Ubuntu: apt-get install fonts-noto-cjk) "
            "and rerun for Chinese maps.")
        return "en", font
    return "zh", font


@contextmanager
def _style(font: PrintFont) -> Iterator[None]:
    families = [font.family, "DejaVu Sans"] if font.family else ["DejaVu Sans"]
    # Type 42 embeds the (subset) TrueType/OpenType font in the PDF, so the text stays text.
    with matplotlib.rc_context({"font.family": families, "pdf.fonttype": 42,
                                "axes.unicode_minus": False}):
        yield


def _words(lang: str) -> dict[str, str]:
    return {**{key: tr(f"maps.print.{key}", lang) for key in _WORD_KEYS},
            "metres": "m", "km": "km"}


# ---------------------------------------------------------------------------
# The page


class _Page:
    """A landscape page: title band, map frame on the left, legend panel on the right."""

    def __init__(self, paper: str, lang: str, font: PrintFont, *, width_mm: float | None = None,
                 height_mm: float | None = None):
        if paper not in PAPERS and width_mm is None:
            msg = f"Unknown paper {paper!r}; use {', '.join(PAPERS)}."
            raise InputError(msg)
        w, h = (width_mm, height_mm) if width_mm else PAPERS[paper]
        self.w_mm, self.h_mm = float(w), float(h or w * 0.7)
        self.lang, self.font = lang, font
        self.words = _words(lang)
        # Text grows with the paper; on small figures it stays legible.
        self.scale = max(self.w_mm / 297.0, 0.85)
        self.fig = Figure(figsize=(self.w_mm * _MM, self.h_mm * _MM), facecolor="white")
        FigureCanvasAgg(self.fig)
        # Map frame: left 73 %, below the title band.
        self.ax = self.fig.add_axes((0.03, 0.07, 0.70, 0.80))
        self.panel = self.fig.add_axes((0.75, 0.07, 0.22, 0.80))
        self.panel.set_axis_off()
        self.ax.set_aspect("equal")
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        for s in self.ax.spines.values():
            s.set_linewidth(0.8)

    def pt(self, size: float) -> float:
        return size * self.scale

    def title(self, text: str, subtitle: str = "") -> None:
        self.fig.text(0.03, 0.955, text, fontsize=self.pt(16), fontweight="bold", va="center")
        if subtitle:
            self.fig.text(0.03, 0.905, subtitle, fontsize=self.pt(9.5), color="#444444",
                          va="center")

    def frame_to(self, bounds: tuple[float, float, float, float], pad: float = 0.04) -> None:
        """Fit the map frame to ``bounds`` keeping metres square."""
        minx, miny, maxx, maxy = bounds
        w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        box = self.ax.get_position()
        frame_ratio = (box.width * self.w_mm) / (box.height * self.h_mm)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
        if w / h > frame_ratio:
            h = w / frame_ratio
        else:
            w = h * frame_ratio
        self.ax.set_xlim(cx - w / 2, cx + w / 2)
        self.ax.set_ylim(cy - h / 2, cy + h / 2)

    def scale_bar(self) -> list:
        self.ax.set_xlabel("")  # geopandas labels the axes with the CRS's; the bar says it
        self.ax.set_ylabel("")
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        length = _nice_length((x1 - x0) / 5)
        bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
        hgt = (y1 - y0) * 0.008
        artists = []
        for i in range(4):
            artists.append(self.ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, hgt,
                                        facecolor="black" if i % 2 == 0 else "white",
                                        edgecolor="black", linewidth=0.6, zorder=20)))
        artists.append(self.ax.add_patch(Rectangle(
            (bx - (x1 - x0) * 0.01, by - (y1 - y0) * 0.012), length + (x1 - x0) * 0.05,
            (y1 - y0) * 0.06, facecolor="white", alpha=0.8, edgecolor="none", zorder=19)))
        unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
        for frac in (0, 0.5, 1):
            v = length * frac / div
            label = f"{v:g}" + (f" {unit}" if frac == 1 else "")
            artists.append(self.ax.text(bx + length * frac, by + hgt * 1.8, label, ha="center",
                                        va="bottom", fontsize=self.pt(7), zorder=21))
        return artists

    def north_arrow(self) -> list:
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        x, y = x1 - (x1 - x0) * 0.045, y1 - (y1 - y0) * 0.16
        length = (y1 - y0) * 0.08
        # The arrow's width in x units and length in y units: fine with square metres.
        return [self.ax.add_patch(FancyArrow(
                    x, y, 0, length, width=(x1 - x0) * 0.006, head_width=(x1 - x0) * 0.022,
                    head_length=length * 0.45, length_includes_head=True, color="black",
                    zorder=21)),
                self.ax.text(x, y + length * 1.12, self.words["north"], ha="center",
                             va="bottom", fontsize=self.pt(10), fontweight="bold", zorder=21)]

    def legend(self, handles: list, head: str | None = None) -> None:
        leg = self.panel.legend(handles=handles, loc="upper left", frameon=False,
                                title=head or self.words["legend"], fontsize=self.pt(8),
                                title_fontsize=self.pt(10), borderaxespad=0.0,
                                handlelength=1.6, labelspacing=0.55)
        leg._legend_box.align = "left"

    def notes(self, lines: list[str]) -> None:
        size = self.pt(6.5)
        # Characters per line that fit the panel: a CJK character is one em wide, a
        # Latin one about half (lines mix both, so count CJK as two).
        width_mm = self.panel.get_position().width * self.w_mm
        per_line = max(12, int(width_mm / (size * 0.3528) * 1.9))
        wrapped = ["\n".join(_wrap_wide(x, per_line)) for x in lines]
        self.panel.text(0.0, 0.0, "\n".join(wrapped), fontsize=size, va="bottom",
                        ha="left", color="#333333", linespacing=1.45,
                        transform=self.panel.transAxes)


def _nice_length(target_m: float) -> float:
    """1, 2 or 5 × a power of ten, at most ``target_m``."""
    if target_m <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(target_m))
    for m in (5, 2, 1):
        if m * exp <= target_m:
            return float(m * exp)
    return float(exp)


def _crs_line(crs: object, words: dict[str, str]) -> str:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    name = c.name
    return f"{words['crs']}: {words['crs_note']}; {name}" + (f" (EPSG:{epsg})" if epsg else "")


def _footer(page: _Page, crs: object, source: str, illustrative: bool,
            extra: list[str] | None = None) -> None:
    w = page.words
    lines = [*(extra or [])]
    if illustrative:
        lines.append(w["illustrative"])
    lines += [f"{w['source']}: {source}", _crs_line(crs, w),
              f"{w['date']}: {date.today().isoformat()}"]
    page.notes(lines)


def _wrap_wide(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` half-width cells (CJK characters count two), breaking
    at spaces where there are any and anywhere in CJK runs."""
    out, line, used = [], "", 0
    for word in re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+", text):
        cells = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in word.rstrip())
        if used + cells > width and line:
            out.append(line.rstrip())
            line, used = "", 0
        line += word
        used += cells + (len(word) - len(word.rstrip()))
    if line.strip():
        out.append(line.rstrip())
    return out


# ---------------------------------------------------------------------------
# Layers


def _streets_in(cov: Coverage) -> np.ndarray | None:
    if cov.streets is not None:
        return np.asarray(cov.streets.to_crs(cov.analysis_crs).geometry.values)
    if cov.graph is not None:
        xy = cov.graph.street_xy
        return shapely.linestrings(np.stack([xy[cov.graph.edge_u], xy[cov.graph.edge_v]], axis=1))
    return None


def _draw_lines(ax, geoms: np.ndarray, *, per_feature: bool = False, **kw) -> None:
    """Lines as one LineCollection. With ``per_feature``, list-valued ``colors`` and
    ``linewidths`` give one value per geometry (repeated over its parts)."""
    from matplotlib.collections import LineCollection

    geoms = np.asarray(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 1  # rings come back as LinearRing (2): lines too
    keep |= shapely.get_type_id(parts) == 2
    parts, owner = parts[keep], owner[keep]
    if not len(parts):
        return
    if per_feature:
        kw = {k: (np.asarray(v)[owner] if np.ndim(v) else v) for k, v in kw.items()}
    ax.add_collection(LineCollection([shapely.get_coordinates(g) for g in parts], **kw))


def _draw_polys(ax, geoms, colours, *, edgecolor="none", linewidth=0.0, alpha=None,
                zorder=1) -> None:
    """Polygons (holes kept) as one PatchCollection, one fill colour each or one for all.

    matplotlib directly: geopandas' plot redraws the whole figure on every call, which
    made a page of 10,000 estates, and each unit's small map, several times slower.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.path import Path as MplPath
    from matplotlib.patches import PathPatch

    geoms = np.asarray(geoms)
    if not len(geoms):
        return
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[poly], owner[poly]
    patches = []
    for g in parts:
        rings = [shapely.get_coordinates(g.exterior)]
        rings += [shapely.get_coordinates(r) for r in g.interiors]
        patches.append(PathPatch(MplPath.make_compound_path(
            *[MplPath(r, closed=True) for r in rings])))
    if not patches:
        return
    face = np.asarray(colours, dtype=object)[owner] if np.ndim(colours) else colours
    ax.add_collection(PatchCollection(patches, facecolors=face, edgecolors=edgecolor,
                                      linewidths=linewidth, alpha=alpha, zorder=zorder))


def _count(n: int, lang: str) -> str:
    return tr("maps.print.count", lang, n=n)


# ---------------------------------------------------------------------------
# Coverage


def coverage_print(
    cov: Coverage,
    *,
    category: str | None = None,
    lang: str = "zh",
    paper: str = "A4",
    illustrative: bool = False,
    title: str | None = None,
    source: str | None = None,
    areas: bool | None = None,
) -> Figure:
    """The coverage map for print: overview, or one category's gaps.

    Parameters
    ----------
    cov : Coverage
    category : str, optional
        A category key: draw its gaps (estates covered / in gap / beyond the search), its
        facilities and its walkable service area. Default: the overview, estates by the
        number of categories missing and every facility by category.
    lang : {"zh", "en"}
    paper : {"A4", "A3"}
    illustrative : bool
        Say the data are the bundled demo.
    title, source : str, optional
        Map title; data source line (default: the standard's name).
    areas : bool, optional
        Draw the category's walkable service area (needs ``cov.graph``; default when
        there is one and a category is chosen).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    The demo town's clinic gaps: title, subtitle and legend as printed.

    >>> from gis.sources import demo_folder
    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     streets=read_streets(demo / "streets.gpkg"), progress=False)
    >>> fig = coverage_print(cov, category="clinic", lang="en", paper="A5")
    >>> [t.get_text() for t in fig.texts]
    ['Living-circle gaps: Clinic / community health centre',
     '150 estates, 31,203 households; walking distance along streets']
    >>> [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    ['Walkable area (1000 m)', 'Covered (≤ 1000 m) (148)', 'Gap (1000–2000 m) (2)',
     'Gap (> 2000 m) (0)', 'Clinic / community health centre (12)', 'Streets']
    """
    lang, font = _lang_for(lang)
    std = cov.standard
    chosen = std.category(category) if category else None
    with _style(font):
        page = _Page(paper, lang, font)
        ax = page.ax
        est = cov.estates.to_crs(cov.analysis_crs)
        svc = cov.services.to_crs(cov.analysis_crs)
        streets = _streets_in(cov)
        # A whole city on one page: outlines would bury the estates' colours.
        crowded = len(est) > 2000
        outline = (0.05 if crowded else 0.3) * page.scale
        if streets is not None:
            _draw_lines(ax, streets, colors="#b0b0b0", linewidths=(0.2 if crowded else 0.45)
                        * page.scale, zorder=1)
        handles: list = []
        if chosen is not None:
            if areas is None:
                areas = cov.graph is not None
            if areas and cov.graph is not None:
                area = service_areas(cov.graph, svc[svc["category"] == chosen.key], std)
                area = area[area["category"] == chosen.key]
                if len(area):
                    colour = CATEGORY_COLOURS[std.keys.index(chosen.key) % len(CATEGORY_COLOURS)]
                    _draw_polys(ax, area.geometry.values, colour, alpha=0.13, linewidth=0,
                                zorder=2)
                    handles.append(Patch(facecolor=colour, alpha=0.25, label=tr(
                        "maps.print.area", lang, walk_m=chosen.walk_m)))
            d = est[f"dist_m_{chosen.key}"].to_numpy(dtype=float)
            cls = np.where(d <= chosen.walk_m, 0, np.where(np.isnan(d), 2, 1))
            limit = cov.search_factor * chosen.walk_m
            labels = [tr(f"maps.print.{k}", lang, walk_m=chosen.walk_m, limit_m=limit)
                      for k in ("covered", "gap", "beyond")]
            _draw_polys(ax, est.geometry.values, [_GAP_COLOURS[k] for k in cls],
                        edgecolor="#333333",
                     linewidth=outline, zorder=3)
            handles += [Patch(facecolor=c, edgecolor="#333333",
                              label=lab + _count(int((cls == k).sum()), lang))
                        for k, (c, lab) in enumerate(zip(_GAP_COLOURS, labels))]
            sub = svc[svc["category"] == chosen.key]
            colour = CATEGORY_COLOURS[std.keys.index(chosen.key) % len(CATEGORY_COLOURS)]
            if len(sub):
                xy = shapely.get_coordinates(sub.geometry.values)
                ax.scatter(xy[:, 0], xy[:, 1], s=22 * page.scale ** 2, marker="^", c=colour,
                           edgecolors="black", linewidths=0.5, zorder=5)
            handles.append(Line2D([], [], marker="^", linestyle="", markerfacecolor=colour,
                                  markeredgecolor="black", markersize=6 * page.scale,
                                  label=chosen.label(lang) + _count(len(sub), lang)))
            # Name the worst gaps by households, where labels stay few enough to read.
            gap = est[cls > 0]
            if 0 < len(gap) <= 25 and "name" in gap:
                pts = gap.geometry.representative_point()
                for p, name in zip(pts, gap["name"].astype(str)):
                    ax.annotate(name, (p.x, p.y), fontsize=page.pt(6), ha="center",
                                va="bottom", xytext=(0, 3), textcoords="offset points",
                                zorder=6, color="#67000d", path_effects=_HALO)
            head = chosen.label(lang)
            default_title = tr("maps.print.title_gaps", lang, category=chosen.label(lang))
        else:
            n_cat = len(std.categories)
            missing = np.minimum(n_cat - est["n_covered"].to_numpy(dtype=int), 4)
            _draw_polys(ax, est.geometry.values, [_MISSING_COLOURS[k] for k in missing],
                        edgecolor="#333333",
                     linewidth=outline, zorder=3)
            labels = [tr(f"maps.print.missing_{k}", lang) for k in range(len(_MISSING_COLOURS))]
            handles += [Patch(facecolor=c, edgecolor="#333333",
                              label=lab + _count(int((missing == k).sum()), lang))
                        for k, (c, lab) in enumerate(zip(_MISSING_COLOURS, labels))]
            for i, c in enumerate(std.categories):
                sub = svc[svc["category"] == c.key]
                colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
                if len(sub):
                    xy = shapely.get_coordinates(sub.geometry.values)
                    ax.scatter(xy[:, 0], xy[:, 1], s=7 * page.scale ** 2, c=colour,
                               edgecolors="white", linewidths=0.3, zorder=4)
                handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=colour,
                                      markeredgecolor="white", markersize=4.5 * page.scale,
                                      label=c.label(lang) + _count(len(sub), lang)))
            head = None
            default_title = tr("maps.print.title_coverage", lang)
        if streets is not None:
            handles.append(Line2D([], [], color="#b0b0b0", linewidth=1.2,
                                  label=page.words["streets"]))
        page.legend(handles, head)
        mode = tr("maps.print.dist_network" if cov.mode == "network"
                  else "maps.print.dist_straight", lang)
        n_hh = cov.estates["households"].sum() if "households" in cov.estates else np.nan
        subtitle = (tr("maps.print.subtitle_estates", lang, n=len(est))
                    + ("" if np.isnan(n_hh)
                       else tr("maps.print.subtitle_households", lang, households=n_hh))
                    + tr("maps.print.subtitle_mode", lang, mode=mode))
        if illustrative:
            subtitle += tr("maps.print.subtitle_illustrative", lang)
        page.title(title or default_title, subtitle)
        # Framed after drawing: geopandas rescales the axes to each layer it plots.
        page.frame_to(tuple(est.total_bounds))
        page.scale_bar()
        page.north_arrow()
        std_name = getattr(std, f"name_{lang}")  # the standard's own name_zh / name_en
        _footer(page, cov.analysis_crs, source or std_name, illustrative,
                [tr("maps.print.standard", lang, name=std_name, source=std.source)])
    return page.fig


# ---------------------------------------------------------------------------
# Units


def units_print(
    units: gpd.GeoDataFrame,
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame | None = None,
    *,
    conflicts: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    paper: str = "A4",
    illustrative: bool = False,
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """The combined renovation units map for print.

    Parameters
    ----------
    units, estates, links, conflicts : GeoDataFrame
        As `gis.maps.units_map` takes them (the layers of ``units.gpkg``).
    lang, paper, illustrative, title, source
        As in `coverage_print`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> fig = units_print(units.units, assessed, units.links, lang="en", paper="A5")
    >>> [t.get_text() for t in fig.texts]
    ['Combined renovation units', '48 units, 29 joint; 150 estates']
    """
    lang, font = _lang_for(lang)
    with _style(font):
        page = _Page(paper, lang, font)
        metric = metric_crs(estates)
        handles = _draw_units(page, units, estates, links, conflicts, metric, label_units=True)
        page.frame_to(tuple(estates.to_crs(metric).total_bounds))
        page.legend(handles)
        joint = int((units["n_estates"] > 1).sum())
        subtitle = tr("maps.print.units_subtitle", lang, units=len(units), joint=joint,
                      estates=len(estates))
        if illustrative:
            subtitle += tr("maps.print.subtitle_illustrative", lang)
        page.title(title or tr("maps.print.units_title", lang), subtitle)
        page.scale_bar()
        page.north_arrow()
        _footer(page, metric, source or tr("maps.print.units_source", lang), illustrative)
    return page.fig


def unit_prints(
    units: gpd.GeoDataFrame,
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame | None = None,
    *,
    conflicts: gpd.GeoDataFrame | None = None,
    unit_ids: list[str] | None = None,
    lang: str = "zh",
    width_mm: float = 160.0,
    height_mm: float = 95.0,
    dpi: int = 200,
) -> Iterator[tuple[str, bytes]]:
    """A small PNG map of each unit and its surroundings, for the units' review sheets.

    The layers are drawn once and the frame moved from unit to unit (drawing 10,000
    estates again per unit would take seconds each).

    Yields
    ------
    (unit_id, PNG bytes)

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> maps = dict(unit_prints(units.units, assessed, units.links,
    ...                         unit_ids=["U-XQ003+2-e58099"], dpi=100))
    >>> png = maps["U-XQ003+2-e58099"]
    >>> png[:4], int.from_bytes(png[16:20], "big")  # PNG, 160 mm wide at 100 dpi
    (b'\\x89PNG', 629)
    """
    lang, font = _lang_for(lang)
    metric = metric_crs(estates)
    u = units.to_crs(metric)
    est = estates.to_crs(metric)
    ln = links.to_crs(metric) if links is not None and len(links) else None
    cf = conflicts.to_crs(metric) if conflicts is not None and len(conflicts) else None
    label_col = "name" if "name" in est else "estate_id"
    by_id = dict(zip(u["unit_id"].astype(str), u.geometry))
    ids = list(by_id) if unit_ids is None else [str(i) for i in unit_ids]
    with _style(font):
        page = _Page("", lang, font, width_mm=width_mm, height_mm=height_mm)
        page.ax.set_position((0.02, 0.04, 0.68, 0.92))
        page.panel.set_position((0.72, 0.04, 0.27, 0.92))
        ax = page.ax
        fixed = set(ax.get_children())
        for uid in ids:
            if uid not in by_id:
                msg = f"No unit {uid!r} in the units layer."
                raise InputError(msg)
            geom = by_id[uid]
            minx, miny, maxx, maxy = geom.bounds
            pad = max(maxx - minx, maxy - miny, 150.0) * 0.4
            # Only what the frame shows is drawn: a city's 10,000 estates on every unit's
            # map took 0.17 s a map, the few around it a fraction of that.
            frame = (minx - 1.6 * pad, miny - pad, maxx + 1.6 * pad, maxy + pad)
            box = shapely.box(*frame)

            def near(layer):
                return None if layer is None else layer.iloc[np.sort(layer.sindex.query(box))]

            est_near = near(est)
            handles = _draw_units(page, near(u), est_near, near(ln), near(cf), metric,
                                  highlight=True)
            page.legend(handles)
            xy = np.concatenate([shapely.get_coordinates(r) for r in shapely.get_exterior_ring(
                shapely.get_parts(geom))] or [np.empty((0, 2))])
            ax.plot(xy[:, 0], xy[:, 1], color="#ffcc00", linewidth=4.0 * page.scale,
                    zorder=3.5)
            page.frame_to(frame, pad=0.0)
            ax.set_xlabel("")
            ax.set_ylabel("")
            points = est_near.geometry.representative_point()
            for p, name in zip(points, est_near[label_col].astype(str)):
                ax.annotate(name, (p.x, p.y), fontsize=page.pt(6), ha="center", va="center",
                            zorder=7, path_effects=_HALO, annotation_clip=True)
            page.north_arrow()
            page.scale_bar()
            yield uid, figure_bytes(page.fig, "png", dpi=dpi)
            for artist in set(ax.get_children()) - fixed:
                artist.remove()


def _draw_units(page: _Page, units, estates, links, conflicts, metric, *,
                label_units: bool = False, highlight: bool = False) -> list:
    ax, lang = page.ax, page.lang
    est = estates.to_crs(metric)
    status = est["eligibility"] if "eligibility" in est else pd.Series("eligible", index=est.index)
    fill = [_ELIGIBLE.get(s, "#d9d9d9") for s in status]
    _draw_polys(ax, est.geometry.values, fill, edgecolor="#555555",
                linewidth=0.3 * page.scale, zorder=2)
    u = units.to_crs(metric)
    flagged = (u["n_conflicts"].fillna(0).to_numpy() > 0) if "n_conflicts" in u \
        else np.zeros(len(u), bool)
    joint = u["n_estates"].to_numpy() > 1
    colours = np.where(flagged, "#d7301f", "#08306b")
    widths = np.where(joint, 1.6, 0.6) * page.scale
    rings = shapely.boundary(np.asarray(u.geometry.values))
    _draw_lines(ax, rings, colors=colours, linewidths=widths, zorder=4, per_feature=True)
    if links is not None and len(links):
        ln = links.to_crs(metric)
        linked = ln["linked"].astype(bool).to_numpy() if "linked" in ln else np.ones(len(ln), bool)
        _draw_lines(ax, ln.geometry.values[linked], colors="#f46d43",
                    linewidths=1.2 * page.scale, zorder=5)
    if conflicts is not None and len(conflicts):
        cf = conflicts.to_crs(metric)
        geoms = np.asarray(cf.geometry.values)
        kind = shapely.get_type_id(geoms)
        _draw_polys(ax, geoms[np.isin(kind, (3, 6))], "#d7301f", alpha=0.45,
                    edgecolor="#d7301f", linewidth=0.8, zorder=6)
        _draw_lines(ax, geoms[np.isin(kind, (1, 5))], colors="#d7301f", linewidths=1.5,
                    zorder=6)
        xy = shapely.get_coordinates(geoms[np.isin(kind, (0, 4))])
        if len(xy):
            ax.scatter(xy[:, 0], xy[:, 1], s=18 * page.scale ** 2, c="#d7301f", alpha=0.6,
                       zorder=6)
    if label_units and joint.sum() <= 60:
        for p, uid in zip(u.geometry[joint].representative_point(), u["unit_id"][joint]):
            ax.annotate(str(uid).split("-")[1] if str(uid).count("-") >= 2 else str(uid),
                        (p.x, p.y), fontsize=page.pt(5), ha="center", va="center",
                        color="#08306b", zorder=7, path_effects=_HALO)
    handles = [
        Line2D([], [], color="#08306b", linewidth=2, label=tr("maps.print.unit", lang)),
        Line2D([], [], color="#d7301f", linewidth=2,
               label=tr("maps.print.unit_conflicts", lang)),
        Patch(facecolor=_ELIGIBLE["eligible"], edgecolor="#555555",
              label=tr("maps.print.eligible", lang)),
        Patch(facecolor=_ELIGIBLE["eligible_extended"], edgecolor="#555555",
              label=tr("maps.print.extended", lang)),
        Patch(facecolor="#d9d9d9", edgecolor="#555555",
              label=tr("maps.print.not_eligible", lang)),
        Line2D([], [], color="#f46d43", linewidth=2, label=tr("maps.print.link", lang)),
    ]
    if conflicts is not None and len(conflicts):
        handles.append(Patch(facecolor="#d7301f", alpha=0.45,
                             label=tr("maps.print.conflict", lang)))
    if highlight:
        handles.insert(0, Line2D([], [], color="#ffcc00", linewidth=4,
                                 label=tr("maps.print.this_unit", lang)))
    return handles


# ---------------------------------------------------------------------------
# Output


def figure_bytes(fig: Figure, fmt: str = "png", *, dpi: int = PRINT_DPI) -> bytes:
    """The figure rendered as PNG or PDF bytes.

    Examples
    --------
    >>> fig = Figure(figsize=(2, 1))
    >>> png = figure_bytes(fig)
    >>> png[:4], int.from_bytes(png[16:20], "big")  # 2 inches at 300 dpi
    (b'\\x89PNG', 600)
    >>> figure_bytes(fig, "pdf")[:5]
    b'%PDF-'
    """
    buf = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()


def save_figure(fig: Figure, path: str | Path, *, dpi: int = PRINT_DPI) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png or .pdf) atomically.

    Examples
    --------
    >>> fig = Figure(figsize=(2, 1))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_figure(fig, Path(folder) / "map.pdf")
    ...     print([p.name for p in Path(folder).iterdir()], path.read_bytes()[:5])
    ['map.pdf'] b'%PDF-'
    >>> save_figure(fig, "map.svg")
    Traceback (most recent call last):
    ...
    gis.errors.InputError: map.svg: print maps are written as .png or .pdf.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf"):
        msg = f"{path}: print maps are written as .png or .pdf."
        raise InputError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = figure_bytes(fig, fmt, dpi=dpi)
    fd, tmp = tempfile.mkstemp(prefix=".map-", suffix=f".{fmt}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("Wrote print map %s (%.1f MB)", path, len(data) / 1e6)
    return path


# ---------------------------------------------------------------------------
# Figures for the Word reports


def coverage_figures(cov: Coverage, *, lang: str = "zh", illustrative: bool = False,
                     dpi: int = 200) -> dict[str, bytes]:
    """The gap report's figures as PNG bytes: ``"overview"`` and each category with gaps.

    The same drawings as `coverage_print`, on A5 so their text stays legible at the 16 cm
    the report shows them, at ``dpi`` (200 keeps a Word file small and prints sharp).

    Examples
    --------
    The demo town by straight-line distances: the overview and the categories with gaps.

    >>> from gis.sources import demo_folder
    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     mode="straight", progress=False)
    >>> figures = coverage_figures(cov, lang="en", dpi=50)
    >>> sorted(figures), figures["overview"][:4]
    (['charging', 'clinic', 'overview'], b'\\x89PNG')
    """
    out = {"overview": figure_bytes(coverage_print(cov, lang=lang, illustrative=illustrative,
                                                   paper="A5"), dpi=dpi)}
    for c in cov.standard.categories:
        if not cov.estates[f"covered_{c.key}"].all():
            fig = coverage_print(cov, category=c.key, lang=lang, illustrative=illustrative,
                                 paper="A5")
            out[c.key] = figure_bytes(fig, dpi=dpi)
    return out


def review_figures(units: gpd.GeoDataFrame, estates: gpd.GeoDataFrame,
                   links: gpd.GeoDataFrame | None = None, *,
                   conflicts: gpd.GeoDataFrame | None = None, lang: str = "zh",
                   illustrative: bool = False, dpi: int = 200) -> dict[str, bytes]:
    """The review document's figures as PNG bytes: ``"overview"`` and one per unit id.

    Examples
    --------
    Two of the demo town's units:

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> units, assessed = renovation_units(read_estates(demo_folder() / "estates.gpkg"),
    ...                                    load_standard())
    >>> figures = review_figures(units.units.iloc[:2], assessed, units.links, dpi=50)
    >>> sorted(figures)
    ['U-XQ002+1-2f7241', 'U-XQ003+2-e58099', 'overview']
    """
    out = {"overview": figure_bytes(units_print(units, estates, links, conflicts=conflicts,
                                                lang=lang, illustrative=illustrative,
                                                paper="A5"), dpi=dpi)}
    from gis.report.docx import sheet_units

    # Maps only for the units review.docx gives a sheet.
    out.update(unit_prints(units, estates, links, conflicts=conflicts, lang=lang,
                           unit_ids=sheet_units(units), dpi=min(dpi, 150)))
    return out
