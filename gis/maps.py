"""HTML maps (folium/Leaflet), drawn in EPSG:4326. The only module that writes HTML.

The coverage map colours estates by coverage score, shows every facility category as
its own toggle in the layer control, and gives each estate a Chinese popup with the
nearest facility and distance per category.
"""

from __future__ import annotations

import html
import logging
import os
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely

from gis.coverage import Coverage

__all__ = ["CATEGORY_COLOURS", "coverage_map", "write_map"]

logger = logging.getLogger(__name__)

CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#8c564b", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd",
                    "#17becf", "#bcbd22", "#e377c2")
# Red (nothing covered) to green (everything covered).
_SCORE_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")
_SIMPLIFY_M = 0.5


def _score_colour(score: float) -> str:
    i = int(np.clip(np.floor(score * (len(_SCORE_COLOURS) - 1) + 1e-9), 0, len(_SCORE_COLOURS) - 1))
    return _SCORE_COLOURS[i]


def coverage_map(
    cov: Coverage, *, lang: str = "zh", illustrative: bool = False, title: str | None = None
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
                      tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap" if en else "OSM 底图", show=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    popups = [_estate_popup(row, cov, lang) for _, row in est.iterrows()]
    props = gpd.GeoDataFrame(
        {
            "estate_id": est4326["estate_id"].astype(str),
            "name": est4326["name"].astype(str),
            "score": est4326["coverage_score"].astype(float),
            "popup": popups,
        },
        geometry=est4326.geometry.values,
        crs=4326,
    )
    layer_name = "小区（按覆盖得分着色）" if not en else "Estates (coverage score)"
    folium.GeoJson(
        props.to_json(drop_id=True),
        name=layer_name,
        style_function=lambda f: {
            "fillColor": _score_colour(f["properties"]["score"]),
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
    missing = row["missing"]
    if missing:
        lines.append(("<b>Missing</b>: " if en else "<b>缺少</b>：") + html.escape(str(missing)))
    return "<br>".join(lines)


def _title_html(title: str) -> str:
    return (
        "<div style='position:fixed;top:10px;left:50px;z-index:9999;background:white;"
        "padding:6px 12px;border:1px solid #999;border-radius:4px;font-size:16px;"
        f"font-weight:bold'>{html.escape(title)}</div>"
    )


def _legend_html(cov: Coverage, lang: str) -> str:
    en = lang == "en"
    n = len(cov.standard.categories)
    items = []
    for i, colour in enumerate(_SCORE_COLOURS):
        lo = i / (len(_SCORE_COLOURS) - 1)
        covered = round(lo * n)
        items.append(f"<div><span style='background:{colour};width:14px;height:14px;"
                     f"display:inline-block;margin-right:4px'></span>≈{covered}/{n}</div>")
    head = "Categories covered" if en else "覆盖设施类别数"
    return (
        "<div style='position:fixed;bottom:30px;left:10px;z-index:9999;background:white;"
        "padding:6px 10px;border:1px solid #999;border-radius:4px;font-size:12px'>"
        f"<b>{head}</b>{''.join(items)}</div>"
    )
