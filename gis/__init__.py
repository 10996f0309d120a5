"""Estate-renewal GIS toolkit for China's old residential estate renovation (城镇老旧小区改造).

Data flows one way::

    standards, crs -> osm, layers -> network -> coverage -> report | maps -> cli

Modules are exposed as attributes: ``gis.layers.read_estates``,
``gis.coverage.living_circle``, ``gis.report.write_coverage`` …
"""

from __future__ import annotations

import logging

from gis import errors as errors
from gis import settings as settings
from gis import standards as standards

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
