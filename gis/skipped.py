"""Rows left out of an analysis (``invalid="skip"``), kept so nothing disappears silently.

QGIS offers "skip invalid features"; so does `gis`: with ``invalid="skip"`` a reader
leaves out the rows it cannot repair (no geometry, the wrong geometry type, polygons
with no area once repaired, points without coordinates) instead of stopping. Each such
row becomes a record here, travels with the layer in ``attrs["skipped"]`` and reaches
every output: the reports list them, and skipped estates appear in the result tables
as "not analysed" with the reason.

A record is a plain dict (pandas deep-copies and compares ``attrs``):
``layer`` (estates, services …), ``source`` (file name), ``row`` (1-based row in the
file), ``feature_id`` (its id or name, "" when it has none), ``reason`` (English),
``reason_zh`` and ``geometry`` (the geometry as read, possibly None).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.i18n import tr
from gis.notes import pair_text

__all__ = ["INVALID_MODES", "check_invalid_mode", "not_analysed_estates", "skipped_record",
           "skipped_table"]

# "stop": today's behaviour, one error naming the rows; "skip": leave them out, listed.
INVALID_MODES = ("stop", "skip")


def check_invalid_mode(invalid: str) -> str:
    """``invalid`` if it is one of `INVALID_MODES`; a ValueError naming them otherwise.

    Examples
    --------
    >>> check_invalid_mode("skip")
    'skip'
    >>> check_invalid_mode("drop")
    Traceback (most recent call last):
    ...
    ValueError: invalid='drop': use one of stop, skip.
    """
    if invalid not in INVALID_MODES:
        msg = f"invalid={invalid!r}: use one of {', '.join(INVALID_MODES)}."
        raise ValueError(msg)
    return invalid


def skipped_record(
    *, layer: str, source: str, row: int, feature_id: Any, reason: str, reason_zh: str,
    geometry: Any = None,
) -> dict[str, Any]:
    """One left-out row, as stored in a layer's ``attrs["skipped"]``.

    Examples
    --------
    >>> skipped_record(layer="estates", source="estates.gpkg", row=4, feature_id="XQ004",
    ...                reason="no geometry", reason_zh="无几何图形")
    {'layer': 'estates', 'source': 'estates.gpkg', 'row': 4, 'feature_id': 'XQ004',
     'reason': 'no geometry', 'reason_zh': '无几何图形', 'geometry': None}
    """
    text = "" if feature_id is None or (isinstance(feature_id, float) and np.isnan(feature_id)) \
        else str(feature_id).strip()
    return {"layer": layer, "source": source, "row": int(row), "feature_id": text,
            "reason": reason, "reason_zh": reason_zh, "geometry": geometry}


def skipped_table(records: list[dict[str, Any]], *, lang: str = "zh") -> pd.DataFrame:
    """The records as a table for reports: layer, file, row, id, reason (in ``lang``).

    Examples
    --------
    >>> records = [skipped_record(layer="estates", source="estates.gpkg", row=4,
    ...                           feature_id="XQ004", reason="no geometry", reason_zh="无几何图形"),
    ...            skipped_record(layer="gates", source="gates.gpkg", row=7, feature_id=None,
    ...                           reason="not a point", reason_zh="不是点要素")]
    >>> table = skipped_table(records, lang="en")
    >>> list(table.columns), table.values.tolist()
    (['Layer', 'File', 'Row', 'Id', 'Reason'], [['estates', 'estates.gpkg', 4, 'XQ004', 'no geometry'], ['gates', 'gates.gpkg', 7, '', 'not a point']])
    >>> table = skipped_table(records)
    >>> list(table.columns), table["原因"].tolist()
    (['图层', '文件', '行号', '编号', '原因'], ['无几何图形', '不是点要素'])
    """
    cols = [tr(f"inputs.skipped.{c}", lang) for c in ("layer", "file", "row", "id", "reason")]
    rows = [[r["layer"], r["source"], r["row"], r["feature_id"],
             pair_text((r["reason_zh"], r["reason"]), lang)] for r in records]
    return pd.DataFrame(rows, columns=cols)


def not_analysed_estates(records: list[dict[str, Any]], crs: Any) -> gpd.GeoDataFrame:
    """Skipped estates as rows of a result table: ``analysed`` False and the reason.

    Geometry is kept where it is polygonal (a zero-area polygon stays as drawn, so it
    can be found and redrawn) and is None otherwise.

    Examples
    --------
    >>> import shapely
    >>> records = [skipped_record(layer="estates", source="estates.gpkg", row=4,
    ...                           feature_id="XQ004", reason="no geometry", reason_zh="无几何图形"),
    ...            skipped_record(layer="estates", source="estates.gpkg", row=9, feature_id=None,
    ...                           reason="no area once repaired (collapsed ring)",
    ...                           reason_zh="面积为零（边界退化），无法修复",
    ...                           geometry=shapely.Polygon([(117.6, 34.4), (117.601, 34.4),
    ...                                                     (117.602, 34.4)]))]
    >>> rows = not_analysed_estates(records, crs=4490)
    >>> rows[["estate_id", "analysed", "not_analysed_reason_en"]].values.tolist()
    [['XQ004', False, 'no geometry'], ['row 9', False, 'no area once repaired (collapsed ring)']]
    >>> rows.geometry.isna().tolist()  # the zero-area polygon stays as drawn, to be found
    [True, False]
    """
    est = [r for r in records if r["layer"] == "estates"]
    geoms = [r["geometry"] if r["geometry"] is not None
             and shapely.get_type_id(r["geometry"]) in (3, 6) else None for r in est]
    ids = [r["feature_id"] or f"row {r['row']}" for r in est]
    return gpd.GeoDataFrame(
        {"estate_id": ids, "name": ids, "analysed": False,
         "not_analysed_reason": [r["reason_zh"] for r in est],
         "not_analysed_reason_en": [r["reason"] for r in est]},
        geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs,
    )
