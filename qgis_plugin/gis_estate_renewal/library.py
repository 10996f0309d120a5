"""Is the `gis` library importable in this QGIS's Python? If not, say how to install it."""

from __future__ import annotations

MISSING_MESSAGE = (
    "The gis library (pip package gis-estate-renewal) is not installed in QGIS's Python, so "
    "the estate-renewal algorithms are not available. Install it into the Python QGIS uses, "
    "then restart QGIS — Debian/Ubuntu QGIS (system Python): "
    "`python3 -m pip install --break-system-packages /path/to/gis` (the project folder or a "
    "wheel built from it; or a venv made with --system-site-packages that QGIS is started "
    "from); Windows: open the OSGeo4W Shell and run `python -m pip install C:\\path\\to\\gis`. "
    "See the README section \"Inside QGIS\". "
    "未安装 gis 库：请在 QGIS 使用的 Python 中安装 gis-estate-renewal 后重启 QGIS（见 README"
    " “Inside QGIS” 一节）。"
)


def library_error() -> str | None:
    """``None`` when `gis` imports; otherwise the message to show (with the import error)."""
    try:
        import gis  # noqa: F401
        import gis.workflows  # noqa: F401  (pulls numpy, geopandas, shapely, scipy …)
    except ImportError as err:
        return f"{MISSING_MESSAGE} ({err})"
    return None
