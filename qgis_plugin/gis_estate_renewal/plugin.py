"""Plugin object: registers the Processing provider, or says why it cannot."""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsMessageLog

from .library import library_error


class GisEstateRenewalPlugin:
    """Adds the "GIS estate renewal 老旧小区改造" provider to the Processing toolbox."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802  (QGIS's name)
        """Register the provider (QGIS also calls this for headless Processing)."""
        error = library_error()
        if error is not None:
            # Loud, not silent: the toolbox would otherwise just lack the algorithms.
            QgsMessageLog.logMessage(error, "gis estate renewal", Qgis.Critical)
            if self.iface is not None:
                self.iface.messageBar().pushMessage("gis estate renewal", error, Qgis.Critical, 0)
            return
        from .provider import GisProvider

        self.provider = GisProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
