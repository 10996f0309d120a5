"""QGIS plugin: the gis estate-renewal toolkit as Processing algorithms.

QGIS calls `classFactory` when the plugin is enabled. The analysis itself lives in the
`gis` Python library (installed into QGIS's Python, see README "Inside QGIS"); this
plugin only converts layers and declares parameters.
"""


def classFactory(iface):  # noqa: N802  (QGIS's required name)
    """Return the plugin object QGIS keeps while the plugin is enabled."""
    from .plugin import GisEstateRenewalPlugin

    return GisEstateRenewalPlugin(iface)
