"""Both maps drawn from the hostile-names corpus, loaded in headless Chromium with no
network: no dialog, no script error or console error, every feature drawn (counted
through Leaflet against the data), and every tooltip and popup, opened from the page,
shows the names as literal text (compared with the data the feature carries)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from gis.cli import cli
from test_hostile_outputs import NAMES, hostile_args

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install Debian's chromium (scripts/test does)")
    pytest.skip("chromium not installed (scripts/test installs it)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,800"]

# First in <head>: record every dialog, script error and console error or warning.
PROBE_HEAD = """<script>window.__dialogs = []; window.__errors = [];
['alert', 'confirm', 'prompt', 'print'].forEach(function (k) {
  window[k] = function (m) { window.__dialogs.push(k + ':' + String(m)); }; });
['error', 'warn'].forEach(function (k) { var orig = console[k];
  console[k] = function () { window.__errors.push('console.' + k + ': ' +
    Array.prototype.join.call(arguments, ' ')); return orig.apply(console, arguments); }; });
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); }, true);
</script>"""
# After load: count features by `_kind`, open every tooltip and popup and compare their
# text with the feature's own values; report base64 JSON so no text needs escaping.
PROBE_TAIL = r"""<script>window.addEventListener('load', function () { setTimeout(function () {
  var counts = {}, maps = 0, tips = 0, popups = 0, bad = [];
  // The coverage map's category selector shows one category's services at a time; its
  // first choice (all categories) puts every service on the map to be probed.
  var all = document.querySelector('input[type=radio]');
  if (all && all.onchange) { all.checked = true; all.onchange(); }
  // The HTML parser turns CR into LF (popups are HTML built in the page); no other change.
  function norm(s) { return String(s).replace(/\r\n?/g, '\n'); }
  function expectTip(p) { return p.tip !== undefined ? p.tip : p.label !== undefined ? p.label : p.name; }
  for (var k in window) { var m = window[k];
    if (k.indexOf('map_') !== 0 || !m || !(m instanceof L.Map)) continue;
    maps++;
    m.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (!p || !p._kind) return;
      counts[p._kind] = (counts[p._kind] || 0) + 1;
      // folium binds tooltips to the GeoJSON layer: open one as the mouse would.
      var group = null;
      for (var id in (l._eventParents || {})) {
        if (l._eventParents[id].getTooltip && l._eventParents[id].getTooltip()) group = l._eventParents[id];
      }
      if (group) {
        var at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
        l.fire('mouseover', {latlng: at}, true); tips++;
        var el = group.getTooltip().getElement(), text = el ? el.textContent : null;
        if (text !== String(expectTip(p))) bad.push(['tooltip', p._kind, expectTip(p), text]);
        if (el && el.querySelector('img, script, i, b, iframe')) bad.push(['tooltip markup', p._kind, el.innerHTML]);
        l.fire('mouseout', {latlng: at}, true);
      }
      if (l.getPopup && l.getPopup()) {
        l.openPopup(); popups++;
        var pel = l.getPopup().getElement(), ptext = pel ? norm(pel.textContent) : '';
        var want = p._kind === 'unit' ? [p.unit_id].concat(p.v.filter(function (v) { return v !== ''; }))
                                      : [p.name, p.id];
        want.forEach(function (w) { if (ptext.indexOf(norm(w)) < 0) bad.push(['popup', p._kind, w, ptext]); });
        if (pel && pel.querySelector('img, script, i, iframe')) bad.push(['popup markup', p._kind, pel.innerHTML]);
        l.closePopup();
      }
    });
  }
  var result = {maps: maps, counts: counts, tips: tips, popups: popups, bad: bad.slice(0, 5),
                n_bad: bad.length, dialogs: window.__dialogs, errors: window.__errors,
                injected_img: document.querySelectorAll('img[src="x"]').length,
                legend: document.body.innerText,
                layers: Array.prototype.map.call(document.querySelectorAll('.leaflet-control-layers-overlays label'),
                                                 function (e) { return e.textContent; }).join('\n'),
                requests: performance.getEntriesByType('resource').map(function (r) { return r.name; })};
  var bytes = new TextEncoder().encode(JSON.stringify(result)), bin = '';
  bytes.forEach(function (b) { bin += String.fromCharCode(b); });
  document.body.setAttribute('data-probe', btoa(bin));
}, 300); });</script>"""


def probe(html_path: Path, tmp: Path) -> dict:
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<head>") == 1 and page.count("</body>") == 1
    page = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_TAIL + "</body>", 1)
    probed = tmp / f"probe_{html_path.name}"
    probed.write_text(page, encoding="utf-8")
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=15000",
         "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'data-probe="([A-Za-z0-9+/=]*)"', out.stdout)
    assert found, f"page did not finish loading (a name broke the script?): {out.stderr[-2000:]}"
    return json.loads(base64.b64decode(found.group(1)).decode("utf-8"))


HOSTILE_LABEL = '"><img src=x onerror=alert(1)><!--<script>'


def hostile_standard(folder: Path) -> Path:
    """The default standard with markup in category and standard names (a TOML file is
    data too: its names reach legends, layer control and popups)."""
    text = (ROOT / "gis" / "standards" / "lianyungang_15min.toml").read_text(encoding="utf-8")
    label = HOSTILE_LABEL.replace('"', '\\"')
    for name in ("公共厕所", "充电设施"):
        text = text.replace(f'name_zh = "{name}"', f'name_zh = "{label}{name}"')
    path = folder / "hostile_standard.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_maps(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile_maps")
    runner = CliRunner()
    for kind in ("coverage", "review"):
        result = runner.invoke(cli, hostile_args(kind, out / kind), catch_exceptions=False)
        assert result.exit_code == 0, result.output
    std = hostile_standard(out)
    result = runner.invoke(cli, hostile_args("coverage", out / "std", "--standard", str(std)),
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("page", ["coverage/coverage_map.html", "review/units_map.html",
                                  "std/coverage_map.html"])
def test_no_markup_from_the_data_in_the_page_source(hostile_maps, page):
    html = (hostile_maps / page).read_text(encoding="utf-8")
    for raw in ("<img src=x", "<!--<script>", "<script>alert(1)", "<i>XQ", "\u2028", "<b>bold"):
        assert raw not in html, raw


def test_hostile_category_names_stay_text(hostile_maps, tmp_path):
    result = probe(hostile_maps / "std" / "coverage_map.html", tmp_path)
    clean(result)
    assert result["counts"]["estate"] == len(gpd.read_file(NAMES / "estates.geojson"))
    assert result["popups"] == result["counts"]["estate"]
    assert HOSTILE_LABEL + "公共厕所" in result["legend"]
    assert HOSTILE_LABEL + "充电设施" in result["layers"]


def clean(result: dict) -> None:
    assert result["maps"] == 1
    assert result["dialogs"] == [], result["dialogs"]
    assert result["errors"] == [], result["errors"]
    assert result["injected_img"] == 0
    assert [r for r in result["requests"] if r.startswith("http")] == []
    assert result["n_bad"] == 0, result["bad"]


def test_coverage_map_shows_hostile_names_as_text(hostile_maps, tmp_path):
    result = probe(hostile_maps / "coverage" / "coverage_map.html", tmp_path)
    clean(result)
    gpkg = hostile_maps / "coverage" / "coverage.gpkg"
    estates = gpd.read_file(gpkg, layer="estates")
    services = gpd.read_file(gpkg, layer="services")
    assert result["counts"]["estate"] == len(estates) == len(gpd.read_file(NAMES / "estates.geojson"))
    assert result["counts"]["service"] == len(services) > 100
    # Every estate and service had its tooltip opened, every estate its popup.
    assert result["tips"] == len(estates) + len(services)
    assert result["popups"] == len(estates)


def test_units_map_shows_hostile_names_as_text(hostile_maps, tmp_path):
    result = probe(hostile_maps / "review" / "units_map.html", tmp_path)
    clean(result)
    gpkg = hostile_maps / "review" / "units.gpkg"
    layers = {n: gpd.read_file(gpkg, layer=n) for n in ("units", "estates", "links", "conflicts")}
    counts = result["counts"]
    assert counts["unit"] == len(layers["units"]) > 10
    assert counts["estate"] == len(layers["estates"])
    assert counts["link"] == len(layers["links"]) > 5
    assert counts["conflict"] == len(layers["conflicts"]) > 5
    constraint_files = ["historic_districts", "historic_buildings", "ancient_trees", "eco_redline",
                        "development_boundary", "plan_units"]
    assert counts["constraint"] == sum(len(gpd.read_file(NAMES / f"{f}.geojson"))
                                       for f in constraint_files)
    assert result["tips"] == sum(counts.values())
    assert result["popups"] == counts["unit"]


def test_old_escaping_would_have_failed(hostile_maps, tmp_path):
    """The probe can fail: folium's own tooltip (innerHTML) on the same page runs the
    injected markup, and the probe sees it."""
    page = (hostile_maps / "coverage" / "coverage_map.html").read_text(encoding="utf-8")
    broken = page.replace('div.textContent = v === null || v === undefined ? "" : String(v);',
                          'div.innerHTML = String(v);')
    assert broken != page
    path = tmp_path / "broken.html"
    path.write_text(broken, encoding="utf-8")
    result = probe(path, tmp_path)
    assert result["n_bad"] > 0 or result["dialogs"] or result["injected_img"] > 0
