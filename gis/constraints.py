"""Constraint layers (历史文化街区, 古树名木 …): reading and checking that each fits its kind.

`read_constraint` reads a file; `constraint_from` (public as
`gis.prepare.prepare_constraint`) runs the same checks on a frame in memory. Checking
*units* against these layers is `gis.review`'s job.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.errors import GeometryError, InputError
from gis.geometry import repair_polygons
from gis.i18n import tr
from gis.layers import find_field, list_items, norm_text, read_layer, rows_phrase
from gis.notes import Note
from gis.skipped import skipped_record
from gis.text import id_text

__all__ = [
    "CONSTRAINT_KINDS",
    "KIND_LABELS",
    "Constraint",
    "constraint_from",
    "constraint_kind",
    "feature_labels",
    "labelled_layer",
    "read_constraint",
]

logger = logging.getLogger(__name__)

CONSTRAINT_KINDS: tuple[str, ...] = (
    "historic_district",
    "historic_building",
    "ancient_tree",
    "eco_redline",
    "development_boundary",
    "plan_unit",
)
# kind -> (Chinese label, English label), from the catalogue (messages ``analysis.kind.<kind>``)
KIND_LABELS: dict[str, tuple[str, str]] = {
    k: (tr(f"analysis.kind.{k}", "zh"), tr(f"analysis.kind.{k}", "en")) for k in CONSTRAINT_KINDS
}
#: Machine columns of a layer whose feature labels are composed (a tree's id and species,
#: a feature without a name named by its row): `feature_labels` renders them per language.
LABEL_COLUMNS = ("feature_id", "species", "row")

_POINT_TYPES = ("Point", "MultiPoint")
_POLYGON_TYPES = ("Polygon", "MultiPolygon")
_ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "historic_district": _POLYGON_TYPES,
    "historic_building": _POINT_TYPES + _POLYGON_TYPES,
    "ancient_tree": _POINT_TYPES,
    "eco_redline": _POLYGON_TYPES,
    "development_boundary": _POLYGON_TYPES,
    "plan_unit": _POLYGON_TYPES,
}
# Name fields: the kind's own names first, then the common ones.
_KIND_NAME_FIELDS: dict[str, tuple[str, ...]] = {
    "historic_district": ("街区名称", "历史文化街区名称", "历史文化街区", "保护区名称"),
    "historic_building": ("建筑名称", "历史建筑名称", "历史建筑", "建筑编号"),
    "ancient_tree": ("古树编号", "古树名称", "挂牌号", "统一编号"),
    "eco_redline": ("红线名称", "斑块名称", "红线编号", "斑块编号"),
    "development_boundary": ("边界名称",),
    "plan_unit": (
        "单元名称", "单元编号", "控规单元名称", "控规单元编号", "控规单元", "管理单元",
    ),
}
_COMMON_NAME_FIELDS = ("名称", "name", "名字", "编号", "id", "代码", "code")
_TREE_SPECIES_FIELDS = ("树种", "中文名", "树种名称", "species")
# Crown fields. 冠幅 in Chinese tree surveys is the crown spread, a DIAMETER.
_CROWN_RADIUS_FIELDS = ("冠幅半径", "树冠半径", "crown_radius_m", "crown_radius", "crown_m")
_CROWN_DIAMETER_FIELDS = (
    "冠幅", "平均冠幅", "冠幅m", "冠幅米", "冠幅直径", "crown_diameter_m", "crown_diameter",
)
_TYPE_NAMES = np.array(
    ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
     "MultiPolygon", "GeometryCollection"], dtype=object,
)


def constraint_kind(kind: str) -> str:
    """The `CONSTRAINT_KINDS` key for a key or a Chinese or English label.

    ``"古树名木"``, ``"ancient or notable tree"`` and ``"ancient_tree"`` all give
    ``"ancient_tree"``.

    Raises
    ------
    InputError
        If ``kind`` names no constraint kind.

    Examples
    --------
    >>> constraint_kind("古树名木"), constraint_kind("ancient or notable tree")
    ('ancient_tree', 'ancient_tree')
    >>> constraint_kind("控规单元")
    'plan_unit'

    """
    wanted = norm_text(kind)
    for key, (zh, en) in KIND_LABELS.items():
        if wanted in (norm_text(key), norm_text(zh), norm_text(en)):
            return key
    choices = ", ".join(f"{k} ({KIND_LABELS[k][0]})" for k in CONSTRAINT_KINDS)
    msg = f"unknown constraint kind {kind!r}; use one of {choices}."
    raise InputError(msg)


@dataclass(frozen=True, eq=False)
class Constraint:
    """One constraint layer to review units against.

    Attributes
    ----------
    kind : str
        One of `CONSTRAINT_KINDS` (a Chinese or English label is turned into the key).
    layer : GeoDataFrame
        The features, in the same projected metric CRS as the units. Column ``name``
        labels features in results (row numbers are used when it is absent); for
        ``ancient_tree``, ``crown_radius_m`` (metres; missing → the default crown).
    source : str
        File name, used in messages and reports.

    Notes
    -----
    Instances compare by identity (``eq=False``): a GeoDataFrame has no truth value.
    """

    kind: str
    layer: gpd.GeoDataFrame
    source: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", constraint_kind(self.kind))
        if not isinstance(self.layer, gpd.GeoDataFrame):
            msg = (
                f"{self.source}: a constraint layer must be a GeoDataFrame, not "
                f"{type(self.layer).__name__}."
            )
            raise InputError(msg)

    @property
    def label_zh(self) -> str:
        """Chinese name of the kind, e.g. 古树名木."""
        return KIND_LABELS[self.kind][0]

    def to_crs(self, crs: Any) -> Constraint:
        """The same constraint with its layer reprojected to ``crs`` (no-op if already there)."""
        if self.layer.crs is not None and CRS(self.layer.crs).equals(CRS(crs)):
            return self
        return dataclasses.replace(self, layer=self.layer.to_crs(crs))


# ---------------------------------------------------------------------------
# reading


def read_constraint(
    path: str | Path,
    kind: str,
    *,
    input_crs: Any = None,
    layer: str | None = None,
    encoding: str | None = None,
    name_field: str | None = None,
    crown_field: str | None = None,
    invalid: str = "stop",
) -> Constraint:
    """Read one constraint layer and check it fits its kind.

    Parameters
    ----------
    path : str or Path
        GeoPackage, GeoJSON, Shapefile (``.shp`` or zipped; GBK detected without
        ``.cpg``); tree and building points may also come as CSV/XLSX with
        经度/纬度 (lon/lat) columns.
    kind : str
        One of `CONSTRAINT_KINDS`, or its Chinese (古树名木) or English label.
    input_crs : str, int or CRS, optional
        CRS of a file that has none (CSV, Shapefile without ``.prj``). Never guessed.
    layer : str, optional
        Layer name inside a multi-layer file (GeoPackage).
    encoding : str, optional
        Text encoding of attributes; detected when not given.
    name_field : str, optional
        Field naming each feature. Default: the first of the kind's usual fields
        (街区名称, 建筑名称, 古树编号, 单元名称, 单元编号 …) and then 名称, name, 名字, 编号 …;
        for trees the species (树种) is appended in brackets when both exist.
    crown_field : str, optional
        Tree crown field. Default: 冠幅半径, 树冠半径, crown_radius_m, crown_m (radius,
        metres) or else 冠幅 / 平均冠幅 / crown_diameter_m. A field named 冠幅 (without
        半径) or holding 直径/diameter is the crown *diameter* of Chinese tree surveys and
        is halved; a note says so.
    invalid : {"stop", "skip"}, default "stop"
        Rows of the wrong geometry type, or polygons with no area once repaired: "stop"
        raises `GeometryError` naming them; "skip" leaves them out, listed in
        ``layer.attrs["skipped"]`` (see `gis.skipped`) and the notes.

    Returns
    -------
    Constraint
        ``layer`` in the file's own CRS (reproject with `Constraint.to_crs`), with
        columns ``name`` (str), for trees ``crown_radius_m`` (metres, NaN where the
        file has no value), and ``geometry`` (2D; polygons valid). ``layer.attrs["notes"]``
        lists field mappings, repairs and assumptions.

    Raises
    ------
    InputError
        Unknown kind or format, empty layer, missing ``name_field`` / ``crown_field``,
        non-numeric or negative crown values.
    GeometryError
        Rows of the wrong geometry type for the kind, or polygons with no area once
        repaired.
    CRSError
        No CRS and none given, or ``input_crs`` contradicts the file's.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> c = read_constraint(demo_folder() / "historic_districts.gpkg", "历史文化街区")
    >>> c.kind, c.source, c.layer["name"].tolist(), c.layer.crs.to_epsg()
    ('historic_district', 'historic_districts.gpkg', ['老城历史文化街区'], 4490)
    >>> trees = read_constraint(demo_folder() / "ancient_trees.gpkg", "ancient_tree")
    >>> trees.layer["crown_radius_m"].round(2).tolist()[:3]  # 冠幅 is a diameter: halved
    [5.85, 7.95, 4.75]

    """
    kind = constraint_kind(kind)
    if not isinstance(path, gpd.GeoDataFrame):  # a layer in memory (QGIS plugin) has no file
        path = Path(path)
    src = path.name if isinstance(path, Path) else str(path.attrs.get("source") or kind)
    zh, en = KIND_LABELS[kind]
    if src.lower().endswith((".osm", ".pbf", ".osm.xml")):
        msg = (
            f"{path}: OpenStreetMap files hold no {en} ({zh}) layer; export the bureau's layer "
            "as GeoPackage, GeoJSON or Shapefile."
        )
        raise InputError(msg)
    # read_layer: format and encoding detection, then gis.crs.require_crs (never guesses).
    gdf, notes, src = read_layer(path, role=f"{en} ({zh})", layer=layer, input_crs=input_crs,
                                encoding=encoding)
    return constraint_from(gdf, notes, src, kind, name_field=name_field,
                           crown_field=crown_field, invalid=invalid)


def constraint_from(gdf: gpd.GeoDataFrame, notes: list[str], src: str, kind: str, *,
                    name_field: str | None = None, crown_field: str | None = None,
                    invalid: str = "stop") -> Constraint:
    """The checks of `read_constraint` on a layer already read and given a CRS
    (`gis.prepare.prepare_constraint` is the public way in).

    Examples
    --------
    A layer already in memory (from QGIS, PostGIS or a notebook):

    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> raw = gpd.read_file(demo_folder() / "plan_units.gpkg")
    >>> c = constraint_from(raw, [], "plan_units.gpkg", "plan_unit")
    >>> c.kind, len(c.layer), c.layer["name"].tolist()[:2]
    ('plan_unit', 7, ['控规单元南-01', '控规单元北-02'])
    >>> [str(n) for n in c.layer.attrs["notes"]]
    ['plan_units.gpkg: features named by field 单元名称.']
    """
    kind = constraint_kind(kind)
    zh, en = KIND_LABELS[kind]
    gdf = gdf.drop(columns="_row", errors="ignore")  # rows are numbered here
    skipped: list[dict[str, Any]] = []
    rows = np.arange(1, len(gdf) + 1)  # 1-based file rows, kept through dropping
    gdf = gdf.reset_index(drop=True)

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.all():
        msg = f"{src}: every row has an empty geometry; the {en} ({zh}) layer has nothing to check."
        raise GeometryError(msg)
    if empty.any():
        skipped.extend(skipped_record(layer=kind, source=src, row=r, feature_id=None,
                                      reason="no geometry", reason_zh="无几何图形")
                       for r in rows[empty])
        notes.append(Note.of("analysis.constraints.no_geometry", src=src,
                             rows=_rows_note(rows[empty].tolist(), "have")))
    keep = ~empty
    gdf, geoms, rows = gdf.loc[keep].reset_index(drop=True), geoms[keep], rows[keep]

    names_of_type = _type_names(geoms)
    allowed = _ALLOWED_TYPES[kind]
    bad = ~np.isin(names_of_type, allowed)
    if bad.any():
        want_key = {_POINT_TYPES: "points", _POLYGON_TYPES: "polygons",
                    _POINT_TYPES + _POLYGON_TYPES: "points_or_polygons"}[allowed]
        want = Note.of(f"analysis.constraints.want.{want_key}")
        found = ", ".join(sorted(set(names_of_type[bad])))
        msg = (
            f"{src}: {_rows(rows[bad].tolist(), 'are')} {found}, but a {en} ({zh}) layer holds "
            f"{want}. Remove those rows, convert them, or check that the file is the right layer."
        )
        if invalid != "skip":
            raise GeometryError(msg)
        _skip(bad, rows, geoms, kind, src,
              Note.of("analysis.constraints.reason.wrong_type", found=found, want=want),
              notes, skipped)
        gdf, geoms, rows = gdf.loc[~bad].reset_index(drop=True), geoms[~bad], rows[~bad]
    geoms = shapely.force_2d(geoms)
    geoms = _repair(geoms, rows, src, notes, mode=invalid)
    lost = shapely.is_empty(geoms)
    if lost.any():  # only with invalid="skip": collapsed polygons
        _skip(lost, rows, np.asarray(gdf.geometry.values, dtype=object), kind, src,
              Note.of("analysis.constraints.reason.collapsed"), notes, skipped)
        gdf, geoms, rows = gdf.loc[~lost].reset_index(drop=True), geoms[~lost], rows[~lost]
    if not len(geoms):
        msg = f"{src}: no row of the {en} ({zh}) layer is usable; nothing to check."
        raise GeometryError(msg)

    labels, composed = _names(gdf, kind, src, rows, notes, name_field)
    out = gpd.GeoDataFrame(
        {"name": feature_labels(labels, kind, "zh").to_numpy()},
        geometry=gpd.GeoSeries(geoms, crs=gdf.crs),
    )
    if composed:  # keep what the label was made of, so it can be put in English too
        for col in LABEL_COLUMNS:
            out[col] = labels[col].to_numpy()
    if kind == "ancient_tree":
        out.insert(1, "crown_radius_m", _crowns(gdf, src, rows, notes, crown_field))
    out.attrs["notes"] = list(notes)
    out.attrs["skipped"] = skipped
    return Constraint(kind=kind, layer=out, source=src)


def _skip(mask: np.ndarray, rows: np.ndarray, geoms: np.ndarray, kind: str, src: str,
          reason: Note, notes: list[str], skipped: list[dict[str, Any]]) -> None:
    """Record the rows ``invalid="skip"`` leaves out of a constraint layer."""
    skipped.extend(skipped_record(layer=kind, source=src, row=r, feature_id=None,
                                  reason=str(reason), reason_zh=reason.zh, geometry=g)
                   for r, g in zip(rows[mask], geoms[mask]))
    notes.append(Note.of("analysis.constraints.left_out", src=src,
                         rows=_rows_note(rows[mask].tolist()), reason=reason))


def _repair(geoms: np.ndarray, rows: np.ndarray, src: str, notes: list[str], *,
            mode: str = "stop") -> np.ndarray:
    """make_valid invalid polygons, keeping their polygonal part."""
    repair = repair_polygons(geoms)
    # With mode="skip" the collapsed ones are left empty for the caller to set aside.
    if len(repair.lost) and mode != "skip":
        msg = (
            f"{src}: {_rows(rows[repair.lost].tolist(), 'are')} invalid polygons with no area "
            "once repaired (collapsed rings); redraw those features or delete the rows."
        )
        raise GeometryError(msg)
    geoms, invalid, reasons = repair.geoms, repair.repaired, repair.reasons
    if not len(invalid):
        return geoms
    listed = list_items(rows[invalid].tolist())
    detail = "; ".join(f"row {r}: {why}" for r, why in zip(rows[invalid][:5], reasons[:5]))
    # The rows as a phrase in both languages: in English each with GEOS's reason (the
    # library's English words), in Chinese the numbers alone (the message says 第…行).
    note = Note.of("analysis.constraints.repaired", src=src, n=len(invalid),
                   rows=Note(detail, listed))
    notes.append(note)
    warnings.warn(str(note), UserWarning, stacklevel=3)
    return geoms


def _rows(rows: Any, verb: str = "") -> str:
    """"row 3 has" or "rows 2, 5 have" (1-based file rows)."""
    return rows_phrase(list(rows), verb)


def _rows_note(rows: list[Any], verb: str = "") -> Note:
    """`_rows` in both languages: "rows 2, 5 have" in English, the numbers alone in
    Chinese (its messages say 第…行 around them). ``verb`` is "" or "have"."""
    number = "one" if len(rows) == 1 else "many"
    return Note.of(f"analysis.rows{'_' + verb if verb else ''}.{number}", rows=list_items(rows))


def _type_names(geoms: np.ndarray) -> np.ndarray:
    """Geometry type names ("Point", "Polygon" …) of an array of present geometries."""
    return _TYPE_NAMES[shapely.get_type_id(geoms)]


def _cell_text(values: pd.Series) -> pd.Series:
    """Attribute values as text: 101.0 → "101", missing → NA."""
    def one(v: Any) -> Any:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        return id_text(v) or pd.NA
    return values.map(one).astype(object)


def _names(
    gdf: gpd.GeoDataFrame,
    kind: str,
    src: str,
    rows: np.ndarray,
    notes: list[str],
    name_field: str | None,
) -> tuple[pd.DataFrame, bool]:
    """What names each feature: `LABEL_COLUMNS` (id, species, file row), and whether a
    label has to be composed from them (a species, or a feature named by its row)."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if name_field is not None:
        if name_field not in columns:
            msg = (
                f"{src}: no field {name_field!r} to name features by; fields found: "
                f"{', '.join(map(str, columns)) or '(none)'}. Pass one of them as the name field."
            )
            raise InputError(msg)
        field: str | None = name_field
    else:
        field = find_field(columns, _KIND_NAME_FIELDS[kind] + _COMMON_NAME_FIELDS)
        if field is None and kind == "ancient_tree":
            field = find_field(columns, _TREE_SPECIES_FIELDS)
    none = pd.Series([pd.NA] * len(gdf), dtype=object)
    if field is None:
        notes.append(Note.of("analysis.constraints.no_name_field", src=src))
        return pd.DataFrame({"feature_id": none, "species": none, "row": rows}), True
    names = _cell_text(gdf[field].reset_index(drop=True))
    sp = none
    if kind == "ancient_tree" and name_field is None:
        species = find_field([c for c in columns if c != field], _TREE_SPECIES_FIELDS)
        if species is not None:
            sp = _cell_text(gdf[species].reset_index(drop=True))
    if field != "name":
        notes.append(Note.of("analysis.constraints.named_by", src=src, field=field))
    missing = names.isna() & sp.isna()
    if missing.any():
        notes.append(Note.of("analysis.constraints.names_missing", src=src, field=field,
                             rows=_rows_note(rows[missing.values].tolist(), "have")))
    labels = pd.DataFrame({"feature_id": names, "species": sp, "row": rows})
    return labels, bool(missing.any() or sp.notna().any())


def feature_labels(layer: pd.DataFrame, kind: str, lang: str = "zh") -> pd.Series:
    """The label of each feature of a constraint layer, in ``lang``.

    A layer from `read_constraint` keeps, where it had to compose a label, what the label
    is made of (`LABEL_COLUMNS`: ``feature_id``, a tree's ``species``, the file ``row``):
    a tree is "GS-001（国槐）" in Chinese and "GS-001 (国槐)" in English, a feature without
    a name "古树名木第3行" / "ancient or notable tree row 3". Other layers are labelled by
    their ``name`` as given, a feature without one by its position.

    Parameters
    ----------
    layer : DataFrame
        A constraint layer (`Constraint.layer`), or a frame of `LABEL_COLUMNS`.
    kind : str
        Its constraint kind (key or label).
    lang : {"zh", "en"}

    Returns
    -------
    Series of str, aligned with ``layer``.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> trees = read_constraint(demo_folder() / "ancient_trees.gpkg", "ancient_tree")
    >>> trees.layer["name"].tolist()[:2]
    ['GS-001（国槐）', 'GS-002（银杏）']
    >>> feature_labels(trees.layer, "ancient_tree", "en").tolist()[:2]
    ['GS-001 (国槐)', 'GS-002 (银杏)']
    >>> feature_labels(pd.DataFrame({"name": ["东片", None]}), "eco_redline", "en").tolist()
    ['东片', 'ecological protection red line row 2']
    """
    kind = constraint_kind(kind)
    n = len(layer)
    none = pd.Series([pd.NA] * n, dtype=object)
    if "feature_id" in layer.columns:
        ids = _cell_text(layer["feature_id"].reset_index(drop=True))
        sp = (_cell_text(layer["species"].reset_index(drop=True)) if "species" in layer.columns
              else none)
        rows = (layer["row"].to_numpy() if "row" in layer.columns else np.arange(1, n + 1))
    else:
        ids = _cell_text(layer["name"].reset_index(drop=True)) if "name" in layer.columns else none
        sp, rows = none, np.arange(1, n + 1)
    return pd.Series(label_values(kind, ids.to_numpy(), sp.to_numpy(), rows, lang),
                     index=layer.index, dtype=object)


def label_values(kind: str, ids: Any, species: Any, rows: Any, lang: str) -> list[str]:
    """Labels from machine values (one kind): id with species, id, species, or the row."""
    kind_text = tr(f"analysis.kind.{kind}", lang)
    out = []
    for i, s, r in zip(ids, species, rows):
        has_id, has_sp = not pd.isna(i), not pd.isna(s)
        if has_id and has_sp:
            out.append(tr("analysis.constraints.tree_label", lang, id=i, species=s))
        elif has_id or has_sp:
            out.append(str(i if has_id else s))
        else:
            out.append(tr("analysis.constraints.row_label", lang, kind=kind_text, row=int(r)))
    return out


def labelled_layer(constraint: Constraint, lang: str = "zh") -> gpd.GeoDataFrame:
    """The constraint's layer with ``name`` in ``lang`` (`feature_labels`), for a map.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> trees = read_constraint(demo_folder() / "ancient_trees.gpkg", "古树名木")
    >>> labelled_layer(trees, "en")["name"].iloc[0], labelled_layer(trees)["name"].iloc[0]
    ('GS-001 (国槐)', 'GS-001（国槐）')
    """
    layer = constraint.layer.copy()
    layer["name"] = feature_labels(layer, constraint.kind, lang)
    return layer


def _is_diameter(field: str) -> bool:
    n = norm_text(field)
    return ("冠幅" in n and "半径" not in n) or "直径" in n or "diameter" in n


def _crowns(
    gdf: gpd.GeoDataFrame,
    src: str,
    rows: np.ndarray,
    notes: list[str],
    crown_field: str | None,
) -> np.ndarray:
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if crown_field is not None:
        if crown_field not in columns:
            msg = (
                f"{src}: no crown field {crown_field!r}; fields found: "
                f"{', '.join(map(str, columns)) or '(none)'}. Pass the field holding the crown "
                "radius (冠幅半径) or diameter (冠幅), in metres."
            )
            raise InputError(msg)
        field: str | None = crown_field
    else:
        field = find_field(columns, _CROWN_RADIUS_FIELDS) or find_field(columns, _CROWN_DIAMETER_FIELDS)
    if field is None:
        notes.append(Note.of("analysis.constraints.no_crown_field", src=src))
        return np.full(len(gdf), np.nan)
    raw = gdf[field]
    text = raw.astype(str).str.strip()
    given = raw.notna() & ~text.isin(["", "nan", "None", "<NA>"])
    number = text.str.extract(r"^([+-]?\d*\.?\d+)\s*(?:m|米|M)?$")[0]
    values = pd.to_numeric(number.where(given), errors="coerce")
    bad = given & values.isna()
    if bad.any():
        msg = (
            f"{src}: crown field {field} must be a number of metres but "
            f"{_rows(rows[bad.values].tolist(), 'hold')} {list_items(raw[bad].astype(str).unique())}; "
            "enter plain numbers or leave the cell empty (the default crown is then used)."
        )
        raise InputError(msg)
    negative = values < 0
    if negative.any():
        msg = (
            f"{src}: crown field {field} is negative in "
            f"{_rows(rows[negative.values].tolist())}; correct those values."
        )
        raise InputError(msg)
    radius = values.to_numpy(dtype=float)
    if _is_diameter(field):
        radius = radius / 2.0
        notes.append(Note.of("analysis.constraints.crown_diameter", src=src, field=field))
    elif field != "crown_radius_m":
        notes.append(Note.of("analysis.constraints.crown_radius", src=src, field=field))
    unknown = np.isnan(radius)
    if unknown.any():
        notes.append(Note.of("analysis.constraints.crowns_missing", src=src, field=field,
                             rows=_rows_note(rows[unknown].tolist(), "have")))
    return radius

