"""The renovation-units review map.

Units are outlined and labelled with their totals; member estates are filled by
eligibility; neighbour links are drawn with their gap and facing length (linked, not
linked, rejected); constraint layers and the conflicts found are highlighted; each unit
has a popup with members, totals, link reasons, checks and the decision applied.
"""

from __future__ import annotations

import folium
from folium.utilities import JsCode
import geopandas as gpd
import numpy as np
import pandas as pd

from gis.adjacency import crossed_text
from gis.crs import metric_crs
from gis.i18n import LANGS, join, tr
from gis.standards import bundled_standards, load_standard
from gis.units import CAP_LABELS, link_reason_texts, unit_gap_texts
from gis.maps._page import (
    JS_ESCAPE,
    GeoJson,
    RawHtml,
    SearchBox,
    TextTooltip,
    display_frame,
    js_json,
    leaflet_style,
    legend_html,
    new_page,
    title_html,
)

__all__ = ["units_map"]

_ELIGIBLE = {"eligible": "#4575b4", "eligible_extended": "#91bfdb"}
_OTHER = "#d9d9d9"
# Eligibility not decided from data: unknown year, assumed eligible, left out (`invalid="skip"`).
_UNDECIDED = {"unknown": "#fdae61", "assumed_eligible": "#b2abd2", "not_analysed": "#000000"}
_CONSTRAINT_COLOURS = {
    "historic_district": "#8c510a",
    "historic_building": "#8c510a",
    "ancient_tree": "#1b7837",
    "eco_redline": "#b2182b",
    "development_boundary": "#542788",
    "plan_unit": "#878787",
}
#: Constraint kind -> (colour, Chinese name, English name); the names from the catalogue
#: (``maps.constraint.<kind>``). The QGIS styles read the same table.
_CONSTRAINT_STYLE = {
    kind: (colour, *(tr(f"maps.constraint.{kind}", lang) for lang in LANGS))
    for kind, colour in _CONSTRAINT_COLOURS.items()
}
#: The language of the text columns `gis units`/`gis review` store in units.gpkg
#: (``member_names``, ``link_reasons``, ``coverage_gaps``): another language renders them
#: again from the machine values (`_texts_in`).
_STORED_LANG = "zh"


def units_map(
    units: gpd.GeoDataFrame,
    estates: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    *,
    conflicts: gpd.GeoDataFrame | None = None,
    constraints: dict[str, gpd.GeoDataFrame] | None = None,
    basemap: str = "none",
    token: str | None = None,
    offline: bool = True,
    lang: str = "zh",
    illustrative: bool = False,
    title: str | None = None,
) -> folium.Map:
    """Build the units review map.

    Parameters
    ----------
    units : GeoDataFrame
        Units with ``unit_id``, ``n_estates``, ``households``, ``floor_area_m2``,
        ``members``/``member_names`` and, when reviewed, ``n_conflicts``,
        ``conflict_summary``, ``link_reasons``, ``decision`` (e.g. the ``units`` layer
        of ``units.gpkg``).
    estates : GeoDataFrame
        Every estate with ``eligibility`` and ``unit_id`` (the ``estates`` layer).
    links : GeoDataFrame
        Candidate links with ``gap_m``, ``facing_m``, ``linked``, ``reason``,
        ``decision`` (the ``links`` layer).
    conflicts : GeoDataFrame, optional
        From `gis.review.check_units` (the ``conflicts`` layer).
    constraints : dict of str to GeoDataFrame, optional
        Constraint layers by kind (see `gis.review.CONSTRAINT_KINDS`), for context.
    basemap, token, offline, lang, illustrative, title
        As in `gis.maps.coverage_map`.

    Returns
    -------
    folium.Map

    Examples
    --------
    The demo town's 48 units (29 joint) with the ancient trees for context:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from gis.sources import demo_folder
    >>> from gis.constraints import read_constraint
    >>> from gis.layers import read_estates
    >>> from gis.maps import write_map
    >>> from gis.standards import load_standard
    >>> from gis.units import renovation_units
    >>> demo = demo_folder()
    >>> units, assessed = renovation_units(read_estates(demo / "estates.gpkg"), load_standard())
    >>> trees = read_constraint(demo / "ancient_trees.gpkg", "ancient_tree").layer
    >>> fmap = units_map(units.units, assessed.merge(units.membership, on="estate_id", how="left"),
    ...                  units.links, constraints={"ancient_tree": trees}, lang="en")
    >>> [c.layer_name for c in fmap._children.values() if isinstance(c, folium.GeoJson)]
    ['Ancient tree zone', 'Estates (eligibility)', 'Renovation units', 'Neighbour links']
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_map(fmap, Path(folder) / "units_map_en.html")
    ...     print([p.name for p in Path(folder).iterdir()], "U-XQ003+2-e58099" in path.read_text())
    ['units_map_en.html'] True
    """
    page = new_page(tuple(estates.to_crs(4326).total_bounds), basemap=basemap, token=token,
                    offline=offline, lang=lang)
    fmap = page.map
    metric = metric_crs(estates)

    for kind, layer in (constraints or {}).items():
        if layer is None or layer.empty:
            continue
        colour = _CONSTRAINT_COLOURS.get(kind, "#666666")
        name = tr(f"maps.constraint.{kind}", lang) if kind in _CONSTRAINT_COLOURS else kind
        shown = display_frame(layer.to_crs(metric), page)
        # A feature without a name is labelled by its kind, in the map's language.
        names = shown["name"].astype(str) if "name" in shown else pd.Series([name] * len(shown))
        gj = gpd.GeoDataFrame({"_kind": "constraint", "tip": names.to_numpy()},
                              geometry=shown.geometry.values, crs=4326)
        GeoJson(
            gj.to_json(drop_id=True), name=name,
            marker=folium.CircleMarker(radius=4, fill=True),
            style=leaflet_style({
                "color": colour, "weight": 2, "dashArray": "6 4", "fillColor": colour,
                "fillOpacity": 0.0 if kind in ("development_boundary", "plan_unit") else 0.15}),
            tooltip=TextTooltip("tip"),
        ).add_to(fmap)

    counts = (estates["eligibility"].value_counts() if "eligibility" in estates
              else pd.Series(dtype=int))
    # Estates left out without a usable geometry are counted in the legend, not drawn.
    estates = estates[estates.geometry.notna() & ~estates.geometry.is_empty]
    est = display_frame(estates.to_crs(metric), page)
    status = est["eligibility"] if "eligibility" in est else pd.Series("eligible", index=est.index)
    reason = est[tr("maps.column.eligibility_reason", lang)] \
        if "eligibility_reason" in est else status
    est_props = gpd.GeoDataFrame(
        {"_kind": "estate",
         "fill": [_ELIGIBLE.get(s, _UNDECIDED.get(s, _OTHER)) for s in status],
         "tip": (est["name"].astype(str) + " · " + reason.astype(str)).to_numpy()},
        geometry=est.geometry.values, crs=4326)
    GeoJson(
        est_props.to_json(drop_id=True), name=tr("units_map.layer_estates", lang),
        style=leaflet_style({"color": "#555555", "weight": 0.8, "fillOpacity": 0.55},
                            fillColor="fill"),
        tooltip=TextTooltip("tip"),
    ).add_to(fmap)

    u = display_frame(units.to_crs(metric), page)
    if lang != _STORED_LANG:
        u = _texts_in(u, estates, links, lang)
    flagged = u["n_conflicts"].fillna(0).to_numpy() > 0 if "n_conflicts" in u else np.zeros(len(u), bool)
    unchecked = (u["caps_unchecked"].fillna("").astype(str).to_numpy() != ""
                 if "caps_unchecked" in u else np.zeros(len(u), bool))
    records = u.to_dict("records")
    unit_props = gpd.GeoDataFrame(
        {"_kind": "unit", "unit_id": u["unit_id"].astype(str),
         "label": [_label(r, lang) for r in records],
         "v": [_popup_values(r, lang) for r in records],
         "colour": np.where(flagged, "#d7301f", "#08306b"),
         "w": np.where(u["n_estates"].to_numpy() > 1, 3.5, 1.5),
         # Dashed outline: a cap could not be checked (members' values unknown).
         "dash": np.where(unchecked, "8 5", None)},
        geometry=u.geometry.values, crs=4326)
    units_layer = GeoJson(
        unit_props.to_json(drop_id=True), name=tr("units_map.layer_units", lang),
        style=leaflet_style({"fill": True, "fillOpacity": 0.0}, color="colour", weight="w",
                            dashArray="dash"),
        highlight_function=lambda f: {"weight": 5},
        tooltip=TextTooltip("label"),
        # Built in the browser from the values: the table markup of thousands of popups,
        # escaped into the file, was a third of a 10,000-estate map.
        on_each_feature=JsCode(
            "function (f, layer) { layer.bindPopup(function () { return gisUnitPopup("
            "f.properties); }, {maxWidth: 460}); }"),
    )
    units_layer.add_to(fmap)
    fmap.get_root().header.add_child(
        RawHtml(_popup_script(lang)), name="gis_unit_popup_script")

    ln = display_frame(links.to_crs(metric), page, simplify_m=0)
    decision = ln["decision"].fillna("") if "decision" in ln else pd.Series("", index=ln.index)
    colour = np.where(decision == "reject", "#d7301f",
                      np.where(ln["linked"].astype(bool), "#f46d43", "#bdbdbd"))
    tips = [_link_tip(r, lang) for r in ln.to_dict("records")]
    link_props = gpd.GeoDataFrame({"_kind": "link", "tip": tips, "colour": colour},
                                  geometry=ln.geometry.values, crs=4326)
    GeoJson(
        link_props.to_json(drop_id=True), name=tr("units_map.layer_links", lang),
        style=leaflet_style({"weight": 2.5}, color="colour"),
        tooltip=TextTooltip("tip"),
    ).add_to(fmap)

    if conflicts is not None and not conflicts.empty:
        cf = display_frame(conflicts.to_crs(metric), page, simplify_m=0)
        # The conflict kind in words where the layer has them in this language, else its key.
        kind_column = tr("maps.column.conflict_kind", lang)
        kind_text = cf[kind_column if kind_column in cf else "kind"].astype(str)
        cprops = gpd.GeoDataFrame(
            {"_kind": "conflict",
             "tip": (cf["unit_id"].astype(str) + " · " + kind_text + " · "
                     + cf["feature_name"].astype(str)).to_numpy()},
            geometry=cf.geometry.values, crs=4326)
        GeoJson(
            cprops.to_json(drop_id=True), name=tr("units_map.layer_conflicts", lang),
            marker=folium.CircleMarker(radius=6, fill=True),
            style=leaflet_style({"color": "#d7301f", "weight": 2, "fillColor": "#d7301f",
                                 "fillOpacity": 0.45}),
            tooltip=TextTooltip("tip"),
        ).add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    SearchBox(units_layer, "unit_id", tr("units_map.search", lang)).add_to(fmap)
    if title is None:
        title = tr("units_map.title", lang)
        if illustrative:
            title += tr("units_map.illustrative", lang)
    root = fmap.get_root().html
    root.add_child(title_html(title))
    items = [
        ("#08306b", tr("units_map.legend_unit", lang)),
        ("#d7301f", tr("units_map.legend_conflict", lang)),
        (_ELIGIBLE["eligible"], tr("units_map.legend_eligible", lang)),
        (_ELIGIBLE["eligible_extended"], tr("units_map.legend_extended", lang)),
        (_OTHER, tr("units_map.legend_not_eligible", lang)),
        *[(_UNDECIDED[s], tr(f"units_map.legend_{s}", lang, n=int(counts[s])))
          for s in ("unknown", "assumed_eligible", "not_analysed") if counts.get(s, 0)],
        *([("#08306b", tr("units_map.legend_unchecked", lang) + f" ({int(unchecked.sum()):,})")]
          if unchecked.any() else []),
        ("#f46d43", tr("units_map.legend_link", lang)),
        ("#bdbdbd", tr("units_map.legend_not_linked", lang)),
    ]
    root.add_child(legend_html(tr("units_map.legend_title", lang), items))
    return fmap


def _texts_in(u: pd.DataFrame, estates: pd.DataFrame, links: pd.DataFrame,
              lang: str) -> pd.DataFrame:
    """The units' text columns rendered in ``lang`` from the machine values of the layers.

    ``units.gpkg`` stores ``member_names``, ``link_reasons`` and ``coverage_gaps`` as
    Chinese text; the estates (``unit_id``, ``name``, ``covered_<key>``, ``households``)
    and links (``gap_m``, ``facing_m``) hold what they say, so they are rendered again
    here. Category names come from the bundled standards (the key where none has it).
    """
    u = u.copy()
    est = estates[estates["unit_id"].notna()] if "unit_id" in estates else estates.iloc[:0]
    if "member_names" in u and "name" in est and len(est):
        names = est["name"].astype(str).groupby(est["unit_id"].to_numpy(), sort=False).agg(
            lambda s: join(s, lang))
        u["member_names"] = u["unit_id"].map(names).fillna(u["member_names"]).to_numpy()
    if "link_reasons" in u and len(links) and {"in_unit", "linked"} <= set(links.columns):
        unit_of = est.set_index(est["estate_id"].astype(str))["unit_id"] if len(est) else None
        if unit_of is not None:
            reasons = link_reason_texts(links, unit_of, lang)
            u["link_reasons"] = u["unit_id"].map(reasons).fillna("").to_numpy()
    keys = [c[len("covered_"):] for c in est.columns if c.startswith("covered_")]
    if "coverage_gaps" in u and keys:
        named = {c.key: c for name in bundled_standards() for c in load_standard(name).categories}
        hh = pd.to_numeric(est["households"], errors="coerce").to_numpy() \
            if "households" in est else np.full(len(est), np.nan)
        rows = []
        for key in keys:
            miss = ~est[f"covered_{key}"].astype(bool).to_numpy()
            per = pd.DataFrame({"unit_id": est["unit_id"].to_numpy(), "n": miss,
                                "hh": hh * miss}).groupby("unit_id", sort=False).sum()
            c = named.get(key)
            rows += [(uid, key, c.name_zh if c else key, c.name_en if c else key, int(r.n),
                      float(r.hh)) for uid, r in per.iterrows() if r.n > 0]
        gaps = pd.DataFrame(rows, columns=["unit_id", "category", "name_zh", "name_en",
                                           "n_estates", "households"])
        order = {k: i for i, k in enumerate(keys)}
        gaps = gaps.sort_values("category", key=lambda s: s.map(order), kind="stable")
        gaps = gaps.set_index(gaps["unit_id"].map({v: i for i, v in enumerate(u["unit_id"])})
                              ).sort_index(kind="stable").reset_index(drop=True)
        u["coverage_gaps"] = u["unit_id"].map(unit_gap_texts(gaps, lang)).fillna("").to_numpy()
    return u


#: Rows of a unit's popup, in `_popup_values` order (messages ``units_map.popup_<key>``).
_POPUP_KEYS = ("n_estates", "households", "floor_area", "built", "members", "why_linked",
               "gaps", "review", "decision", "flags", "unchecked", "assumed")


def _label(r: dict, lang: str) -> str:
    hh = r.get("households")
    hh_text = "?" if hh is None or (isinstance(hh, float) and np.isnan(hh)) else f"{hh:,.0f}"
    known = r.get("households_known")
    if hh_text == "?" and known is not None and not np.isnan(known) and known > 0:
        hh_text += tr("units_map.known", lang, known=known)
    return tr("units_map.label", lang, unit_id=r["unit_id"], n=int(r["n_estates"]),
              households=hh_text)


def _link_tip(r: dict, lang: str) -> str:
    gap, facing = float(r["gap_m"]), float(r["facing_m"])
    crossed = crossed_text(r.get("crossed"), lang)
    text = tr("units_map.link_tip", lang, a=r["estate_a"], b=r["estate_b"], gap_m=gap,
              facing_m=facing)
    return text + (tr("units_map.crosses", lang, crossed=crossed) if crossed else "")


def _popup_labels(lang: str) -> list[str]:
    return [tr(f"units_map.popup_{k}", lang) for k in _POPUP_KEYS]


def _popup_values(r: dict, lang: str) -> list[str]:
    """One unit's popup values, in `_popup_labels` order ("" where there is none)."""
    def cell(key: str) -> str:
        v = r.get(key)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return f"{v:,.0f}" if isinstance(v, float) else str(v)

    lo, hi = cell("build_year_min"), cell("build_year_max")
    return [
        cell("n_estates"), cell("households"), cell("floor_area_m2"),
        f"{lo}–{hi}" if lo or hi else "",
        cell("member_names"), cell("link_reasons"), cell("coverage_gaps"),
        cell(tr("maps.column.conflict_summary", lang)), cell("decision"),
        cell("flags"), _unchecked_text(r, lang),
        cell("assumed_members") if (r.get("assumed_members") or 0) > 0 else "",
    ]


def _unchecked_text(r: dict, lang: str) -> str:
    """Which caps could not be checked and why, "" when every cap was checked."""
    keys = [k for k in str(r.get("caps_unchecked") or "").split(",") if k in CAP_LABELS]
    if not keys:
        return ""
    names = join((CAP_LABELS[k][LANGS.index(lang)] for k in keys), lang)
    n_hh, n_fa = int(r.get("households_unknown_n") or 0), int(r.get("floor_area_unknown_n") or 0)
    return tr("units_map.unchecked", lang, names=names, n_hh=n_hh, n_fa=n_fa)


def _popup_script(lang: str) -> str:
    labels = js_json(_popup_labels(lang))
    return """<script>
var GIS_UNIT_LABELS = %s;
%s
function gisUnitPopup(p) {
  var rows = "";
  for (var i = 0; i < GIS_UNIT_LABELS.length; i++) {
    if (p.v[i] === "") continue;
    rows += "<tr><td style='white-space:nowrap;vertical-align:top'><b>" + GIS_UNIT_LABELS[i] +
      "</b></td><td>" + gisEsc(p.v[i]) + "</td></tr>";
  }
  return "<b>" + gisEsc(p.unit_id) + "</b><table style='font-size:12px'>" + rows + "</table>";
}
</script>""" % (labels, JS_ESCAPE)
