"""Every map loads from disk in headless Chromium with no network, no JavaScript errors,
the expected number of features drawn (counted through Leaflet) and a non-blank picture."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import DEMO
from gis.cli import cli

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install Debian's chromium (scripts/test does)")
    pytest.skip("chromium not installed (scripts/test installs it)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,800"]

# Installed first in <head>: remembers every error before the page's own scripts run.
PROBE_HEAD = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""
# Run after load: count features by the `_kind` each layer tags them with.
PROBE_TAIL = """<script>window.addEventListener('load', function () { setTimeout(function () {
  var counts = {}, maps = 0, popup = null;
  for (var k in window) { var m = window[k];
    if (k.indexOf('map_') === 0 && m && m instanceof L.Map) { maps++;
      m.eachLayer(function (l) { var p = l.feature && l.feature.properties;
        if (p && p._kind) { counts[p._kind] = (counts[p._kind] || 0) + 1;
          if (popup === null && l.getPopup && l.getPopup()) {
            l.openPopup(); var c = l.getPopup().getContent();
            popup = typeof c === 'function' ? c(l) : String(c); } } }); } }
  var requests = performance.getEntriesByType('resource').map(function (r) { return r.name; });
  document.body.setAttribute('data-probe', JSON.stringify(
    {maps: maps, counts: counts, errors: window.__errors, requests: requests, popup: popup}));
}, 300); });</script>"""


def probe(html_path: Path, tmp: Path) -> dict:
    page = html_path.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_TAIL + "</body>", 1)
    probed = tmp / f"probe_{html_path.name}"
    probed.write_text(page, encoding="utf-8")
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=8000",
         "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'data-probe="([^"]*)"', out.stdout)
    assert found, f"page did not finish loading: {out.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(html_path: Path, tmp: Path) -> np.ndarray:
    from PIL import Image

    png = tmp / f"{html_path.stem}.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile2'}",
                    "--virtual-time-budget=8000", f"--screenshot={png}", html_path.as_uri()],
                   capture_output=True, timeout=120, check=False)
    return np.asarray(Image.open(png).convert("RGB"))


def external_links(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)


@pytest.fixture(scope="module")
def demo_maps(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def counts_of(layer: str) -> int:
    import geopandas as gpd

    return len(gpd.read_file(DEMO / f"{layer}.gpkg"))


def selected_category(folder: Path) -> str:
    """The category the coverage map opens with, recomputed from coverage.gpkg."""
    import geopandas as gpd

    est = gpd.read_file(folder / "coverage.gpkg", layer="estates")
    hh = est["households"].fillna(0)
    keys = [c.removeprefix("covered_") for c in est.columns if c.startswith("covered_")]
    return max(keys, key=lambda k: (hh[~est[f"covered_{k}"].astype(bool)].sum(), -keys.index(k)))


def services_of(category: str | None = None) -> int:
    from gis.layers import read_services
    from gis.standards import load_standard

    svc = read_services(DEMO / "services.gpkg", load_standard())
    return len(svc) if category is None else int((svc["category"] == category).sum())


def test_coverage_map_offline(demo_maps, tmp_path):
    html_path = demo_maps / "coverage_map.html"
    assert external_links(html_path.read_text(encoding="utf-8")) == []
    result = probe(html_path, tmp_path)
    assert result["errors"] == [] and result["maps"] == 1
    assert [r for r in result["requests"] if r.startswith("http")] == []
    assert result["counts"]["estate"] == counts_of("estates") == 150
    # One category's services at a time: the one whose gaps hold the most households.
    assert result["counts"]["service"] == services_of(selected_category(demo_maps))
    # Popups are built in the page: the first estate's must name every category.
    assert result["popup"] and "户数" in result["popup"]
    assert all(word in result["popup"] for word in ("便民服务中心", "公共厕所", "充电设施", " m"))
    image = screenshot(html_path, tmp_path)
    assert image.std() > 20 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50


def test_units_map_offline(demo_maps, tmp_path):
    import geopandas as gpd

    html_path = demo_maps / "review" / "units_map.html"
    assert external_links(html_path.read_text(encoding="utf-8")) == []
    result = probe(html_path, tmp_path)
    assert result["errors"] == [] and result["maps"] == 1
    assert [r for r in result["requests"] if r.startswith("http")] == []
    gpkg = demo_maps / "review" / "units.gpkg"
    assert result["counts"]["unit"] == len(gpd.read_file(gpkg, layer="units"))
    assert result["counts"]["link"] == len(gpd.read_file(gpkg, layer="links"))
    assert result["counts"]["estate"] == 150
    assert result["counts"]["conflict"] == len(gpd.read_file(gpkg, layer="conflicts"))
    # Popups are built in the page from each unit's values: a unit's shows its id,
    # totals and members.
    units = gpd.read_file(gpkg, layer="units")
    assert result["popup"] and any(u in result["popup"] for u in units["unit_id"])
    assert all(word in result["popup"] for word in ("户数", "成员小区", "建成年份"))
    image = screenshot(html_path, tmp_path)
    assert image.std() > 20


def test_cdn_mode_links_out_and_amap_shifts_data(demo_maps, tmp_path):
    runner = CliRunner()
    cdn = tmp_path / "cdn.html"
    amap = tmp_path / "amap.html"
    plain = tmp_path / "plain.html"
    for extra, path in (["--cdn"], cdn), (["--basemap", "amap"], amap), ([], plain):
        r = runner.invoke(cli, ["map", "coverage", "--coverage", str(demo_maps), "--out", str(path),
                                "-q", *extra], catch_exceptions=False)
        assert r.exit_code == 0, r.output
    assert any("leaflet" in u for u in external_links(cdn.read_text(encoding="utf-8")))
    assert cdn.stat().st_size < plain.stat().st_size

    def first_coordinate(path: Path) -> tuple[float, float]:
        m = re.search(r'"coordinates": \[\[\[(-?[\d.]+), (-?[\d.]+)\]', path.read_text(encoding="utf-8"))
        return float(m.group(1)), float(m.group(2))

    (x0, y0), (x1, y1) = first_coordinate(plain), first_coordinate(amap)
    # GCJ-02 sits a few hundred metres off WGS84 here; the data must move with the tiles.
    assert 100 < np.hypot((x1 - x0) * 92_000, (y1 - y0) * 111_000) < 1000
    assert "autonavi" in amap.read_text(encoding="utf-8")
