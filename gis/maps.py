"""HTML maps (folium/Leaflet), drawn in EPSG:4326. The only module that writes HTML.

The coverage map colours estates by coverage score, shows every facility category as
its own toggle in the layer control, and gives each estate a Chinese popup with the
nearest facility and distance per category.

Maps are self-contained by default: Leaflet's script and stylesheet (from the
XStatic-Leaflet package installed with `gis`) are inlined, with its images as data URIs,
so the file opens from disk on an intranet with no CDN. No basemap is loaded unless
asked for.
"""

from __future__ import annotations

import base64
import html
import logging
import os
import re
import tempfile
from functools import cache
from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template
import geopandas as gpd
import numpy as np
import shapely

from gis.coverage import Coverage

__all__ = ["CATEGORY_COLOURS", "coverage_map", "write_map"]

logger = logging.getLogger(__name__)

CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#8c564b", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd",
                    "#17becf", "#bcbd22", "#e377c2")
# By number of missing categories: none (green) … four or more (red).
_MISSING_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
_SIMPLIFY_M = 0.5


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's shows feet too)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def _missing_colour(n_missing: int) -> str:
    return _MISSING_COLOURS[min(int(n_missing), len(_MISSING_COLOURS) - 1)]


def coverage_map(
    cov: Coverage,
    *,
    lang: str = "zh",
    illustrative: bool = False,
    title: str | None = None,
    offline: bool = True,
) -> folium.Map:
    """Build the coverage map.

    Parameters
    ----------
    cov : Coverage
        From `gis.coverage.living_circle`.
    lang : {"zh", "en"}, default "zh"
    illustrative : bool, default False
        Put "示例数据" (illustrative data) in the title.
    title : str, optional
        Map title; default says what the map shows.
    offline : bool, default True
        Inline Leaflet so the page needs no network, and add no basemap. ``False``
        keeps folium's CDN links and offers an OpenStreetMap basemap layer (off at start).

    Returns
    -------
    folium.Map
    """
    en = lang == "en"
    std = cov.standard
    est = cov.estates
    # Simplify in metres (0.5 m keeps shapes) before going to degrees.
    metric = est.to_crs(cov.analysis_crs)
    simple = shapely.simplify(np.asarray(metric.geometry.values), _SIMPLIFY_M)
    est4326 = gpd.GeoDataFrame(est.drop(columns="geometry"), geometry=simple,
                               crs=cov.analysis_crs).to_crs(4326)
    minx, miny, maxx, maxy = est4326.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=15,
                      tiles=None, control_scale=False)
    _MetricScale().add_to(fmap)
    if offline:
        _inline_leaflet(fmap)
    else:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap" if en else "OSM 底图",
                         show=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    popups = [_estate_popup(row, cov, lang) for _, row in est.iterrows()]
    props = gpd.GeoDataFrame(
        {
            "estate_id": est4326["estate_id"].astype(str),
            "name": est4326["name"].astype(str),
            "n_missing": len(std.categories) - est4326["n_covered"].astype(int),
            "popup": popups,
        },
        geometry=est4326.geometry.values,
        crs=4326,
    )
    if cov.graph is not None:
        _street_layer(cov, lang).add_to(fmap)
    layer_name = "小区（按缺少设施类别数着色）" if not en else "Estates (by categories missing)"
    folium.GeoJson(
        props.to_json(drop_id=True),
        name=layer_name,
        style_function=lambda f: {
            "fillColor": _missing_colour(f["properties"]["n_missing"]),
            "color": "#333333",
            "weight": 1,
            "fillOpacity": 0.65,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420),
    ).add_to(fmap)

    svc = cov.services.to_crs(4326)
    for i, c in enumerate(std.categories):
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        group = folium.FeatureGroup(name=f"{c.label(lang)}（{(svc['category'] == c.key).sum()}）"
                                    if not en else f"{c.label(lang)} ({(svc['category'] == c.key).sum()})")
        sub = svc[svc["category"] == c.key]
        for name, pt in zip(sub["name"].fillna(sub["service_id"]), sub.geometry):
            folium.CircleMarker(
                location=[pt.y, pt.x], radius=5, color="#ffffff", weight=1, fill=True,
                fill_color=colour, fill_opacity=0.95,
                tooltip=f"{html.escape(str(name))}（{c.label(lang)}）" if not en else f"{html.escape(str(name))} ({c.label(lang)})",
            ).add_to(group)
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if title is None:
        title = ("15分钟生活圈设施覆盖" if not en else "15-minute living circle coverage")
        if illustrative:
            title += "（示例数据，虚构县城）" if not en else " (ILLUSTRATIVE demo data)"
        if cov.mode == "straight":
            title += " · 直线距离" if not en else " · straight-line distances"
    fmap.get_root().html.add_child(folium.Element(_title_html(title)))
    fmap.get_root().html.add_child(folium.Element(_legend_html(cov, lang)))
    return fmap


def _street_layer(cov: Coverage, lang: str) -> folium.FeatureGroup:
    """The walking network as thin grey lines (context when there is no basemap)."""
    graph = cov.graph
    assert graph is not None
    u, v, _ = graph.edges()
    segs = shapely.linestrings(np.stack([graph.node_xy[u], graph.node_xy[v]], axis=1))
    lines = gpd.GeoSeries(shapely.line_merge(shapely.union_all(segs)), crs=graph.crs).to_crs(4326)
    name = "步行路网" if lang != "en" else "Walking network"
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        lines.to_json(),
        style_function=lambda f: {"color": "#9e9e9e", "weight": 1.5, "opacity": 0.9},
        interactive=False,
    ).add_to(group)
    return group


def write_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save ``fmap`` as HTML atomically (a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".map-", suffix=".html", dir=path.parent)
    os.close(fd)
    try:
        fmap.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a map is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("Wrote map %s", path)
    return path


@cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS, with the CSS's images turned into data URIs."""
    from xstatic.pkg import leaflet

    base = Path(leaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = base / match.group(1)
        payload = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    css = re.sub(r"url\((images/[\w-]+\.png)\)", data_uri, css)
    return js, css


def _inline_leaflet(fmap: folium.Map) -> None:
    # folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; these maps
    # use plain Leaflet only, so drop the links and inline Leaflet itself.
    fmap.default_js = []
    fmap.default_css = []
    js, css = _leaflet_assets()
    header = fmap.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js_inline")


def _estate_popup(row, cov: Coverage, lang: str) -> str:
    en = lang == "en"
    hh = row.get("households")
    year = row.get("build_year")
    lines = [f"<b>{html.escape(str(row['name']))}</b>（{html.escape(str(row['estate_id']))}）"]
    info = []
    if hh is not None and not (isinstance(hh, float) and np.isnan(hh)):
        info.append(f"{'Households' if en else '户数'}: {hh:,.0f}")
    if year is not None and not (year is None or year is np.nan) and str(year) != "<NA>":
        info.append(f"{'Built' if en else '建成年份'}: {year}")
    if info:
        lines.append(" · ".join(info))
    rows = []
    for c in cov.standard.categories:
        d = row[f"dist_m_{c.key}"]
        ok = bool(row[f"covered_{c.key}"])
        near = row[f"nearest_{c.key}"]
        dist = (f"{d:,.0f} m" if not np.isnan(d)
                else f"> {cov.search_factor * c.walk_m:,.0f} m")
        mark = "✔" if ok else "✘"
        colour = "#1a9850" if ok else "#d73027"
        near_txt = html.escape(str(near)) if isinstance(near, str) else "—"
        rows.append(
            f"<tr><td style='color:{colour}'>{mark}</td><td>{html.escape(c.label(lang))}</td>"
            f"<td style='text-align:right'>{dist}</td><td>{near_txt}</td></tr>"
        )
    lines.append("<table style='font-size:12px'>" + "".join(rows) + "</table>")
    missing = [c.label(lang) for c in cov.standard.categories if not row[f"covered_{c.key}"]]
    if missing:
        lines.append(("<b>Missing</b>: " if en else "<b>缺少</b>：")
                     + html.escape(("; " if en else "、").join(missing)))
    return "<br>".join(lines)


def _title_html(title: str) -> str:
    return (
        "<div style='position:fixed;top:10px;left:50px;z-index:9999;background:white;"
        "padding:6px 12px;border:1px solid #999;border-radius:4px;font-size:16px;"
        f"font-weight:bold'>{html.escape(title)}</div>"
    )


def _legend_html(cov: Coverage, lang: str) -> str:
    en = lang == "en"
    labels_zh = ("设施齐全", "缺 1 类", "缺 2 类", "缺 3 类", "缺 4 类及以上")
    labels_en = ("all present", "1 missing", "2 missing", "3 missing", "4 or more missing")
    missing = len(cov.standard.categories) - cov.estates["n_covered"].to_numpy()
    items = []
    for i, colour in enumerate(_MISSING_COLOURS):
        count = int((np.minimum(missing, len(_MISSING_COLOURS) - 1) == i).sum())
        label = (labels_en if en else labels_zh)[i]
        unit = "" if en else " 个"
        items.append(f"<div><span style='background:{colour};width:14px;height:14px;"
                     f"display:inline-block;margin-right:4px;border:1px solid #666'></span>"
                     f"{label}（{count}{unit}）</div>" if not en else
                     f"<div><span style='background:{colour};width:14px;height:14px;"
                     f"display:inline-block;margin-right:4px;border:1px solid #666'></span>"
                     f"{label} ({count})</div>")
    head = "Estates: living-circle facilities" if en else "小区生活圈设施"
    dist = ("walking distance along streets" if en else "按道路步行距离") if cov.mode == "network" \
        else ("straight-line distance" if en else "按直线距离")
    return (
        "<div style='position:fixed;bottom:30px;left:10px;z-index:9999;background:white;"
        "padding:6px 10px;border:1px solid #999;border-radius:4px;font-size:13px'>"
        f"<b>{head}</b><div style='color:#555;font-size:11px'>{dist}</div>{''.join(items)}</div>"
    )
