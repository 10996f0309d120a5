"""Tiles give the untiled result exactly: every distance, covered flag and nearest name.

The oracle is the untiled `living_circle` run on the whole region (itself checked against
networkx in test_coverage.py). Thresholds are shrunk so that the halo is much smaller than
the town and tiles really cut through estates and streets; a deliberately short halo must
break the equality, so these comparisons can fail.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gis.tiles as tiles_mod
from conftest import DEMO, METRIC, random_town
from gis.coverage import living_circle
from gis.layers import read_estates, read_gates, read_services, read_streets
from gis.tiles import CoverageParams, living_circle_tiled, plan_tiles


def small_standard(standard, walks=(150, 200, 120, 180, 250, 100, 300)):
    cats = tuple(dataclasses.replace(c, walk_m=float(w)) for c, w in zip(standard.categories, walks))
    return dataclasses.replace(standard, categories=cats)


def result_columns(cov) -> pd.DataFrame:
    return pd.DataFrame(cov.estates.drop(columns="geometry"))


def assert_same(untiled, tiled) -> None:
    a, b = result_columns(untiled), result_columns(tiled)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def hard_town(seed: int):
    """A town whose tiles cut estates and streets, with gates, an estate far from every
    street and services far from the streets (long hops)."""
    streets, estates, services = random_town(seed, nx_=24, ny_=18, n_estates=260,
                                             n_services=160)
    # Half the street lines cut into their single segments (as many city layers come),
    # half kept as long polylines that run through many tiles.
    xy, idx = shapely.get_coordinates(streets.geometry.values, return_index=True)
    same = (idx[1:] == idx[:-1]) & (idx[1:] % 2 == 0)
    pieces = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    streets = pd.concat([gpd.GeoDataFrame({"name": [f"路段{i}" for i in range(same.sum())]},
                                          geometry=pieces, crs=METRIC),
                         streets.iloc[1::2]], ignore_index=True)
    x0, y0, x1, y1 = streets.total_bounds
    # An estate 400 m outside the network: its only access is the nearest node.
    far = shapely.box(x1 + 400, y0 + 300, x1 + 460, y0 + 360)
    estates = pd.concat([estates, gpd.GeoDataFrame(
        {"estate_id": ["FAR"], "name": ["远处小区"], "households": [50.0]},
        geometry=[far], crs=METRIC)], ignore_index=True)
    # Services 60-150 m from any street (hop longer than a tile's overlap would guess).
    rng = np.random.default_rng(seed)
    extra = shapely.points(rng.uniform(x0, x1, 12), np.full(12, y1 + rng.uniform(60, 150)))
    services = pd.concat([services, gpd.GeoDataFrame(
        {"service_id": [f"X{i}" for i in range(12)], "name": [f"远设施{i}" for i in range(12)],
         "category": rng.choice(services["category"].unique(), 12)},
        geometry=extra, crs=METRIC)], ignore_index=True)
    # Gates for every fifth estate: a corner point, sometimes 20 m outside the polygon.
    pick = estates.iloc[::5]
    corners = shapely.get_coordinates(shapely.get_exterior_ring(pick.geometry.values))[::5][:len(pick)]
    gates = gpd.GeoDataFrame({"estate_id": pick["estate_id"].to_numpy(), "name": None},
                             geometry=shapely.points(corners + [20.0, 0.0]), crs=METRIC)
    return streets, estates, services, gates


@pytest.mark.parametrize("tile_m", [150.0, 400.0, 900.0])
@pytest.mark.parametrize("seed", [3, 11])
def test_tiles_equal_untiled_on_a_town_cut_through_estates_and_streets(standard, seed, tile_m):
    std = small_standard(standard)
    streets, estates, services, gates = hard_town(seed)
    untiled = living_circle(estates, services, std, streets=streets, gates=gates)
    plan = plan_tiles(estates, services, std, streets=streets, gates=gates, tile_m=tile_m)
    # Every estate is owned once; some polygons straddle their cell's edge; no tile holds
    # the whole street layer (otherwise this would not test the halo).
    owned = np.concatenate([t.estates for t in plan])
    assert sorted(owned) == list(range(len(estates)))
    cells = shapely.box(*np.array([t.cell for t in plan]).T)
    owner = np.repeat(np.arange(len(plan)), [len(t.estates) for t in plan])
    est_geom = np.asarray(estates.geometry.values)[owned]
    assert (~shapely.within(est_geom, cells[owner])).any()
    assert max(len(t.streets) for t in plan) < len(streets)
    tiled = living_circle_tiled(estates, services, std, streets=streets, gates=gates,
                                tile_m=tile_m)
    assert_same(untiled, tiled)
    # Sanity: the comparison covers real, finite distances and some gaps.
    dist = result_columns(untiled).filter(like="dist_m_").to_numpy()
    assert np.isfinite(dist).mean() > 0.3 and np.isnan(dist).any()
    assert tiled.estates.loc[tiled.estates["estate_id"] == "FAR", "n_covered"].item() == 0


def test_tiles_equal_untiled_without_split_edges(standard):
    """With ``max_edge_m = 0`` the hop bound is the longest drawn segment."""
    std = small_standard(standard)
    streets, estates, services, gates = hard_town(5)
    params = CoverageParams.resolve(max_edge_m=0.0)
    untiled = params.coverage(estates, services, std, streets=streets, gates=gates)
    tiled = living_circle_tiled(estates, services, std, streets=streets, gates=gates,
                                tile_m=300.0, params=params)
    assert_same(untiled, tiled)


def test_a_short_halo_breaks_the_equality(standard, monkeypatch):
    """The equality above is not automatic: cutting the halo by 400 m (of ~760) changes results
    (the bound is safe, not tight: straight-line reach over-estimates grid walks)."""
    std = small_standard(standard)
    streets, estates, services, gates = hard_town(3)
    untiled = living_circle(estates, services, std, streets=streets, gates=gates)
    monkeypatch.setattr(tiles_mod, "HALO_MARGIN_M", -400.0)
    tiled = living_circle_tiled(estates, services, std, streets=streets, gates=gates,
                                tile_m=150.0)
    a = result_columns(untiled).filter(like="dist_m_").to_numpy()
    b = result_columns(tiled).filter(like="dist_m_").to_numpy()
    assert not np.array_equal(a, b, equal_nan=True)


def test_tiles_equal_untiled_on_the_demo(standard):
    estates = read_estates(DEMO / "estates.gpkg")
    services = read_services(DEMO / "services.gpkg", standard)
    streets = read_streets(DEMO / "streets.gpkg")
    gates = read_gates(DEMO / "gates.gpkg", estates)
    untiled = living_circle(estates, services, standard, streets=streets, gates=gates)
    for tile_m in (400.0, 1200.0):
        tiled = living_circle_tiled(estates, services, standard, streets=streets, gates=gates,
                                    tile_m=tile_m)
        assert_same(untiled, tiled)
        assert tiled.estates.crs == untiled.estates.crs
        assert "tiles" in tiled.notes[-1] or "tiles" in str(tiled.notes)
    # Small thresholds on the demo too, so the halo is smaller than the town.
    std = small_standard(standard, walks=(300, 250, 200, 300, 150, 200, 400))
    untiled = living_circle(estates, services, std, streets=streets, gates=gates)
    plan = plan_tiles(estates, services, std, streets=streets, gates=gates, tile_m=300.0)
    assert max(len(t.streets) for t in plan) < len(streets)
    assert_same(untiled, living_circle_tiled(estates, services, std, streets=streets,
                                             gates=gates, tile_m=300.0))


def test_straight_mode_tiles_equal_untiled(standard):
    std = small_standard(standard)
    streets, estates, services, _ = hard_town(8)
    params = CoverageParams.resolve(mode="straight")
    untiled = params.coverage(estates, services, std, streets=None, gates=None)
    tiled = living_circle_tiled(estates, services, std, tile_m=250.0, params=params)
    assert_same(untiled, tiled)


def test_bad_tile_size_is_one_clear_error(standard):
    streets, estates, services = random_town(1)
    with pytest.raises(ValueError, match="positive size"):
        plan_tiles(estates, services, standard, streets=streets, tile_m=0)


def test_district_tiles_equal_untiled(standard):
    """Tiles from a districts layer: three uneven strips that leave part of the town
    uncovered (those estates go to the nearest district)."""
    std = small_standard(standard)
    streets, estates, services, gates = hard_town(4)
    x0, y0, x1, y1 = estates.total_bounds
    cuts = [x0, x0 + 0.2 * (x1 - x0), x0 + 0.55 * (x1 - x0), x0 + 0.8 * (x1 - x0)]
    strips = gpd.GeoDataFrame({"name": ["甲", "乙", "丙"]},
                              geometry=[shapely.box(a, y0, b, y1 - 200)
                                        for a, b in zip(cuts[:-1], cuts[1:])], crs=METRIC)
    plan = plan_tiles(estates, services, std, streets=streets, gates=gates, tile_m=None,
                      districts=strips)
    assert [t.key for t in plan] == ["d0", "d1", "d2"]
    assert sorted(np.concatenate([t.estates for t in plan])) == list(range(len(estates)))
    untiled = living_circle(estates, services, std, streets=streets, gates=gates)
    tiled = living_circle_tiled(estates, services, std, streets=streets, gates=gates,
                                tile_m=None, districts=strips)
    assert_same(untiled, tiled)
