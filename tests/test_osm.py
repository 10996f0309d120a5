"""OpenStreetMap inputs: a hand-written .osm XML (osmnx) and pyrosm's real test.osm.pbf."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gis.coverage import living_circle
from gis.errors import InputError
from gis.layers import read_estates, read_services, read_streets

pyrosm = pytest.importorskip("pyrosm")


def write_osm_xml(path: Path) -> Path:
    """3×3 street grid (200 m-ish), one residential area, a clinic and a toilet."""
    nodes, ways, nid, grid = [], [], 1, {}
    for i in range(3):
        for j in range(3):
            grid[i, j] = nid
            nodes.append((nid, 117.60 + i * 0.002, 34.40 + j * 0.002, {}))
            nid += 1
    for j in range(3):
        ways.append((100 + j, [grid[i, j] for i in range(3)], {"highway": "residential"}))
    for i in range(3):
        ways.append((110 + i, [grid[i, j] for j in range(3)], {"highway": "footway"}))
    ways.append((120, [grid[0, 0], grid[2, 2]], {"highway": "motorway"}))  # not walkable
    ring = []
    for x, y in [(117.6005, 34.4005), (117.6015, 34.4005), (117.6015, 34.4015), (117.6005, 34.4015)]:
        nodes.append((nid, x, y, {}))
        ring.append(nid)
        nid += 1
    ways.append((130, [*ring, ring[0]], {"landuse": "residential", "name": "幸福小区"}))
    nodes.append((nid, 117.6041, 34.4001, {"amenity": "clinic", "name": "卫生站"}))
    nodes.append((nid + 1, 117.6001, 34.4039, {"amenity": "toilets"}))

    def tags(t: dict) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())

    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    xml += [f'<node id="{n}" lat="{y}" lon="{x}" version="1">{tags(t)}</node>' for n, x, y, t in nodes]
    xml += [f'<way id="{w}" version="1">' + "".join(f'<nd ref="{r}"/>' for r in nds) + tags(t)
            + "</way>" for w, nds, t in ways]
    xml.append("</osm>")
    path.write_text("\n".join(xml), encoding="utf-8")
    return path


def test_osm_xml_through_osmnx(tmp_path, standard):
    path = write_osm_xml(tmp_path / "town.osm")
    streets = read_streets(path)
    assert "motorway" not in set(streets["road_class"])
    est = read_estates(path)
    assert est["name"].tolist() == ["幸福小区"] and est["estate_id"].tolist() == ["way130"]
    svc = read_services(path, standard)
    assert sorted(svc["category"]) == ["clinic", "toilet"]
    cov = living_circle(est, svc, standard, streets=streets)
    row = cov.estates.iloc[0]
    # The estate is 50 m inside the grid cell; both facilities lie off grid corners:
    # distances are network distances, so at least the straight-line distance.
    assert 300 < row["dist_m_clinic"] < 900 and 150 < row["dist_m_toilet"] < 600
    assert row["nearest_clinic"] == "卫生站"


def test_real_pbf_extract(standard):
    path = pyrosm.get_data("test_pbf")
    with pytest.warns(UserWarning, match="4 invalid polygons repaired"):
        est = read_estates(path)
    assert any("1 collapsed OpenStreetMap areas" in n for n in est.attrs["notes"])
    svc = read_services(path, standard)
    streets = read_streets(path)
    assert len(est) == 24 and len(streets) == 237
    assert (svc["category"] == "parking").sum() == 12
    cov = living_circle(est, svc, standard, streets=streets)
    dist = cov.estates["dist_m_parking"]
    assert dist.notna().sum() >= 20 and (dist.dropna() >= 0).all()
    assert cov.estates["covered_parking"].sum() == int((dist <= 1000).sum()) > 0
    assert np.isnan(cov.estates["dist_m_clinic"]).all()  # the town has no clinic in OSM


def test_osm_file_without_the_role(tmp_path):
    path = tmp_path / "empty.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="34.4" lon="117.6"/></osm>')
    with pytest.raises(InputError, match="empty.osm"):
        read_estates(path)
