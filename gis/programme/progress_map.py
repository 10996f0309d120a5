"""The offline map of the programme: estates coloured by plan year, outlined by status
(储备 grey; 开工 orange; 完工/验收 red), with a tooltip per estate and a search box-free
layer list. One HTML file that opens from disk (see `gis.maps`)."""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import pandas as pd

from gis.crs import metric_crs
from gis.maps._page import (GeoJson, display_frame, leaflet_style, legend_html, new_page,
                            title_html)
from gis.i18n import tr
from gis.programme.ledger import STATUSES, status_label

__all__ = ["programme_map"]

_YEAR_COLOURS = ("#440154", "#31688e", "#35b779", "#fde725", "#e07b39", "#9e9ac8")
_RESERVE = "#dddddd"
_ORDER = {s: i for i, s in enumerate(STATUSES)}


def _outline(status: str) -> str:
    rank = _ORDER.get(status, 0)
    return "#d7301f" if rank >= _ORDER["完工"] else "#fd8d3c" if rank >= _ORDER["开工"] \
        else "#555555"


def programme_map(estates: gpd.GeoDataFrame, *, lang: str = "zh", illustrative: bool = False,
                  title: str | None = None, offline: bool = True) -> folium.Map:
    """Estates by plan year (fill) and status (outline).

    Parameters
    ----------
    estates : GeoDataFrame
        ``estate_id``, ``name``, ``district``, ``plan_year`` (missing = reserve),
        ``status`` and geometry (any CRS), e.g. the ledger's layer joined with
        `gis.programme.ledger.ledger_state`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gis.maps import write_map
    >>> from gis.programme.demo import demo_ledger
    >>> from gis.programme.ledger import ledger_state
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     geo = gpd.read_file(path, layer="estates").drop(columns=["name", "district"])
    ...     est = ledger_state(path)[0][["estate_id", "name", "district", "plan_year", "status"]]
    ...     page = write_map(programme_map(geo.merge(est, on="estate_id"), lang="en"),
    ...                      Path(tmp) / "programme_map.html")
    ...     html_text = page.read_text(encoding="utf-8")
    >>> page.name, html_text.count('"_kind": "estate"'), "Plan year" in html_text
    ('programme_map.html', 8, True)
    """
    page = new_page(tuple(estates.to_crs(4326).total_bounds), offline=offline, lang=lang)
    fmap = page.map
    shown = display_frame(estates.to_crs(metric_crs(estates)), page)
    years = sorted(int(y) for y in shown["plan_year"].dropna().unique())
    colour = {y: _YEAR_COLOURS[i % len(_YEAR_COLOURS)] for i, y in enumerate(years)}
    fill = [_RESERVE if pd.isna(y) else colour[int(y)] for y in shown["plan_year"]]
    status = shown["status"].fillna("储备").astype(str)

    def tip(r: dict) -> str:
        year = "—" if pd.isna(r["plan_year"]) else str(int(r["plan_year"]))
        st = status_label(r["status"], lang) if r["status"] in _ORDER else r["status"]
        text = f"{r['name']} ({r['estate_id']}) · {r['district'] or ''} · {year} · {st}"
        return html.escape(text)  # folium's tooltip writes values as HTML: names stay text

    props = gpd.GeoDataFrame(
        {"_kind": "estate", "fill": fill, "line": [_outline(s) for s in status],
         "w": [2.5 if _ORDER.get(s, 0) >= _ORDER["开工"] else 0.8 for s in status],
         "tip": [tip(r) for r in shown.assign(status=status).to_dict("records")]},
        geometry=shown.geometry.values, crs=4326)
    GeoJson(
        props.to_json(drop_id=True), name=tr("programme.map.layer", lang),
        style=leaflet_style({"fillOpacity": 0.7}, fillColor="fill", color="line", weight="w"),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(fmap)
    if title is None:
        title = tr("programme.map.title", lang)
        if illustrative:
            title += tr("programme.demo_mark", lang)
    root = fmap.get_root().html
    root.add_child(title_html(title))
    items = [(colour[y], str(y)) for y in years] + [
        (_RESERVE, tr("programme.map.reserve", lang)),
        ("#fd8d3c", tr("programme.map.started", lang)),
        ("#d7301f", tr("programme.map.finished", lang))]
    root.add_child(legend_html(tr("programme.map.legend", lang), items))
    return fmap
