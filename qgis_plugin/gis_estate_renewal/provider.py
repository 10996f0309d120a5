"""The Processing provider: one algorithm per `gis` workflow."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider


class GisProvider(QgsProcessingProvider):
    """Algorithms ``gis_estate_renewal:coverage``, ``:units``, ``:review``, ``:siting``."""

    def loadAlgorithms(self):  # noqa: N802
        from .algorithms import (
            CoverageAlgorithm,
            ReviewAlgorithm,
            SitingAlgorithm,
            UnitsAlgorithm,
        )

        from .programme import ProgrammePlanAlgorithm, ProgrammeUpdateAlgorithm

        for alg in (CoverageAlgorithm(), UnitsAlgorithm(), ReviewAlgorithm(), SitingAlgorithm(),
                    ProgrammePlanAlgorithm(), ProgrammeUpdateAlgorithm()):
            self.addAlgorithm(alg)

    def id(self):
        return "gis_estate_renewal"

    def name(self):
        return "GIS estate renewal 老旧小区改造"

    def longName(self):  # noqa: N802
        import gis

        return f"{self.name()} (gis {getattr(gis, '__version__', '')})".replace(" )", ")")
