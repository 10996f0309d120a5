"""Messages shared by several outputs: separators, summaries, notes on layers and units.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields. Ids of one output family carry its prefix (``summary.``, ``layer.``); see
`gis.i18n` for how they are looked up.
"""

from __future__ import annotations

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
        "假定纳入：{n:,} 个小区建成年份缺失，按 `assume_unknown_eligible` 假定纳入，须核实。",
        "ASSUMED eligible without a build year: {n:,} estates (`assume_unknown_eligible`); "
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
    # Units map (gis.maps.units).
    "units_map.layer_estates": ("小区（改造资格）", "Estates (eligibility)"),
    "units_map.layer_units": ("改造单元", "Renovation units"),
    "units_map.layer_links": ("相邻关系", "Neighbour links"),
    "units_map.layer_conflicts": ("审查冲突", "Conflicts"),
    "units_map.search": ("搜索单元编号…", "Find a unit…"),
    "units_map.title": ("老旧小区联动改造单元", "Combined renovation units"),
    "units_map.illustrative": ("（示例数据，虚构县城）", " (ILLUSTRATIVE demo data)"),
    "units_map.legend_title": ("改造单元", "Units"),
    "units_map.legend_unit": ("改造单元（粗线为联动单元）", "unit outline (thick: joint)"),
    "units_map.legend_conflict": ("存在审查冲突", "unit with conflicts / conflict"),
    "units_map.legend_eligible": ("纳入改造的小区", "eligible estate"),
    "units_map.legend_extended": ("2001–2005年建成（按需纳入）", "2001–2005, included"),
    "units_map.legend_not_eligible": ("不纳入改造的小区", "not eligible"),
    "units_map.legend_unknown": ("改造资格未知：建成年份缺失，待补录（{n:,} 个）",
                                 "eligibility unknown: no build year ({n:,})"),
    "units_map.legend_assumed_eligible": ("建成年份缺失，假定纳入（须核实）（{n:,} 个）",
                                          "ASSUMED eligible: no build year ({n:,})"),
    "units_map.legend_not_analysed": ("未分析（几何无效，已跳过）（{n:,} 个）",
                                      "not analysed (invalid geometry) ({n:,})"),
    "units_map.legend_unchecked": ("虚线：规模未能全部核验（成员数据未知）",
                                   "dashed: size not fully checked (unknown members)"),
    "units_map.legend_link": ("联动相邻关系", "link"),
    "units_map.legend_not_linked": ("相邻但未联动", "neighbour, not linked"),
    "units_map.known": ("（已知 {known:,.0f}）", " (known {known:,.0f})"),
    "units_map.label": ("{unit_id}：{n} 个小区，{households} 户",
                        "{unit_id}: {n} estates, {households} households"),
    "units_map.link_tip": ("{a}–{b}：间距 {gap_m:.1f} 米，相邻边 {facing_m:.0f} 米",
                           "{a}–{b}: gap {gap_m:.1f} m, facing {facing_m:.0f} m"),
    "units_map.crosses": ("，跨越{crossed}", ", crosses {crossed}"),
    "units_map.unchecked": ("{names}（{n_hh} 个成员小区户数未知，{n_fa} 个建筑面积未知）",
                            "{names} (households unknown for {n_hh}, floor area for {n_fa} "
                            "members)"),
    "units_map.popup_n_estates": ("小区数", "Estates"),
    "units_map.popup_households": ("户数", "Households"),
    "units_map.popup_floor_area": ("建筑面积（平方米）", "Floor area m²"),
    "units_map.popup_built": ("建成年份", "Built"),
    "units_map.popup_members": ("成员小区", "Members"),
    "units_map.popup_why_linked": ("联动依据", "Why linked"),
    "units_map.popup_gaps": ("生活圈设施缺口", "Living-circle gaps"),
    "units_map.popup_review": ("审查", "Review"),
    "units_map.popup_decision": ("审查决定", "Decision"),
    "units_map.popup_flags": ("提示", "Flags"),
    "units_map.popup_unchecked": ("规模未能核验", "Size not checked"),
    "units_map.popup_assumed": ("假定纳入的成员", "Assumed eligible"),
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
