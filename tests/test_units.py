"""Renovation units: caps never exceeded, every unit connected, order-free, decisions stick."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings, strategies as st

from conftest import METRIC
from gis.adjacency import neighbour_links
from gis.decisions import read_decisions
from gis.errors import InputError
from gis.units import UnitCaps, form_units, unit_id


def grid_estates(seed: int, nx_: int = 8, ny_: int = 6, gap_p: float = 0.3) -> gpd.GeoDataFrame:
    """Blocks on a grid, some touching, some 0.3 m apart, some across a 30 m road."""
    rng = np.random.default_rng(seed)
    xs = np.cumsum(rng.uniform(40, 80, nx_) + rng.choice([0, 0.3, 30], nx_, p=[0.5, gap_p, 0.5 - gap_p]))
    ys = np.cumsum(rng.uniform(40, 80, ny_) + rng.choice([0, 0.3, 30], ny_, p=[0.5, gap_p, 0.5 - gap_p]))
    w = np.diff(np.concatenate([[0], xs]))
    h = np.diff(np.concatenate([[0], ys]))
    geoms, ids = [], []
    for i in range(nx_):
        for j in range(ny_):
            x1, y1 = xs[i], ys[j]
            geoms.append(shapely.box(x1 - w[i] + 0.0, y1 - h[j], x1, y1))
            ids.append(f"E{i:02d}{j:02d}")
    est = gpd.GeoDataFrame({"estate_id": ids, "name": [f"小区{k}" for k in ids]},
                           geometry=geoms, crs=METRIC)
    est["geometry"] = est.geometry.translate(500_000, 3_800_000)
    # Shrink by a random setback so some neighbours are apart, none overlap.
    est["geometry"] = est.geometry.buffer(-rng.choice([0.0, 0.0, 0.15, 3.0], len(est)), join_style="mitre")
    est["households"] = rng.integers(30, 900, len(est)).astype(float)
    est["floor_area_m2"] = est["households"] * rng.uniform(60, 110, len(est))
    est["build_year"] = rng.integers(1975, 2001, len(est))
    return est


def check_units(est, links, result, caps):
    graph = nx.Graph()
    graph.add_nodes_from(est["estate_id"])
    kept = links[links["linked"]]
    graph.add_edges_from(zip(kept["estate_a"], kept["estate_b"]))
    members = result.membership
    assert sorted(members["estate_id"]) == sorted(est["estate_id"])
    info = est.set_index("estate_id")
    for uid, group in members.groupby("unit_id")["estate_id"]:
        ids = list(group)
        assert uid == unit_id(ids)
        assert nx.is_connected(graph.subgraph(ids)), uid
        if len(ids) > 1:
            assert caps.fits(info.loc[ids, "households"].sum(),
                             info.loc[ids, "floor_area_m2"].sum(), len(ids)), uid
    # Each connected group that fits is a single unit.
    for comp in nx.connected_components(graph):
        comp = sorted(comp)
        if caps.fits(info.loc[comp, "households"].sum(), info.loc[comp, "floor_area_m2"].sum(), len(comp)):
            assert members.set_index("estate_id").loc[comp, "unit_id"].nunique() == 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), max_hh=st.sampled_from([None, 500.0, 1200.0, 3000.0]),
       max_n=st.sampled_from([None, 2, 3, 6]), max_fa=st.sampled_from([None, 60_000.0, 200_000.0]))
def test_caps_are_never_exceeded_and_units_are_connected(seed, max_hh, max_n, max_fa):
    est = grid_estates(seed)
    links = neighbour_links(est)
    caps = UnitCaps(max_households=max_hh, max_floor_area_m2=max_fa, max_estates=max_n)
    result = form_units(est, links, caps=caps)
    check_units(est, links, result, caps)
    units = result.units.set_index("unit_id")
    assert units["households"].sum() == pytest.approx(est["households"].sum())
    lone_big = units[(units["n_estates"] == 1) & units["flags"].str.contains("超出")]
    for uid in lone_big.index:
        assert not caps.fits(units.loc[uid, "households"], units.loc[uid, "floor_area_m2"], 1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), perm=st.integers(0, 10_000))
def test_units_do_not_depend_on_row_order(seed, perm):
    est = grid_estates(seed)
    caps = UnitCaps(max_households=1500.0, max_estates=4)
    a = form_units(est, neighbour_links(est), caps=caps).membership
    shuffled = est.iloc[np.random.default_rng(perm).permutation(len(est))]
    b = form_units(shuffled, neighbour_links(shuffled), caps=caps).membership
    pd.testing.assert_frame_equal(a, b)


def test_min_households_merges_small_units():
    est = grid_estates(3)
    links = neighbour_links(est)
    caps = UnitCaps(max_households=1500.0, max_estates=3, min_households=700.0)
    result = form_units(est, links, caps=caps)
    check_units(est, links, result, caps)
    units = result.units
    small = units[units["households"] < 700]
    # Every small unit left alone says why, and really has no neighbour it could join.
    assert small["flags"].str.contains("低于最小户数").all()


def write_decisions(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return read_decisions(path)


def test_decisions_are_applied_and_reported(tmp_path):
    est = grid_estates(5)
    links = neighbour_links(est)
    caps = UnitCaps(max_households=2500.0, max_estates=6)
    first = form_units(est, links, caps=caps)
    joint = first.units[first.units["n_estates"] >= 3].sort_values("unit_id")
    assert len(joint) >= 3
    approve, reject, split = joint["unit_id"].iloc[:3]
    approve_members = first.units.set_index("unit_id").loc[approve, "members"]
    by_id = first.units.set_index("unit_id")["members"]
    inside = set("、".join(by_id.loc[[approve, reject, split]]).split("、"))
    free = links[links["linked"] & ~links["estate_a"].isin(inside) & ~links["estate_b"].isin(inside)]
    a_link = free.iloc[0]
    decisions = write_decisions(tmp_path / "d.csv", [
        {"unit_id": approve, "成员小区": approve_members, "决定": "通过", "说明": "同意"},
        {"unit_id": reject, "决定": "否决", "说明": "产权单位不同意"},
        {"unit_id": split, "决定": "拆分", "说明": "规模过大"},
        {"estate_a": a_link["estate_b"], "estate_b": a_link["estate_a"], "决定": "reject"},
        {"unit_id": "U-NOPE+1-000000", "决定": "通过"},
        {"unit_id": joint["unit_id"].iloc[0], "决定": ""},  # undecided rows are skipped
    ])
    second = form_units(est, links, caps=caps, decisions=decisions)
    units = second.units.set_index("unit_id")
    assert units.loc[approve, "decision"] == "approve"
    rejected = first.units.set_index("unit_id").loc[reject, "members"].split("、")
    for m in rejected:
        assert units.loc[unit_id([m]), "decision"] == "reject"
    split_members = set(first.units.set_index("unit_id").loc[split, "members"].split("、"))
    parts = units[units["decision"] == "split"]
    assert len(parts) >= 2 and set("、".join(parts["members"]).split("、")) == split_members
    status = second.decisions.set_index("row")["status"]
    assert (status.loc[[2, 3, 4, 5]] == "applied").all()
    assert status.loc[6].startswith("no longer matches")
    pair = tuple(sorted((a_link["estate_a"], a_link["estate_b"])))
    row = second.links.set_index(["estate_a", "estate_b"]).loc[pair]
    assert row["decision"] == "reject"
    # Stable: the same decisions give the same units again.
    third = form_units(est, links, caps=caps, decisions=decisions)
    pd.testing.assert_frame_equal(second.membership, third.membership)


def test_approved_unit_kept_only_while_members_qualify(tmp_path):
    est = grid_estates(5)
    links = neighbour_links(est)
    first = form_units(est, links, caps=UnitCaps(max_households=2500.0, max_estates=6))
    unit = first.units[first.units["n_estates"] >= 2].iloc[0]
    decisions = write_decisions(tmp_path / "d.csv", [
        {"unit_id": unit["unit_id"], "members": unit["members"], "decision": "approve"}])
    # Tighter caps would split it, but the approval keeps it whole.
    kept = form_units(est, links, caps=UnitCaps(max_estates=1), decisions=decisions)
    assert unit["unit_id"] in set(kept.units["unit_id"])
    # A member no longer eligible: the approval no longer matches.
    gone = unit["members"].split("、")[0]
    fewer = est[est["estate_id"] != gone]
    later = form_units(fewer, links, caps=UnitCaps(max_estates=1), decisions=decisions)
    assert later.decisions["status"].iloc[0].startswith("no longer matches")
    assert unit["unit_id"] not in set(later.units["unit_id"])


def test_bad_decisions_file(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"unit_id": ["U-1"], "decision": ["maybe"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"d.csv: line 2: decision 'maybe' is not approve/reject/split"):
        read_decisions(path)
    pd.DataFrame({"estate_a": ["A"], "estate_b": ["B"], "decision": ["split"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="a link cannot be split"):
        read_decisions(path)
    pd.DataFrame({"unit_id": ["U-1"]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="no decision"):
        read_decisions(path)


def test_rejected_link_separates_a_row_of_three(tmp_path):
    est = gpd.GeoDataFrame({"estate_id": ["A", "B", "C"], "households": [100.0, 200.0, 300.0]},
                           geometry=[shapely.box(x, 0, x + 50, 50) for x in (0, 50, 100)], crs=METRIC)
    links = neighbour_links(est)
    assert form_units(est, links).units["n_estates"].tolist() == [3]
    decisions = write_decisions(tmp_path / "d.csv", [{"estate_a": "C", "estate_b": "B", "decision": "否决"}])
    units = form_units(est, links, decisions=decisions).units
    assert units["members"].tolist() == ["A、B", "C"]
    assert units["households"].tolist() == [300.0, 300.0]


def test_min_households_next_to_an_approved_unit(tmp_path):
    est = gpd.GeoDataFrame({"estate_id": ["A", "B", "C"], "households": [500.0, 500.0, 100.0],
                            "floor_area_m2": [4e4, 4e4, 8e3]},
                           geometry=[shapely.box(x, 0, x + 100, 100) for x in (0, 100, 200)],
                           crs=METRIC)
    decisions = write_decisions(tmp_path / "d.csv", [{"members": "A、B", "decision": "approve"}])
    result = form_units(est, neighbour_links(est), caps=UnitCaps(min_households=300.0),
                        decisions=decisions)
    units = result.units.set_index("members")
    assert units.loc["A、B", "decision"] == "approve"
    assert "低于最小户数" in units.loc["C", "flags"]  # may not join the approved unit
