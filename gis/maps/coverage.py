"""The living-circle coverage map.

Estates are coloured by how many facility categories they lack (or, for one chosen
category, by how far its nearest facility is); every category's services and walkable
service area is a toggle in the layer control; each estate has a popup with the nearest
facility and distance per category; a search box finds estates by name.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.utilities import JsCode
import geopandas as gpd
import numpy as np
import shapely

from gis.coverage import Coverage, service_areas
from gis.i18n import tr
from gis.maps._page import (
    JS_ESCAPE,
    GeoJson,
    RawHtml,
    SearchBox,
    TextTooltip,
    display_frame,
    js_json,
    layer_name,
    leaflet_style,
    legend_html,
    new_page,
    title_html,
)

__all__ = ["CATEGORY_COLOURS", "coverage_map", "siting_layers"]

CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#8c564b", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd",
                    "#17becf", "#bcbd22", "#e377c2")
# By number of missing categories: none (green) … four or more (red).
_MISSING_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
_AREAS_MAX_NODES = 1_000_000
# One category: covered, within the search radius, beyond it.
_DIST_COLOURS = ("#1a9850", "#fc8d59", "#d73027")


def coverage_map(
    cov: Coverage,
    *,
    category: str | None = None,
    basemap: str = "none",
    token: str | None = None,
    offline: bool = True,
    areas: bool | None = None,
    lang: str = "zh",
    illustrative: bool = False,
    title: str | None = None,
    siting: Any = None,
    selector: bool = True,
    data_basemap: bool = False,
    water: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
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
    areas : bool, optional
        Draw each category's walkable service area (needs ``cov.graph``). Default: when
        the walking graph (20 m pieces counted) has at most 1,000,000 nodes. At 400,000
        nodes (10,000 estates) they add 0.7 MB and about 3 s of building; beyond a
        million nodes they are left to ``areas=True``.
    lang : {"zh", "en"}
    illustrative : bool
        Say "示例数据" in the title.
    title : str, optional
    siting : gis.siting.Siting, optional
        Also draw the proposed sites and their walkable service areas (`siting_layers`).
    selector : bool, default True
        One category's services at a time with a selector that is also the services'
        legend, the selected category's gaps drawn bold, markers growing with the zoom
        (see `gis.maps.cityscale`). Default selection: ``category``, else the category
        whose gaps hold the most households. ``False``: every category on, static legend.
    data_basemap : bool, default False
        Draw an offline basemap from the data: streets by class, ``water``, ``boundary``
        (default: the data's extent).
    water, boundary : GeoDataFrame, optional
        Rivers/lakes and the study boundary for the data basemap.

    Returns
    -------
    folium.Map

    Examples
    --------
    The demo town's coverage map in English, written into a folder:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from gis.sources import demo_folder
    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.maps import write_map
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     streets=read_streets(demo / "streets.gpkg"), progress=False)
    >>> fmap = coverage_map(cov, category="clinic", lang="en", illustrative=True)
    >>> layers = [c.layer_name for c in fmap._children.values() if isinstance(c, folium.GeoJson)]
    >>> len(layers), layers[0], layers[8], layers[10]
    (16, 'Walking network', 'Estates (Clinic / community health centre)',
     'Clinic / community health centre (12)')
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_map(fmap, Path(folder) / "coverage_map_en.html")
    ...     page = path.read_text(encoding="utf-8")
    ...     print([p.name for p in Path(folder).iterdir()],
    ...           "coverage: Clinic / community health centre (ILLUSTRATIVE demo data)" in page)
    ['coverage_map_en.html'] True
    """
    std = cov.standard
    chosen = std.category(category) if category else None
    page = new_page(tuple(cov.estates.to_crs(4326).total_bounds), basemap=basemap,
                    token=token, offline=offline, lang=lang)
    fmap = page.map
    est = display_frame(cov.estates.to_crs(cov.analysis_crs), page)
    below = []
    if data_basemap:
        from gis.maps.cityscale import data_basemap as draw_basemap

        streets = cov.streets.to_crs(cov.analysis_crs) if cov.streets is not None else None
        below = draw_basemap(page, streets, water=water, boundary=boundary, lang=lang,
                             extent=cov.estates.to_crs(cov.analysis_crs))
    if (cov.streets is not None or cov.graph is not None) and not (data_basemap and below):
        below.append(_street_layer(cov, page, lang).add_to(fmap))
    if areas is None:
        areas = cov.graph is not None and cov.graph.n_nodes <= _AREAS_MAX_NODES
    area_layers, service_layers = {}, {}
    if areas and cov.graph is not None:
        area = service_areas(cov.graph, cov.services.to_crs(cov.analysis_crs), std)
        area = display_frame(area, page, simplify_m=0)
        for i, c in enumerate(std.categories):
            sub = area[area["category"] == c.key]
            if sub.empty:
                continue
            colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
            name = tr("maps.coverage.area_layer", lang, category=c.label(lang), walk_m=c.walk_m)
            area_layers[c.key] = GeoJson(
                sub.assign(_kind="area")[["_kind", "geometry"]].to_json(drop_id=True),
                name=layer_name(name), show=chosen is not None and chosen.key == c.key,
                style=leaflet_style({"color": colour, "weight": 1, "fillColor": colour,
                                     "fillOpacity": 0.12}),
                interactive=False,
            ).add_to(fmap)

    n_cat = len(std.categories)
    if chosen is None:
        fill = [_MISSING_COLOURS[min(n_cat - int(k), 4)] for k in est["n_covered"]]
    else:
        d = est[f"dist_m_{chosen.key}"].to_numpy(dtype=float)
        fill = np.where(d <= chosen.walk_m, _DIST_COLOURS[0],
                        np.where(np.isnan(d), _DIST_COLOURS[2], _DIST_COLOURS[1])).tolist()
    props, names = _popup_data(est, cov)
    props = gpd.GeoDataFrame({"_kind": "estate", "name": est["name"].astype(str), "fill": fill,
                              **props}, geometry=est.geometry.values, crs=4326)
    _layer_name = layer_name(
        tr("maps.coverage.estates_layer_category", lang, category=chosen.label(lang)) if chosen
        else tr("maps.coverage.estates_layer", lang))
    estates_layer = GeoJson(
        props.to_json(drop_id=True), name=_layer_name,
        style=leaflet_style({"color": "#333333", "weight": 1, "fillOpacity": 0.65},
                            fillColor="fill"),
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=TextTooltip("name"),
        # Popups are built in the browser from a few numbers per estate: writing the
        # HTML of 10,000 popups into the file would make it three times larger.
        on_each_feature=JsCode(
            "function (f, layer) { layer.bindPopup(function () { return gisPopup(f.properties); },"
            " {maxWidth: 460}); }"),
    )
    estates_layer.add_to(fmap)
    fmap.get_root().header.add_child(
        RawHtml(_popup_script(cov, names, lang)), name="gis_popup_script")

    svc = display_frame(cov.services.to_crs(cov.analysis_crs), page, simplify_m=0)
    for i, c in enumerate(std.categories):
        sub = svc[svc["category"] == c.key]
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        label = tr("maps.coverage.service_layer", lang, category=c.label(lang), n=len(sub))
        if sub.empty:
            continue
        names = sub["name"].fillna(sub["service_id"]).astype(str)
        points = gpd.GeoDataFrame(
            {"_kind": "service",
             "tip": names + tr("maps.coverage.service_tip", lang, category=c.label(lang))},
            geometry=sub.geometry.values, crs=4326)
        service_layers[c.key] = GeoJson(
            points.to_json(drop_id=True), name=layer_name(label),
            marker=folium.CircleMarker(radius=5, fill=True, weight=1),
            style=leaflet_style({"color": "#ffffff", "fillColor": colour, "fillOpacity": 0.95,
                                 "weight": 1}),
            tooltip=TextTooltip("tip"),
        ).add_to(fmap)
    if siting is not None:
        siting_layers(siting, page, lang)
    # With the selector, the layer list is for the rarer toggles: folded away.
    folium.LayerControl(collapsed=selector).add_to(fmap)
    SearchBox(estates_layer, "name", tr("maps.coverage.search", lang)).add_to(fmap)
    if title is None:
        title = tr("maps.coverage.title", lang)
        if chosen is not None:
            title += tr("maps.coverage.title_category", lang, category=chosen.label(lang))
        if illustrative:
            title += tr("maps.coverage.title_illustrative", lang)
        if cov.mode == "straight":
            title += tr("maps.coverage.title_straight", lang)
    root = fmap.get_root().html
    root.add_child(title_html(title))
    if selector:
        from gis.maps.cityscale import add_selector

        add_selector(fmap, cov, est, estates_layer, service_layers, area_layers, below,
                     chosen, lang)
    else:
        root.add_child(_legend(cov, est, chosen, lang))
    return fmap


def _legend(cov: Coverage, est: gpd.GeoDataFrame, chosen, lang: str) -> RawHtml:
    dist = tr("maps.legend.dist_network" if cov.mode == "network"
              else "maps.legend.dist_straight", lang)
    if chosen is not None:
        d = est[f"dist_m_{chosen.key}"].to_numpy(dtype=float)
        limit = cov.search_factor * chosen.walk_m
        counts = [(d <= chosen.walk_m).sum(), ((d > chosen.walk_m) & ~np.isnan(d)).sum(),
                  np.isnan(d).sum()]
        labels = [tr(f"maps.legend.{k}", lang, walk_m=chosen.walk_m, limit_m=limit)
                  for k in ("within", "gap", "beyond")]
        items = [(c, tr("maps.legend.count", lang, label=lab, n=n))
                 for c, lab, n in zip(_DIST_COLOURS, labels, counts)]
        head = chosen.label(lang)
    else:
        n_cat = len(cov.standard.categories)
        missing = n_cat - est["n_covered"].to_numpy()
        labels = [tr(f"maps.legend.missing_{k}", lang) for k in range(len(_MISSING_COLOURS))]
        items = [(c, tr("maps.legend.count", lang, label=lab,
                        n=int((np.minimum(missing, 4) == i).sum())))
                 for i, (c, lab) in enumerate(zip(_MISSING_COLOURS, labels))]
        head = tr("maps.legend.head", lang)
    return legend_html(head, items, dist)


def _street_layer(cov: Coverage, page, lang: str) -> folium.GeoJson:
    """The walking network as thin grey lines (context when there is no basemap)."""
    if cov.streets is not None:
        geoms = np.asarray(cov.streets.to_crs(cov.analysis_crs).geometry.values)
    else:  # rebuilt without the street file: the graph's edges (slower to merge)
        graph = cov.graph
        assert graph is not None
        # The street edges draw the same lines as their 20 m pieces, ten times fewer.
        xy = graph.street_xy
        geoms = shapely.linestrings(np.stack([xy[graph.edge_u], xy[graph.edge_v]], axis=1))
        geoms = np.asarray([shapely.line_merge(shapely.multilinestrings(geoms))])
    # Simplified line by line (1 m): simplifying one MultiLineString of 50,000 parts
    # with topology preserved took ten times longer for the same vertices.
    one = shapely.multilinestrings(shapely.simplify(shapely.get_parts(geoms), 1.0))
    lines = display_frame(gpd.GeoDataFrame({"_kind": ["street"]}, geometry=[one],
                                           crs=cov.analysis_crs), page, simplify_m=0)
    return GeoJson(
        lines.to_json(drop_id=True), name=tr("maps.coverage.streets", lang),
        style=leaflet_style({"color": "#9e9e9e", "weight": 1.5, "opacity": 0.9}),
        interactive=False,
    )


def _popup_data(est: gpd.GeoDataFrame, cov: Coverage) -> tuple[dict[str, list], list[str]]:
    """Per estate: id, households, year, and per category distance (m, -1 beyond the
    search), covered flag and nearest facility (an index into one shared name list)."""
    names: list[str] = []
    index: dict[str, int] = {}
    keys = [c.key for c in cov.standard.categories]
    d, ok, near = [], [], []
    for r in est.to_dict("records"):
        row_d, row_ok, row_n = [], [], []
        for k in keys:
            v = r[f"dist_m_{k}"]
            row_d.append(-1 if v is None or np.isnan(v) else int(round(v)))
            row_ok.append(1 if r[f"covered_{k}"] else 0)
            n = r[f"nearest_{k}"]
            if isinstance(n, str):
                row_n.append(index.setdefault(n, len(index)))
            else:
                row_n.append(-1)
        d.append(row_d)
        ok.append(row_ok)
        near.append(row_n)
    names = list(index)
    hh = est["households"] if "households" in est else [None] * len(est)
    year = est["build_year"] if "build_year" in est else [None] * len(est)
    data = {
        "id": est["estate_id"].astype(str).tolist(),
        # Not finite (blank, or an infinite count the reader let through): no number shown,
        # rather than an OverflowError half-way through writing the map.
        "hh": [None if h is None or (isinstance(h, float) and not np.isfinite(h)) else int(h)
               for h in hh],
        "yr": [None if y is None or str(y) in ("<NA>", "nan", "None") else int(y) for y in year],
        "d": d, "ok": ok, "n": near,
    }
    return data, names


def _popup_script(cov: Coverage, names: list[str], lang: str) -> str:
    cats = [c.label(lang) for c in cov.standard.categories]
    limits = [cov.search_factor * c.walk_m for c in cov.standard.categories]
    words = {"hh": tr("maps.popup.households", lang), "yr": tr("maps.popup.built", lang),
             "missing": tr("maps.popup.missing", lang), "sep": tr("category_sep", lang),
             "open": tr("paren_open", lang), "close": tr("paren_close", lang)}
    data = js_json({"cats": cats, "limits": limits, "names": names, "w": words})
    return """<script>
var GIS_POPUP = %s;
%s
function gisPopup(p) {
  var G = GIS_POPUP, out = "<b>" + gisEsc(p.name) + "</b>" + G.w.open + gisEsc(p.id) + G.w.close, info = [];
  if (p.hh !== null) info.push(G.w.hh + ": " + p.hh.toLocaleString());
  if (p.yr !== null) info.push(G.w.yr + ": " + p.yr);
  if (info.length) out += "<br>" + info.join(" · ");
  var rows = "", missing = [];
  for (var i = 0; i < G.cats.length; i++) {
    var ok = p.ok[i] === 1, d = p.d[i];
    var dist = d < 0 ? "&gt; " + G.limits[i].toLocaleString() + " m" : d.toLocaleString() + " m";
    var near = p.n[i] < 0 ? "—" : gisEsc(G.names[p.n[i]]);
    rows += "<tr><td style='color:" + (ok ? "#1a9850'>✔" : "#d73027'>✘") + "</td><td>" +
      gisEsc(G.cats[i]) + "</td><td style='text-align:right'>" + dist + "</td><td>" + near +
      "</td></tr>";
    if (!ok) missing.push(G.cats[i]);
  }
  out += "<br><table style='font-size:12px'>" + rows + "</table>";
  if (missing.length) out += "<b>" + G.w.missing + "</b>: " + gisEsc(missing.join(G.w.sep));
  return out;
}
</script>""" % (data, JS_ESCAPE)


# Text reaches a tooltip only through this escape (names are untrusted data).
_SITE_TOOLTIP = JsCode(
    "function (f, layer) { layer.bindTooltip(String(f.properties.tip).replace(/[&<>\"']/g, "
    "function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '\"': '&quot;', "
    "\"'\": '&#39;'}[c]; })); }")


def siting_layers(siting: Any, page: Any, lang: str = "zh") -> None:
    """Add proposed sites and their walkable service areas to a coverage map page.

    One toggle per siting category for the sites (numbered in proposal order) and one for
    the area their new facilities reach within the category's threshold.

    Parameters
    ----------
    siting : gis.siting.Siting
    page : gis.maps._page.Page
        The page `coverage_map` is drawing.
    lang : {"zh", "en"}

    Examples
    --------
    One new clinic for the demo town, chosen among the estates' own sites:

    >>> from gis.sources import demo_folder
    >>> from gis.candidates import estate_candidates
    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services, read_streets
    >>> from gis.maps._page import new_page
    >>> from gis.siting import site_facilities
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     streets=read_streets(demo / "streets.gpkg"), progress=False)
    >>> siting = site_facilities(cov, estate_candidates(cov.estates), [("clinic", 1)])
    >>> page = new_page(tuple(cov.estates.to_crs(4326).total_bounds), lang="en")
    >>> siting_layers(siting, page, "en")
    >>> [c.layer_name for c in page.map._children.values() if isinstance(c, folium.GeoJson)]
    ['New Clinic / community health centre sites: walkable area (1000 m)',
     'Proposed Clinic / community health centre sites (1)']
    """
    fmap = page.map
    keys = siting.coverage.standard.keys
    for row in siting.summary.itertuples(index=False):
        colour = CATEGORY_COLOURS[keys.index(row.category) % len(CATEGORY_COLOURS)]
        label = getattr(row, f"name_{lang}")  # the category's name: name_zh / name_en
        area = siting.areas[siting.areas["category"] == row.category]
        if len(area):
            area = display_frame(area.to_crs(siting.coverage.analysis_crs), page, simplify_m=0)
            GeoJson(
                area.assign(_kind="site_area")[["_kind", "geometry"]].to_json(drop_id=True),
                name=layer_name(tr("maps.siting.area_layer", lang, category=label,
                                   walk_m=row.walk_m)),
                style=leaflet_style({"color": colour, "weight": 2, "dashArray": "6 4",
                                     "fillColor": colour, "fillOpacity": 0.18}),
                interactive=False,
            ).add_to(fmap)
        sites = siting.sites[siting.sites["category"] == row.category]
        if not len(sites):
            continue
        shown = display_frame(sites.to_crs(siting.coverage.analysis_crs), page, simplify_m=0)
        tips = [
            tr("maps.siting.tip", lang, order=o, name=n, candidate_id=i, households=h, estates=e)
            for o, n, i, h, e in zip(shown["order"], shown["name"].astype(str),
                                     shown["candidate_id"].astype(str),
                                     shown["new_households"].fillna(0), shown["new_estates"])
        ]
        points = gpd.GeoDataFrame({"_kind": "site", "tip": tips}, geometry=shown.geometry.values,
                                  crs=4326)
        GeoJson(
            points.to_json(drop_id=True),
            name=layer_name(tr("maps.siting.sites_layer", lang, category=label, n=len(sites))),
            marker=folium.CircleMarker(radius=9, fill=True, weight=3),
            style=leaflet_style({"color": "#000000", "fillColor": colour, "fillOpacity": 1.0,
                                 "weight": 3}),
            on_each_feature=_SITE_TOOLTIP,
        ).add_to(fmap)
