"""Messages of the coverage gap report, the Word reports and the siting report (gis.report.coverage, .docx, .siting), ids ``report.``, ``docx.``, ``siting.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # gis.report.coverage: the gap report (Markdown, XLSX, CSV headers).
    "report.title": ("15分钟生活圈设施覆盖缺口报告", "15-minute living circle: facility coverage gaps"),
    "report.illustrative": (
        "说明：本报告基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。",
        "Note: built from the bundled ILLUSTRATIVE demo data (a fictional county town); "
        "it describes no real place."),
    "report.overview": ("概况", "Overview"),
    "report.standard": ("标准", "Standard"),
    "report.mode": ("距离计算方式", "Distance"),
    "report.mode_network": (
        "步行路网距离（小区出入口或边界附近路网节点 → 设施）",
        "walking network distance (estate gates or nearby street nodes → facility)"),
    "report.mode_straight": (
        "直线距离（未使用路网，结果偏乐观，仅供参考）",
        "STRAIGHT-LINE distance (no street network; optimistic, indicative only)"),
    "report.mode_network_short": ("路网步行距离", "walking network"),
    "report.mode_straight_short": ("直线距离", "straight line"),
    "report.crs": ("分析坐标系", "Analysis CRS"),
    "report.estates": ("小区数", "Estates"),
    "report.households": ("总户数", "Households"),
    "report.rates": ("分类覆盖率", "Coverage by category"),
    "report.category": ("设施类别", "Category"),
    "report.threshold": ("步行距离阈值（米）", "Walking threshold (m)"),
    "report.estates_covered": ("覆盖小区数", "Estates covered"),
    "report.estate_rate": ("小区覆盖率", "Estate rate"),
    "report.households_covered": ("覆盖户数", "Households covered"),
    "report.household_rate": ("户数覆盖率", "Household rate"),
    "report.gaps": ("缺口清单", "Gaps"),
    "report.no_gaps": ("所有小区均已覆盖全部设施类别。", "Every estate reaches every category."),
    "report.estate_id": ("小区编号", "Estate id"),
    "report.name": ("小区名称", "Estate"),
    "report.subdistrict": ("所属街道", "Subdistrict"),
    "report.community": ("所属社区", "Community"),
    "report.dist_m": ("最近距离（米）", "Nearest (m)"),
    "report.excess_m": ("超出阈值（米）", "Over threshold (m)"),
    "report.nearest": ("最近设施", "Nearest facility"),
    "report.gap_households": ("缺口户数", "Households in gap"),
    "report.priority": ("优先补点建议（按缺口户数）",
                        "Where new facilities would help most (households in gap)"),
    "report.priority_note": (
        "各社区内缺少该类设施的户数合计；户数越多，新增设施受益越大。",
        "Households lacking the category, per community; more households, more benefit "
        "from a new facility."),
    "report.gap_estates": ("缺口小区数", "Estates in gap"),
    "report.notes": ("数据处理说明", "Data notes"),
    "report.beyond": ("> {limit:.0f}（超出搜索范围）", "> {limit:.0f} (beyond search)"),
    "report.no_facility": ("无此类设施（输入数据中没有）", "none in the input data"),
    "report.unknown": ("未知", "unknown"),
    "report.date": ("生成日期", "Date"),
    "report.score": ("覆盖得分", "Coverage score"),
    "report.missing": ("缺少的设施", "Missing"),
    "report.yes": ("是", "yes"),
    "report.no": ("否", "no"),
    "report.dist_col": ("{name}_距离米", "{name} distance m"),
    "report.covered_col": ("{name}_是否覆盖", "{name} covered"),
    "report.nearest_col": ("{name}_最近设施", "{name} nearest"),
    "report.build_year": ("建成年份", "Build year"),
    "report.floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "report.buildings": ("楼栋数", "Buildings"),
    "report.shantytown": ("棚改计划", "Shantytown plan"),
    "report.n_covered": ("覆盖类别数", "Categories covered"),
    "report.sheet_rates": ("覆盖率", "Coverage"),
    "report.sheet_gaps": ("缺口清单", "Gaps"),
    "report.sheet_priority": ("补点建议", "Priorities"),
    "report.sheet_estates": ("小区明细", "Estates"),
    "report.sheet_notes": ("说明", "Notes"),
    "report.all": ("全部", "All"),
    # Shared by the Markdown and Word gap reports.
    "report.group_heading": ("{area}（{n} 个小区，{households} 户）",
                             "{area} ({n} estates, {households} households)"),
    "report.estate_label": ("{name}（{estate_id}）", "{name} ({estate_id})"),
    # Rows left out by `invalid="skip"`.
    "report.not_analysed_heading": ("未分析的要素（已跳过的行及原因）",
                                    "Not analysed (rows left out, with the reason)"),
    "report.not_analysed": ("未分析原因", "Not analysed"),
    "report.sheet_not_analysed": ("未分析", "Not analysed"),
    # Output file names chosen by language.
    "report.file_markdown": ("gap_report.md", "gap_report_en.md"),
    "report.file_xlsx": ("gap_report.xlsx", "gap_report_en.xlsx"),
    "report.file_docx": ("gap_report.docx", "gap_report_en.docx"),
    # gis.report.siting: the siting report (Markdown, XLSX); it also uses report.illustrative,
    # .overview, .standard, .date, .category, .threshold, .beyond, .notes, .unknown and
    # .sheet_notes, the same words as the gap report it is a section of.
    "siting.title": ("新增设施选址方案（补短板）", "Siting new facilities (closing the gaps)"),
    "siting.lead": (
        "本节为缺口报告的选址部分：在候选点位中选择新增设施位置，使步行可达覆盖的户数最多"
        "（给定点位数，MCLP），或用最少点位覆盖全部可覆盖的缺口小区（LSCP）。"
        "已被现有设施覆盖的小区不计入目标。",
        "The siting section of the gap report: where to add facilities among the "
        "candidate sites to newly cover the most households on foot (k sites, MCLP), or "
        "to cover every coverable gap estate with the fewest sites (LSCP). Estates "
        "already covered by an existing facility are not targets."),
    "siting.distance": ("距离计算方式", "Distance"),
    "siting.distance_rule": (
        "步行路网距离，与覆盖分析规则相同（小区出入口或边界附近路网节点 → 候选点，"
        "候选点按直线接入最近路网节点）",
        "walking network distance by the coverage rules (estate gates or nearby street "
        "nodes → candidate; a candidate joins its nearest street node in a straight line)"),
    "siting.candidates": ("候选点位", "Candidate sites"),
    "siting.cand_file": ("文件提供", "from file"),
    "siting.cand_network": ("沿路网每 {spacing} 米生成", "every {spacing} m along the streets"),
    "siting.cand_estate": ("小区内部各一处", "one inside each estate"),
    "siting.solver_rule": ("求解规则", "Solver rule"),
    "siting.solver_rule_text": (
        "精确求解（整数规划，HiGHS）在时限内证明最优时采用精确解，否则采用贪心解"
        "（CELF 懒惰评估，理论上不低于最优值的 {bound:.1%}）。",
        "the exact solution (integer programme, HiGHS) when it is proven optimal within "
        "the time limit, else the greedy one (CELF lazy evaluation; at least {bound:.1%} "
        "of the optimum in theory)."),
    "siting.before_after": ("覆盖前后对比", "Coverage before and after"),
    "siting.model": ("模型", "Model"),
    "siting.mclp": ("最大覆盖（MCLP，{k} 处）", "maximal covering (MCLP, {k} sites)"),
    "siting.lscp": ("全覆盖最少点位（LSCP）", "cover all with fewest sites (LSCP)"),
    "siting.method": ("采用解", "Solution kept"),
    "siting.exact": ("精确最优", "exact, proven optimal"),
    "siting.exact_gap": ("精确解（未证明最优）", "exact, not proven optimal"),
    "siting.greedy": ("贪心解", "greedy"),
    "siting.greedy_unproven": ("贪心解（精确求解未在时限内证明最优）",
                               "greedy (exact not proven within the time limit)"),
    "siting.sites": ("新增点位数", "New sites"),
    "siting.estates_before_after": ("覆盖小区数（前→后）", "Estates covered (before → after)"),
    "siting.households_before_after": ("覆盖户数（前→后）", "Households covered (before → after)"),
    "siting.rate_before_after": ("户数覆盖率（前→后）", "Household rate (before → after)"),
    "siting.gap": ("最优性差距", "Optimality gap"),
    "siting.proposals": ("建议点位", "Proposed sites"),
    "siting.order": ("序号", "Order"),
    "siting.candidate_id": ("候选编号", "Candidate id"),
    "siting.name": ("名称", "Name"),
    "siting.source": ("来源", "Source"),
    "siting.src_file": ("候选文件", "candidates file"),
    "siting.src_network": ("路网生成", "along streets"),
    "siting.src_estate": ("小区内部", "inside estate"),
    "siting.new_households": ("新增覆盖户数", "Households newly covered"),
    "siting.new_estates": ("新增覆盖小区数", "Estates newly covered"),
    "siting.cum_households": ("累计新增覆盖户数", "Cumulative households newly covered"),
    "siting.rate_after": ("累计户数覆盖率", "Cumulative household rate"),
    "siting.no_sites": ("无需新增：没有可由候选点覆盖的缺口小区。",
                        "None needed: no gap estate can be covered by a candidate."),
    "siting.unreachable": ("候选点无法覆盖的缺口小区", "Gap estates no candidate can cover"),
    "siting.unreachable_note": (
        "这些小区在阈值内没有任何候选点，需增加候选地块（或在小区内部设置）。",
        "No candidate lies within the threshold of these estates; add candidate sites "
        "(or sites inside the estates)."),
    "siting.estate": ("小区", "Estate"),
    "siting.households": ("户数", "Households"),
    "siting.nearest_candidate_m": ("最近候选点距离（米）", "Nearest candidate (m)"),
    "siting.nearest_candidate": ("最近候选点", "Nearest candidate"),
    "siting.solving": ("求解说明", "Solver details"),
    "siting.greedy_value": ("贪心目标值", "Greedy objective"),
    "siting.exact_value": ("精确目标值", "Exact objective"),
    "siting.bound_value": ("最优值上/下界", "Bound on the optimum"),
    "siting.greedy_share": ("贪心/最优", "Greedy / optimum"),
    "siting.seconds": ("用时（秒）", "Seconds"),
    "siting.objective_note": ("MCLP 目标值为新增覆盖户数；LSCP 目标值为点位数。",
                              "MCLP objective: households newly covered; LSCP objective: sites."),
    "siting.sheet_summary": ("覆盖前后", "Before-after"),
    "siting.sheet_sites": ("建议点位", "Sites"),
    "siting.sheet_unreachable": ("无法覆盖", "Unreachable"),
    "siting.sheet_solving": ("求解说明", "Solver"),
    "siting.cand_count": ("{kind} {n:,} 处", "{n:,} {kind}"),
    "siting.file_markdown": ("siting_report.md", "siting_report_en.md"),
    "siting.file_xlsx": ("siting_report.xlsx", "siting_report_en.xlsx"),
    # gis.report.docx: numbered captions of both Word reports.
    "docx.figure": ("图{n}　", "Figure {n}. "),
    "docx.table": ("表{n}　", "Table {n}. "),
    # gis.report.docx: the Word gap report (with the report. words of the Markdown one).
    "docx.sources": ("依据", "Sources"),
    "docx.clause": ("依据条款", "Clause"),
    "docx.categories_caption": ("设施类别与步行距离阈值", "Facility categories and thresholds"),
    "docx.overview_figure": ("小区生活圈设施覆盖情况（按缺少设施类别数）",
                             "Estates by facility categories missing"),
    "docx.gap_figure": ("设施缺口：{category}（{walk_m:.0f}米）",
                        "Gaps: {category} ({walk_m:.0f} m)"),
    # gis.report.docx: the Word review package.
    "docx.review_title": ("老旧小区联动改造单元审查材料", "Combined renovation units: review"),
    "docx.review_illustrative": (
        "说明：基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。",
        "Built from the bundled ILLUSTRATIVE demo data (a fictional county town)."),
    "docx.estates_total": ("小区总数", "Estates"),
    "docx.eligible": ("纳入改造", "Eligible"),
    "docx.units": ("改造单元", "Units"),
    "docx.joint_units": ("联动单元", "Joint units"),
    "docx.households": ("户数", "Households"),
    "docx.units_with_conflicts": ("存在冲突的单元", "Units with conflicts"),
    "docx.constraint_layers": ("审查图层", "Constraint layers"),
    "docx.date": ("生成日期", "Date"),
    "docx.units_figure": ("改造单元总图", "Combined renovation units"),
    "docx.units_heading": ("单元一览", "Units"),
    "docx.unit_id": ("单元编号", "Unit"),
    "docx.n_estates": ("小区数", "Estates"),
    "docx.floor_area_m2": ("建筑面积（平方米）", "Floor area m²"),
    "docx.n_conflicts": ("冲突项数", "Conflicts"),
    "docx.units_caption": ("改造单元及冲突", "Units, totals and conflicts"),
    "docx.sheets_capped": (
        "共 {n_units:,} 个改造单元：以下仅为其中 {n_sheets:,} 个（存在冲突的、"
        "联动单元优先，其次户数多的）各列一页审查表；其余单元见上表及 review.xlsx。",
        "{n_units:,} units: the {n_sheets:,} with conflicts, joint units and then the most "
        "households have a sheet below; the others are in the table above and in "
        "review.xlsx."),
    "docx.unit_heading": ("改造单元 {unit_id}", "Unit {unit_id}"),
    "docx.built": ("建成年份", "Built"),
    "docx.why_linked": ("联动依据", "Why linked"),
    "docx.gaps": ("生活圈设施缺口", "Living-circle gaps"),
    "docx.review": ("审查意见（自动检查）", "Review"),
    "docx.no_conflict": ("未发现冲突", "no conflict found"),
    "docx.flags": ("提示", "Flags"),
    "docx.decision_applied": ("已执行的审查决定", "Decision applied"),
    "docx.estate_id": ("小区编号", "Estate id"),
    "docx.estate": ("小区名称", "Estate"),
    "docx.eligibility": ("改造资格", "Eligibility"),
    "docx.constraint": ("约束类型", "Constraint"),
    "docx.feature": ("要素名称", "Feature"),
    "docx.overlap_m2": ("重叠面积（平方米）", "Overlap m²"),
    "docx.decision": ("决定", "Decision"),
    "docx.decision_boxes": ("☐ 通过　　☐ 否决　　☐ 拆分", "☐ approve   ☐ reject   ☐ split"),
    "docx.comment": ("说明", "Comment"),
    "docx.reviewer": ("审查人 / 日期", "Reviewer / date"),
    "docx.notes": ("说明", "Notes"),
    # An estate's eligibility when its reason text is missing (keys of
    # gis.eligibility.STATUSES and the older "unknown_year").
    "docx.status.eligible": ("纳入改造", "eligible"),
    "docx.status.eligible_extended": ("2001–2005年建成，按需纳入", "built 2001–2005, included"),
    "docx.status.extended_not_included": ("2001–2005年建成，未纳入",
                                          "built 2001–2005, not included"),
    "docx.status.too_new": ("2005年后建成", "built after 2005"),
    "docx.status.shantytown": ("已纳入棚改计划", "in a shantytown-redevelopment plan"),
    "docx.status.demolish": ("拟拆除新建", "to be demolished and rebuilt"),
    "docx.status.unknown_year": ("建成年份缺失", "no build year"),
}
