"""One catalogue of user-facing text in Chinese and English, keyed by message id.

Reports, maps and summaries render text by asking `tr` for a message id in a language,
never by writing ``"..." if en else "..."`` at the call site. Data columns keep machine
values (category keys, counts, ids); words are chosen only when a table, map or report is
rendered, so one result can be written in either language.

`MESSAGES` maps a message id to ``(zh, en)``; both are `str.format` templates with the
same fields. `list_sep` is the separator of a list inside one cell ("、" in Chinese,
", " in English); `clause_sep` separates clauses ("；" / "; ").

Examples
--------
>>> tr("link_reason", "zh", a="E1", b="E2", gap_m=0.0, facing_m=111)
'E1–E2：间距0.0米，相邻边111米'
>>> tr("link_reason", "en", a="E1", b="E2", gap_m=0.0, facing_m=111)
'E1–E2: gap 0.0 m, facing 111 m'
>>> join(["A", "B"], "en"), join(["甲", "乙"], "zh")
('A, B', '甲、乙')
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["LANGS", "MESSAGES", "clause_join", "join", "tr"]

#: Languages every message has.
LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # Separators inside one table cell.
    "list_sep": ("、", ", "),
    "clause_sep": ("；", "; "),
    "paren_open": ("（", " ("),
    "paren_close": ("）", ")"),
    # Between the category names of one estate's ``missing`` cell.
    "category_sep": ("、", "; "),
    # Renovation units: why two estates were linked, and a unit's living-circle gaps.
    "link_reason": ("{a}–{b}：间距{gap_m}米，相邻边{facing_m}米",
                    "{a}–{b}: gap {gap_m} m, facing {facing_m} m"),
    "unit_gap": ("{category}（{n}个小区，{households:,.0f}户）",
                 "{category} ({n} estates, {households:,.0f} households)"),
    # Demo banners: the bundled data describe a fictional town.
    "demo_banner_md": ("> 示例数据：虚构县城，仅作演示 (illustrative data, fictional town)",
                       "> ILLUSTRATIVE demo data: a fictional county town"),
    # Console summaries (gis.summary).
    "summary.skipped": (
        "未分析：{n} 行输入数据因几何缺失或无法修复而未参与分析（{parts}），"
        "报告逐行列出原因；请修正后重新运行。",
        "Not analysed: {n} input rows left out ({parts}) because their geometry is missing "
        "or cannot be repaired; the report lists each with its reason. Redraw them and run "
        "again."),
    "summary.skipped_part": ("{layer} {n} 行", "{layer} {n}"),
    "summary.skipped_sep": ("，", ", "),
    "layer.estates": ("小区", "estates"),
    "layer.services": ("设施", "services"),
    "layer.streets": ("道路", "streets"),
    "layer.gates": ("出入口", "gates"),
    "layer.barriers": ("障碍", "barriers"),
    "summary.coverage": ("已分析 {n:,} 个小区：{full:,} 个全部覆盖，{gaps:,} 个存在缺口。",
                         "{n:,} estates analysed: {full:,} reach every facility category, "
                         "{gaps:,} have gaps."),
    "summary.households_unknown": (
        "{n:,} 个小区中 {unknown:,} 个户数未知：户数合计与户数覆盖率只统计其余小区；"
        "补录户数字段后即可计入。",
        "Households unknown for {unknown:,} of {n:,} estates: household totals and rates "
        "count the others only; fill in 户数 (households) to include them."),
    "summary.straight": ("假定：直线距离（未使用路网），覆盖结果偏乐观。",
                         "Assumed: straight-line distances (no street network); coverage is "
                         "optimistic."),
    "summary.eligibility": (
        "{n:,} 个小区的改造资格：纳入 {eligible:,} 个{assumed}"
        "，不纳入 {not_eligible:,} 个，未知 {unknown:,} 个（建成年份缺失）{end}",
        "Eligibility of {n:,} estates: {eligible:,} eligible{assumed}"
        ", {not_eligible:,} not eligible, {unknown:,} unknown (no build year){end}"),
    "summary.eligibility_assumed": ("（其中 {n:,} 个建成年份缺失、按假定纳入）",
                                    " (of which {n:,} ASSUMED: no build year)"),
    "summary.eligibility_left_out": ("，未分析 {n:,} 个（几何无效，已跳过）。",
                                     ", {n:,} not analysed (geometry left out)."),
    "summary.full_stop": ("。", "."),
    "summary.undecided": (
        "{n:,} 个小区中 {unknown:,} 个无法判定是否纳入改造：建成年份缺失。请{hint}。",
        "Could not decide {unknown:,} of {n:,} estates: no build year. To decide, {hint}."),
    "summary.assumed": (
        "假定纳入：{n:,} 个小区建成年份缺失，按 --assume-unknown-eligible 假定纳入，须核实。",
        "ASSUMED eligible without a build year: {n:,} estates (--assume-unknown-eligible); "
        "verify them."),
    "summary.units": ("改造单元 {n:,} 个，其中联动单元 {joint:,} 个。",
                      "{n:,} renovation units, {joint:,} joint."),
    "summary.size_unchecked": (
        "{n:,} 个单元的规模未能全部核验（{names}）：成员小区户数或建筑面积未知，"
        "单元合计记为未知（已知部分另列）；请补录户数/建筑面积。",
        "Size not fully checked for {n:,} units ({names}): members' households or floor "
        "area are unknown, so their totals are unknown (the known part is listed); fill in "
        "户数/建筑面积."),
    "summary.barrier": (
        "障碍图层 {source}：{features:,} 个要素中 {barriers:,} 个作为障碍（{rule}），"
        "{kept_apart:,} 对相邻小区因此未联动。",
        "Barrier layer {source}: {barriers:,} of {features:,} features acted as barriers "
        "({rule}); {kept_apart:,} neighbour pairs kept apart."),
    # Finish-standard groups of the renovation programme (连政办发〔2021〕22号 三(四)).
    "check_group.三入": ("三入", "Lines underground"),
    "check_group.四通": ("四通", "Four utilities"),
    "check_group.四有": ("四有", "Four facilities"),
    "check_group.两整": ("两整", "Two tidy"),
    "check_group.生活圈": ("生活圈", "Living circle"),
    # Where a finished content item came from (survey gap or coverage gap).
    "origin.survey": ("摸底调查缺项", "survey: item lacking"),
    "origin.coverage": ("生活圈缺口：{category} {far}", "living-circle gap: {category} {far}"),
}


def _index(lang: str) -> int:
    if lang not in LANGS:
        msg = f"Language {lang!r} is not one of {', '.join(LANGS)}."
        raise ValueError(msg)
    return LANGS.index(lang)


def tr(msg_id: str, lang: str = "zh", /, **fields: object) -> str:
    """The message ``msg_id`` in ``lang``, its ``{fields}`` filled in.

    Parameters
    ----------
    msg_id : str
        A key of `MESSAGES`.
    lang : {"zh", "en"}
    **fields
        Values for the template's fields (data values are inserted as given).

    Returns
    -------
    str

    Raises
    ------
    KeyError
        For an unknown message id (a programming error, caught by the tests).

    Examples
    --------
    >>> tr("check_group.四通", "en")
    'Four utilities'
    >>> tr("unit_gap", "zh", category="菜市场", n=2, households=1234)
    '菜市场（2个小区，1,234户）'
    """
    text = MESSAGES[msg_id][_index(lang)]
    return text.format(**fields) if fields else text


def join(items: Iterable[object], lang: str = "zh") -> str:
    """Items of a list in one cell, with the language's list separator.

    Examples
    --------
    >>> join(["XQ001", "XQ002"], "zh")
    'XQ001、XQ002'
    """
    return tr("list_sep", lang).join(str(i) for i in items)


def clause_join(items: Iterable[object], lang: str = "zh") -> str:
    """Clauses in one cell, with the language's clause separator ("；" / "; ").

    Examples
    --------
    >>> clause_join(["a", "b"], "en")
    'a; b'
    """
    return tr("clause_sep", lang).join(str(i) for i in items)
