"""What keeps the coverage map readable at city scale.

With 700 estates and a thousand services every category on at once buries the estates
under markers. Here:

* a category selector (also the legend of the service colours): one category's services
  at a time, the estates coloured by that category's coverage with its gaps drawn bold,
  or "all categories" for the overview by categories missing;
* service markers that grow with the zoom (2 px at zoom 12, 7 px at 17 and closer),
  so at city zoom they are dots among the estates rather than a blanket over them
  (Leaflet.markercluster is not bundled: folium only links it from a CDN);
* a fixed drawing order: data basemap, walkable service areas, streets, estates,
  services, whatever layer is switched on last;
* an optional offline "data basemap" drawn from the data themselves: streets by class,
  water and the study boundary, on a paper-coloured ground, for a map with no tiles.

Every value from the data or the standard reaches the page as JSON data and enters the
DOM as text (``textContent``), never as markup.
"""

from __future__ import annotations


import folium
from branca.element import MacroElement
import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Template

from gis.coverage import Coverage
from gis.i18n import tr
from gis.maps._page import GeoJson, Page, RawHtml, display_frame, js_json, leaflet_style

__all__ = ["CategorySelector", "add_selector", "data_basemap", "road_rank"]

#: Road classes by rank: 0 expressway/arterial … 3 local and paths (Chinese and OSM words).
_RANKS = (
    ("快速路", "高速", "主干路", "主干道", "motorway", "trunk", "primary"),
    ("次干路", "次干道", "secondary", "tertiary"),
    ("支路", "residential", "unclassified", "living_street", "service"),
)
_STREET_STYLE = (  # (colour, weight px) per rank; white streets on a paper ground
    ("#f6c36b", 4.0), ("#ffffff", 3.0), ("#ffffff", 2.0), ("#ffffff", 1.2))
_GROUND = "#efeae0"
_WATER = "#a9cce3"


def road_rank(road_class: object) -> int:
    """0 (expressway, arterial) … 3 (local street, path, or no class).

    Examples
    --------
    >>> [road_rank(c) for c in ("城市主干路", "secondary", "支路", "footway", None)]
    [0, 1, 2, 3, 3]
    """
    text = str(road_class or "").lower()
    for rank, words in enumerate(_RANKS):
        if any(w in text for w in words):
            return rank
    return 3


def data_basemap(
    page: Page,
    streets: gpd.GeoDataFrame | None,
    *,
    water: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    extent: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
) -> list[folium.GeoJson]:
    """Add the offline data basemap to ``page`` and return its layers (bottom first).

    Parameters
    ----------
    page : Page
    streets : GeoDataFrame, optional
        Street lines in a metric CRS, with ``road_class`` where known.
    water : GeoDataFrame, optional
        Rivers and lakes (polygons or lines), any CRS.
    boundary : GeoDataFrame, optional
        The study boundary; default: the convex hull of ``extent`` (labelled as such).
    extent : GeoDataFrame, optional
        Layers the default boundary wraps (estates, streets), metric CRS.
    lang : {"zh", "en"}

    Returns
    -------
    list of folium.GeoJson

    Examples
    --------
    The demo town's streets and rivers, the boundary drawn around its estates:

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates, read_streets
    >>> from gis.maps._page import new_page
    >>> demo = demo_folder()
    >>> estates = read_estates(demo / "estates.gpkg").to_crs(4548)
    >>> streets = read_streets(demo / "streets.gpkg").to_crs(4548)
    >>> page = new_page(tuple(estates.to_crs(4326).total_bounds))
    >>> layers = data_basemap(page, streets, water=gpd.read_file(demo / "rivers.gpkg"),
    ...                       extent=estates, lang="en")
    >>> [layer.layer_name for layer in layers]
    ['Study area (extent of the data)', 'Water', 'Streets by class']
    >>> sorted({road_rank(c) for c in streets["road_class"]})
    [0, 1, 2, 3]
    """
    fmap = page.map
    fmap.get_root().header.add_child(RawHtml(
        f"<style>.leaflet-container {{ background: {_GROUND}; }}</style>"), name="gis_ground")
    layers: list[GeoJson] = []
    if boundary is None and extent is not None and len(extent):
        hull = shapely.convex_hull(shapely.union_all(shapely.convex_hull(
            np.asarray(extent.geometry.values))))
        boundary = gpd.GeoDataFrame(geometry=[hull.buffer(150)], crs=extent.crs)
        name = tr("maps.basemap.extent", lang)
    else:
        name = tr("maps.basemap.boundary", lang)
    if boundary is not None and len(boundary):
        b = display_frame(boundary.assign(_kind="boundary")[["_kind", "geometry"]], page,
                          simplify_m=2.0)
        layers.append(GeoJson(
            b.to_json(drop_id=True), name=name, interactive=False,
            style=leaflet_style({"color": "#6b6b6b", "weight": 2, "dashArray": "8 5",
                                 "fillColor": "#ffffff", "fillOpacity": 0.35})))
    if water is not None and len(water):
        w = water.to_crs(extent.crs) if extent is not None else water
        w = display_frame(w.assign(_kind="water")[["_kind", "geometry"]], page, simplify_m=2.0)
        layers.append(GeoJson(
            w.to_json(drop_id=True), name=tr("maps.basemap.water", lang), interactive=False,
            style=leaflet_style({"color": "#5dade2", "weight": 2, "fillColor": _WATER,
                                 "fillOpacity": 0.9})))
    if streets is not None and len(streets):
        ranks = (streets["road_class"].map(road_rank).to_numpy() if "road_class" in streets
                 else np.full(len(streets), 3))
        # One feature per rank: a few features draw fast, and the style reads the rank.
        rows = []
        for r in sorted(set(ranks.tolist()), reverse=True):
            parts = shapely.get_parts(np.asarray(streets.geometry.values[ranks == r]))
            one = shapely.multilinestrings(shapely.simplify(parts, 1.0))
            colour, weight = _STREET_STYLE[r]
            rows.append({"_kind": "street", "c": colour, "w": weight, "geometry": one})
        lines = display_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=streets.crs),
                              page, simplify_m=0)
        layers.append(GeoJson(
            lines.to_json(drop_id=True), name=tr("maps.basemap.streets", lang),
            interactive=False,
            style=leaflet_style({"opacity": 1.0, "lineCap": "round"}, color="c", weight="w")))
    for layer in layers:
        layer.add_to(fmap)
    return layers


class CategorySelector(MacroElement):
    """The category selector and legend, zoom-scaled markers and the drawing order.

    Parameters
    ----------
    estates : folium.GeoJson
        The estates layer; features carry ``ok`` and ``d`` per category (as
        `gis.maps.coverage_map` writes them) and ``fill`` (overview colour).
    services : dict of str to folium.GeoJson
        Service layer per category key (categories without services may be absent).
    areas : dict of str to folium.GeoJson
        Walkable service area layer per category key.
    below : list of folium.GeoJson
        Layers kept beneath the service areas (data basemap, streets), bottom first.
    categories : list of dict
        Per category in the standard's order: ``key``, ``label``, ``colour``, ``n``
        (services), ``walk_m``, ``limit_m`` (search reach).
    selected : str
        Key selected when the page opens, or ``""`` for all categories.
    words : dict of str to str
        Interface words in the map's language.
    overview : list of (str, str)
        (colour, label) of the overview classes (categories missing).
    """

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div id="{{ this.get_name() }}" class="gis-selector" style="position:fixed;bottom:24px;
             right:10px;z-index:9999;background:white;padding:6px 10px;border:1px solid #999;
             border-radius:4px;font-size:13px;max-height:70vh;overflow:auto;min-width:190px">
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, C = {{ this.config }};
          var estates = {{ this.estates.get_name() }};
          var services = { {%- for k, l in this.services.items() %}{{ k|tojson }}: {{ l.get_name() }},{% endfor -%} };
          var areas = { {%- for k, l in this.areas.items() %}{{ k|tojson }}: {{ l.get_name() }},{% endfor -%} };
          var below = [ {%- for l in this.below %}{{ l.get_name() }},{% endfor -%} ];
          var box = document.getElementById("{{ this.get_name() }}");
          L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
          var selected = C.selected;

          function el(tag, text, style) { var e = document.createElement(tag);
            if (text !== undefined) e.textContent = text; if (style) e.style.cssText = style; return e; }
          function swatch(colour, round) { return el("span", "", "display:inline-block;width:12px;" +
            "height:12px;margin-right:5px;vertical-align:middle;border:1px solid #555;background:" +
            colour + (round ? ";border-radius:50%" : "")); }
          // 3 px at zoom 12 (a whole city on screen) to 7 px at 17 (a few blocks).
          function radius() { return Math.max(3, Math.min(7, 3 + (map.getZoom() - 12) * 0.8)); }
          // Lines thin out with the zoom too: at city zoom full-width streets and estate
          // outlines would merge into one mesh over the estates' colours.
          function thin() { return Math.max(0.3, Math.min(1, (map.getZoom() - 10) / 5)); }
          function order() {
            for (var k in areas) if (map.hasLayer(areas[k])) areas[k].bringToBack();
            for (var i = below.length - 1; i >= 0; i--) if (map.hasLayer(below[i])) below[i].bringToBack();
            if (map.hasLayer(estates)) estates.bringToFront();
            for (var k in services) if (map.hasLayer(services[k])) services[k].bringToFront();
          }
          function resize() { var r = radius(), f = thin();
            for (var k in services) services[k].eachLayer(function (m) { if (m.setRadius) m.setRadius(r); });
            below.forEach(function (b) { b.eachLayer(function (l) { var p = l.feature && l.feature.properties;
              if (p && p.w) l.setStyle({weight: Math.max(0.5, p.w * f)}); }); });
            estates.setStyle(styleFor(current)); }
          function styleFor(i) { var f = thin(), close = map.getZoom() >= 15;
            return function (ft) { var p = ft.properties;
            if (i < 0) return {fillColor: p.fill, weight: f, color: "#333333", fillOpacity: 0.7};
            if (p.ok[i] === 1) return {fillColor: C.colours.covered, weight: 0.6 * f,
                                       color: "#666666", fillOpacity: 0.35};
            // A gap: strong fill, and a dark outline once estates are big enough to hold one.
            var fill = p.d[i] < 0 ? C.colours.beyond : C.colours.gap;
            return {fillColor: fill, weight: close ? 2.5 : f, color: close ? "#67000d" : fill,
                    fillOpacity: 0.85}; }; }
          var current = -1;
          function choose(key) {
            selected = key; var i = -1;
            C.categories.forEach(function (c, j) { if (c.key === key) i = j; });
            current = i;
            for (var k in services) { var on = key === "" || k === key;
              if (on && !map.hasLayer(services[k])) map.addLayer(services[k]);
              if (!on && map.hasLayer(services[k])) map.removeLayer(services[k]); }
            for (var k in areas) if (k !== key && map.hasLayer(areas[k])) map.removeLayer(areas[k]);
            draw(i); order(); resize();
          }
          function draw(i) {
            box.textContent = "";
            box.appendChild(el("div", C.words.head, "font-weight:bold;margin-bottom:3px"));
            var all = el("label", "", "display:block;cursor:pointer");
            var r0 = el("input"); r0.type = "radio"; r0.name = box.id; r0.checked = selected === "";
            r0.onchange = function () { choose(""); }; all.appendChild(r0);
            all.appendChild(document.createTextNode(" " + C.words.all)); box.appendChild(all);
            C.categories.forEach(function (c) {
              var row = el("label", "", "display:block;cursor:pointer;white-space:nowrap");
              var r = el("input"); r.type = "radio"; r.name = box.id; r.checked = selected === c.key;
              r.disabled = !(c.key in services); r.onchange = function () { choose(c.key); };
              row.appendChild(r); row.appendChild(document.createTextNode(" "));
              row.appendChild(swatch(c.colour, true));
              row.appendChild(document.createTextNode(c.label + " (" + c.n + ")"));
              if (c.key in areas) { var a = el("input"); a.type = "checkbox"; a.title = C.words.area;
                a.checked = map.hasLayer(areas[c.key]); a.style.marginLeft = "6px";
                a.onchange = function () { if (a.checked) { if (selected !== c.key) choose(c.key);
                    map.addLayer(areas[c.key]); a.checked = true; } else map.removeLayer(areas[c.key]); order(); };
                row.appendChild(a); row.appendChild(el("span", C.words.area_short, "color:#555;font-size:11px")); }
              box.appendChild(row);
            });
            box.appendChild(el("div", C.words.estates, "font-weight:bold;margin:6px 0 2px"));
            var rows = i < 0 ? C.overview : [
              [C.colours.covered, C.words.covered.replace("{m}", C.categories[i].walk_m), C.counts[i][0]],
              [C.colours.gap, C.words.gap.replace("{m}", C.categories[i].walk_m).replace("{n}", C.categories[i].limit_m), C.counts[i][1]],
              [C.colours.beyond, C.words.beyond.replace("{n}", C.categories[i].limit_m), C.counts[i][2]]];
            rows.forEach(function (r) { var d = el("div"); d.appendChild(swatch(r[0], false));
              d.appendChild(document.createTextNode(r[1] + " (" + r[2] + ")")); box.appendChild(d); });
            box.appendChild(el("div", C.words.note, "color:#555;font-size:11px;margin-top:4px;max-width:230px"));
          }
          map.on("overlayadd", order);
          map.on("zoomend", resize);
          choose(selected);
        })();
        {% endmacro %}
    """)

    def __init__(self, estates: folium.GeoJson, services: dict[str, folium.GeoJson],
                 areas: dict[str, folium.GeoJson], below: list[folium.GeoJson],
                 categories: list[dict], counts: list[list[int]], selected: str,
                 words: dict[str, str], overview: list[tuple[str, str, int]],
                 colours: dict[str, str]):
        super().__init__()
        self._name = "CategorySelector"
        self.estates = estates
        self.services = services
        self.areas = areas
        self.below = below
        config = {"categories": categories, "counts": counts, "selected": selected,
                  "words": words, "overview": overview, "colours": colours}
        # JSON inside <script>: every <, > and & escaped (`js_json`), so no value can close
        # the element or open an HTML comment that swallows it.
        self.config = js_json(config)


def selector_words(lang: str, mode: str) -> dict[str, str]:
    """Interface words of the selector, in ``lang``."""
    # covered, gap and beyond keep their {m} (threshold) and {n} (search reach) for the
    # page to fill in per category.
    return {
        "head": tr("maps.selector.head", lang),
        "all": tr("maps.selector.all", lang),
        "area": tr("maps.selector.area", lang),
        "area_short": tr("maps.selector.area_short", lang),
        "estates": tr("maps.selector.estates", lang),
        "covered": tr("maps.selector.covered", lang, m="{m}"),
        "gap": tr("maps.selector.gap", lang, m="{m}", n="{n}"),
        "beyond": tr("maps.selector.beyond", lang, n="{n}"),
        "note": tr("maps.selector.note", lang, dist=tr(
            "maps.selector.dist_network" if mode == "network" else "maps.selector.dist_straight",
            lang)),
    }


def add_selector(
    fmap: folium.Map,
    cov: Coverage,
    est: gpd.GeoDataFrame,
    estates: folium.GeoJson,
    services: dict[str, folium.GeoJson],
    areas: dict[str, folium.GeoJson],
    below: list[folium.GeoJson],
    chosen: object,
    lang: str,
) -> CategorySelector:
    """Add the `CategorySelector` to the coverage map built by `gis.maps.coverage_map`.

    ``est`` is the estates frame drawn (with ``dist_m_<key>``, ``covered_<key>``,
    ``n_covered``, ``households``); ``chosen`` the category asked for, if any.

    Examples
    --------
    On the demo town (straight-line distances) the page opens on the category whose gaps
    hold the most households; its counts are estates covered, in a gap within the search,
    and beyond it:

    >>> import json
    >>> from gis.sources import demo_folder
    >>> from gis.coverage import living_circle
    >>> from gis.layers import read_estates, read_services
    >>> from gis.standards import load_standard
    >>> demo, std = demo_folder(), load_standard()
    >>> cov = living_circle(read_estates(demo / "estates.gpkg"),
    ...                     read_services(demo / "services.gpkg", standard=std), std,
    ...                     mode="straight", progress=False)
    >>> fmap = folium.Map(tiles=None)
    >>> estates = folium.GeoJson(cov.estates.to_json(drop_id=True)).add_to(fmap)
    >>> sel = add_selector(fmap, cov, cov.estates, estates, {}, {}, [], None, "en")
    >>> config = json.loads(sel.config)
    >>> i = std.keys.index(config["selected"])
    >>> config["selected"], config["counts"][i], config["words"]["gap"]
    ('charging', [141, 9, 0], 'gap: {m}–{n} m')
    """
    from gis.maps.coverage import _DIST_COLOURS, _MISSING_COLOURS, CATEGORY_COLOURS

    std = cov.standard
    hh = (est["households"].fillna(0).to_numpy(dtype=float) if "households" in est
          else np.ones(len(est)))
    cats, counts, gap_hh = [], [], []
    for i, c in enumerate(std.categories):
        d = est[f"dist_m_{c.key}"].to_numpy(dtype=float)
        ok = est[f"covered_{c.key}"].to_numpy(dtype=bool)
        n = int((cov.services["category"] == c.key).sum())
        cats.append({"key": c.key, "label": c.label(lang), "n": n,
                     "colour": CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)],
                     "walk_m": f"{c.walk_m:,.0f}",
                     "limit_m": f"{cov.search_factor * c.walk_m:,.0f}"})
        counts.append([int(ok.sum()), int((~ok & ~np.isnan(d)).sum()),
                       int((~ok & np.isnan(d)).sum())])
        gap_hh.append(float(hh[~ok].sum()) if n else -1.0)
    if chosen is not None:
        selected = chosen.key  # type: ignore[attr-defined]
    elif max(gap_hh, default=-1.0) > 0:
        selected = std.categories[int(np.argmax(gap_hh))].key
    else:
        selected = ""
    missing = np.minimum(len(std.categories) - est["n_covered"].to_numpy(dtype=int), 4)
    labels = [tr(f"maps.selector.missing_{k}", lang) for k in range(len(_MISSING_COLOURS))]
    overview = [(col, lab, int((missing == k).sum()))
                for k, (col, lab) in enumerate(zip(_MISSING_COLOURS, labels))]
    sel = CategorySelector(
        estates, services, areas, below, cats, counts, selected,
        selector_words(lang, cov.mode), overview,
        {"covered": _DIST_COLOURS[0], "gap": _DIST_COLOURS[1], "beyond": _DIST_COLOURS[2]})
    sel.add_to(fmap)
    return sel
