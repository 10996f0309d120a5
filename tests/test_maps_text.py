"""The maps' own words, in both languages (issue 12 item 5).

The demo run checks the default maps for Chinese in English output
(`test_english_outputs.py`); these check the variants the demo does not draw: the
static legend, straight-line distances, every basemap name, proposed sites, a constraint
layer without names, the print maps' gap legends. What the tool writes (layer names,
titles, legends, the selector's and popups' words) must carry no CJK character in
English, and the Chinese map must say the same things in Chinese.
"""

from __future__ import annotations

import dataclasses
import json
import re

import folium
import matplotlib.text
import pytest
from branca.element import Element

from gis.candidates import estate_candidates
from gis.constraints import read_constraint
from gis.coverage import living_circle
from gis.i18n import tr
from gis.layers import read_estates, read_services, read_streets
from gis.maps import coverage_map, units_map
from gis.maps.cityscale import CategorySelector
from gis.maps.printmap import coverage_print, units_print
from gis.siting import site_facilities
from gis.units import renovation_units

from conftest import DEMO

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def cov(standard):
    return living_circle(read_estates(DEMO / "estates.gpkg"),
                         read_services(DEMO / "services.gpkg", standard=standard), standard,
                         streets=read_streets(DEMO / "streets.gpkg"), progress=False)


@pytest.fixture(scope="module")
def units(standard):
    return renovation_units(read_estates(DEMO / "estates.gpkg"), standard)


def _tool_words(fmap: folium.Map) -> list[str]:
    """Everything on the page the tool words itself: layer names, fixed boxes (title,
    legend), the selector's words, the popups' words; not the data layers' features."""
    words = []
    for child in fmap._children.values():
        if isinstance(child, (folium.GeoJson, folium.TileLayer)):
            words.append(child.layer_name)
        if isinstance(child, CategorySelector):
            config = json.loads(child.config)
            words += list(config["words"].values()) + [r[1] for r in config["overview"]]
    for child in fmap.get_root().html._children.values():
        if isinstance(child, Element):
            words.append(child.render())
    for name, child in fmap.get_root().header._children.items():
        if name.startswith("gis_") and "popup" in name:
            words.append(re.sub(r'"(cats|names)": \[[^\]]*\]', "", child.render()))
    return words


def _variants(cov, standard):
    straight = dataclasses.replace(cov, mode="straight", graph=None)
    siting = site_facilities(cov, estate_candidates(cov.estates), [("clinic", 1)])
    return {
        "static legend": lambda lang: coverage_map(cov, lang=lang, selector=False, areas=False),
        "static legend, one category": lambda lang: coverage_map(
            cov, lang=lang, selector=False, category="clinic", areas=False),
        "straight-line": lambda lang: coverage_map(straight, lang=lang, illustrative=True),
        "straight-line, static legend": lambda lang: coverage_map(straight, lang=lang,
                                                                  selector=False),
        "tianditu": lambda lang: coverage_map(straight, lang=lang, basemap="tianditu",
                                              token="TK"),
        "amap": lambda lang: coverage_map(straight, lang=lang, basemap="amap"),
        "tile url": lambda lang: coverage_map(straight, lang=lang,
                                              basemap="https://tiles.intranet/{z}/{x}/{y}.png"),
        "sites": lambda lang: coverage_map(cov, lang=lang, siting=siting, areas=False),
    }


def test_english_web_map_variants_word_nothing_in_chinese(cov, standard):
    for name, draw in _variants(cov, standard).items():
        en, zh = _tool_words(draw("en")), _tool_words(draw("zh"))
        leaks = [w for w in en if CJK.search(w)]
        assert not leaks, f"{name}: Chinese in the English map: {leaks}"
        assert len(en) == len(zh), name
        # The Chinese map is worded in Chinese (the words differ, not only the data).
        assert any(CJK.search(w) for w in zh), name


def test_the_basemap_and_site_layers_are_named_from_the_catalogue(cov, standard):
    variants = _variants(cov, standard)
    for lang in ("zh", "en"):
        for key, basemap in (("tianditu", "tianditu"), ("amap", "amap"), ("url", "tile url")):
            names = _tool_words(variants[basemap](lang))
            assert tr(f"maps.basemap.{key}", lang) in names
        names = _tool_words(variants["sites"](lang))
        label = standard.category("clinic").label(lang)
        assert tr("maps.siting.sites_layer", lang, category=label, n=1) in names


def test_a_constraint_without_names_is_labelled_in_the_maps_language(units):
    result, assessed = units
    trees = read_constraint(DEMO / "ancient_trees.gpkg", "ancient_tree").layer.drop(
        columns="name")
    for lang, expected in (("en", "Ancient tree zone"), ("zh", "古树名木保护范围")):
        fmap = units_map(result.units, assessed.merge(result.membership, on="estate_id",
                                                      how="left"),
                         result.links, constraints={"ancient_tree": trees}, lang=lang)
        layer = next(c for c in fmap._children.values() if isinstance(c, folium.GeoJson))
        assert layer.layer_name == expected
        tips = {f["properties"]["tip"] for f in layer.data["features"]}
        assert tips == {expected}, tips


def _figure_words(fig) -> list[str]:
    """Title, subtitle and legend of a print map (not the footer, which cites sources)."""
    legend = fig.axes[1].get_legend()
    return [t.get_text() for t in fig.texts] + [legend.get_title().get_text()] + [
        t.get_text() for t in legend.get_texts()]


def test_english_print_maps_word_nothing_in_chinese(cov, units, standard):
    result, assessed = units
    straight = dataclasses.replace(cov, mode="straight", graph=None)
    figures = {
        "overview": lambda lang: coverage_print(cov, lang=lang, paper="A5", illustrative=True),
        "gaps": lambda lang: coverage_print(cov, category="clinic", lang=lang, paper="A5"),
        "straight gaps": lambda lang: coverage_print(straight, category="charging", lang=lang,
                                                     paper="A5", illustrative=True),
        "units": lambda lang: units_print(result.units, assessed, result.links, lang=lang,
                                          paper="A5", illustrative=True),
    }
    for name, draw in figures.items():
        en = _figure_words(draw("en"))
        # Category names come from the standard: its English names are in the English map.
        leaks = [w for w in en if CJK.search(w)]
        assert not leaks, f"{name}: Chinese in the English print map: {leaks}"
        texts = [t.get_text() for t in draw("en").findobj(matplotlib.text.Text)]
        assert any(t.startswith(tr("maps.print.date", "en") + ": ") for t in "\n".join(
            texts).splitlines()), name
