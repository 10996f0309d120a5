"""The living-circle coverage map.

Estates are coloured by how many facility categories they lack (or, for one chosen
category, by how far its nearest facility is); every category's services and walkable
service area is a toggle in the layer control; each estate has a popup with the nearest
facility and distance per category; a search box finds estates by name.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import shapely

from gis.coverage import Coverage, service_areas
from gis.maps._page import SearchBox, display_frame, legend_html, new_page, title_html

__all__ = ["CATEGORY_COLOURS", "coverage_map"]

CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#8c564b", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd",
                    "#17becf", "#bcbd22", "#e377c2")
# By number of missing categories: none (green) … four or more (red).
_MISSING_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
# One category: covered, within the search radius, beyond it.
_DIST_COLOURS = ("#1a9850", "#fc8d59", "#d73027")


def coverage_map(
    cov: Coverage,
    *,
    category: str | None = None,
    basemap: str = "none",
    token: str | None = None,
    offline: bool = True,
    areas: bool = True,
    lang: str = "zh",
    illustrative: bool = False,
    title: str | None = None,
) -> folium.Map:
    """Build the coverage map.

    Parameters
    ----------
    cov : Coverage
        From `gis.coverage.living_circle` (or rebuilt from ``coverage.gpkg``).
    category : str, optional
        Colour estates by this category's distance instead of by categories missing.
    basemap : {"none", "osm", "tianditu", "amap"} or tile URL, default "none"
    token : str, optional
        Key for tianditu.
    offline : bool, default True
        Inline Leaflet; ``False`` keeps folium's CDN links.
    areas : bool, default True
        Draw each category's walkable service area (needs ``cov.graph``).
    lang : {"zh", "en"}
    illustrative : bool
        Say "示例数据" in the title.
    title : str, optional

    Returns
    -------
    folium.Map
    """
    en = lang == "en"
    std = cov.standard
    chosen = std.category(category) if category else None
    page = new_page(tuple(cov.estates.to_crs(4326).total_bounds), basemap=basemap,
                    token=token, offline=offline, lang=lang)
    fmap = page.map
    est = display_frame(cov.estates.to_crs(cov.analysis_crs), page)
    if cov.graph is not None:
        _street_layer(cov, page, lang).add_to(fmap)
    if areas and cov.graph is not None:
        area = service_areas(cov.graph, cov.services.to_crs(cov.analysis_crs), std)
        area = display_frame(area, page, simplify_m=0)
        for i, c in enumerate(std.categories):
            sub = area[area["category"] == c.key]
            if sub.empty:
                continue
            colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
            name = (f"{c.label(lang)} walkable area ({c.walk_m:.0f} m)" if en
                    else f"{c.label(lang)}步行服务范围（{c.walk_m:.0f}米）")
            folium.GeoJson(
                sub.assign(_kind="area")[["_kind", "geometry"]].to_json(drop_id=True),
                name=name, show=chosen is not None and chosen.key == c.key,
                style_function=lambda f, colour=colour: {
                    "color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.12},
                interactive=False,
            ).add_to(fmap)

    n_cat = len(std.categories)
    if chosen is None:
        fill = [_MISSING_COLOURS[min(n_cat - int(k), 4)] for k in est["n_covered"]]
    else:
        d = est[f"dist_m_{chosen.key}"].to_numpy(dtype=float)
        fill = np.where(d <= chosen.walk_m, _DIST_COLOURS[0],
                        np.where(np.isnan(d), _DIST_COLOURS[2], _DIST_COLOURS[1])).tolist()
    props = gpd.GeoDataFrame(
        {"_kind": "estate", "name": est["name"].astype(str), "fill": fill,
         "popup": [_estate_popup(r, cov, lang) for r in est.to_dict("records")]},
        geometry=est.geometry.values, crs=4326)
    layer_name = ("Estates" if en else "小区") + (
        f" ({chosen.label(lang)})" if chosen and en else f"（{chosen.label(lang)}）" if chosen
        else " (categories missing)" if en else "（按缺少设施类别数着色）")
    estates_layer = folium.GeoJson(
        props.to_json(drop_id=True), name=layer_name,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333",
                                  "weight": 1, "fillOpacity": 0.65},
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=440),
    )
    estates_layer.add_to(fmap)

    svc = display_frame(cov.services.to_crs(cov.analysis_crs), page, simplify_m=0)
    for i, c in enumerate(std.categories):
        sub = svc[svc["category"] == c.key]
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        label = f"{c.label(lang)} ({len(sub)})" if en else f"{c.label(lang)}（{len(sub)}）"
        if sub.empty:
            continue
        names = sub["name"].fillna(sub["service_id"]).astype(str)
        points = gpd.GeoDataFrame(
            {"_kind": "service", "tip": names + (f" ({c.label(lang)})" if en else f"（{c.label(lang)}）")},
            geometry=sub.geometry.values, crs=4326)
        folium.GeoJson(
            points.to_json(drop_id=True), name=label,
            marker=folium.CircleMarker(radius=5, fill=True, weight=1),
            style_function=lambda f, colour=colour: {"color": "#ffffff", "fillColor": colour,
                                                     "fillOpacity": 0.95, "weight": 1},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    SearchBox(estates_layer, "name", "Find an estate…" if en else "搜索小区名称…").add_to(fmap)
    if title is None:
        title = "15-minute living circle coverage" if en else "15分钟生活圈设施覆盖"
        if chosen is not None:
            title += f": {chosen.label(lang)}" if en else f"：{chosen.label(lang)}"
        if illustrative:
            title += " (ILLUSTRATIVE demo data)" if en else "（示例数据，虚构县城）"
        if cov.mode == "straight":
            title += " · straight-line distances" if en else " · 直线距离"
    root = fmap.get_root().html
    root.add_child(title_html(title))
    root.add_child(_legend(cov, est, chosen, lang))
    return fmap


def _legend(cov: Coverage, est: gpd.GeoDataFrame, chosen, lang: str) -> folium.Element:
    en = lang == "en"
    dist = ("walking distance along streets" if en else "按道路步行距离") if cov.mode == "network" \
        else ("straight-line distance" if en else "按直线距离")
    if chosen is not None:
        d = est[f"dist_m_{chosen.key}"].to_numpy(dtype=float)
        limit = cov.search_factor * chosen.walk_m
        counts = [(d <= chosen.walk_m).sum(), ((d > chosen.walk_m) & ~np.isnan(d)).sum(),
                  np.isnan(d).sum()]
        labels = ([f"within {chosen.walk_m:.0f} m", f"{chosen.walk_m:.0f}–{limit:.0f} m",
                   f"beyond {limit:.0f} m"] if en else
                  [f"{chosen.walk_m:.0f}米内", f"{chosen.walk_m:.0f}–{limit:.0f}米", f"超过{limit:.0f}米"])
        items = [(c, f"{lab} ({n})" if en else f"{lab}（{n} 个）")
                 for c, lab, n in zip(_DIST_COLOURS, labels, counts)]
        head = chosen.label(lang)
    else:
        n_cat = len(cov.standard.categories)
        missing = n_cat - est["n_covered"].to_numpy()
        labels = (("all present", "1 missing", "2 missing", "3 missing", "4 or more missing")
                  if en else ("设施齐全", "缺 1 类", "缺 2 类", "缺 3 类", "缺 4 类及以上"))
        items = [(c, f"{lab} ({int((np.minimum(missing, 4) == i).sum())})" if en
                  else f"{lab}（{int((np.minimum(missing, 4) == i).sum())} 个）")
                 for i, (c, lab) in enumerate(zip(_MISSING_COLOURS, labels))]
        head = "Estates: living-circle facilities" if en else "小区生活圈设施"
    return legend_html(head, items, dist)


def _street_layer(cov: Coverage, page, lang: str) -> folium.GeoJson:
    """The walking network as thin grey lines (context when there is no basemap)."""
    graph = cov.graph
    assert graph is not None
    u, v, _ = graph.edges()
    segs = shapely.linestrings(np.stack([graph.node_xy[u], graph.node_xy[v]], axis=1))
    merged = shapely.line_merge(shapely.multilinestrings(segs))
    lines = display_frame(gpd.GeoDataFrame({"_kind": ["street"]}, geometry=[merged],
                                           crs=graph.crs), page, simplify_m=0.5)
    return folium.GeoJson(
        lines.to_json(drop_id=True), name="Walking network" if lang == "en" else "步行路网",
        style_function=lambda f: {"color": "#9e9e9e", "weight": 1.5, "opacity": 0.9},
        interactive=False,
    )


def _estate_popup(row: dict, cov: Coverage, lang: str) -> str:
    en = lang == "en"
    hh, year = row.get("households"), row.get("build_year")
    lines = [f"<b>{html.escape(str(row['name']))}</b>（{html.escape(str(row['estate_id']))}）"]
    info = []
    if hh is not None and not (isinstance(hh, float) and np.isnan(hh)):
        info.append(f"{'Households' if en else '户数'}: {hh:,.0f}")
    if year is not None and str(year) not in ("<NA>", "nan", "None"):
        info.append(f"{'Built' if en else '建成年份'}: {year}")
    if info:
        lines.append(" · ".join(info))
    rows = []
    for c in cov.standard.categories:
        d, ok, near = row[f"dist_m_{c.key}"], bool(row[f"covered_{c.key}"]), row[f"nearest_{c.key}"]
        dist = f"{d:,.0f} m" if not np.isnan(d) else f"> {cov.search_factor * c.walk_m:,.0f} m"
        colour = "#1a9850" if ok else "#d73027"
        near_txt = html.escape(str(near)) if isinstance(near, str) else "—"
        rows.append(f"<tr><td style='color:{colour}'>{'✔' if ok else '✘'}</td>"
                    f"<td>{html.escape(c.label(lang))}</td><td style='text-align:right'>{dist}</td>"
                    f"<td>{near_txt}</td></tr>")
    lines.append("<table style='font-size:12px'>" + "".join(rows) + "</table>")
    missing = [c.label(lang) for c in cov.standard.categories if not row[f"covered_{c.key}"]]
    if missing:
        lines.append(("<b>Missing</b>: " if en else "<b>缺少</b>：")
                     + html.escape(("; " if en else "、").join(missing)))
    return "<br>".join(lines)
