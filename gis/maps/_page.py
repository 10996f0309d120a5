"""The page every map shares: offline assets, basemaps, display coordinates, controls.

Self-contained by default: Leaflet's script and stylesheet (from the XStatic-Leaflet
package installed with `gis`) are inlined, with its images as data URIs, so the file
opens from disk on an intranet with no CDN. ``offline=False`` keeps folium's CDN links.

Basemaps: ``none`` (default, offline), ``osm``, ``tianditu`` (needs a token), ``amap``
(Amap/Gaode tiles are in GCJ-02, so every data layer is shifted to GCJ-02 for display
and lines up), or any ``http(s)://…{z}/{x}/{y}…`` URL of an intranet tile server.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import folium
from folium.template import Template as FoliumTemplate
from folium.utilities import JsCode
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from gis.crs import wgs84_to_gcj02
from gis.errors import InputError
from gis.i18n import tr

__all__ = ["BASEMAPS", "GeoJson", "Page", "RawHtml", "TextTooltip", "check_basemap", "display_frame",
           "jinja_inert", "js_json", "layer_name", "new_page", "write_map"]

logger = logging.getLogger(__name__)

BASEMAPS = ("none", "osm", "tianditu", "amap")
_PRECISION_DEG = 6  # 1e-6 degree ≈ 0.1 m: finer is invisible and only makes files larger
_TIANDITU = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
             "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
             "&TILECOL={x}&tk=")
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


class Page:
    """A folium map plus how data must be moved to sit right on its basemap."""

    def __init__(self, fmap: folium.Map, shift: Callable[[np.ndarray], np.ndarray] | None):
        self.map = fmap
        self.shift = shift


def new_page(
    bounds_4326: tuple[float, float, float, float],
    *,
    basemap: str = "none",
    token: str | None = None,
    offline: bool = True,
    lang: str = "zh",
) -> Page:
    """Start a map fitted to ``bounds_4326`` (minx, miny, maxx, maxy in degrees).

    Raises
    ------
    InputError
        Unknown basemap, or ``tianditu`` without a token.

    Examples
    --------
    The demo town's extent; with Amap tiles (GCJ-02) data are shifted for display:

    >>> page = new_page((117.585, 34.394, 117.615, 34.411))
    >>> type(page.map).__name__, page.shift is None
    ('Map', True)
    >>> page = new_page((117.585, 34.394, 117.615, 34.411), basemap="amap", lang="en")
    >>> lon, lat = page.shift(np.array([[117.6, 34.4]]))[0]
    >>> round(float(lon), 5), round(float(lat), 5)
    (117.60558, 34.3986)
    """
    check_basemap(basemap, token)
    minx, miny, maxx, maxy = bounds_4326
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=15,
                      tiles=None, control_scale=False, prefer_canvas=False)
    if offline:
        _inline_leaflet(fmap)
    shift = None
    if basemap == "none":
        pass
    elif basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    elif basemap == "tianditu":
        folium.TileLayer(_TIANDITU + token, attr="天地图", name=tr("maps.basemap.tianditu", lang),
                         subdomains="01234567").add_to(fmap)
    elif basemap == "amap":
        folium.TileLayer(_AMAP, attr="高德地图", name=tr("maps.basemap.amap", lang),
                         subdomains="1234").add_to(fmap)
        shift = _to_gcj02
    else:  # a tile URL (check_basemap let nothing else through)
        folium.TileLayer(basemap, attr=html.escape(basemap.split("/")[2]),
                         name=tr("maps.basemap.url", lang)).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    _MetricScale().add_to(fmap)
    return Page(fmap, shift)


def check_basemap(basemap: str, token: str | None) -> None:
    """Refuse an unknown basemap, or tianditu without a token, before any work is done.

    Raises
    ------
    InputError

    Examples
    --------
    >>> check_basemap("https://tiles.intranet/{z}/{x}/{y}.png", None)
    >>> check_basemap("tianditu", None)
    Traceback (most recent call last):
    ...
    gis.errors.InputError: The tianditu basemap needs a key: pass `token` (天地图 tk).
    """
    if basemap == "tianditu" and not token:
        msg = "The tianditu basemap needs a key: pass `token` (天地图 tk)."
        raise InputError(msg)
    url = basemap.startswith(("http://", "https://")) and "{z}" in basemap
    if basemap not in BASEMAPS and not url:
        msg = (f"Unknown basemap {basemap!r}; use none, osm, tianditu, amap or a tile URL "
               "with {z}/{x}/{y}.")
        raise InputError(msg)


def _to_gcj02(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def display_frame(
    gdf: gpd.GeoDataFrame, page: Page, *, simplify_m: float = 0.5
) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 for display: simplified within ``simplify_m`` metres (in a
    metric CRS), shifted for the basemap, coordinates rounded to about 0.1 m.

    Examples
    --------
    The demo estates, ready for a map (150 outlines in degrees, six decimals):

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_estates
    >>> estates = read_estates(demo_folder() / "estates.gpkg")
    >>> page = new_page(tuple(estates.to_crs(4326).total_bounds))
    >>> shown = display_frame(estates.to_crs(4548), page)
    >>> len(shown), shown.crs.to_epsg(), shapely.get_coordinates(shown.geometry.iloc[0])[0].tolist()
    (150, 4326, [117.587217, 34.410302])
    """
    if gdf.crs is None:
        msg = "A layer for the map has no CRS."
        raise InputError(msg)
    geoms = gdf.geometry
    if simplify_m and len(gdf) and not gdf.crs.is_geographic:
        geoms = gpd.GeoSeries(shapely.simplify(np.asarray(geoms.values), simplify_m),
                              index=gdf.index, crs=gdf.crs)
    out = geoms.to_crs(4326)
    values = np.asarray(out.values)
    if page.shift is not None:
        values = shapely.transform(values, page.shift)
    values = shapely.transform(values, lambda c: np.round(c, _PRECISION_DEG))
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=values, crs=4326)


#: ``{{``, ``{%`` or ``{#``: where Jinja starts an expression, a statement or a comment.
_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def jinja_inert(text: str) -> str:
    """``text`` with a zero-width space after each ``{`` that would open Jinja syntax.

    folium writes a page by rendering each layer's script and then parsing the result
    *again* as a Jinja template (branca's ``Element``), so a name in a layer's data that
    holds ``{{ … }}`` would be evaluated while the map is written, and ``{% raw %}`` stops
    it. The invisible U+200B breaks the opener and shows the name as written; tables,
    GeoPackages and reports keep the name unchanged.

    Examples
    --------
    >>> jinja_inert("{{ 7 * 7 }} {% raw %} {a}")
    '{\\u200b{ 7 * 7 }} {\\u200b% raw %} {a}'
    """
    return _JINJA_OPENER.sub("{\u200b", text)


def js_json(value: object) -> str:
    """``value`` as JSON that is safe inside an inline ``<script>``.

    ``json.dumps(...).replace("</", "<\\/")`` is not enough: ``<!--<script>`` in a name
    puts the HTML parser in its "double escaped" state, where ``</script>`` no longer
    ends the script and the whole map stays blank. Every ``<``, ``>`` and ``&`` is
    written as a JSON unicode escape, and U+2028/U+2029 (line ends in older
    JavaScript) too.

    Examples
    --------
    >>> print(js_json({"name": "<!--<script>A&B"}))
    {"name": "\\u003c!--\\u003cscript\\u003eA\\u0026B"}
    """
    text = json.dumps(value, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    # A Jinja opener can only stand inside a JSON string (never between tokens), where
    # the escape is read back as "{": folium re-parses rendered scripts as templates.
    return _JINJA_OPENER.sub("\\\\u007b", text)


class RawHtml(Element):
    """HTML or script put into the page exactly as given.

    ``folium.Element(text)`` takes ``text`` as a Jinja template: a name that reached it
    holding ``{{ … }}`` or ``{% … %}`` would be *evaluated* while the map is written (or
    stop it with a syntax error). Everything this package writes into a page goes through
    here instead; data values in it are escaped for HTML (`html.escape`) or JavaScript
    (`js_json`) by the caller.

    Examples
    --------
    >>> RawHtml("<b>{{ 7 * 7 }}</b>").render()
    '<b>{{ 7 * 7 }}</b>'
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class GeoJson(folium.GeoJson):
    """`folium.GeoJson` whose feature properties cannot open Jinja syntax.

    folium renders a layer's script and parses the result again as a Jinja template, so
    a name such as ``{{ 7 * 7 }}`` in the layer's data would be evaluated, and ``{# x``
    stops the map with a syntax error. Every text property is passed through
    `jinja_inert`; every layer of this package's maps is made with this class.

    Examples
    --------
    >>> import json
    >>> layer = GeoJson({"type": "FeatureCollection", "features": [{"type": "Feature",
    ...     "properties": {"name": "{# x", "n": 3}, "geometry": None}]})
    >>> layer.data["features"][0]["properties"]
    {'name': '{\\u200b# x', 'n': 3}
    """

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        if isinstance(self.data, dict):
            for feature in self.data.get("features", []):
                if feature.get("properties"):
                    feature["properties"] = _inert(feature["properties"])


def _inert(value: Any) -> Any:
    """`jinja_inert` on every string inside lists and dicts (popup rows are lists)."""
    if isinstance(value, str):
        return jinja_inert(value)
    if isinstance(value, list):
        return [_inert(v) for v in value]
    if isinstance(value, dict):
        return {k: _inert(v) for k, v in value.items()}
    return value


def layer_name(text: str) -> str:
    """A name for the layer control, which Leaflet inserts as HTML: escaped, so a
    category label from a standard file shows as written.

    Examples
    --------
    >>> layer_name("<b>卫生站</b> & 药店")
    '&lt;b&gt;卫生站&lt;/b&gt; &amp; 药店'
    """
    return html.escape(jinja_inert(text), quote=False)


class TextTooltip(folium.GeoJsonTooltip):
    """A tooltip showing one property of each feature as plain text.

    folium's `GeoJsonTooltip` writes the property into ``innerHTML``: a name such as
    ``"><img src=x onerror=…>`` would run as script. This one sets ``textContent``.
    """

    _template = FoliumTemplate("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip(function (layer) {
            var div = L.DomUtil.create("div"), v = layer.feature.properties[{{ this.fields[0]|tojson }}];
            div.textContent = v === null || v === undefined ? "" : String(v);
            return div;
        }, {{ this.tooltip_options | tojavascript }});
        {% endmacro %}
    """)

    def __init__(self, field: str, **kwargs: object):
        super().__init__(fields=[field], labels=False, **kwargs)  # type: ignore[arg-type]


#: JavaScript ``gisEsc(text)``: HTML-escapes text for popups built in the page.
JS_ESCAPE = """function gisEsc(s) { return String(s).replace(/[&<>"']/g, function (c) {
  return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; }); }"""


def leaflet_style(style: dict, **from_properties: str) -> JsCode:
    """A Leaflet style function: ``style`` for every feature, with the keys named in
    ``from_properties`` read from each feature's properties (e.g. ``fillColor="fill"``).

    Pass it as ``folium.GeoJson(..., style=leaflet_style(...))``. folium's own
    ``style_function`` writes a ``case`` per feature into the page (about 1 MB for
    10,000 links, run feature by feature as the layer is drawn); this stays one line.
    """
    picks = "".join(f"s[{json.dumps(k)}] = f.properties[{json.dumps(v)}]; "
                    for k, v in from_properties.items())
    return JsCode(f"function (f) {{ var s = {json.dumps(style)}; {picks}return s; }}")


def title_html(title: str) -> RawHtml:
    """A fixed title box at the top of the map."""
    return RawHtml(
        "<div style='position:fixed;top:10px;left:50px;z-index:9999;background:white;"
        "padding:6px 12px;border:1px solid #999;border-radius:4px;font-size:16px;"
        f"font-weight:bold'>{html.escape(title)}</div>"
    )


def legend_html(head: str, items: list[tuple[str, str]], note: str = "") -> RawHtml:
    """A fixed legend box: ``items`` are (colour, label) pairs."""
    rows = "".join(
        f"<div><span style='background:{c};width:14px;height:14px;display:inline-block;"
        f"margin-right:4px;border:1px solid #666;vertical-align:middle'></span>"
        f"{html.escape(label)}</div>" for c, label in items
    )
    sub = f"<div style='color:#555;font-size:11px'>{html.escape(note)}</div>" if note else ""
    return RawHtml(
        "<div style='position:fixed;bottom:30px;left:10px;z-index:9999;background:white;"
        "padding:6px 10px;border:1px solid #999;border-radius:4px;font-size:13px'>"
        f"<b>{html.escape(head)}</b>{sub}{rows}</div>"
    )


class SearchBox(MacroElement):
    """Find a feature of a GeoJSON layer by name: type, pick, the map zooms and opens it."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div style="position:fixed;top:56px;left:50px;z-index:9999;background:white;
                    padding:4px;border:1px solid #999;border-radius:4px">
          <input id="{{ this.get_name() }}" list="{{ this.get_name() }}_list"
                 placeholder="{{ this.placeholder }}" style="width:220px;font-size:13px">
          <datalist id="{{ this.get_name() }}_list"></datalist>
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
          var layer = {{ this.layer.get_name() }}, box = document.getElementById("{{ this.get_name() }}");
          var list = document.getElementById("{{ this.get_name() }}_list"), index = Object.create(null);
          layer.eachLayer(function(l) {
            var name = l.feature.properties["{{ this.field }}"];
            if (!(name in index)) { index[name] = l; var o = document.createElement("option");
              o.value = name; list.appendChild(o); }
          });
          box.addEventListener("change", function() {
            var l = index[box.value]; if (!l) return;
            {{ this._parent.get_name() }}.fitBounds(l.getBounds(), {maxZoom: 17}); l.openPopup();
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, layer: folium.GeoJson, field: str, placeholder: str):
        super().__init__()
        self._name = "SearchBox"
        self.layer = layer
        self.field = field
        self.placeholder = placeholder


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's shows feet too)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


@cache
def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS, with the CSS's images turned into data URIs."""
    from xstatic.pkg import leaflet

    base = Path(leaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        payload = base64.b64encode((base / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    return js, re.sub(r"url\((images/[\w-]+\.png)\)", data_uri, css)


def _inline_leaflet(fmap: folium.Map) -> None:
    # folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; these maps use
    # plain Leaflet only, so drop the links and inline Leaflet itself.
    fmap.default_js = []
    fmap.default_css = []
    js, css = _leaflet_assets()
    header = fmap.get_root().header
    header.add_child(RawHtml(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(RawHtml(f"<script>{js}</script>"), name="leaflet_js_inline")


def write_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save ``fmap`` as HTML atomically (a temp file, then rename).

    Examples
    --------
    The file appears whole or not at all (no temporary file is left beside it):

    >>> page = new_page((117.585, 34.394, 117.615, 34.411))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_map(page.map, Path(folder) / "maps" / "blank.html")
    ...     print(path.name, sorted(p.name for p in path.parent.iterdir()),
    ...           "leaflet" in path.read_text(encoding="utf-8").lower())
    blank.html ['blank.html'] True
    """
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
    logger.info("Wrote map %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
