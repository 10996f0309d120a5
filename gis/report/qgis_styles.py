"""QGIS styles stored inside the GeoPackages we write, so they open ready to read.

A GeoPackage may carry a ``layer_styles`` table (the schema QGIS, GDAL and ArcGIS Pro's
QGIS import agree on): one row per style with the QML (QGIS's own format) and an SLD
(for other GIS), and ``useAsDefault`` so QGIS applies it when the layer is opened. The
styles are written here with plain ``sqlite3``: no QGIS is needed to write them, and the
QML is small hand-made XML that QGIS 3.22 and later read (checked by the suite in a real
headless QGIS).

The styles follow the HTML maps (`gis.maps`): estates coloured by how many categories
they lack with the same five classes and legend, services by category in the same
colours, units outlined (red when in conflict, thick when joint) and labelled with their
totals, links linked / not linked / rejected, conflicts in red, constraint layers in
their units-map colours. The colours are repeated here (reports come before maps in the
import order); a test keeps them equal to the maps'.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from gis.i18n import tr
from gis.standards import Standard

__all__ = [
    "CATEGORY_COLOURS",
    "CONSTRAINT_COLOURS",
    "CONSTRAINT_STYLE",
    "MISSING_COLOURS",
    "StyleRule",
    "coverage_styles",
    "layer_qml",
    "layer_sld",
    "siting_styles",
    "style_coverage_gpkg",
    "style_sites_gpkg",
    "style_units_gpkg",
    "units_styles",
    "write_layer_styles",
]

# Same values as gis.maps.coverage.CATEGORY_COLOURS / _MISSING_COLOURS and
# gis.maps.units (tests/test_qgis_styles.py keeps them equal).
CATEGORY_COLOURS = ("#1f77b4", "#d62728", "#8c564b", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd",
                    "#17becf", "#bcbd22", "#e377c2")
MISSING_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
ELIGIBILITY_COLOURS = {"eligible": "#4575b4", "eligible_extended": "#91bfdb",
                       "unknown": "#fdae61", "assumed_eligible": "#b2abd2",
                       "not_analysed": "#000000"}
OTHER_COLOUR = "#d9d9d9"
UNIT_COLOUR = "#08306b"
CONFLICT_COLOUR = "#d7301f"
LINK_COLOURS = {"linked": "#f46d43", "not_linked": "#bdbdbd", "rejected": CONFLICT_COLOUR}
CONSTRAINT_COLOURS = {"historic_district": "#8c510a", "historic_building": "#8c510a",
                      "ancient_tree": "#1b7837", "eco_redline": "#b2182b",
                      "development_boundary": "#542788", "plan_unit": "#878787"}
# Kind -> (colour, Chinese, English), the shape the units map keeps: a view built from the
# catalogue (``styles.constraint.<kind>``) so the words live in one place.
CONSTRAINT_STYLE = {kind: (colour, tr(f"styles.constraint.{kind}", "zh"),
                           tr(f"styles.constraint.{kind}", "en"))
                    for kind, colour in CONSTRAINT_COLOURS.items()}

# Fonts tried in order: Noto Sans CJK (Debian fonts-noto-cjk), then Windows' Microsoft YaHei;
# QGIS falls back to a system font with CJK glyphs when neither is installed.
_LABEL_FONT = "Noto Sans CJK SC"


@dataclass(frozen=True)
class StyleRule:
    """One legend entry: features whose key expression gives ``value``.

    Attributes
    ----------
    value : str
        The text the layer's key expression yields for these features.
    label : str
        Legend text (Chinese or English).
    fill : str
        Fill (polygons, points) or line colour, ``#rrggbb``.
    outline : str
        Outline colour; ``""`` for none.
    width_mm : float
        Outline or line width, millimetres.
    opacity : float
        Fill opacity, 0–1 (0: outline only).
    sld_filter : str
        The same selection as an OGC filter, for the SLD.
    dashed : bool
        Dashed outline or line.
    size_mm : float
        Marker diameter (points).
    """

    value: str
    label: str
    fill: str
    outline: str = ""
    width_mm: float = 0.26
    opacity: float = 1.0
    sld_filter: str = ""
    dashed: bool = False
    size_mm: float = 2.6


@dataclass(frozen=True)
class LayerStyle:
    """A categorised style: the key expression, its rules and an optional label."""

    key: str
    rules: tuple[StyleRule, ...]
    label_expression: str = ""
    name: str = "gis"


def _rgba(colour: str, opacity: float = 1.0) -> str:
    c = colour.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{round(255 * opacity)}"


def _options(values: dict[str, str]) -> str:
    items = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>'
                    for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _symbol(kind: str, name: str, rule: StyleRule) -> str:
    """QML of one symbol: ``kind`` fill, line or marker."""
    pen = "dash" if rule.dashed else "solid"
    if kind == "fill":
        layer = "SimpleFill", {
            "color": _rgba(rule.fill, rule.opacity),
            "style": "solid" if rule.opacity > 0 else "no",
            "outline_color": _rgba(rule.outline or rule.fill),
            "outline_style": pen if rule.outline else "no",
            "outline_width": f"{rule.width_mm:g}", "outline_width_unit": "MM",
            "joinstyle": "bevel",
        }
    elif kind == "line":
        layer = "SimpleLine", {
            "line_color": _rgba(rule.fill), "line_style": pen,
            "line_width": f"{rule.width_mm:g}", "line_width_unit": "MM", "capstyle": "round",
        }
    else:
        layer = "SimpleMarker", {
            "name": "circle", "color": _rgba(rule.fill, rule.opacity),
            "outline_color": _rgba(rule.outline or rule.fill), "outline_style": "solid",
            "outline_width": "0.3", "outline_width_unit": "MM", "size": f"{rule.size_mm:g}",
            "size_unit": "MM",
        }
    cls, props = layer
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><data_defined_properties><Option type="Map"><Option type="QString" '
            f'name="name" value=""/><Option name="properties"/><Option type="QString" '
            f'name="type" value="collection"/></Option></data_defined_properties>'
            f'<layer class="{cls}" enabled="1" locked="0" pass="0">{_options(props)}</layer>'
            "</symbol>")


def _labeling(expression: str, symbol_kind: str = "fill") -> str:
    """QML of simple labels from ``expression``, white halo, over the polygon's centre
    (points: beside the marker)."""
    # QGIS's label placement codes: 1 over a polygon's centre, 0 around a point.
    placement, layer_type = (("0", "PointGeometry") if symbol_kind == "marker"
                             else ("1", "PolygonGeometry"))
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(expression)} isExpression="1" '
        f'fontFamily="{_LABEL_FONT}" fontSize="9" fontSizeUnit="Point" fontWeight="50" '
        'fontItalic="0" textColor="8,48,107,255" textOpacity="1" multilineHeight="1" '
        'namedStyle="Regular" previewBkgrdColor="255,255,255,255" blendMode="0" '
        'allowHtml="0" capitalization="0" fontLetterSpacing="0" fontWordSpacing="0" '
        'fontUnderline="0" fontStrikeout="0" fontKerning="1" textOrientation="horizontal" '
        'useSubstitutions="0">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" '
        'bufferColor="255,255,255,255" bufferOpacity="0.85" bufferJoinStyle="128" '
        'bufferNoFill="1" bufferBlendMode="0"/>'
        '</text-style>'
        '<text-format wrapChar="" multilineAlign="1" autoWrapLength="0" '
        'useMaxLineLengthForAutoWrap="1" plussign="0" decimals="3" formatNumbers="0" '
        'reverseDirectionSymbol="0" leftDirectionSymbol="&lt;" rightDirectionSymbol="&gt;" '
        'placeDirectionSymbol="0" addDirectionSymbol="0"/>'
        f'<placement placement="{placement}" centroidWhole="0" centroidInside="1" '
        f'fitInPolygonOnly="0" dist="{int(symbol_kind == "marker")}" distUnits="MM" priority="5" offsetType="0" quadOffset="4" xOffset="0" '
        'yOffset="0" offsetUnits="MM" rotationAngle="0" placementFlags="10" '
        'overrunDistance="0" overrunDistanceUnit="MM" repeatDistance="0" '
        f'layerType="{layer_type}" geometryGenerator="" geometryGeneratorEnabled="0" '
        'geometryGeneratorType="PointGeometry" polygonPlacementFlags="2" '
        'lineAnchorPercent="0.5" lineAnchorType="0" lineAnchorClipping="0" '
        'allowDegraded="0" maxCurvedCharAngleIn="25" maxCurvedCharAngleOut="-25" '
        'preserveRotation="1" distMapUnitScale="3x:0,0,0,0,0,0" '
        'labelOffsetMapUnitScale="3x:0,0,0,0,0,0" repeatDistanceMapUnitScale="3x:0,0,0,0,0,0" '
        'predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR" '
        'overrunDistanceMapUnitScale="3x:0,0,0,0,0,0"/>'
        '<rendering displayAll="0" obstacle="1" obstacleType="1" obstacleFactor="1" '
        'scaleVisibility="0" scaleMin="0" scaleMax="0" fontLimitPixelSize="0" '
        'fontMinPixelSize="3" fontMaxPixelSize="10000" upsidedownLabels="0" '
        'limitNumLabels="0" maxNumLabels="2000" minFeatureSize="0" mergeLines="0" '
        'labelPerPart="0" drawLabels="1" zIndex="0" unplacedVisibility="0"/>'
        '</settings></labeling>'
    )


_GEOMETRY_TYPE = {"fill": 2, "line": 1, "marker": 0}


def layer_qml(style: LayerStyle, symbol_kind: str) -> str:
    """The QML document of a categorised style.

    Parameters
    ----------
    style : LayerStyle
    symbol_kind : {"fill", "line", "marker"}
        From the layer's geometry type.

    Returns
    -------
    str

    Examples
    --------
    >>> qml = layer_qml(units_styles("en")["links"], "line")
    >>> qml.splitlines()[0]
    "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
    >>> qml.count("<category "), 'label="neighbour, not linked"' in qml
    (3, True)
    >>> lines = "<layerGeometryType>1</layerGeometryType></qgis>"
    >>> qml.count('class="SimpleLine"'), qml.rstrip().endswith(lines)
    (3, True)
    """
    cats = "".join(
        f'<category render="true" symbol="{i}" value={quoteattr(r.value)} '
        f'label={quoteattr(r.label)} type="string"/>'
        for i, r in enumerate(style.rules))
    symbols = "".join(_symbol(symbol_kind, str(i), r) for i, r in enumerate(style.rules))
    labels = bool(style.label_expression)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.22.16" styleCategories="Symbology|Labeling" '
        f'labelsEnabled="{int(labels)}">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.key)} symbollevels="0" '
        f'enableorderby="0" forceraster="0" referencescale="-1">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols>"
        '<rotation/><sizescale/></renderer-v2>'
        + (_labeling(style.label_expression, symbol_kind) if labels else "")
        + f"<layerGeometryType>{_GEOMETRY_TYPE[symbol_kind]}</layerGeometryType></qgis>\n"
    )


def layer_sld(layer: str, style: LayerStyle, symbol_kind: str) -> str:
    """The same style as an OGC SLD 1.1 document (for GIS other than QGIS).

    Parameters
    ----------
    layer : str
        The layer's name, written as the SLD's named layer.
    style : LayerStyle
    symbol_kind : {"fill", "line", "marker"}

    Returns
    -------
    str

    Examples
    --------
    >>> sld = layer_sld("links", units_styles("zh")["links"], "line")
    >>> sld.count("<se:Rule>"), sld.count("<se:LineSymbolizer>")
    (3, 3)
    >>> sld[sld.index("<se:Rule>"):].split("</se:Name>")[0]
    '<se:Rule><se:Name>联动相邻关系'
    >>> "<ogc:PropertyName>linked</ogc:PropertyName><ogc:Literal>1</ogc:Literal>" in sld
    True
    """
    rules = []
    for r in style.rules:
        if symbol_kind == "fill":
            sym = ("<se:PolygonSymbolizer>"
                   + (f'<se:Fill><se:SvgParameter name="fill">{r.fill}</se:SvgParameter>'
                      f'<se:SvgParameter name="fill-opacity">{r.opacity:g}</se:SvgParameter>'
                      "</se:Fill>" if r.opacity > 0 else "")
                   + (f'<se:Stroke><se:SvgParameter name="stroke">{r.outline}</se:SvgParameter>'
                      f'<se:SvgParameter name="stroke-width">{r.width_mm * 3.78:.1f}'
                      "</se:SvgParameter></se:Stroke>" if r.outline else "")
                   + "</se:PolygonSymbolizer>")
        elif symbol_kind == "line":
            sym = (f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{r.fill}'
                   f'</se:SvgParameter><se:SvgParameter name="stroke-width">'
                   f"{r.width_mm * 3.78:.1f}</se:SvgParameter></se:Stroke></se:LineSymbolizer>")
        else:
            sym = ('<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle'
                   f'</se:WellKnownName><se:Fill><se:SvgParameter name="fill">{r.fill}'
                   '</se:SvgParameter></se:Fill></se:Mark><se:Size>10</se:Size></se:Graphic>'
                   "</se:PointSymbolizer>")
        flt = f"<ogc:Filter>{r.sld_filter}</ogc:Filter>" if r.sld_filter else ""
        rules.append(f"<se:Rule><se:Name>{_xml_text(r.label)}</se:Name>"
                     f"<se:Description><se:Title>{_xml_text(r.label)}</se:Title>"
                     f"</se:Description>{flt}{sym}</se:Rule>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" '
        'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1.0" '
        'xsi:schemaLocation="http://www.opengis.net/sld '
        'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
        f"<NamedLayer><se:Name>{_xml_text(layer)}</se:Name><UserStyle>"
        f"<se:Name>{_xml_text(layer)}</se:Name><se:FeatureTypeStyle>{''.join(rules)}"
        "</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n"
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _eq(field: str, value: str) -> str:
    return (f"<ogc:PropertyIsEqualTo><ogc:PropertyName>{field}</ogc:PropertyName>"
            f"<ogc:Literal>{_xml_text(value)}</ogc:Literal></ogc:PropertyIsEqualTo>")


def _cmp(op: str, field: str, value: float) -> str:
    return (f"<ogc:PropertyIs{op}><ogc:PropertyName>{field}</ogc:PropertyName>"
            f"<ogc:Literal>{value:g}</ogc:Literal></ogc:PropertyIs{op}>")


# ---------------------------------------------------------------------------
# the styles of our layers


def coverage_styles(standard: Standard, lang: str = "zh") -> dict[str, LayerStyle]:
    """Styles of ``coverage.gpkg``: ``estates`` by categories missing, ``services`` by category.

    The estates' classes are those of the coverage map: all present, 1, 2, 3, 4 or more
    missing; estates left out by ``invalid="skip"`` (``analysed`` false) are grey.

    Parameters
    ----------
    standard : Standard
        The coverage's standard: its categories, in their maps' colours.
    lang : {"zh", "en"}

    Returns
    -------
    dict of str to LayerStyle

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> styles = coverage_styles(load_standard(), "en")
    >>> [(r.value, r.label) for r in styles["estates"].rules]  # doctest: +NORMALIZE_WHITESPACE
    [('0', 'all present'), ('1', '1 missing'), ('2', '2 missing'), ('3', '3 missing'),
     ('4', '4 or more missing'), ('not_analysed', 'not analysed (invalid geometry)')]
    >>> [(r.value, r.fill) for r in styles["services"].rules][:2]
    [('community_service', '#1f77b4'), ('clinic', '#d62728')]
    >>> coverage_styles(load_standard())["estates"].rules[0].label
    '设施齐全'
    """
    n = len(standard.categories)
    rules = []
    for i, colour in enumerate(MISSING_COLOURS):
        if i > n:
            break
        label = tr(f"styles.missing.{i}", lang)
        flt = (_eq("n_covered", str(n - i)) if i < 4 else _cmp("LessThanOrEqualTo", "n_covered",
                                                                n - 4))
        rules.append(StyleRule(str(i), label, colour, "#333333", 0.26, 0.65, flt))
    rules.append(StyleRule("not_analysed", tr("styles.coverage_not_analysed", lang), OTHER_COLOUR,
                           "#333333", 0.26, 0.65, _eq("analysed", "0")))
    estates_key = (f"CASE WHEN \"analysed\" IS NOT NULL AND NOT \"analysed\" THEN 'not_analysed' "
                   f"ELSE to_string(min({n} - \"n_covered\", 4)) END")
    svc = [StyleRule(c.key, c.label(lang), CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)],
                     "#ffffff", 0.3, 0.95, _eq("category", c.key))
           for i, c in enumerate(standard.categories)]
    return {"estates": LayerStyle(estates_key, tuple(rules)),
            "services": LayerStyle('"category"', tuple(svc))}


def units_styles(lang: str = "zh") -> dict[str, LayerStyle]:
    """Styles of ``units.gpkg``: ``units`` outlined and labelled with their totals,
    ``estates`` by eligibility, ``links`` linked / not linked / rejected, ``conflicts``
    red, and constraint layers (named by kind) in the units map's colours.

    Parameters
    ----------
    lang : {"zh", "en"}

    Returns
    -------
    dict of str to LayerStyle
        By layer name.

    Examples
    --------
    >>> styles = units_styles("en")
    >>> sorted(styles)  # doctest: +NORMALIZE_WHITESPACE
    ['ancient_tree', 'conflicts', 'development_boundary', 'eco_redline', 'estates',
     'historic_building', 'historic_district', 'links', 'plan_unit', 'units']
    >>> [r.label for r in styles["units"].rules]
    ['unit with conflicts', 'joint unit (several estates)', 'single-estate unit']
    >>> print(styles["units"].label_expression)
    "unit_id" || '\\n' || "n_estates" || ' estates, ' ||
    coalesce(format_number("households", 0), '?') || ' households'
    >>> units_styles("zh")["estates"].rules[-1].label, styles["eco_redline"].rules[0].label
    ('不纳入改造的小区', 'Ecological red line')
    """
    units = LayerStyle(
        "CASE WHEN coalesce(\"n_conflicts\", 0) > 0 THEN 'conflict' "
        "WHEN \"n_estates\" > 1 THEN 'joint' ELSE 'single' END",
        (StyleRule("conflict", tr("styles.unit.conflict", lang),
                   CONFLICT_COLOUR, CONFLICT_COLOUR, 0.9, 0.0,
                   _cmp("GreaterThan", "n_conflicts", 0)),
         StyleRule("joint", tr("styles.unit.joint", lang),
                   UNIT_COLOUR, UNIT_COLOUR, 0.9, 0.0, _cmp("GreaterThan", "n_estates", 1)),
         StyleRule("single", tr("styles.unit.single", lang),
                   UNIT_COLOUR, UNIT_COLOUR, 0.4, 0.0, _eq("n_estates", "1"))),
        label_expression=tr("styles.unit_label", lang),
    )
    est_rules = [StyleRule(s, tr(f"styles.estates.{s}", lang), colour, "#555555", 0.2, 0.55,
                           _eq("eligibility", s))
                 for s, colour in ELIGIBILITY_COLOURS.items()]
    # Every other status (too recent, shantytown plan, demolition …) is "not eligible": QGIS's
    # own "all other values" category would match only empty values, so the key says "other".
    est_rules.append(StyleRule("other", tr("styles.estates.other", lang), OTHER_COLOUR,
                               "#555555", 0.2, 0.55))
    links = LayerStyle(
        "CASE WHEN \"decision\" = 'reject' THEN 'rejected' "
        "WHEN \"linked\" THEN 'linked' ELSE 'not_linked' END",
        (StyleRule("linked", tr("styles.link.linked", lang), LINK_COLOURS["linked"], width_mm=0.8,
                   sld_filter=_eq("linked", "1")),
         StyleRule("not_linked", tr("styles.link.not_linked", lang),
                   LINK_COLOURS["not_linked"], width_mm=0.8, sld_filter=_eq("linked", "0")),
         StyleRule("rejected", tr("styles.link.rejected", lang),
                   LINK_COLOURS["rejected"], width_mm=0.8, sld_filter=_eq("decision", "reject"))))
    conflicts = LayerStyle("'conflict'", (StyleRule(
        "conflict", tr("styles.conflict", lang), CONFLICT_COLOUR, CONFLICT_COLOUR, 0.5, 0.45),))
    known = ", ".join(f"'{s}'" for s in ELIGIBILITY_COLOURS)
    est_key = f"CASE WHEN \"eligibility\" IN ({known}) THEN \"eligibility\" ELSE 'other' END"
    styles = {"units": units, "estates": LayerStyle(est_key, tuple(est_rules)),
              "links": links, "conflicts": conflicts}
    for kind, colour in CONSTRAINT_COLOURS.items():
        opacity = 0.0 if kind in ("development_boundary", "plan_unit") else 0.15
        styles[kind] = LayerStyle("'constraint'", (StyleRule(
            "constraint", tr(f"styles.constraint.{kind}", lang), colour, colour, 0.5, opacity,
            dashed=True),))
    return styles


# ---------------------------------------------------------------------------
# writing


_CREATE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
    f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""

_SYMBOL_KIND = {"POINT": "marker", "MULTIPOINT": "marker", "LINESTRING": "line",
                "MULTILINESTRING": "line", "POLYGON": "fill", "MULTIPOLYGON": "fill"}


def write_layer_styles(path: str | Path, styles: dict[str, LayerStyle], *,
                       description: str = "") -> list[str]:
    """Store ``styles`` in the GeoPackage's ``layer_styles`` table as each layer's default.

    Only layers present in the file are styled; earlier rows for them are replaced, so
    styling a file twice leaves one default per layer.

    Parameters
    ----------
    path : str or Path
        A GeoPackage written by GDAL (pyogrio).
    styles : dict of str to LayerStyle
        By layer (table) name.
    description : str
        Stored with each style (shown in QGIS's style manager).

    Returns
    -------
    list of str
        The layers styled, in file order.

    Examples
    --------
    >>> import sqlite3, tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> estates = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = Path(out) / "units.gpkg"
    ...     estates.to_file(path, layer="estates")
    ...     styled = write_layer_styles(path, units_styles("en"), description="demo")
    ...     again = write_layer_styles(path, units_styles("en"), description="demo")
    ...     with sqlite3.connect(path) as con:
    ...         rows = con.execute("SELECT f_table_name, styleName, useAsDefault, description "
    ...                            "FROM layer_styles").fetchall()
    >>> styled, again, rows
    (['estates'], ['estates'], [('estates', 'estates (gis)', 1, 'demo')])
    """
    con = sqlite3.connect(str(path))
    try:
        layers = con.execute(
            "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns"
        ).fetchall()
        con.execute(_CREATE)
        # Registered as an attributes table, as QGIS and GDAL do, so the file stays valid.
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles')")
        styled = []
        for table, column, geom_type in layers:
            style = styles.get(table)
            if style is None:
                continue
            kind = _SYMBOL_KIND.get(str(geom_type).upper(), "fill")
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'gis', '')",
                (table, column, f"{table} ({style.name})", layer_qml(style, kind),
                 layer_sld(table, style, kind), description),
            )
            styled.append(table)
        con.commit()
    finally:
        con.close()
    return styled


def style_coverage_gpkg(path: str | Path, standard: Standard, *, lang: str = "zh") -> list[str]:
    """Style ``coverage.gpkg`` (see `coverage_styles`); returns the layers styled.

    Examples
    --------
    >>> import sqlite3, tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = Path(out) / "coverage.gpkg"
    ...     for layer in ("estates", "services"):
    ...         gpd.read_file(demo_folder() / f"{layer}.gpkg").to_file(path, layer=layer)
    ...     styled = style_coverage_gpkg(path, load_standard(), lang="en")
    ...     with sqlite3.connect(path) as con:
    ...         described = con.execute("SELECT DISTINCT description FROM layer_styles").fetchall()
    >>> styled, described
    (['estates', 'services'], [('gis coverage: estates by categories missing,
     services by category',)])
    """
    return write_layer_styles(path, coverage_styles(standard, lang),
                              description=tr("styles.coverage_description", lang))


def style_units_gpkg(path: str | Path, *, lang: str = "zh",
                     layers: Sequence[str] | None = None) -> list[str]:
    """Style ``units.gpkg`` (see `units_styles`); returns the layers styled.

    ``layers`` limits the styling to those layers (default: every layer it knows).

    Examples
    --------
    >>> import sqlite3, tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = Path(out) / "units.gpkg"
    ...     gpd.read_file(demo_folder() / "estates.gpkg").to_file(path, layer="estates")
    ...     only_units = style_units_gpkg(path, layers=["units"])
    ...     styled = style_units_gpkg(path)
    ...     with sqlite3.connect(path) as con:
    ...         qml, = con.execute("SELECT styleQML FROM layer_styles").fetchone()
    >>> only_units, styled, qml.count("<category "), 'label="纳入改造的小区"' in qml
    ([], ['estates'], 6, True)
    """
    styles = units_styles(lang)
    if layers is not None:
        styles = {k: v for k, v in styles.items() if k in layers}
    return write_layer_styles(path, styles, description=tr("styles.units_description", lang))


def siting_styles(standard: Standard, categories: Sequence[str],
                  lang: str = "zh") -> dict[str, LayerStyle]:
    """Styles of ``sites.gpkg`` (see `gis.report.siting.write_siting`).

    ``sites`` coloured by category in the maps' colours and labelled with their proposal
    order and the households they newly cover; ``service_areas`` dashed in the category's
    colour; ``candidates`` small and grey; ``estates`` as in ``coverage.gpkg``.

    Parameters
    ----------
    standard : Standard
        The coverage's standard: a category's colour is that of its place in it, as on
        the maps.
    categories : sequence of str
        The categories sited (their legend entries, in this order).
    lang : {"zh", "en"}

    Returns
    -------
    dict of str to LayerStyle

    Examples
    --------
    >>> from gis.standards import load_standard
    >>> styles = siting_styles(load_standard(), ["clinic", "charging"])
    >>> sorted(styles)
    ['candidates', 'estates', 'service_areas', 'sites']
    >>> [(r.value, r.label, r.fill) for r in styles["sites"].rules]
    [('clinic', '建议新增医疗服务中心', '#d62728'), ('charging', '建议新增充电设施', '#9467bd')]
    >>> siting_styles(load_standard(), ["clinic"], "en")["service_areas"].rules[0].label
    'New Clinic / community health centre sites: walkable area (1000 m)'
    """
    keys = list(standard.keys)
    sites, areas = [], []
    for key in categories:
        cat = standard.category(key)
        colour = CATEGORY_COLOURS[keys.index(key) % len(CATEGORY_COLOURS)]
        label = cat.label(lang)
        sites.append(StyleRule(key, tr("styles.site", lang, label=label),
                               colour, "#000000", 0.3, 1.0, _eq("category", key), size_mm=4.0))
        areas.append(StyleRule(
            key, tr("styles.site_area", lang, label=label, walk_m=cat.walk_m),
            colour, colour, 0.5, 0.18, _eq("category", key), dashed=True))
    label = tr("styles.site_label", lang)
    candidates = LayerStyle("'candidate'", (StyleRule(
        "candidate", tr("styles.candidate", lang), "#969696", "#969696", 0.2, 0.8,
        size_mm=1.2),))
    return {"sites": LayerStyle('"category"', tuple(sites), label_expression=label),
            "service_areas": LayerStyle('"category"', tuple(areas)),
            "candidates": candidates,
            "estates": coverage_styles(standard, lang)["estates"]}


def style_sites_gpkg(path: str | Path, standard: Standard, categories: Sequence[str], *,
                     lang: str = "zh") -> list[str]:
    """Style ``sites.gpkg`` (see `siting_styles`); returns the layers styled.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = Path(out) / "sites.gpkg"
    ...     gpd.read_file(demo_folder() / "estates.gpkg").to_file(path, layer="estates")
    ...     gpd.read_file(demo_folder() / "services.gpkg").to_file(path, layer="candidates")
    ...     style_sites_gpkg(path, load_standard(), ["clinic"], lang="en")
    ['estates', 'candidates']
    """
    return write_layer_styles(path, siting_styles(standard, categories, lang),
                              description=tr("styles.sites_description", lang))
