"""The siting map in headless Chromium: no JavaScript error, one marker per proposed site,
the service areas drawn, and hostile candidate names shown as text in the tooltips."""

from __future__ import annotations

import json
import re
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from conftest import DEMO
from gis.cli import cli
from test_maps_browser import CHROMIUM, FLAGS, PROBE_HEAD

pytestmark = pytest.mark.browser

# After load: count `_kind`s and collect what each site tooltip shows as HTML.
TAIL = """<script>window.addEventListener('load', function () { setTimeout(function () {
  var counts = {}, tips = [];
  for (var k in window) { var m = window[k];
    if (k.indexOf('map_') === 0 && m && m instanceof L.Map) {
      m.eachLayer(function (l) { var p = l.feature && l.feature.properties;
        if (p && p._kind) { counts[p._kind] = (counts[p._kind] || 0) + 1;
          if (p._kind === 'site' && l.getTooltip()) tips.push(String(l.getTooltip().getContent()));
        } }); } }
  document.body.setAttribute('data-probe', JSON.stringify(
    {counts: counts, tips: tips, errors: window.__errors, scripts: document.scripts.length}));
}, 300); });</script>"""


def test_siting_map_draws_sites_with_escaped_names(tmp_path):
    from gis.crs import metric_crs

    est = gpd.read_file(DEMO / "estates.gpkg")
    crs = metric_crs(est)
    streets = gpd.read_file(DEMO / "streets.gpkg").to_crs(crs)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(
        streets.geometry.values[::5], 0.5, normalized=True))
    names = [f"<img src=x onerror=alert({i})>&" for i in range(len(xy))]
    path = tmp_path / "cands.gpkg"
    gpd.GeoDataFrame({"candidate_id": [f"D{i}" for i in range(len(xy))], "name": names},
                     geometry=shapely.points(xy), crs=crs).to_file(path, driver="GPKG")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "siting", "--estates", str(DEMO / "estates.gpkg"), "--services",
        str(DEMO / "services.gpkg"), "--streets", str(DEMO / "streets.gpkg"),
        "--candidates", str(path), "--category", "charging", "--k", "3", "--category",
        "clinic", "--k", "2", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    page = (out / "siting_map.html").read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", TAIL + "</body>", 1)
    probed = tmp_path / "probe.html"
    probed.write_text(page, encoding="utf-8")
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=8000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'data-probe="([^"]*)"', run.stdout)
    assert found, run.stderr[-2000:]
    # The DOM dump escapes the attribute once (&quot; &amp;); what is left is the HTML.
    got = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert got["errors"] == []
    assert got["counts"]["site"] == len(sites) >= 2
    assert got["counts"]["site_area"] == sites["category"].nunique()
    # Tooltip HTML holds the names escaped: the <img> is text, not an element.
    assert len(got["tips"]) == len(sites)
    for tip in got["tips"]:
        assert "<img" not in tip and "&lt;img src=x onerror=alert(" in tip and "&gt;&amp;" in tip
    assert np.all([n.startswith("<img") for n in sites["name"]])
