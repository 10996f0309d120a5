"""HTML maps (folium/Leaflet), drawn in EPSG:4326: the only writer of HTML.

`coverage_map` shows living-circle coverage, `units_map` the combined renovation units
for review; `write_map` saves either atomically. Maps open from disk with no network by
default (see `gis.maps._page`).
"""

from __future__ import annotations

from gis.maps._page import BASEMAPS, check_basemap, write_map
from gis.maps.coverage import coverage_map
from gis.maps.units import units_map

__all__ = ["BASEMAPS", "check_basemap", "coverage_map", "units_map", "write_map"]
