"""Shared fixtures: seeded synthetic towns (`gis.synthetic`, metric CRS) and the bundled standard."""

from __future__ import annotations

from pathlib import Path

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
