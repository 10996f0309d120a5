"""Neighbouring estates: which pairs may be renovated together (相邻小区联动), and why.

Two estates are candidates when their boundaries come within ``gap_m`` of each other
(edge to edge; one ``STRtree.query(..., predicate="dwithin")`` for all pairs). A
candidate becomes a link when

* they face each other along at least ``min_facing_m``: the facing length is the shorter
  of the two boundary lengths that lie within ``gap + facing_band_m`` of the other estate,
  less the ``2 × facing_band_m`` that band adds at the ends of a wall, and at most how
  far those two boundary parts overlap along their common direction (walls offset along
  a lane face each other only where they overlap). Estates that meet only corner to
  corner across a junction measure about 0 and are not linked, while a 0.3 m digitising
  gap or a 6 m lane between two walls still is; and
* the corridor between them — the convex hull of the two facing boundary parts, outside
  both estates — touches no barrier (an arterial road, river or railway the user supplies).

Every candidate is returned with ``gap_m``, ``facing_m``, what it crossed and whether it
linked, so reviewers can see the pairs that were not linked as well.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import is_metric
from gis.errors import CRSError, InputError
from gis.i18n import join, tr
from gis.notes import Note

__all__ = ["ALL_FEATURES", "BarrierLayer", "barrier_features", "barrier_notes",
           "blocked_by_layer", "crossed_barriers", "crossed_text", "neighbour_links",
           "select_barriers"]

logger = logging.getLogger(__name__)

# Arc segments per quarter circle for the facing band; shapely's method default.
_QUAD_SEGS = 16


#: Overlap of two estates' polygons above which they are reported as overlapping, m².
OVERLAP_MIN_M2 = 1.0
#: Share of the smaller estate inside the other above which it is reported as inside it.
OVERLAP_INSIDE_SHARE = 0.99

def barrier_features(
    layer: gpd.GeoDataFrame,
    *,
    kind: str,
    road_classes: tuple[str, ...] = (),
    min_width_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Select the features of a layer that separate estates.

    Parameters
    ----------
    layer : GeoDataFrame
        Lines or polygons (e.g. from `gis.layers.read_streets` or any polygon layer).
    kind : str
        What the layer is, for reports (e.g. "主干路", "河流", "铁路").
    road_classes : tuple of str, optional
        Keep only rows whose ``road_class`` is one of these (e.g. ("主干路", "快速路")).
    min_width_m : float, optional
        Keep only rows whose ``width_m`` is at least this many metres. With both filters,
        a row passes if it meets either.

    Returns
    -------
    GeoDataFrame
        Columns ``kind``, ``name``, ``geometry``.

    Examples
    --------
    The demo town's main roads (主干路):

    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_streets
    >>> streets = read_streets(demo_folder() / "streets.gpkg")
    >>> main = barrier_features(streets, kind="主干路", road_classes=("主干路",))
    >>> len(streets), len(main), main.columns.tolist()
    (639, 154, ['kind', 'name', 'geometry'])

    """
    keep = np.ones(len(layer), dtype=bool)
    if road_classes or min_width_m is not None:
        keep[:] = False
        if road_classes and "road_class" in layer:
            keep |= layer["road_class"].astype(str).isin(road_classes).to_numpy()
        if min_width_m is not None and "width_m" in layer:
            keep |= (pd.to_numeric(layer["width_m"], errors="coerce") >= min_width_m).to_numpy()
    sub = layer.loc[keep]
    names = sub["name"].astype(object) if "name" in sub else pd.Series([None] * len(sub))
    return gpd.GeoDataFrame(
        {"kind": kind, "name": names.where(names.notna(), kind).to_numpy()},
        geometry=sub.geometry.values,
        crs=layer.crs,
    )


# ``barrier_classes="all"``: every feature of a layer separates estates.
ALL_FEATURES = ("all", "全部", "*")


@dataclass(frozen=True)
class BarrierLayer:
    """How one barrier layer was read: what it had and how many features acted.

    Attributes
    ----------
    source : str
        File name as given.
    kind : str
        Label of its features in link reasons (the file stem).
    features : int
        Features in the layer.
    barriers : int
        Features that act as barriers.
    rule_zh, rule_en : str
        Which rule selected them (road classes, width, every feature).
    """

    source: str
    kind: str
    features: int
    barriers: int
    rule_zh: str
    rule_en: str


def select_barriers(
    layer: gpd.GeoDataFrame,
    *,
    source: str,
    road_classes: tuple[str, ...] = (),
    min_width_m: float | None = None,
) -> tuple[gpd.GeoDataFrame, BarrierLayer]:
    """The features of one barrier layer that separate estates, saying how they were chosen.

    Polygons (rivers, railway land) are barriers whole. Lines (roads) are filtered by
    ``road_classes`` / ``min_width_m`` as in `barrier_features`, unless ``road_classes``
    is ``("all",)`` (`ALL_FEATURES`): then every line is a barrier. A line layer that has
    neither a road-class nor a width field the options could read would silently block
    nothing, so it is an error naming the fields it does have; a layer whose classes
    match no feature is a loud warning listing the values it has.

    Parameters
    ----------
    layer : GeoDataFrame
        From `gis.layers.read_barriers` (``attrs["source_fields"]``: the file's own
        field names, for the message).
    source : str
        File name for messages.
    road_classes : tuple of str
        Classes to keep, or `ALL_FEATURES`.
    min_width_m : float, optional
        Also keep lines at least this wide.

    Returns
    -------
    (GeoDataFrame, BarrierLayer)
        Features as from `barrier_features`, and how the layer was read.

    Raises
    ------
    InputError
        A line layer with no field the class/width options can use.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_barriers, read_streets
    >>> rivers, info = select_barriers(read_barriers(demo_folder() / "rivers.gpkg"),
    ...                                source="rivers.gpkg")
    >>> len(rivers), info.rule_en
    (1, 'every polygon')
    >>> roads, info = select_barriers(read_streets(demo_folder() / "streets.gpkg"),
    ...                               source="streets.gpkg", road_classes=("主干路",))
    >>> info.features, info.barriers, info.rule_zh
    (639, 154, '道路等级为主干路')

    """
    kind = Path(source).stem
    lines = bool(len(layer)) and layer.geometry.geom_type.str.contains("Line").all()
    every = any(c.strip().lower() in ALL_FEATURES for c in road_classes)
    if not lines or every:
        chosen = barrier_features(layer, kind=kind)
        rule = (('全部要素（`barrier_classes="all"`）', 'every feature (`barrier_classes="all"`)')
                if lines else ("面要素全部作为障碍", "every polygon"))
        return chosen, BarrierLayer(source, kind, len(layer), len(chosen), *rule)
    has_class = "road_class" in layer and layer["road_class"].notna().any()
    has_width = "width_m" in layer and layer["width_m"].notna().any()
    usable = (bool(road_classes) and has_class) or (min_width_m is not None and has_width)
    if not usable:
        fields = [str(f) for f in layer.attrs.get("source_fields", layer.columns)
                  if str(f) != "geometry"]
        asked = []
        if road_classes:
            asked.append(f"`barrier_classes=\"{','.join(road_classes)}\"` needs a road-class field "
                         "(道路等级/road_class/highway/fclass)")
        if min_width_m is not None:
            asked.append("`barrier_min_width_m` needs a width field (道路宽度/width_m)")
        msg = (
            f"{source}: {' and '.join(asked) or 'no class or width option was given'}, but the "
            f"layer's fields are: {', '.join(fields) or '(none)'}; as asked no feature would "
            "act as a barrier. Pass `barrier_classes=\"all\"` to use every feature of the layer "
            "as a barrier, or add the 道路等级 field."
        )
        raise InputError(msg)
    chosen = barrier_features(layer, kind=kind, road_classes=road_classes,
                              min_width_m=min_width_m)
    parts_zh, parts_en = [], []
    if road_classes and has_class:
        parts_zh.append(f"道路等级为{'、'.join(road_classes)}")
        parts_en.append(f"road class {', '.join(road_classes)}")
    if min_width_m is not None and has_width:
        parts_zh.append(f"宽度不小于{min_width_m:g}米")
        parts_en.append(f"width ≥ {min_width_m:g} m")
    info = BarrierLayer(source, kind, len(layer), len(chosen), "或".join(parts_zh),
                        " or ".join(parts_en))
    if len(chosen) == 0:
        values = (layer["road_class"].astype(str).value_counts().head(8)
                  if has_class else pd.Series(dtype=int))
        listed = ", ".join(f"{k} ×{v}" for k, v in values.items()) or "none"
        text = (f"{source}: no feature matches {info.rule_en} (road classes in the layer: "
                f"{listed}); this barrier layer separates no estates. Name its classes with "
                "`barrier_classes`, or pass `barrier_classes=\"all\"`.")
        warnings.warn(text, UserWarning, stacklevel=2)
        logger.warning(text)
    return chosen, info


def blocked_by_layer(links: gpd.GeoDataFrame, layers: list[BarrierLayer]) -> dict[str, int]:
    """How many candidate links each barrier layer kept from linking (by layer source).

    Examples
    --------
    The demo's main roads keep no neighbouring estates apart (none lies within 15 m of
    another across one):

    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.layers import read_estates, read_streets
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> crs = metric_crs(est)
    >>> roads, info = select_barriers(read_streets(demo_folder() / "streets.gpkg"),
    ...                               source="streets.gpkg", road_classes=("主干路",))
    >>> links = neighbour_links(to_metric(est, crs), barriers=to_metric(roads, crs))
    >>> len(links), blocked_by_layer(links, [info])
    (85, {'streets.gpkg': 0})
    """
    crossed = links["crossed"] if "crossed" in links else pd.Series(dtype=object)
    kinds = [{kind for kind, _ in crossed_barriers(v)} for v in crossed]
    return {b.source: sum(b.kind in k for k in kinds) for b in layers}


def crossed_barriers(crossed: object) -> list[tuple[str, str]]:
    """The barriers a link's ``crossed`` value names, as ``(kind, name)`` pairs.

    `neighbour_links` stores them as JSON text, ``[{"kind": …, "name": …}, …]`` (sorted,
    each once), so the column survives a GeoPackage and holds no words of either
    language; ``""`` (or a missing value) when the link crosses nothing.

    Parameters
    ----------
    crossed : str or None
        One value of the ``crossed`` column.

    Returns
    -------
    list of (str, str)
        ``[]`` for no barrier, and for a text that is not such JSON (the words an older
        release wrote there), which names no barrier this release can count.

    Examples
    --------
    >>> crossed_barriers('[{"kind": "rivers", "name": "龙河"}]')
    [('rivers', '龙河')]
    >>> crossed_barriers(""), crossed_barriers(None)
    ([], [])
    """
    if not isinstance(crossed, str) or not crossed.startswith("["):
        return []
    return [(str(item["kind"]), str(item["name"])) for item in json.loads(crossed)]


def crossed_text(crossed: object, lang: str = "zh") -> str:
    """A link's ``crossed`` value in words: each barrier as kind and name, in ``lang``.

    The words are composed here, when a table or map is rendered (messages
    ``analysis.crossed.item`` and ``list_sep``); the column keeps the machine value.

    Parameters
    ----------
    crossed : str or None
        One value of the ``crossed`` column (from `neighbour_links`).
    lang : {"zh", "en"}

    Returns
    -------
    str
        ``""`` when nothing was crossed; a text that is not the JSON `neighbour_links`
        writes (an older release's ``units.gpkg``) is returned as it is.

    Examples
    --------
    >>> two = ('[{"kind": "道路", "name": "人民路"}, {"kind": "道路", "name": "解放路"}]')
    >>> crossed_text(two, "zh")
    '道路：人民路、道路：解放路'
    >>> crossed_text(two, "en")
    '道路: 人民路, 道路: 解放路'
    >>> crossed_text("", "en")
    ''
    """
    if not isinstance(crossed, str):
        return ""
    if not crossed.startswith("["):
        return crossed
    return join((tr("analysis.crossed.item", lang, kind=kind, name=name)
                 for kind, name in crossed_barriers(crossed)), lang)


def barrier_notes(layers: list[BarrierLayer], blocked: dict[str, int]) -> list[Note]:
    """One note per barrier layer: features, how many acted and links they kept apart.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> from gis.layers import read_barriers
    >>> _, info = select_barriers(read_barriers(demo_folder() / "rivers.gpkg"),
    ...                           source="rivers.gpkg")
    >>> note = barrier_notes([info], {"rivers.gpkg": 0})[0]
    >>> print(note)
    Barrier layer rivers.gpkg: 1 of 1 features acted as barriers (every polygon);
    0 neighbour pairs not linked across them.
    >>> print(note.zh)
    障碍图层 rivers.gpkg：1 个要素中 1 个作为障碍（面要素全部作为障碍）；因其未联动的相邻小区 0 对。
    """
    out = []
    for b in layers:
        n = blocked.get(b.source, 0)
        # The rule is described in both languages where it is chosen: a phrase in both.
        out.append(Note.of("analysis.adjacency.barrier_layer", source=b.source,
                           barriers=b.barriers, features=b.features, blocked=n,
                           rule=Note(b.rule_en, b.rule_zh)))
    return out


def neighbour_links(
    estates: gpd.GeoDataFrame,
    *,
    gap_m: float = 15.0,
    min_facing_m: float = 10.0,
    facing_band_m: float = 2.0,
    barriers: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Find neighbouring estate pairs and decide which are linked.

    This function is vectorised: all pairs come from one STRtree query and are measured
    with shapely array functions.

    Parameters
    ----------
    estates : GeoDataFrame
        Polygons in a metric CRS with a unique ``estate_id``.
    gap_m : float, default 15.0
        Largest edge-to-edge gap between neighbours, in metres.
    min_facing_m : float, default 10.0
        Shortest facing length for a link, in metres.
    facing_band_m : float, default 2.0
        Boundary within ``gap + facing_band_m`` metres of the other estate counts as facing.
    barriers : GeoDataFrame, optional
        From `barrier_features` (same CRS); a candidate whose corridor touches one is not
        linked.

    Returns
    -------
    GeoDataFrame
        One row per candidate pair, ``estate_a < estate_b``: ``gap_m``, ``facing_m``
        (metres), ``crossed`` (the barriers crossed as JSON text, see `crossed_barriers`;
        "" if none; `crossed_text` puts it in words), ``linked`` (bool), ``reason``
        ("" when linked, else ``short_facing``, ``barrier``, ``overlap`` — the two
        boundaries overlap by more than `OVERLAP_MIN_M2` — or ``inside`` — one lies at least
        `OVERLAP_INSIDE_SHARE` inside the other: not linked, fix the boundaries); geometry: a line between
        the two estates' inner points, for maps.

    Raises
    ------
    CRSError
        If the estates are not in a projected metric CRS or barriers are in another CRS.

    Examples
    --------
    The demo town's eligible estates: 42 pairs within 15 m, 38 of them facing along
    10 m or more.

    >>> from gis.sources import demo_folder
    >>> from gis.crs import metric_crs, to_metric
    >>> from gis.eligibility import assess_eligibility
    >>> from gis.layers import read_estates
    >>> from gis.standards import load_standard
    >>> est = assess_eligibility(read_estates(demo_folder() / "estates.gpkg"), load_standard())
    >>> links = neighbour_links(to_metric(est[est["eligible"]], metric_crs(est)))
    >>> len(links), int(links["linked"].sum()), sorted(set(links["reason"]))
    (42, 38, ['', 'short_facing'])
    """
    t0 = time.perf_counter()
    if estates.crs is None or not is_metric(estates.crs):
        msg = "`estates` must be in a projected metric CRS; use gis.crs.to_metric first."
        raise CRSError(msg)
    if barriers is not None and len(barriers) and barriers.crs != estates.crs:
        msg = (f"Barriers are in {barriers.crs} but estates in {estates.crs}; reproject the "
               "barriers with gis.crs.to_metric.")
        raise CRSError(msg)
    if not estates["estate_id"].is_unique:
        msg = "`estates` has repeated estate_id values; read them with gis.layers.read_estates."
        raise InputError(msg)
    # Work in estate_id order so results do not depend on row order.
    order = np.argsort(estates["estate_id"].to_numpy(dtype=str), kind="stable")
    ids = estates["estate_id"].to_numpy(dtype=str)[order]
    polys = np.asarray(estates.geometry.values)[order]
    i, j = shapely.STRtree(polys).query(polys, predicate="dwithin", distance=gap_m)
    keep = i < j
    i, j = i[keep], j[keep]
    a, b = polys[i], polys[j]
    gap = shapely.distance(a, b)
    band = gap + facing_band_m
    buf_a = shapely.buffer(a, band, quad_segs=_QUAD_SEGS)
    buf_b = shapely.buffer(b, band, quad_segs=_QUAD_SEGS)
    part_a = shapely.intersection(shapely.boundary(a), buf_b)
    part_b = shapely.intersection(shapely.boundary(b), buf_a)
    facing_a = shapely.length(part_a)
    facing_b = shapely.length(part_b)
    # The band also catches facing_band_m of boundary at each end of a facing wall
    # (exactly so for square corners); take it off so a 50 m shared wall measures 50 m
    # and a corner-only contact measures 0.
    facing = np.maximum(np.minimum(facing_a, facing_b) - 2 * facing_band_m, 0.0)
    # Where walls are offset along a lane, the band reaches past the other estate's end
    # by sqrt(band² - gap²) and the length above overstates; the overlap of the two
    # parts along the walls' own direction does not.
    facing = np.minimum(facing, _overlap_along_walls(part_a, part_b))
    crossed = np.full(len(i), "", dtype=object)
    if barriers is not None and len(barriers) and len(i):
        # The ground between the two facing walls: it reaches no further along the walls
        # than they face each other, so a road running past both fronts is not "between".
        corridor = shapely.difference(
            shapely.convex_hull(shapely.union(part_a, part_b)), shapely.union(a, b)
        )
        ci, bi = shapely.STRtree(np.asarray(barriers.geometry.values)).query(
            corridor, predicate="intersects"
        )
        if len(ci):
            # Machine values, not words: `crossed_text` composes them per language.
            kinds = barriers["kind"].astype(str).to_numpy()
            names = barriers["name"].astype(str).to_numpy()
            hits = pd.Series(list(zip(kinds[bi], names[bi]))).groupby(ci).agg(_crossed_json)
            crossed[hits.index.to_numpy()] = hits.to_numpy()
    reason = np.where(crossed != "", "barrier", np.where(facing < min_facing_m, "short_facing", ""))
    # Overlapping boundaries (or one estate drawn inside another) are a data error, not a
    # neighbour relation: linking them would count the shared ground and households twice.
    # Said as such, never as "facing too short"; `gis.layers.estate_remarks` notes them too.
    reason = reason.astype(object)
    touching = np.flatnonzero(gap == 0)
    if len(touching):
        shared = shapely.area(shapely.intersection(a[touching], b[touching]))
        smaller = np.minimum(shapely.area(a[touching]), shapely.area(b[touching]))
        inside = shared >= OVERLAP_INSIDE_SHARE * smaller
        overlap = (shared > OVERLAP_MIN_M2) & ~inside
        reason[touching[inside]] = "inside"
        reason[touching[overlap]] = "overlap"
    inner = shapely.point_on_surface(polys)
    lines = shapely.linestrings(
        np.stack([shapely.get_coordinates(inner[i]), shapely.get_coordinates(inner[j])], axis=1)
    ) if len(i) else np.array([], dtype=object)
    links = gpd.GeoDataFrame(
        {
            "estate_a": ids[i],
            "estate_b": ids[j],
            "gap_m": np.round(gap, 3),
            "facing_m": np.round(facing, 2),
            "crossed": crossed,
            "linked": reason == "",
            "reason": reason,
        },
        geometry=lines,
        crs=estates.crs,
    )
    logger.info(
        "Neighbours: %d candidate pairs within %.0f m, %d linked (%d short facing, %d across "
        "barriers) in %.2f s", len(links), gap_m, int(links["linked"].sum()),
        int((reason == "short_facing").sum()), int((reason == "barrier").sum()),
        time.perf_counter() - t0,
    )
    return links.sort_values(["estate_a", "estate_b"], ignore_index=True)


def _crossed_json(pairs: pd.Series) -> str:
    """The ``crossed`` value of one link: its barriers' (kind, name), sorted, each once."""
    return json.dumps([{"kind": k, "name": n} for k, n in sorted(set(pairs))],
                      ensure_ascii=False)


def _overlap_along_walls(part_a: np.ndarray, part_b: np.ndarray) -> np.ndarray:
    """How far two facing boundary parts overlap along their common direction, metres.

    The direction is the main axis of the length-weighted orientation of both parts'
    segments (a wall and the short ends the band catches at its corners give the wall's
    direction exactly); each part is projected on it and the two intervals intersected.
    0 where either part is empty.
    """
    n = len(part_a)
    lo = np.full((2, n), np.inf)
    hi = np.full((2, n), -np.inf)
    tensor = np.zeros((3, n))
    per_part = []
    for parts in (part_a, part_b):
        lines, pair_of = shapely.get_parts(parts, return_index=True)
        coords, line_of = shapely.get_coordinates(lines, return_index=True)
        pair = pair_of[line_of]
        same = line_of[1:] == line_of[:-1]
        d = coords[1:][same] - coords[:-1][same]
        length = np.hypot(d[:, 0], d[:, 1])
        ok = length > 0
        d, length, seg_pair = d[ok], length[ok], pair[:-1][same][ok]
        for row, w in enumerate((d[:, 0] ** 2, d[:, 0] * d[:, 1], d[:, 1] ** 2)):
            tensor[row] += np.bincount(seg_pair, weights=w / length, minlength=n)
        per_part.append((coords, pair))
    theta = 0.5 * np.arctan2(2 * tensor[1], tensor[0] - tensor[2])
    axis = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    for k, (coords, pair) in enumerate(per_part):
        t = (coords * axis[pair]).sum(axis=1)
        np.minimum.at(lo[k], pair, t)
        np.maximum.at(hi[k], pair, t)
    return np.maximum(np.minimum(hi[0], hi[1]) - np.maximum(lo[0], lo[1]), 0.0)
