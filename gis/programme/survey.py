"""Survey fields per estate (摸底调查) and each estate's content list (改造清单).

A survey row says, for one estate (by 小区编号), which catalogue items it lacks (a column
per item, headed with the item's Chinese name: 缺/是/1/√ = lacking, blank/否/0/有 = not),
residents' support for renovation (居民改造意愿, %), its property management
(物业管理: 有/无/物业服务企业/社区托管/居民自管 …), its district (所属县区) and,
optionally, a plan year fixed by decision (指定年度). The same fields are read from the
estates layer's attributes or from a separate XLSX/CSV keyed by 小区编号;
`survey_template` writes the blank sheet.

Content lists combine the survey with the living-circle analysis: an uncovered category
becomes the catalogue item that names it in ``from_gap`` (no charger within 1,000 m →
完善类 充电设施), and every line says where it came from.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import InputError
from gis.layers import find_field, id_text, list_items, norm_text, read_table
from gis.i18n import tr
from gis.programme.catalogue import Catalogue, Item, in_lang
from gis.standards import Standard

__all__ = ["SURVEY_FIELDS", "content_lists", "read_survey", "survey_from_table",
           "survey_template"]

logger = logging.getLogger(__name__)

SURVEY_FIELDS = {
    "estate_id": ("estate_id", "小区编号", "小区代码", "小区id"),
    "district": ("district", "所属县区", "县区", "区县", "所属区县", "县(区)", "功能板块"),
    "support_pct": ("support_pct", "居民改造意愿", "改造意愿", "居民意愿", "意愿比例",
                    "居民改造意愿%"),
    "property_management": ("property_management", "物业管理", "物业管理方式", "物业"),
    "fixed_year": ("fixed_year", "指定年度", "确定年度", "指定改造年度"),
}
_YES = {"缺", "缺失", "是", "1", "√", "✓", "y", "yes", "true", "需改造", "需要", "lacking"}
_NO = {"", "否", "0", "有", "不缺", "无需", "n", "no", "false", "nan", "none", "已具备"}
_NO_PM = {"无", "否", "没有", "无物业", "0", "no", "false", "none"}


def survey_from_table(table: pd.DataFrame, catalogue: Catalogue, src: str) -> pd.DataFrame:
    """Survey fields from a table (a survey sheet or an estates layer's attributes).

    Returns
    -------
    DataFrame
        Index ``estate_id``; ``district`` (str or missing), ``support_pct`` (0–100, NaN
        unknown), ``property_management`` (text), ``has_property_management`` (True/False,
        missing when blank), ``fixed_year`` (Int64), ``lacking`` (tuple of item keys,
        catalogue order), ``surveyed`` (True when any item column is present).

    Raises
    ------
    InputError
        No 小区编号 column, repeated ids, support outside 0–100 or not a number, item
        cells that are neither lacking nor not, a fixed year that is not a year.

    Examples
    --------
    >>> from gis.programme.catalogue import load_catalogue
    >>> table = pd.DataFrame({"小区编号": ["XQ1", "XQ2"], "居民改造意愿": ["85%", 0.6],
    ...                       "物业管理": ["无", "物业服务企业"], "排水": ["缺", ""],
    ...                       "加装电梯": ["", "√"]})
    >>> s = survey_from_table(table, load_catalogue(), "survey.csv")
    >>> s[["support_pct", "has_property_management", "lacking"]].values.tolist()
    [[85.0, False, ('drainage',)], [60.0, True, ('lifts',)]]
    >>> survey_from_table(table.assign(排水=["缺", "maybe"]), load_catalogue(), "survey.csv")
    Traceback (most recent call last):
    gis.errors.InputError: survey.csv: row 3, column 排水: 'maybe' is neither 缺 (lacking) ...
    """
    cols = {k: find_field(table.columns, a) for k, a in SURVEY_FIELDS.items()}
    if cols["estate_id"] is None:
        msg = (f"{src}: no 小区编号 (estate_id) column in the header "
               f"({', '.join(map(str, list(table.columns)[:6]))}); if title rows sit above "
               "the header, delete them so the header is the first row.")
        raise InputError(msg)
    ids = table[cols["estate_id"]].map(_id)
    problems = []
    blank = np.flatnonzero((ids == "").to_numpy())
    if len(blank):
        problems.append(f"rows {list_items((blank + 2).tolist())} have no 小区编号")
    dup = ids[ids.duplicated(keep=False) & (ids != "")]
    if len(dup):
        rows = (np.flatnonzero(ids.isin(dup).to_numpy()) + 2).tolist()
        problems.append(f"小区编号 repeat ({list_items(sorted(set(dup)))}) in rows "
                        f"{list_items(rows)}")
    out = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="estate_id"))
    out["district"] = (table[cols["district"]].map(_text).to_numpy()
                       if cols["district"] else "")
    support = np.full(len(table), np.nan)
    fractions: list[int] = []
    if cols["support_pct"]:
        for i, v in enumerate(table[cols["support_pct"]]):
            s = _text(v).rstrip("%％")
            if s == "":
                continue
            try:
                support[i] = float(s)
            except ValueError:
                problems.append(f"row {i + 2}: 居民改造意愿 {str(v)!r} is not a percentage")
                continue
            if 0 < support[i] <= 1 and "." in s:
                support[i] *= 100  # 0.85 typed as a fraction
                fractions.append(i + 2)
            if not 0 <= support[i] <= 100:
                problems.append(f"row {i + 2}: 居民改造意愿 {s} is outside 0–100 %")
    out["support_pct"] = support
    if fractions:
        logger.warning("%s: 居民改造意愿 in rows %s read as fractions (0.85 → 85 %%); write "
                       "percentages (85) if that is wrong.", src, list_items(fractions))
    pm = table[cols["property_management"]].map(_text) if cols["property_management"] else None
    out["property_management"] = pm.to_numpy() if pm is not None else ""
    out["has_property_management"] = (
        pm.map(lambda t: pd.NA if t == "" else norm_text(t) not in _NO_PM).to_numpy()
        if pm is not None else pd.NA)
    fixed = pd.array([pd.NA] * len(table), dtype="Int64")
    if cols["fixed_year"]:
        for i, v in enumerate(table[cols["fixed_year"]]):
            s = _text(v).removesuffix("年")
            if s == "":
                continue
            if not (s.isdigit() and 1990 <= int(s) <= 2100):
                problems.append(f"row {i + 2}: 指定年度 {str(v)!r} is not a year")
                continue
            fixed[i] = int(s)
    out["fixed_year"] = fixed
    item_cols = {}
    for it in catalogue.items:
        col = find_field(table.columns, (it.key, it.name_zh, *it.aliases))
        if col is not None:
            item_cols[it.key] = col
    lacking: list[list[str]] = [[] for _ in range(len(table))]
    for key, col in item_cols.items():
        for i, v in enumerate(table[col]):
            t = norm_text(_text(v))
            if t in _YES:
                lacking[i].append(key)
            elif t not in _NO:
                problems.append(f"row {i + 2}, column {col}: {str(v)!r} is neither 缺 (lacking) "
                                "nor blank/有 (not lacking)")
    out["lacking"] = [tuple(x) for x in lacking]
    out["surveyed"] = bool(item_cols)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" … ({len(problems)} problems)" if len(problems) > 5 else ""
        raise InputError(f"{src}: {shown}{more}. Fix those cells and run again.")
    return out


def read_survey(path: str | Path, catalogue: Catalogue, *, encoding: str | None = None,
                known_ids: set[str] | None = None) -> pd.DataFrame:
    """Read a survey sheet (XLSX/CSV keyed by 小区编号); see `survey_from_table`.

    ``known_ids``: the estates layer's ids; survey rows naming others are an error
    (with the nearest known id suggested).

    Examples
    --------
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.sources import demo_folder
    >>> s = read_survey(demo_folder() / "survey.xlsx", load_catalogue())
    >>> len(s), s["district"].value_counts().to_dict(), float(s.loc["XQ001", "support_pct"])
    (150, {'城关区': 75, '东城区': 51, '新城区': 24}, 56.0)
    >>> read_survey(demo_folder() / "survey.xlsx", load_catalogue(), known_ids={"XQ001"})
    Traceback (most recent call last):
    gis.errors.InputError: survey.xlsx: 149 小区编号 not in the estates layer (...); ...
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such survey file.")
    table, _ = read_table(path, encoding=encoding)
    survey = survey_from_table(table, catalogue, path.name)
    if known_ids is not None:
        unknown = [i for i in survey.index if i not in known_ids]
        if unknown:
            hint = _suggest(unknown[0], known_ids)
            raise InputError(f"{path.name}: {len(unknown)} 小区编号 not in the estates layer "
                             f"({list_items(unknown)}){hint}; correct or delete those rows.")
    return survey


def survey_template(estates: pd.DataFrame, catalogue: Catalogue, path: str | Path,
                    *, lang: str = "zh") -> Path:
    """Write the blank survey sheet: one row per estate, one column per catalogue item.

    Identity columns are filled from ``estates`` (``estate_id``, ``name``, ``subdistrict``,
    ``district`` where known); the rest is left for the survey team.

    Examples
    --------
    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> from gis.layers import read_estates
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     book = load_workbook(survey_template(est, load_catalogue(), Path(tmp) / "s.xlsx"))
    >>> book.sheetnames, book.active.max_row, [c.value for c in book.active[1]][:8]
    (['摸底调查', '填表说明'], 151, ['小区编号', '小区名称', '所属县区', '所属街道', '居民改造意愿', '物业管理', '指定年度', '供水'])
    """
    from gis.programme._xlsx import write_book

    # Headers in ``lang``; each is also a name `survey_from_table` reads back.
    head = [tr(f"programme.survey.{k}", lang) for k in
            ("estate_id", "name", "district", "subdistrict", "support_pct",
             "property_management", "fixed_year")]
    rows = pd.DataFrame({
        head[0]: estates["estate_id"].astype(str).to_numpy(),
        head[1]: estates.get("name", estates["estate_id"]).astype(str).to_numpy(),
        head[2]: (estates["district"].astype(str).to_numpy() if "district" in estates else ""),
        head[3]: (estates["subdistrict"].fillna("").astype(str).to_numpy()
                  if "subdistrict" in estates else ""),
    })
    for h in head[4:]:
        rows[h] = ""
    for it in catalogue.items:
        rows[_item_column(it, lang)] = ""
    guide = pd.DataFrame({
        tr("programme.survey.guide_column", lang): [_item_column(it, lang)
                                                    for it in catalogue.items],
        tr("programme.survey.guide_class", lang): [catalogue.class_label(it.cls, lang)
                                                   for it in catalogue.items],
        tr("programme.survey.guide_source", lang): [it.source for it in catalogue.items],
    })
    guide.loc[len(guide)] = [tr("programme.survey.how", lang), "", ""]
    return write_book(path, {tr("programme.survey.sheet", lang): rows,
                             tr("programme.survey.guide_sheet", lang): guide})


def _item_column(item: Item, lang: str) -> str:
    """An item's column in the survey sheet: its Chinese name, or in English its key (both
    read back by `survey_from_table`; an English name is not an accepted header)."""
    return in_lang(item.name_zh, item.key, lang)


def content_lists(estates: pd.DataFrame, survey: pd.DataFrame | None, catalogue: Catalogue,
                  standard: Standard) -> pd.DataFrame:
    """Every estate's renovation content list, each line saying where it came from.

    Parameters
    ----------
    estates : DataFrame
        ``estate_id`` and, from `gis.coverage`, ``covered_<category>`` / ``dist_m_<category>``
        (metres) where the living-circle analysis was run.
    survey : DataFrame, optional
        From `read_survey` / `survey_from_table`.

    Returns
    -------
    DataFrame
        ``estate_id``, ``item_key``, ``item_class``, ``name_zh``, ``origin`` ("survey" or
        "gap"), ``origin_text`` (Chinese: 摸底调查缺项 / 生活圈缺口：… 1,320 m > 1,000 m),
        ``origin_text_en``; in estate then catalogue order.

    Examples
    --------
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.standards import load_standard
    >>> cat, std = load_catalogue(), load_standard("lianyungang_15min")
    >>> survey = survey_from_table(pd.DataFrame({"小区编号": ["XQ1"], "充电设施": ["缺"]}),
    ...                            cat, "survey.csv")
    >>> estates = pd.DataFrame({"estate_id": ["XQ1"], "covered_charging": [False],
    ...                         "dist_m_charging": [1320.0]})
    >>> lists = content_lists(estates, survey, cat, std)
    >>> lists[["item_key", "origin", "origin_text"]].values.tolist()
    [['charging', 'survey+gap', '摸底调查缺项；生活圈缺口：充电设施 1,320 m > 1,000 m']]
    >>> lists.loc[0, "origin_text_en"]
    'survey: lacking; living-circle gap: EV / e-bike charging 1,320 m > 1,000 m'
    """
    rows = []
    order = {it.key: i for i, it in enumerate(catalogue.items)}
    by_cat = {g: it for it in catalogue.items for g in it.from_gap}
    for rec in estates.to_dict("records"):
        eid = str(rec["estate_id"])
        found: dict[str, tuple[str, str, str]] = {}
        if survey is not None and eid in survey.index:
            for key in survey.at[eid, "lacking"]:
                found[key] = ("survey", "摸底调查缺项", "survey: lacking")
        for cat in standard.categories:
            covered = rec.get(f"covered_{cat.key}")
            if covered is None or (isinstance(covered, float) and np.isnan(covered)) or covered:
                continue
            it = by_cat.get(cat.key)
            if it is None:
                continue
            d = rec.get(f"dist_m_{cat.key}")
            far = (f"{d:,.0f} m > {cat.walk_m:,.0f} m" if d is not None and np.isfinite(d)
                   else f"> {2 * cat.walk_m:,.0f} m")
            zh = f"生活圈缺口：{cat.name_zh} {far}"
            en = f"living-circle gap: {cat.name_en} {far}"
            if it.key in found:
                zh, en = f"{found[it.key][1]}；{zh}", f"{found[it.key][2]}; {en}"
                found[it.key] = ("survey+gap", zh, en)
            else:
                found[it.key] = ("gap", zh, en)
        for key in sorted(found, key=order.__getitem__):
            it = catalogue.item(key)
            origin, zh, en = found[key]
            rows.append({"estate_id": eid, "item_key": key, "item_class": it.cls,
                         "name_zh": it.name_zh, "origin": origin, "origin_text": zh,
                         "origin_text_en": en})
    return pd.DataFrame(rows, columns=["estate_id", "item_key", "item_class", "name_zh",
                                       "origin", "origin_text", "origin_text_en"])


def _suggest(word: str, choices: set[str] | list[str]) -> str:
    near = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.5)
    return f" (did you mean {near[0]}?)" if near else ""


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return id_text(v)


def _id(v: object) -> str:
    return _text(v)
