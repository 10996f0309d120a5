"""Review combined renovation units (联动改造单元) against planning constraint layers.

Before a unit is approved the natural resources bureau (自然资源局) checks it against
constraint layers. `check_units` runs the same checks on every unit at once:

============================ ====================== =========================================
kind                         中文                    a conflict when
============================ ====================== =========================================
``historic_district``        历史文化街区            the unit overlaps it by more than
                                                    ``min_overlap_m2``
``historic_building``        历史建筑                a polygon overlaps the unit by more than
                                                    ``min_overlap_m2``; a *point* lies inside
                                                    the unit or on its boundary (overlap 0 m²,
                                                    still a conflict)
``ancient_tree``             古树名木                its protection zone — a circle of radius
                                                    crown radius + ``tree_margin_m`` around the
                                                    tree — overlaps the unit by more than
                                                    ``min_overlap_m2``
``eco_redline``              生态保护红线            the unit overlaps it by more than
                                                    ``min_overlap_m2``
``development_boundary``     城镇开发边界            more than ``min_overlap_m2`` of the unit lies
                                                    outside the union of the boundary polygons
``plan_unit``                控规单元                the unit overlaps more than one plan unit by
                                                    more than ``min_overlap_m2`` each (跨控规单元)
============================ ====================== =========================================

A unit that only touches a constraint along an edge or at a corner overlaps it by
0 m² and is not in conflict. Areas are in m², lengths in metres, measured in the
units' projected metric CRS; constraint layers must be in that same CRS (`read_constraint`
returns a layer in its file's CRS; `Constraint.to_crs` reprojects it).

Each constraint layer is searched once with `shapely.STRtree.query` (predicate
``"intersects"``) for all units together, and the overlaps are computed with vectorised
`shapely.intersection` / `shapely.area`. Polygons of more than 256 vertices (a town's
development boundary, a red-line patch along a river) are first cut into small pieces,
as PostGIS ``ST_Subdivide`` does, so that each overlay only touches the vertices near
its unit; the areas are then summed per (unit, feature) and are the same, to rounding,
as overlaying the whole feature.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

# Reading constraint layers lives in gis.constraints; re-exported here so
# `from gis.review import read_constraint` keeps working.
from gis.constraints import (
    CONSTRAINT_KINDS,
    KIND_LABELS,
    Constraint,
    _cell_text,
    _rows,
    _type_names,
    constraint_from,
    constraint_kind,
    feature_labels,
    label_values,
    labelled_layer,
    read_constraint,
)
from gis.crs import is_metric
from gis.errors import CRSError, GeometryError, InputError
from gis.geometry import polygonal as _polygonal
from gis.geometry import repair_polygons
from gis.i18n import clause_join, join, tr
from gis.layers import list_items
from gis.notes import Note

__all__ = [
    "CONSTRAINT_KINDS",
    "KIND_LABELS",
    "Constraint",
    "check_units",
    "constraint_from",
    "constraint_kind",
    "feature_labels",
    "labelled_layer",
    "read_constraint",
    "review_tables",
]

logger = logging.getLogger(__name__)

# Polygons with more vertices are cut into pieces before overlaying (see `_subdivide`).
_MAX_VERTICES = 256
_MAX_LEVELS = 24
# Circle buffers with 4 × 32 segments: area within 0.05 % of the true circle.
_QUAD_SEGS = 32



# ---------------------------------------------------------------------------
# checking


def check_units(
    units: gpd.GeoDataFrame,
    constraints: Sequence[Constraint],
    *,
    tree_default_crown_m: float = 5.0,
    tree_margin_m: float = 5.0,
    min_overlap_m2: float = 1.0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Check every unit against the constraint layers.

    Parameters
    ----------
    units : GeoDataFrame
        Combined renovation units: ``unit_id`` (unique) and Polygon/MultiPolygon
        geometry, in a projected CRS in metres.
    constraints : sequence of Constraint
        Layers in the units' CRS. Several layers of one kind are pooled.
    tree_default_crown_m : float, default 5.0
        Crown radius (metres) of trees whose layer gives none.
    tree_margin_m : float, default 5.0
        Protection margin (metres) beyond the crown: the protection zone of an ancient
        tree is a circle of radius crown radius + ``tree_margin_m``.
    min_overlap_m2 : float, default 1.0
        Overlaps (and areas outside the development boundary, and pieces in a plan unit)
        of at most this many m² are slivers from digitising, not conflicts.

    Returns
    -------
    checks : DataFrame
        Index ``unit_id``, one row per unit in input order. For each kind present in
        ``constraints``:

        * ``<kind>_m2`` — total overlap area (m²) with the kind's features, summed
          feature by feature (a part covered by two overlapping features counts twice;
          slivers below ``min_overlap_m2`` included); for ancient trees the overlap with
          their protection zones; historic-building *points* add 0 m².
        * ``<kind>_n`` — features in conflict with the unit.
        * ``<kind>_names`` — their labels (`feature_labels`), sorted, joined by "、" (""
          when none); `review_tables` words them in English.
        * ``development_boundary`` instead gives ``outside_boundary_m2``: unit area
          outside the union of the boundary polygons.
        * ``plan_unit`` instead gives ``plan_units_n`` (plan units the unit overlaps by
          more than ``min_overlap_m2``), ``straddles_plan_units`` (``plan_units_n > 1``)
          and ``plan_unit_names``.

        Then ``n_conflicts`` — features in conflict, plus 1 when outside the boundary,
        plus 1 when straddling plan units — and ``conflict_summary`` (Chinese, e.g.
        "压占历史文化街区 1 处（约 1,234 m²）；古树名木保护范围 2 处；跨 2 个控规单元";
        "无冲突" when clean) and ``conflict_summary_en``. ``attrs["notes"]`` carries the
        constraint layers' notes and the assumptions made here.
    conflicts : GeoDataFrame
        One row per (unit, feature) conflict, in the units' CRS: ``unit_id``, ``kind``,
        ``kind_zh``, ``feature_name``, ``source``, ``overlap_m2``, what the label is made
        of (``feature_id``, ``species``, ``feature_row``: `review_tables` words the labels
        in a language from them and drops them before writing) and geometry — the
        overlap polygon; for a historic-building point, the point (0 m²); for the
        development boundary, the part of the unit outside it (feature_name
        "城镇开发边界以外"); for a straddled plan unit, the part of the unit in each plan
        unit. Geometry types may therefore be mixed.

    Raises
    ------
    CRSError
        Units without a projected metric CRS, or a constraint layer in another CRS.
    InputError
        No ``unit_id`` column, empty or repeated ids, negative parameters.
    GeometryError
        Units with empty or non-polygon geometry; constraint rows of the wrong type.

    Examples
    --------
    Each demo estate checked as a unit of its own against the ancient trees and the
    development boundary:

    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_estates
    >>> demo = demo_folder()
    >>> est = read_estates(demo / "estates.gpkg")
    >>> crs = metric_crs(est)
    >>> units = to_metric(est, crs)[["estate_id", "geometry"]].rename(
    ...     columns={"estate_id": "unit_id"})
    >>> trees = read_constraint(demo / "ancient_trees.gpkg", "古树名木").to_crs(crs)
    >>> edge = read_constraint(demo / "development_boundary.gpkg",
    ...                        "development_boundary").to_crs(crs)
    >>> checks, conflicts = check_units(units, [trees, edge])
    >>> int((checks["n_conflicts"] > 0).sum()), conflicts["kind"].value_counts().to_dict()
    (15, {'ancient_tree': 11, 'development_boundary': 5})
    >>> checks.loc["XQ032", ["ancient_tree_names", "conflict_summary"]].tolist()
    ['GS-003（皂荚）、GS-004（侧柏）', '古树名木保护范围 2 处']
    >>> print(checks.loc["XQ060", "conflict_summary_en"])
    ≈10,881 m² outside the urban development boundary
    >>> round(float(conflicts.set_index("unit_id").loc["XQ023", "overlap_m2"]), 1)
    144.6

    """
    for label, value in (("tree_default_crown_m", tree_default_crown_m),
                         ("tree_margin_m", tree_margin_m), ("min_overlap_m2", min_overlap_m2)):
        if not np.isfinite(value) or value < 0:
            msg = f"{label} must be a number ≥ 0, not {value!r}."
            raise InputError(msg)
    notes: list[str] = []
    ids, geoms, crs = _check_units_frame(units, notes)
    for c in constraints:
        _check_constraint(c, crs)
        notes.extend(c.layer.attrs.get("notes", []))
    kinds = [k for k in CONSTRAINT_KINDS if any(c.kind == k for c in constraints)]

    frames = [
        _overlaps(c, geoms, tree_default_crown_m, tree_margin_m, min_overlap_m2, notes)
        for c in constraints if c.kind != "development_boundary"
    ]
    boundary = [c for c in constraints if c.kind == "development_boundary"]
    if boundary:
        frames.append(_outside(boundary, geoms, min_overlap_m2))
    frames = [f for f in frames if len(f)]  # concat of empty frames warns in pandas
    pairs = pd.concat(frames, ignore_index=True) if frames else _empty_pairs()
    if "historic_building" in kinds and (pairs["is_point"] & pairs["flagged"]).any():
        notes.append(Note.of("analysis.review.points_as_buildings"))

    checks = _tabulate(ids, pairs, kinds)
    # Plan-unit pieces are conflicts only where the unit straddles plan units.
    straddles = checks["straddles_plan_units"].to_numpy() if "plan_unit" in kinds else None
    is_plan = (pairs["kind"] == "plan_unit").to_numpy()
    keep = pairs["flagged"].to_numpy().copy()
    if straddles is not None:
        keep &= ~is_plan | straddles[pairs["unit"].to_numpy()]
    conflicts = _conflicts(pairs.loc[keep], ids, crs)
    checks.attrs["notes"] = list(dict.fromkeys(notes))
    return checks, conflicts


def _check_units_frame(
    units: gpd.GeoDataFrame, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, CRS]:
    if not isinstance(units, gpd.GeoDataFrame):
        msg = f"units must be a GeoDataFrame, not {type(units).__name__}."
        raise InputError(msg)
    if "unit_id" not in units.columns:
        msg = (
            f"units: no unit_id column (columns: {', '.join(map(str, units.columns))}); "
            "give every combined renovation unit an id."
        )
        raise InputError(msg)
    if units.crs is None:
        msg = "units: the layer has no CRS; set the projected metric CRS it is in (e.g. EPSG:4548)."
        raise CRSError(msg)
    crs = CRS(units.crs)
    if not is_metric(crs):
        msg = (
            f"units: CRS {crs.to_string()} is not projected in metres, so areas would be "
            "wrong; reproject the units first (gis.crs.metric_crs / to_metric)."
        )
        raise CRSError(msg)
    raw = units["unit_id"].reset_index(drop=True)
    rows = np.arange(1, len(units) + 1)
    ids_text = _cell_text(raw)
    missing = ids_text.isna().to_numpy()
    if missing.any():
        msg = (
            f"units: {_rows(rows[missing].tolist(), 'have')} an empty unit_id; "
            "give every unit an id."
        )
        raise InputError(msg)
    dup = ids_text.duplicated(keep=False).to_numpy()
    if dup.any():
        msg = (
            f"units: unit_id values repeat ({list_items(sorted(set(ids_text[dup])))}) in "
            f"{_rows(rows[dup].tolist())}; ids must be unique. Merge or renumber those units."
        )
        raise InputError(msg)
    ids = ids_text.astype(str).to_numpy(dtype=object)
    geoms = np.asarray(units.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        msg = f"units: unit_id {list_items(ids[empty])} have no geometry; every unit needs its polygon."
        raise GeometryError(msg)
    bad = ~np.isin(shapely.get_type_id(geoms), (3, 6))
    if bad.any():
        msg = (
            f"units: unit_id {list_items(ids[bad])} are "
            f"{', '.join(sorted(set(_type_names(geoms[bad]))))}, not polygons; a unit is the "
            "union of its member estates' polygons."
        )
        raise GeometryError(msg)
    geoms = shapely.force_2d(geoms)
    repair = repair_polygons(geoms)
    if len(repair.repaired) or len(repair.lost):
        geoms = repair.geoms
        invalid = np.isin(np.arange(len(geoms)), repair.repaired)
        lost = np.isin(np.arange(len(geoms)), repair.lost)
        if lost.any():
            msg = (
                f"units: unit_id {list_items(ids[lost])} are invalid polygons with no area once "
                "repaired (collapsed rings); rebuild those units from their estates."
            )
            raise GeometryError(msg)
        note = Note.of("analysis.review.units_repaired", ids=list_items(ids[invalid]))
        notes.append(note)
        warnings.warn(str(note), UserWarning, stacklevel=3)
    return ids, geoms, crs


def _check_constraint(c: Constraint, crs: CRS) -> None:
    zh, en = KIND_LABELS[c.kind]
    if c.layer.crs is None:
        msg = (
            f"{c.source}: the {en} ({zh}) layer has no CRS; set it, then reproject to "
            f"{crs.to_string()}."
        )
        raise CRSError(msg)
    if not CRS(c.layer.crs).equals(crs, ignore_axis_order=True):
        msg = (
            f"{c.source}: the {en} ({zh}) layer is in {CRS(c.layer.crs).to_string()} but the "
            f"units are in {crs.to_string()}; reproject it first "
            "(constraint.to_crs(units.crs))."
        )
        raise CRSError(msg)
    geoms = np.asarray(c.layer.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = shapely.get_type_id(geoms[present])
    allowed = (0, 4, 3, 6) if c.kind == "historic_building" else (
        (0, 4) if c.kind == "ancient_tree" else (3, 6))
    bad = ~np.isin(kinds, allowed)
    if bad.any():
        rows = (np.flatnonzero(present)[bad] + 1).tolist()
        want = {"historic_building": "points or polygons", "ancient_tree": "points"}.get(
            c.kind, "polygons")
        msg = (
            f"{c.source}: {_rows(rows)} of the {en} ({zh}) layer "
            f"{'is' if len(rows) == 1 else 'are'} not {want}; "
            "remove or convert them (read_constraint checks this when reading)."
        )
        raise GeometryError(msg)


def _feature_values(c: Constraint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What labels each feature (`gis.constraints.LABEL_COLUMNS`): id, species, row."""
    layer = c.layer.reset_index(drop=True)
    n = len(layer)
    if "feature_id" in layer.columns:
        ids = _cell_text(layer["feature_id"])
        species = (_cell_text(layer["species"]) if "species" in layer.columns
                   else pd.Series([pd.NA] * n, dtype=object))
        rows = layer["row"].to_numpy() if "row" in layer.columns else np.arange(1, n + 1)
    else:
        ids = (_cell_text(layer["name"]) if "name" in layer.columns
               else pd.Series([pd.NA] * n, dtype=object))
        species, rows = pd.Series([pd.NA] * n, dtype=object), np.arange(1, n + 1)
    return (ids.to_numpy(dtype=object), species.to_numpy(dtype=object),
            np.asarray(rows, dtype=float))


def _labels(kinds: np.ndarray, ids: np.ndarray, species: np.ndarray, rows: np.ndarray,
            lang: str) -> np.ndarray:
    """Feature labels in ``lang``; the development boundary's is the part outside it."""
    out = np.empty(len(kinds), dtype=object)
    for kind in dict.fromkeys(kinds):
        at = kinds == kind
        if kind == "development_boundary":
            out[at] = tr("analysis.review.outside_boundary", lang)
        else:
            out[at] = label_values(kind, ids[at], species[at], rows[at], lang)
    return out


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": pd.Series([], dtype=np.int64),
        "kind": pd.Series([], dtype=object),
        "name": pd.Series([], dtype=object),
        "feature_id": pd.Series([], dtype=object),
        "species": pd.Series([], dtype=object),
        "feature_row": pd.Series([], dtype=float),
        "source": pd.Series([], dtype=object),
        "area": pd.Series([], dtype=float),
        "is_point": pd.Series([], dtype=bool),
        "flagged": pd.Series([], dtype=bool),
        "geometry": pd.Series([], dtype=object),
    })


def _subdivide(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons into pieces of at most `_MAX_VERTICES` vertices.

    A town-wide development boundary or red-line polygon can have 10⁵ vertices, and an
    overlay of a small unit with it costs time in proportion to all of them. Halving
    such polygons by their bounding box until each piece is small (as PostGIS
    ST_Subdivide does) makes every overlay local. Runs one vectorised pass per level.

    Returns
    -------
    (pieces, owner)
        The pieces (disjoint interiors; points pass unchanged) and, for each, the
        position of the geometry it came from.
    """
    owner = np.arange(len(geoms))
    done: list[tuple[np.ndarray, np.ndarray]] = []
    for _level in range(_MAX_LEVELS):
        small = (shapely.get_num_coordinates(geoms) <= _MAX_VERTICES) | ~np.isin(
            shapely.get_type_id(geoms), (3, 6))
        done.append((geoms[small], owner[small]))
        geoms, owner = geoms[~small], owner[~small]
        if not len(geoms):
            break
        x0, y0, x1, y1 = shapely.bounds(geoms).T
        wide = (x1 - x0) >= (y1 - y0)
        xm = np.where(wide, (x0 + x1) / 2, x1)
        ym = np.where(wide, y1, (y0 + y1) / 2)
        first = shapely.box(x0, y0, xm, ym)
        second = shapely.box(np.where(wide, xm, x0), np.where(wide, y0, ym), x1, y1)
        halves = _polygonal(shapely.intersection(np.concatenate([geoms, geoms]),
                                                 np.concatenate([first, second])))
        owner = np.concatenate([owner, owner])
        keep = shapely.area(halves) > 0
        geoms, owner = halves[keep], owner[keep]
    done.append((geoms, owner))  # pieces still large after _MAX_LEVELS: keep them whole
    return np.concatenate([g for g, _ in done]), np.concatenate([o for _, o in done])


def _ranks(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (``groups`` sorted)."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))


def _grouped_union(parts: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Union of the parts of each group, as an array of ``n`` (None where no part).

    One vectorised `shapely.union` per round: round r adds every group's r-th part.
    """
    order = np.argsort(groups, kind="stable")
    parts, groups = parts[order], groups[order]
    rank = _ranks(groups)
    out = np.full(n, None, dtype=object)
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        at = rank == r
        out[groups[at]] = parts[at] if r == 0 else shapely.union(out[groups[at]], parts[at])
    return out


def _overlaps(
    c: Constraint,
    units: np.ndarray,
    default_crown: float,
    margin: float,
    min_overlap: float,
    notes: list[str],
) -> pd.DataFrame:
    """(unit, feature) pairs that intersect, with overlap geometry, area and conflict flag."""
    geoms = np.asarray(c.layer.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ids, species, rows = (v[present] for v in _feature_values(c))
    names = _labels(np.full(len(ids), c.kind, dtype=object), ids, species, rows, "zh")
    geoms = shapely.force_2d(geoms[present])
    if c.kind == "ancient_tree":
        if "crown_radius_m" in c.layer.columns:
            crown = pd.to_numeric(c.layer["crown_radius_m"], errors="coerce").to_numpy(float)
            crown = crown[present]
        else:
            crown = np.full(len(geoms), np.nan)
        defaulted = np.isnan(crown)
        crown = np.where(defaulted, default_crown, crown)
        geoms = shapely.buffer(geoms, crown + margin, quad_segs=_QUAD_SEGS)
        notes.append(Note.of("analysis.review.tree_zone", src=c.source, margin=margin,
                             defaulted=int(defaulted.sum()), n=len(crown), default=default_crown))
    if not len(geoms):
        return _empty_pairs()
    is_point = np.isin(shapely.get_type_id(geoms), (0, 4))
    pieces, owner = _subdivide(geoms)
    u_idx, p_idx = shapely.STRtree(pieces).query(units, predicate="intersects")
    piece_inter = shapely.intersection(units[u_idx], pieces[p_idx])
    piece_area = shapely.area(piece_inter)
    # Sum the pieces of each (unit, feature) pair.
    key = u_idx.astype(np.int64) * len(geoms) + owner[p_idx]
    pair_key, inverse = np.unique(key, return_inverse=True)
    area = np.bincount(inverse, weights=piece_area, minlength=len(pair_key))
    u_idx, f_idx = pair_key // len(geoms), pair_key % len(geoms)
    point = is_point[f_idx]
    # A building point touching the unit is a hit even though its overlap is 0 m².
    flagged = (area > min_overlap) | point
    # Overlap geometry of each conflict: the union of its pieces' overlaps.
    sel = flagged[inverse]
    inter = _grouped_union(piece_inter[sel], inverse[sel], len(pair_key))
    polygonal = flagged & ~point
    inter[polygonal] = _polygonal(inter[polygonal])
    return pd.DataFrame({
        "unit": u_idx.astype(np.int64),
        "kind": c.kind,
        "name": names[f_idx],
        "feature_id": ids[f_idx],
        "species": species[f_idx],
        "feature_row": rows[f_idx],
        "source": c.source,
        "area": area,
        "is_point": point,
        "flagged": flagged,
        "geometry": inter,
    })


def _outside(boundary: list[Constraint], units: np.ndarray, min_overlap: float) -> pd.DataFrame:
    """Per unit, the area and part outside the union of all development-boundary polygons."""
    parts = [np.asarray(c.layer.geometry.values, dtype=object) for c in boundary]
    allowed = shapely.force_2d(np.concatenate(parts))
    allowed = allowed[~(shapely.is_missing(allowed) | shapely.is_empty(allowed))]
    pieces, _ = _subdivide(shapely.get_parts(shapely.union_all(allowed)))
    u_idx, p_idx = shapely.STRtree(pieces).query(units, predicate="intersects")
    inside = np.bincount(
        u_idx, weights=shapely.area(shapely.intersection(units[u_idx], pieces[p_idx])),
        minlength=len(units),
    )
    unit_area = shapely.area(units)
    area = np.clip(unit_area - inside, 0.0, None)
    area[area <= 1e-9 * unit_area] = 0.0  # rounding of a unit wholly inside
    flagged = area > min_overlap
    # The part outside: subtract the unit's pieces one round at a time, all units at once.
    outside = units.copy()
    sel = np.flatnonzero(flagged[u_idx])
    sel = sel[np.argsort(u_idx[sel], kind="stable")]
    u_sel, p_sel = u_idx[sel], p_idx[sel]
    rank = _ranks(u_sel)
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        at = rank == r
        outside[u_sel[at]] = shapely.difference(outside[u_sel[at]], pieces[p_sel[at]])
    geometry = np.full(len(units), None, dtype=object)
    geometry[flagged] = _polygonal(outside[flagged])
    return pd.DataFrame({
        "unit": np.arange(len(units), dtype=np.int64),
        "kind": "development_boundary",
        "name": tr("analysis.review.outside_boundary", "zh"),
        "feature_id": pd.NA,
        "species": pd.NA,
        "feature_row": np.nan,
        "source": join(dict.fromkeys(c.source for c in boundary), "zh"),
        "area": area,
        "is_point": False,
        "flagged": flagged,
        "geometry": geometry,
    })


def _join_names(hit: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """Per unit, the labels of its features in ``lang`` (in the order of their Chinese
    labels, so both languages list them alike), joined by the language's list separator."""
    hit = hit.sort_values(["unit", "name"], kind="stable")
    labels = _labels(hit["kind"].to_numpy(dtype=object), hit["feature_id"].to_numpy(dtype=object),
                     hit["species"].to_numpy(dtype=object),
                     hit["feature_row"].to_numpy(dtype=float), lang)
    return pd.Series(labels, index=hit.index, dtype=object).groupby(
        hit["unit"].to_numpy()).agg(lambda s: join(s, lang))


def _tabulate(ids: np.ndarray, pairs: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    n_units = len(ids)
    index = pd.Index(ids, name="unit_id", dtype=object)
    checks = pd.DataFrame(index=index)
    n_conflicts = np.zeros(n_units, dtype=np.int64)
    # Per kind in conflict: (kind, flag, count, area) per unit; worded once per language.
    clauses: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []

    def per_unit(values: pd.Series, fill: Any) -> np.ndarray:
        return values.reindex(range(n_units), fill_value=fill).to_numpy()

    for kind in kinds:
        rows = pairs[pairs["kind"] == kind]
        hit = rows[rows["flagged"]]
        total = per_unit(rows.groupby("unit")["area"].sum(), 0.0).astype(float)
        n = per_unit(hit.groupby("unit").size(), 0).astype(np.int64)
        hit_area = per_unit(hit.groupby("unit")["area"].sum(), 0.0).astype(float)
        if kind == "development_boundary":
            checks["outside_boundary_m2"] = total
            flag = n > 0
        elif kind == "plan_unit":
            checks["plan_units_n"] = n
            checks["straddles_plan_units"] = n > 1
            checks["plan_unit_names"] = per_unit(_join_names(hit), "")
            flag = n > 1
        else:
            checks[f"{kind}_m2"] = total
            checks[f"{kind}_n"] = n
            checks[f"{kind}_names"] = per_unit(_join_names(hit), "")
            flag = n > 0
        n_conflicts += n if kind not in ("development_boundary", "plan_unit") else flag
        clauses.append((kind, flag, n, hit_area))

    checks["n_conflicts"] = n_conflicts
    checks["conflict_summary"] = _summaries(clauses, n_units, "zh")
    checks["conflict_summary_en"] = _summaries(clauses, n_units, "en")
    return checks


def _clause(kind: str, n: int, area_m2: float, lang: str) -> str:
    """One kind's conflicts with a unit, in words."""
    if kind == "development_boundary":
        return tr("analysis.review.summary.outside", lang, area_m2=area_m2)
    if kind == "plan_unit":
        return tr("analysis.review.summary.straddles", lang, n=n)
    if kind == "ancient_tree":
        return tr("analysis.review.summary.trees", lang, n=n)
    area = tr("analysis.review.summary.area", lang, area_m2=area_m2) if area_m2 > 0 else ""
    return tr("analysis.review.summary.overlaps", lang, kind=tr(f"analysis.kind.{kind}", lang),
              n=n, area=area)


def _summaries(clauses: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], n_units: int,
               lang: str) -> np.ndarray:
    """Per unit, its conflicts clause by clause in ``lang`` ("no conflicts" when none)."""
    none = tr("analysis.review.summary.none", lang)
    out = np.empty(n_units, dtype=object)
    for u in range(n_units):
        parts = [_clause(kind, int(n[u]), float(area[u]), lang)
                 for kind, flag, n, area in clauses if flag[u]]
        out[u] = clause_join(parts, lang) if parts else none
    return out


def _conflicts(pairs: pd.DataFrame, ids: np.ndarray, crs: CRS) -> gpd.GeoDataFrame:
    order = {k: i for i, k in enumerate(CONSTRAINT_KINDS)}
    zh = {k: v[0] for k, v in KIND_LABELS.items()}
    pairs = pairs.assign(kind_order=pairs["kind"].map(order)).sort_values(
        ["unit", "kind_order", "name"], kind="stable"
    )
    return gpd.GeoDataFrame(
        {
            "unit_id": pd.Series(ids[pairs["unit"].to_numpy()], dtype=object),
            "kind": pairs["kind"].to_numpy(dtype=object),
            "kind_zh": pairs["kind"].map(zh).to_numpy(dtype=object),
            "feature_name": pairs["name"].to_numpy(dtype=object),
            "source": pairs["source"].to_numpy(dtype=object),
            "overlap_m2": pairs["area"].to_numpy(dtype=float),
            # What the feature's label is made of, to word it in any language
            # (`review_tables`); not written to files.
            "feature_id": pairs["feature_id"].to_numpy(dtype=object),
            "species": pairs["species"].to_numpy(dtype=object),
            "feature_row": pairs["feature_row"].to_numpy(dtype=float),
        },
        geometry=gpd.GeoSeries(pairs["geometry"].to_numpy(dtype=object), crs=crs),
    )


#: Columns of `check_units`' conflicts that hold what a label is made of (see `review_tables`).
_LABEL_PARTS = ("feature_id", "species", "feature_row")


def review_tables(checks: pd.DataFrame | None, conflicts: gpd.GeoDataFrame,
                  lang: str = "zh") -> tuple[pd.DataFrame | None, gpd.GeoDataFrame]:
    """The tables of `check_units` as written and shown in ``lang``.

    Feature labels are worded in ``lang`` through `gis.i18n` from what they are made of
    (the conflicts' ``feature_id``, ``species``, ``feature_row`` and ``kind``): the
    conflicts' ``feature_name`` ("城镇开发边界以外" / "outside the urban development
    boundary", "GS-001（国槐）" / "GS-001 (国槐)") and the units' ``<kind>_names`` lists
    (joined by "、" / ", "). Those three columns are then dropped: the files keep their
    columns. In Chinese the tables are those `check_units` returned.

    Conflicts read back from a file have lost the three columns; the development
    boundary's label is still worded from its ``kind``, other labels stay as stored. A
    unit lying in a single plan unit is no conflict and keeps its ``plan_unit_names``.

    Parameters
    ----------
    checks, conflicts : DataFrame, GeoDataFrame
        From `check_units` (``checks`` may be None: only the conflicts are worded).
    lang : {"zh", "en"}

    Returns
    -------
    (checks, conflicts)
        Copies; the inputs are not changed.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_estates
    >>> demo = demo_folder()
    >>> est = read_estates(demo / "estates.gpkg")
    >>> crs = metric_crs(est)
    >>> units = to_metric(est, crs)[["estate_id", "geometry"]].rename(
    ...     columns={"estate_id": "unit_id"})
    >>> trees = read_constraint(demo / "ancient_trees.gpkg", "古树名木").to_crs(crs)
    >>> edge = read_constraint(demo / "development_boundary.gpkg",
    ...                        "development_boundary").to_crs(crs)
    >>> checks, conflicts = check_units(units, [trees, edge])
    >>> en_checks, en_conflicts = review_tables(checks, conflicts, "en")
    >>> en_checks.loc["XQ032", "ancient_tree_names"]
    'GS-003 (皂荚), GS-004 (侧柏)'
    >>> en_conflicts.set_index("unit_id").loc["XQ060", "feature_name"]
    'outside the urban development boundary'
    >>> "feature_id" in en_conflicts, review_tables(checks, conflicts)[1].columns.tolist()
    (False, ['unit_id', 'kind', 'kind_zh', 'feature_name', 'source', 'overlap_m2', 'geometry'])
    """
    conflicts = conflicts.copy()
    given = checks is not None
    checks = checks.copy() if checks is not None else pd.DataFrame()
    kinds = conflicts["kind"].astype(str).to_numpy(dtype=object)
    n = len(conflicts)
    if "feature_id" in conflicts.columns:
        ids = conflicts["feature_id"].to_numpy(dtype=object)
        species = conflicts["species"].to_numpy(dtype=object)
        rows = conflicts["feature_row"].to_numpy(dtype=float)
    else:  # read back from a file: the stored label is all there is
        ids = conflicts["feature_name"].to_numpy(dtype=object)
        species, rows = np.full(n, None, dtype=object), np.full(n, np.nan)
    labels = pd.Series(_labels(kinds, ids, species, rows, lang), index=conflicts.index,
                       dtype=object)
    conflicts["feature_name"] = labels.to_numpy()
    for kind in CONSTRAINT_KINDS:
        column = f"{kind}_names"
        if column not in checks.columns or kind == "development_boundary":
            continue
        mine = (kinds == kind)
        listed = labels[mine].groupby(conflicts["unit_id"].to_numpy(dtype=object)[mine],
                                      sort=False).agg(lambda s: join(s, lang))
        checks[column] = listed.reindex(checks.index).fillna(checks[column]).to_numpy()
    conflicts = conflicts.drop(columns=[c for c in _LABEL_PARTS if c in conflicts.columns])
    return (checks if given else None), conflicts
