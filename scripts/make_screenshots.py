"""Make the README's pictures of the print maps and of the web map at city scale.

Run from the repository root (needs Debian's chromium for the web-map screenshot)::

    python scripts/make_screenshots.py            # demo print maps + 10,000-estate city
    python scripts/make_screenshots.py --estates 2000

Writes into docs/:

* ``print_coverage_overview.png``, ``print_gaps_clinic.png``, ``print_units.png``: the
  demo's print maps (A4, shown at 150 dpi; `gis map … --format png` writes 300 dpi);
* ``city_web_map.png``: the coverage web map of the seeded synthetic city of
  ``bench/bench_maps.py`` (10,000 estates by default) at the zoom that shows the whole
  city, with the offline data basemap (every 10th street an arterial, every 5th a
  secondary road, so the basemap has classes to draw).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--host-resolver-rules=MAP * ~NOTFOUND"]


def demo_prints(docs: Path) -> None:
    import geopandas as gpd

    import gis.coverage
    import gis.layers
    import gis.standards
    from gis.maps.printmap import coverage_print, save_figure, units_print

    demo = ROOT / "layers" / "demo"
    std = gis.standards.load_standard()
    est = gis.layers.read_estates(demo / "estates.gpkg")
    cov = gis.coverage.living_circle(
        est, gis.layers.read_services(demo / "services.gpkg", std), std,
        streets=gis.layers.read_streets(demo / "streets.gpkg"),
        gates=gis.layers.read_gates(demo / "gates.gpkg", est), progress=False)
    save_figure(coverage_print(cov, illustrative=True), docs / "print_coverage_overview.png",
                dpi=150)
    save_figure(coverage_print(cov, category="clinic", illustrative=True),
                docs / "print_gaps_clinic.png", dpi=150)
    with tempfile.TemporaryDirectory() as tmp:
        from click.testing import CliRunner

        from gis.cli import cli

        result = CliRunner().invoke(cli, ["demo", "--out", tmp, "-q"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        gpkg = Path(tmp) / "review" / "units.gpkg"
        layers = {n: gpd.read_file(gpkg, layer=n)
                  for n in ("units", "estates", "links", "conflicts")}
    save_figure(units_print(layers["units"], layers["estates"], layers["links"],
                            conflicts=layers["conflicts"], illustrative=True),
                docs / "print_units.png", dpi=150)


def city_map(docs: Path, n_estates: int) -> None:
    from bench.bench_maps import make_inputs
    from gis.coverage import living_circle
    from gis.maps import coverage_map, write_map
    from gis.standards import load_standard

    city, estates = make_inputs(n_estates, 4 * n_estates, seed=0)
    streets = city.streets.copy()
    # Classes for the basemap: a street on every 10th grid line is an arterial, on every
    # 5th a secondary road (the synthetic streets carry none).
    mid = shapely.get_coordinates(streets.geometry.interpolate(0.5, normalized=True))
    first = shapely.get_coordinates(shapely.get_point(streets.geometry.values, 0))
    last = shapely.get_coordinates(shapely.get_point(streets.geometry.values, -1))
    vertical = np.abs(last[:, 0] - first[:, 0]) < np.abs(last[:, 1] - first[:, 1])
    along = np.where(vertical, mid[:, 0], mid[:, 1])
    line = np.round((along - along.min()) / city.spacing_m).astype(int)
    streets["road_class"] = np.where(line % 10 == 0, "主干路", np.where(line % 5 == 0, "次干路", "支路"))
    cov = living_circle(estates, city.services, load_standard(), streets=streets, progress=False)
    fmap = coverage_map(cov, data_basemap=True, title="15分钟生活圈设施覆盖（合成城市，10,000 个小区）"
                        if n_estates == 10_000 else None)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is needed for the web-map screenshot (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        html = write_map(fmap, Path(tmp) / "city.html")
        subprocess.run([chromium, *FLAGS, "--window-size=1600,1000", f"--user-data-dir={tmp}/p",
                        "--virtual-time-budget=60000", f"--screenshot={docs / 'city_web_map.png'}",
                        html.as_uri()], check=True, capture_output=True, timeout=600)
    print(f"{len(estates):,} estates, {len(city.services):,} services, {len(streets):,} streets")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--estates", type=int, default=10_000)
    p.add_argument("--skip-city", action="store_true")
    args = p.parse_args()
    docs = ROOT / "docs"
    demo_prints(docs)
    if not args.skip_city:
        city_map(docs, args.estates)
    print("wrote", ", ".join(str(p.relative_to(ROOT)) for p in sorted(docs.glob("print_*.png"))),
          "docs/city_web_map.png")


if __name__ == "__main__":
    main()
