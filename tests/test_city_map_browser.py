"""The coverage web map at city scale, in headless Chromium: the category selector shows
one category's services and colours its gaps, markers grow with the zoom, estates stay
above the service areas, and the selector shows names from the standard as text."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

# demo_maps is the shared fixture: imported, the demo runs once for both modules' tests.
from test_maps_browser import (  # noqa: F401
    CHROMIUM, FLAGS, PROBE_HEAD, demo_maps, external_links)

pytestmark = pytest.mark.browser

# Walk the selector: every radio in turn, counting services on the map and estates drawn
# in each gap colour; then zoom in and out and read a marker's radius; then switch a
# service area on and compare the SVG order of an area path and an estate path.
PROBE_SELECTOR = """<script>window.addEventListener('load', function () { setTimeout(function () {
  var map = null; for (var k in window) if (k.indexOf('map_') === 0 && window[k] instanceof L.Map) map = window[k];
  function count() { var c = {service: 0, gap: 0, beyond: 0, covered: 0, area: 0, kinds: {}}, radius = null;
    map.eachLayer(function (l) { var p = l.feature && l.feature.properties; if (!p) return;
      c.kinds[p._kind] = (c.kinds[p._kind] || 0) + 1;
      if (p._kind === 'service') { c.service++; radius = l.getRadius(); }
      if (p._kind === 'area') c.area++;
      if (p._kind === 'estate') { var f = l.options.fillColor;
        if (f === '#fc8d59') c.gap++; else if (f === '#d73027') c.beyond++; else if (f === '#1a9850') c.covered++; } });
    c.radius = radius; return c; }
  var box = document.querySelector('.gis-selector'), out = {first: count(), steps: [], errors: window.__errors};
  out.checked = box.querySelector('input[type=radio]:checked').parentNode.textContent;
  var radios = box.querySelectorAll('input[type=radio]');
  for (var i = 0; i < radios.length; i++) {
    var r = box.querySelectorAll('input[type=radio]')[i]; r.checked = true; r.dispatchEvent(new Event('change'));
    var c = count(); c.label = box.querySelectorAll('input[type=radio]')[i].parentNode.textContent; out.steps.push(c); }
  var last = box.querySelectorAll('input[type=radio]'); last[last.length - 1].checked = true;
  last[last.length - 1].dispatchEvent(new Event('change'));
  map.setView(map.getCenter(), 17, {animate: false}); out.r17 = count().radius;
  map.setView(map.getCenter(), 11, {animate: false}); out.r11 = count().radius;
  var area = box.querySelector('input[type=checkbox]');
  if (area) { area.checked = true; area.dispatchEvent(new Event('change'));
    var paths = Array.prototype.slice.call(document.querySelectorAll('.leaflet-overlay-pane path'));
    var ai = -1, ei = -1; map.eachLayer(function (l) { var p = l.feature && l.feature.properties;
      if (p && l._path) { var i = paths.indexOf(l._path);
        if (p._kind === 'area' && ai < 0) ai = i; if (p._kind === 'estate' && ei < 0) ei = i; } });
    out.area_index = ai; out.estate_index = ei; out.areas_on = count().area; }
  out.selector_imgs = box.querySelectorAll('img').length;
  out.requests = performance.getEntriesByType('resource').map(function (r) { return r.name; });
  document.body.setAttribute('data-probe', JSON.stringify(out));
}, 300); });</script>"""


def run_probe(html_path: Path, tmp: Path) -> dict:
    page = html_path.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace(
        "</body>", PROBE_SELECTOR + "</body>", 1)
    probed = tmp / f"selector_{html_path.name}"
    probed.write_text(page, encoding="utf-8")
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=8000",
         "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'data-probe="([^"]*)"', out.stdout)
    assert found, f"page did not finish loading: {out.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))


def test_selector_shows_one_category_and_its_gaps(demo_maps, tmp_path):
    from gis.layers import read_services
    from gis.standards import load_standard

    from conftest import DEMO

    html_path = demo_maps / "coverage_map.html"
    assert external_links(html_path.read_text(encoding="utf-8")) == []
    std = load_standard()
    svc = read_services(DEMO / "services.gpkg", std)
    est = gpd.read_file(demo_maps / "coverage.gpkg", layer="estates")
    result = run_probe(html_path, tmp_path)
    assert result["errors"] == []
    assert [r for r in result["requests"] if r.startswith("http")] == []
    steps = result["steps"]
    assert len(steps) == 1 + len(std.categories)
    # "All": every service, estates by categories missing (none in the gap colours' set
    # but by coincidence of colour, so only the services are compared).
    assert steps[0]["service"] == len(svc)
    for c, step in zip(std.categories, steps[1:]):
        assert step["label"].strip().startswith(c.name_zh)
        assert step["service"] == int((svc["category"] == c.key).sum())
        d = est[f"dist_m_{c.key}"].to_numpy(dtype=float)
        ok = est[f"covered_{c.key}"].astype(bool).to_numpy()
        assert step["covered"] == int(ok.sum())
        assert step["gap"] == int((~ok & ~np.isnan(d)).sum())
        assert step["beyond"] == int((~ok & np.isnan(d)).sum())
    # Markers grow with the zoom: 7 px close in, 3 px at city zoom.
    assert result["r17"] == 7 and result["r11"] == 3
    # A service area switched on is drawn beneath the estates.
    assert result["areas_on"] == 1 and 0 <= result["area_index"] < result["estate_index"]


def test_selector_keeps_standard_names_as_text(tmp_path):
    """A category name from a user's standard file with markup stays text."""
    from conftest import random_town
    from gis.coverage import living_circle
    from gis.maps import coverage_map, write_map
    from gis.standards import load_standard

    std = load_standard()
    evil = "<img src=x onerror=window.__pwned=1>"
    cats = tuple(dataclasses.replace(c, name_zh=evil + c.name_zh) if i == 0 else c
                 for i, c in enumerate(std.categories))
    std = dataclasses.replace(std, categories=cats)
    streets, estates, services = random_town(3)
    cov = living_circle(estates, services, std, streets=streets, progress=False)
    html_path = write_map(coverage_map(cov, data_basemap=True), tmp_path / "evil.html")
    config = re.search(r"C = (\{.*?\});\n", html_path.read_text(encoding="utf-8")).group(1)
    assert "</" not in config and json.loads(config)["categories"][0]["label"].startswith(evil)
    result = run_probe(html_path, tmp_path)
    # (The layer control's own names are folium's, escaped by the map modules' owners.)
    assert result["errors"] == [] and result["selector_imgs"] == 0
    # The data basemap: the boundary (the data's extent) and the streets, one feature per
    # road class present (the random town's streets have none: one).
    assert result["first"]["kinds"].get("boundary") == 1
    assert result["first"]["kinds"].get("street") == 1
    assert any(s["label"].strip().startswith(evil) for s in result["steps"])
