"""Write the hostile-names corpus: a corner of the demo town whose every text field holds
markup, script, formula or line-separator text.

    python tests/hostile_inputs/make_hostile_names.py [FOLDER]

writes GeoJSON layers (EPSG:4326) into ``tests/hostile_inputs/names/`` (or FOLDER):
estates (id, name, street, community), services (name), streets (name; arterial class so
they are barriers for units), gates (name; estate ids), rivers and every constraint layer
(every name/id text). Deterministic: the test suite regenerates it and compares bytes.
Estate ids get hostile text too, but without spaces or commas, which separate ids in
``成员小区`` lists.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "layers" / "demo"
WINDOW = (117.588, 34.392, 117.604, 34.406)  # old town: historic district, river, trees

#: Text that must reach maps and spreadsheets as itself, never as markup, script or formula.
HOSTILE = (
    '"><img src=x onerror=alert(1)>',
    "<!--<script>",
    "</script><script>alert(1)</script>",
    "line\u2028separator\u2029paragraph",
    "it's \"quoted\" \\ back\\slash",
    '=HYPERLINK("http://example.invalid","click")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "${alert(1)}<b>bold</b>&amp;",
)
#: Estate ids: hostile but without spaces or list separators.
HOSTILE_IDS = ("<i>{}", "={}", "+{}", "-{}", "@{}", '"{}\'', "{}\\", "</script>{}")

# Text fields per layer (the demo's Chinese column names).
TEXT_FIELDS = {
    "estates": ("小区名称", "所属街道", "所属社区"),
    "services": ("名称",),
    "streets": ("道路名称",),
    "gates": ("名称",),
    "rivers": ("名称",),
    "historic_districts": ("名称", "保护级别"),
    "historic_buildings": ("名称",),
    "ancient_trees": ("古树编号", "树种"),
    "eco_redline": ("名称",),
    "development_boundary": ("名称",),
    "plan_units": ("单元名称",),
}


def hostile(i: int) -> str:
    """The i-th hostile text, numbered so features stay distinguishable."""
    return f"{HOSTILE[i % len(HOSTILE)]} {i}"


def build() -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the corpus, in EPSG:4326."""
    box = shapely.box(*WINDOW)
    layers = {n: gpd.read_file(DEMO / f"{n}.gpkg").to_crs(4326) for n in TEXT_FIELDS}
    est = layers["estates"]
    est = est[est.geometry.representative_point().within(box)].reset_index(drop=True)
    ids = {old: HOSTILE_IDS[k // 2 % len(HOSTILE_IDS)].format(old) if k % 2 == 0 else old
           for k, old in enumerate(est["小区编号"])}
    est["小区编号"] = est["小区编号"].map(ids)
    layers["estates"] = est
    gates = layers["gates"]
    gates = gates[gates["小区编号"].isin(ids)].copy()
    gates["小区编号"] = gates["小区编号"].map(ids)
    layers["gates"] = gates
    around = box.buffer(0.003)
    services = layers["services"]
    layers["services"] = services[services.geometry.within(around)]
    streets = layers["streets"].clip(around)
    streets = streets[~streets.geometry.is_empty].explode(ignore_index=True)
    # Every other street an arterial: `gis review --barriers streets` names them on links.
    streets["道路等级"] = np.where(np.arange(len(streets)) % 2 == 0, "主干路", "支路")
    layers["streets"] = streets
    count = 0
    for name, fields in TEXT_FIELDS.items():
        g = layers[name].reset_index(drop=True)
        for field in fields:
            g[field] = [hostile(count + k) for k in range(len(g))]
            count += len(g)
        g.geometry = shapely.transform(np.asarray(g.geometry.values), lambda c: np.round(c, 6))
        layers[name] = g
    return layers


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, g in build().items():
        (folder / f"{name}.geojson").write_text(g.to_json(drop_id=True, ensure_ascii=False),
                                                encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "names")
