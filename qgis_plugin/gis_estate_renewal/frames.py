"""QGIS vector layers → GeoDataFrames, in memory (no temporary files).

Every feature's attributes and geometry (as WKB) are copied once; any provider works
(GeoPackage, Shapefile, PostGIS, memory …) because only QGIS's feature API is used. The
GeoDataFrame then goes through the same `gis.layers` readers and checks as a file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from qgis.core import QgsProcessingException
from qgis.PyQt.QtCore import QDate, QDateTime, QTime, QVariant


def _value(v):
    """A QGIS attribute as a plain Python value (NULL → None, dates → text)."""
    if v is None or (isinstance(v, QVariant) and v.isNull()):
        return None
    if isinstance(v, QDateTime):
        return v.toString("yyyy-MM-ddTHH:mm:ss") if v.isValid() else None
    if isinstance(v, (QDate, QTime)):
        return v.toString("yyyy-MM-dd" if isinstance(v, QDate) else "HH:mm:ss") \
            if v.isValid() else None
    if isinstance(v, QVariant):
        return v.value()
    return v


def layer_frame(layer, source, name: str, feedback=None) -> gpd.GeoDataFrame:
    """Copy a layer's features into a GeoDataFrame.

    Parameters
    ----------
    layer : QgsVectorLayer or None
        The layer (for its provider's key fields); may be ``None``.
    source : QgsFeatureSource
        What Processing hands the algorithm (honours "selected features only").
    name : str
        How messages name the layer (the layer's name); a layer read from a file is
        named by its file name, as the command line names it.
    feedback : QgsProcessingFeedback, optional
        Cancelling stops the copy.

    Returns
    -------
    GeoDataFrame
        The attributes, the geometry and the layer's CRS; ``attrs["source"]`` is ``name``.
        A GeoPackage's or Shapefile's own feature id (``fid``) is not data and is left
        out, as `geopandas.read_file` does; a PostGIS key column is kept.
    """
    if layer is not None and layer.providerType() == "ogr":
        # A file: named as the command line names it (estates.gpkg, 小区.shp:layer).
        parts = layer.dataProvider().dataSourceUri().split("|")
        named = [p.split("=", 1)[1] for p in parts[1:] if p.startswith("layername=")]
        if Path(parts[0]).suffix:
            name = Path(parts[0]).name + (f":{named[0]}" if named and _layers(layer) > 1 else "")
    fields = source.fields()
    drop = set()
    if layer is not None and layer.providerType() == "ogr":
        drop = {fields.at(i).name() for i in layer.dataProvider().pkAttributeIndexes()}
    keep = [i for i in range(fields.count()) if fields.at(i).name() not in drop]
    names = [fields.at(i).name() for i in keep]
    rows, wkb = [], []
    for ft in source.getFeatures():
        if feedback is not None and feedback.isCanceled():
            raise QgsProcessingException("Cancelled 已取消")
        attrs = ft.attributes()
        rows.append([_value(attrs[i]) for i in keep])
        geom = ft.geometry()
        wkb.append(None if geom is None or geom.isNull() else bytes(geom.asWkb()))
    frame = pd.DataFrame(rows, columns=names)
    crs = source.sourceCrs()
    crs_text = None
    if crs.isValid():
        crs_text = crs.authid() if crs.authid().upper().startswith("EPSG:") else crs.toWkt()
    gdf = gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=crs_text)
    gdf.attrs["source"] = name
    return gdf


def _layers(layer) -> int:
    """How many layers the layer's file holds (a GeoPackage may hold several)."""
    return len(layer.dataProvider().subLayers()) or 1
