"""Messages of the units and review package and the QGIS styles (gis.report.units, gis.report.qgis_styles), ids ``review.``, ``styles.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).

Ids that end in a machine value (a column name, a cap key, a link reason, an eligibility
status, a constraint kind) are looked up by that value: ``review.unit_col.households``,
``review.cap.max_estates``, ``styles.constraint.eco_redline``.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- gis.report.units -------------------------------------------------------------
    # File names chosen by language.
    "review.file.units_report": ("units_report.md", "units_report_en.md"),
    "review.file.xlsx": ("review.xlsx", "review_en.xlsx"),
    "review.file.markdown": ("review.md", "review_en.md"),
    "review.file.docx": ("review.docx", "review_en.docx"),
    # Workbook sheets of review.xlsx.
    "review.sheet.units": ("审查表", "Units"),
    "review.sheet.eligibility": ("小区资格", "Eligibility"),
    "review.sheet.links": ("相邻关系", "Links"),
    "review.sheet.conflicts": ("冲突明细", "Conflicts"),
    "review.sheet.decisions": ("决定执行情况", "Decisions"),
    "review.sheet.not_analysed": ("未分析", "Not analysed"),
    # The notes: sheet name, its column and the reports' last section.
    "review.notes": ("说明", "Notes"),
    # Blank columns reviewers fill in (read back by `gis.decisions.read_decisions`).
    "review.col.decision": ("决定", "Decision"),
    "review.col.comment": ("说明", "Comment"),
    # Unit sheet (units.csv, 审查表): column -> header.
    "review.unit_col.unit_id": ("单元编号", "Unit id"),
    "review.unit_col.n_estates": ("小区数", "Estates"),
    "review.unit_col.households": ("户数", "Households"),
    "review.unit_col.floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "review.unit_col.households_known": ("已知户数（户数已知的成员合计）",
                                         "Households known (members with a count)"),
    "review.unit_col.households_unknown_n": ("户数未知的成员小区数", "Members without households"),
    "review.unit_col.floor_area_known_m2": ("已知建筑面积（平方米）", "Floor area known (m²)"),
    "review.unit_col.floor_area_unknown_n": ("建筑面积未知的成员小区数",
                                             "Members without floor area"),
    "review.unit_col.caps_checked": ("已核验的规模上限", "Caps checked"),
    "review.unit_col.caps_unchecked": ("未能核验的规模上限", "Caps not checkable"),
    "review.unit_col.size_checked": ("规模已全部核验", "Size fully checked"),
    "review.unit_col.assumed_members": ("假定纳入的成员小区数", "Members assumed eligible"),
    "review.unit_col.build_year_min": ("最早建成年份", "Built from"),
    "review.unit_col.build_year_max": ("最晚建成年份", "Built to"),
    "review.unit_col.members": ("成员小区", "Members"),
    "review.unit_col.member_names": ("成员小区名称", "Member names"),
    "review.unit_col.flags": ("提示", "Flags"),
    "review.unit_col.decision": ("已执行的审查决定", "Decision applied"),
    "review.unit_col.coverage_households_rate": ("生活圈设施户数覆盖率",
                                                 "Living-circle household coverage"),
    "review.unit_col.coverage_gaps": ("生活圈设施缺口", "Living-circle gaps"),
    "review.unit_col.link_reasons": ("联动依据", "Why linked"),
    "review.unit_col.n_conflicts": ("冲突项数", "Conflicts"),
    "review.unit_col.conflict_summary": ("审查冲突", "Conflict summary"),
    # Estate sheet (unit_members.csv, 小区资格).
    "review.estate_col.estate_id": ("小区编号", "Estate id"),
    "review.estate_col.name": ("小区名称", "Estate"),
    "review.estate_col.build_year": ("建成年份", "Built"),
    "review.estate_col.households": ("户数", "Households"),
    "review.estate_col.floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "review.estate_col.eligibility_reason": ("改造资格", "Eligibility"),
    "review.estate_col.unit_id": ("所属单元", "Unit"),
    # Link sheet (相邻关系).
    "review.link_col.estate_a": ("小区A", "Estate A"),
    "review.link_col.estate_b": ("小区B", "Estate B"),
    "review.link_col.gap_m": ("间距（米）", "Gap (m)"),
    "review.link_col.facing_m": ("相邻边长（米）", "Facing (m)"),
    "review.link_col.crossed": ("跨越障碍", "Crossed"),
    "review.link_col.linked": ("是否联动", "Linked"),
    "review.link_col.reason_text": ("说明", "Note"),
    "review.link_col.decision": ("审查决定", "Decision"),
    # Why two neighbours were or were not linked, by `gis.adjacency` reason key
    # (``neighbours`` stands for the empty key: linked).
    "review.link_reason.neighbours": ("相邻（间距与相邻边长均满足）",
                                      "neighbours (gap and facing length met)"),
    "review.link_reason.short_facing": ("相邻边过短（仅角点相接或错位）",
                                        "facing too short (corner-only contact)"),
    "review.link_reason.barrier": ("间隔道路/河流等障碍", "separated by a barrier"),
    "review.link_reason.overlap": ("边界相互重叠，请核对边界（未联动）",
                                   "boundaries overlap: check them (not linked)"),
    "review.link_reason.inside": ("一个小区位于另一小区范围内，请核对是否重复（未联动）",
                                  "one estate lies inside the other: check for a duplicate "
                                  "(not linked)"),
    "review.yes": ("是", "yes"),
    "review.no": ("否", "no"),
    "review.size_checked.yes": ("是", "yes"),
    "review.size_checked.no": ("否（成员数据未知）", "NO: unknown members"),
    # The caps a unit was (not) checked against, by `gis.units.UnitCaps` field.
    "review.cap.max_households": ("户数上限", "household cap"),
    "review.cap.max_floor_area_m2": ("建筑面积上限", "floor-area cap"),
    "review.cap.max_estates": ("小区数上限", "estate-count cap"),
    "review.cap.min_households": ("最小户数", "minimum households"),
    # The caps in force, listed in the notes ("<label>: 3,000").
    "review.cap_limit.max_households": ("单元户数上限", "max households"),
    "review.cap_limit.max_floor_area_m2": ("单元建筑面积上限（平方米）", "max floor area m²"),
    "review.cap_limit.max_estates": ("单元小区数上限", "max estates"),
    "review.cap_limit.min_households": ("单元最小户数", "min households to stand alone"),
    # A unit total with unknown members.
    "review.total_unknown": ("未知（已知部分 {known:,.0f}；{n} 个成员小区未知）",
                             "unknown (known part {known:,.0f}; {n} members unknown)"),
    # Conflict sheet (冲突明细).
    "review.conflict_col.unit_id": ("单元编号", "Unit"),
    "review.conflict_col.kind": ("约束类型", "Constraint"),
    "review.conflict_col.feature_name": ("要素名称", "Feature"),
    "review.conflict_col.overlap_m2": ("重叠面积（平方米）", "Overlap (m²)"),
    # Decisions read (决定执行情况): column -> header. The English sheet keeps the
    # machine names, except that ``decision`` is not named like a decision column.
    "review.decision_col.row": ("行号", "row"),
    "review.decision_col.target": ("对象", "target"),
    "review.decision_col.estate_a": ("小区A", "estate_a"),
    "review.decision_col.estate_b": ("小区B", "estate_b"),
    "review.decision_col.unit_id": ("单元编号", "unit_id"),
    "review.decision_col.members": ("成员小区", "members"),
    "review.decision_col.decision": ("已读入的决定", "decision read"),
    "review.decision_col.comment": ("说明", "comment"),
    "review.decision_col.status": ("执行情况", "status"),
    "review.decision_col.sheet": ("工作表", "sheet"),
    # What became of a decision read (`gis.units` status values).
    "review.status.applied": ("已执行", "applied"),
    "review.status.applied_unlinked": ("已执行（成员小区已不全部相邻）",
                                       "applied (members are no longer all linked)"),
    "review.status.unmatched": ("未匹配：{why}", "no longer matches: {why}"),
    "review.status.other": ("未匹配：{status}", "{status}"),
    # Markdown reports (units_report.md, review.md): headings, lines and table headers.
    "review.md.units_title": ("老旧小区联动改造单元", "Combined renovation units"),
    "review.md.review_title": ("老旧小区联动改造单元审查材料",
                               "Combined renovation units: review package"),
    "review.md.illustrative": ("说明：基于内置示例数据（虚构县城），仅用于演示，不代表任何真实地区。",
                               "ILLUSTRATIVE demo data (a fictional county town)."),
    "review.md.summary": ("摘要", "Summary"),
    "review.md.unknown": ("改造资格未知（建成年份缺失）", "Eligibility unknown (no build year)"),
    "review.md.assumed_eligible": ("假定纳入（建成年份缺失，`assume_unknown_eligible`）",
                                   "ASSUMED eligible (no build year, `assume_unknown_eligible`)"),
    "review.md.to_decide": ("共 {n:,} 个小区。请{hint}。", "{n:,} estates. To decide: {hint}."),
    "review.md.size_unchecked": ("规模未能核验的单元", "Units whose size could not be checked"),
    "review.md.not_analysed": ("未分析的要素（已跳过的行及原因）",
                               "Not analysed (rows left out, with the reason)"),
    "review.md.overview": ("概况", "Overview"),
    "review.md.overview_estates": ("小区总数: {n:,}; 纳入改造: {eligible:,}",
                                   "Estates: {n:,}; eligible: {eligible:,}"),
    "review.md.overview_units": (
        "改造单元: {n:,} (其中联动单元 {joint:,}, 涉及小区 {joint_estates:,}); 户数 {households:,.0f}",
        "Units: {n:,} (joint {joint:,}, estates in joint units {joint_estates:,}); "
        "households {households:,.0f}"),
    "review.md.overview_date": ("生成日期: {date}", "Date: {date}"),
    "review.md.overview_sources": ("审查图层: {sources}", "Constraint layers: {sources}"),
    "review.md.eligibility": ("改造资格", "Eligibility"),
    "review.md.conflicts": ("存在冲突的单元", "Units with conflicts"),
    "review.md.joint_units": ("联动单元", "Joint units"),
    "review.md.decisions": ("审查决定执行情况", "Review decisions"),
    "review.md.none": ("无。", "None."),
    # Eligibility classes counted in review.md (the status key is the data value; these
    # are its words).
    "review.eligibility.eligible": ("2000年底前建成，纳入", "built by end-2000: included"),
    "review.eligibility.eligible_extended": ("2001–2005年建成，按需纳入",
                                             "built 2001–2005: included where needed"),
    "review.eligibility.extended_not_included": ("2001–2005年建成，未纳入",
                                                 "built 2001–2005: not included"),
    "review.eligibility.too_new": ("2005年后建成", "built after 2005"),
    "review.eligibility.shantytown": ("已纳入棚改计划", "in a shantytown-redevelopment plan"),
    "review.eligibility.demolish": ("拟拆除新建", "to be demolished and rebuilt"),
    "review.eligibility.unknown": ("未知：建成年份缺失", "unknown: no build year"),
    "review.eligibility.assumed_eligible": ("建成年份缺失，假定纳入",
                                            "no build year: ASSUMED eligible"),
    "review.eligibility.not_analysed": ("未分析（几何无效）", "not analysed (invalid geometry)"),
    # Markdown table headers.
    "review.head.estate_id": ("小区编号", "Estate id"),
    "review.head.estate": ("小区名称", "Estate"),
    "review.head.unit": ("单元编号", "Unit"),
    "review.head.estates": ("小区数", "Estates"),
    "review.head.households": ("户数", "Households"),
    "review.head.floor_area": ("建筑面积（平方米）", "Floor area m²"),
    "review.head.not_checked": ("未能核验", "Not checked"),
    "review.head.status": ("类别", "Status"),
    "review.head.conflicts": ("冲突", "Conflicts"),
    "review.head.members": ("成员小区", "Members"),
    "review.head.built": ("建成年份", "Built"),
    "review.head.why_linked": ("联动依据", "Why linked"),
    "review.head.row": ("行号", "Row"),
    "review.head.target": ("对象", "Target"),
    "review.head.unit_or_link": ("单元/相邻关系", "Unit / link"),
    "review.head.decision": ("决定", "Decision"),
    "review.head.decision_status": ("执行情况", "Status"),
    # Notes of the package.
    "review.note.illustrative": ("本审查包基于内置示例数据（虚构县城），仅用于演示。",
                                 "Built from the bundled ILLUSTRATIVE demo data (a fictional "
                                 "town)."),
    # --- gis.report.qgis_styles ---------------------------------------------------------
    # Style descriptions (QGIS style manager).
    "styles.coverage_description": (
        "gis 覆盖分析：小区按缺少设施类别数着色，设施按类别着色",
        "gis coverage: estates by categories missing, services by category"),
    "styles.units_description": (
        "gis 改造单元：单元（标注户数）、小区改造资格、相邻关系、审查冲突",
        "gis units: units with totals, estates by eligibility, links, conflicts"),
    "styles.sites_description": (
        "gis 选址：建议点位按类别着色（序号、新增覆盖户数），步行服务范围，候选点位，"
        "小区按缺少设施类别数着色",
        "gis siting: proposed sites by category (order, households newly covered), "
        "service areas, candidates, estates by categories missing"),
    # coverage.gpkg estates: classes of categories missing (as on the coverage map).
    "styles.missing.0": ("设施齐全", "all present"),
    "styles.missing.1": ("缺 1 类", "1 missing"),
    "styles.missing.2": ("缺 2 类", "2 missing"),
    "styles.missing.3": ("缺 3 类", "3 missing"),
    "styles.missing.4": ("缺 4 类及以上", "4 or more missing"),
    "styles.coverage_not_analysed": ("未分析（几何无效，已跳过）", "not analysed (invalid geometry)"),
    # units.gpkg: units, estates by eligibility status, links, conflicts.
    "styles.unit.conflict": ("存在审查冲突的单元", "unit with conflicts"),
    "styles.unit.joint": ("联动改造单元（多个小区）", "joint unit (several estates)"),
    "styles.unit.single": ("单个小区单元", "single-estate unit"),
    # A QGIS expression (field names in double quotes, text in single quotes).
    "styles.unit_label": (
        "\"unit_id\" || '\\n' || \"n_estates\" || ' 个小区，' || "
        "coalesce(format_number(\"households\", 0), '?') || ' 户'",
        "\"unit_id\" || '\\n' || \"n_estates\" || ' estates, ' || "
        "coalesce(format_number(\"households\", 0), '?') || ' households'"),
    "styles.estates.eligible": ("纳入改造的小区", "eligible estate"),
    "styles.estates.eligible_extended": ("2001–2005年建成（按需纳入）", "2001–2005, included"),
    "styles.estates.unknown": ("改造资格未知：建成年份缺失，待补录",
                               "eligibility unknown: no build year"),
    "styles.estates.assumed_eligible": ("建成年份缺失，假定纳入（须核实）",
                                        "ASSUMED eligible: no build year"),
    "styles.estates.not_analysed": ("未分析（几何无效，已跳过）", "not analysed (invalid geometry)"),
    "styles.estates.other": ("不纳入改造的小区", "not eligible"),
    "styles.link.linked": ("联动相邻关系", "link"),
    "styles.link.not_linked": ("相邻但未联动", "neighbour, not linked"),
    "styles.link.rejected": ("审查否决", "rejected by review"),
    "styles.conflict": ("审查冲突", "conflict"),
    # Constraint layers, by kind (`gis.constraints`).
    "styles.constraint.historic_district": ("历史文化街区", "Historic district"),
    "styles.constraint.historic_building": ("历史建筑", "Historic building"),
    "styles.constraint.ancient_tree": ("古树名木保护范围", "Ancient tree zone"),
    "styles.constraint.eco_redline": ("生态保护红线", "Ecological red line"),
    "styles.constraint.development_boundary": ("城镇开发边界", "Development boundary"),
    "styles.constraint.plan_unit": ("控规单元", "Detailed-plan unit"),
    # sites.gpkg.
    "styles.site": ("建议新增{label}", "Proposed {label} sites"),
    "styles.site_area": ("新增{label}步行服务范围（{walk_m:.0f}米）",
                         "New {label} sites: walkable area ({walk_m:.0f} m)"),
    "styles.site_label": (
        "'第' || \"order\" || '处 +' || coalesce(format_number(\"new_households\", 0), '?') "
        "|| ' 户'",
        "'#' || \"order\" || ' +' || coalesce(format_number(\"new_households\", 0), '?') "
        "|| ' households'"),
    "styles.candidate": ("候选点位", "candidate site"),
}
