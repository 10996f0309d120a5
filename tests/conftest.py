"""Shared fixtures: seeded synthetic towns (`gis.synthetic`, metric CRS) and the bundled standard."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import pytest

from gis.standards import Standard, load_standard
from gis.synthetic import TOWN_CATEGORIES, TOWN_CRS, random_town

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "demo"
METRIC = TOWN_CRS  # CGCS2000 / 3-degree GK CM 117E
CATEGORIES = TOWN_CATEGORIES
__all__ = ["CATEGORIES", "DEMO", "METRIC", "ROOT", "random_town"]


@pytest.fixture(scope="session")
def standard() -> Standard:
    return load_standard()


@pytest.fixture(params=[1, 2, 3, 4, 5])
def town(request: pytest.FixtureRequest):
    return random_town(request.param)


def split_graph(streets, snap_m=0.01, max_edge_m=20.0):
    """The fully split walking graph, written from scratch for the oracles (networkx): vertices
    merged on a ``snap_m`` grid, every segment walked through private nodes every
    <= ``max_edge_m`` metres. Returns the graph and each node's (x, y)."""
    def key(xy):
        return (round(xy[0] / snap_m), round(xy[1] / snap_m))

    graph = nx.Graph()
    where: dict = {}
    segments: dict = {}
    for line in streets.geometry:
        pts = list(line.coords)
        for a, b in zip(pts, pts[1:]):
            ka, kb = key(a), key(b)
            where.setdefault(ka, a)
            where.setdefault(kb, b)
            if ka != kb:
                pair = tuple(sorted((ka, kb)))
                segments[pair] = min(segments.get(pair, math.inf), math.dist(a, b))
    for (ka, kb), w in segments.items():
        k = max(math.ceil(w / max_edge_m - 1e-9), 1)
        chain = [ka] + [("split", ka, kb, t) for t in range(1, k)] + [kb]
        for t in range(1, k):
            a, b = where[ka], where[kb]
            where[chain[t]] = (a[0] + t / k * (b[0] - a[0]), a[1] + t / k * (b[1] - a[1]))
        for p, q in zip(chain, chain[1:]):
            graph.add_edge(p, q, length=w / k)
    return graph, where
