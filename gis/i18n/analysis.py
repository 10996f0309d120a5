"""Messages of the analyses: notes and labels of gis.coverage, .adjacency, .units, .eligibility, .constraints, .review, .candidates, .siting, .tiles, .summary; ids ``analysis.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # Row numbers inside a note: the English phrase agrees with the count; the Chinese
    # messages put 第…行 around the bare numbers themselves.
    "analysis.rows.one": ("{rows}", "row {rows}"),
    "analysis.rows.many": ("{rows}", "rows {rows}"),
    "analysis.rows_have.one": ("{rows}", "row {rows} has"),
    "analysis.rows_have.many": ("{rows}", "rows {rows} have"),
    # gis.coverage
    "analysis.coverage.far_from_streets": (
        "{n} 个小区距最近道路超过 200 米（{ids}），步行距离含这段直线距离；请检查路网是否完整。",
        "{n} estates are more than 200 m from any street ({ids}); their walking distances "
        "start with that straight hop. Check the streets layer."),
    "analysis.coverage.disconnected": (
        "路网由 {parts} 个互不连通的部分组成，最大部分含 {share:.0%} 的节点；"
        "位于孤立小路网上的小区可能出现虚假缺口。",
        "The street network has {parts} disconnected parts; the largest holds {share:.0%} of "
        "nodes. Estates on small parts may show false gaps."),
    "analysis.coverage.straight": (
        "直线距离模式：未考虑道路、河流和围墙，结果偏乐观。",
        "Straight-line mode: distances ignore streets, rivers and walls."),
    "analysis.coverage.absent": (
        "输入数据中没有任何{names}：所有小区均缺此类设施，请核对设施数据及其类别。",
        "No service of {names} in the input: every estate lacks it. Check the services file "
        "and its categories."),
    "analysis.coverage.households_missing": (
        "{n} 个小区缺少户数，户数合计与户数覆盖率仅统计其余小区。",
        "{n} estates have no household count; household totals and rates cover the others "
        "only."),
    "analysis.coverage.services_outside": (
        "{share:.0%} 的设施位于小区范围 2 公里以外，请核对设施数据是否为同一地区。",
        "{share:.0%} of services lie more than 2 km outside the estates' extent; check that "
        "the services file covers the same town."),
    "analysis.coverage.scale_error": (
        "分析坐标系 {name} 在小区范围内的长度变形最大为每公里 {err:,.1f} 米；{best} 更为精确。",
        "The analysis CRS {name} has a scale error of up to {err:,.1f} m per km over the "
        "estates; {best} would be more exact."),
    "analysis.coverage.far_services": (
        "{n} 个设施距所有小区超过 {far_km:.0f} 公里（第 {rows} 行），不可能步行到达，"
        "不参与计算；请核对其坐标。",
        "{n} services lie more than {far_km:.0f} km from every estate (rows {rows}); they "
        "cannot be walked to and are ignored. Check their coordinates."),
    "analysis.coverage.far_streets": (
        "{share:.1%} 的道路距所有小区超过 {far_km:.0f} 公里，不影响任何距离。",
        "{share:.1%} of street lines lie more than {far_km:.0f} km from every estate; they "
        "do not change any distance."),
    # gis.adjacency
    "analysis.adjacency.barrier_layer": (
        "障碍图层 {source}：{features:,} 个要素中 {barriers:,} 个作为障碍（{rule}）；"
        "因其未联动的相邻小区 {blocked:,} 对。",
        "Barrier layer {source}: {barriers:,} of {features:,} features acted as barriers "
        "({rule}); {blocked:,} neighbour pairs not linked across them."),
    # One barrier a neighbour link crosses (`gis.adjacency.crossed_text`): its layer's kind
    # and its name, both data values; the list is joined with ``list_sep``.
    "analysis.crossed.item": ("{kind}：{name}", "{kind}: {name}"),
    # gis.units: which column of `Units.gaps` names a category in each language.
    "analysis.units.gap_name_column": ("name_zh", "name_en"),
    # gis.tiles
    "analysis.tiles.computed": (
        "按 {n} 个{size}分块计算；分块外扩范围覆盖最远搜索距离，每个小区的结果与不分块计算完全一致。",
        "Computed in {n} tiles{size}; every estate's result equals the untiled run (each "
        "tile's streets reach past the longest search)."),
    "analysis.tiles.size_m": (" {tile_m:,.0f} 米", " of {tile_m:,.0f} m"),
    "analysis.tiles.size_districts": ("按区划的", " (districts)"),
    # gis.constraints: reading constraint layers.
    "analysis.constraints.no_geometry": ("{src}：第 {rows} 行无几何图形，已跳过。",
                                         "{src}: {rows} no geometry and were skipped."),
    "analysis.constraints.left_out": (
        '{src}：第 {rows} 行{reason}，已跳过（`invalid="skip"`），未参与审查。',
        '{src}: {rows} left out (`invalid="skip"`): {reason}.'),
    "analysis.constraints.reason.wrong_type": ("几何类型不符（{found}，应为{want}）",
                                               "{found}, not {want}"),
    "analysis.constraints.reason.collapsed": ("面积为零（边界退化），无法修复",
                                              "no area once repaired (collapsed ring)"),
    "analysis.constraints.want.points": ("点（每株古树一个点）", "points (one per tree)"),
    "analysis.constraints.want.polygons": ("面", "polygons"),
    "analysis.constraints.want.points_or_polygons": ("点或面", "points or polygons"),
    "analysis.constraints.repaired": (
        "{src}：{n} 个无效多边形（自相交等）已用 make_valid 修复（第 {rows} 行）；请核对边界。",
        "{src}: {n} invalid polygons repaired with make_valid ({rows})."),
    "analysis.constraints.no_name_field": (
        "{src}：无名称字段（名称/编号），要素以行号命名。",
        "{src}: no name field (名称/name/编号); features are named by row number."),
    "analysis.constraints.named_by": ("{src}：要素名称取自字段 {field}。",
                                      "{src}: features named by field {field}."),
    "analysis.constraints.names_missing": ("{src}：第 {rows} 行{field}为空，以行号命名。",
                                           "{src}: {rows} no {field}; named by row number."),
    "analysis.constraints.no_crown_field": (
        "{src}：无冠幅字段，古树保护范围一律按默认冠幅半径计算。",
        "{src}: no crown field (冠幅半径/冠幅); every tree's protection zone uses the default "
        "crown radius."),
    "analysis.constraints.crown_diameter": (
        "{src}：字段 {field} 按冠幅（树冠直径）理解，除以 2 作为冠幅半径。",
        "{src}: {field} read as the crown diameter (冠幅 in Chinese tree surveys) and halved "
        "to a crown radius."),
    "analysis.constraints.crown_radius": ("{src}：字段 {field} 按冠幅半径（米）读取。",
                                          "{src}: {field} read as the crown radius in metres."),
    "analysis.constraints.crowns_missing": ("{src}：第 {rows} 行{field}为空，按默认冠幅半径计算。",
                                            "{src}: {rows} no {field}; the default crown radius "
                                            "is used."),
    # Feature labels: a tree's id with its species; a feature without a name by its row.
    "analysis.constraints.tree_label": ("{id}（{species}）", "{id} ({species})"),
    "analysis.constraints.row_label": ("{kind}第{row}行", "{kind} row {row}"),
    # Constraint kinds (gis.constraints.KIND_LABELS is built from these).
    "analysis.kind.historic_district": ("历史文化街区", "historic district"),
    "analysis.kind.historic_building": ("历史建筑", "historic building"),
    "analysis.kind.ancient_tree": ("古树名木", "ancient or notable tree"),
    "analysis.kind.eco_redline": ("生态保护红线", "ecological protection red line"),
    "analysis.kind.development_boundary": ("城镇开发边界", "urban development boundary"),
    "analysis.kind.plan_unit": ("控规单元", "regulatory plan unit"),
    # gis.review: a unit's conflicts in one cell, clause by clause.
    "analysis.review.summary.overlaps": ("压占{kind} {n} 处{area}", "overlaps {kind} ×{n}{area}"),
    "analysis.review.summary.area": ("（约 {area_m2:,.0f} m²）", " (≈{area_m2:,.0f} m²)"),
    "analysis.review.summary.trees": ("古树名木保护范围 {n} 处", "ancient-tree protection zones ×{n}"),
    "analysis.review.summary.outside": ("超出城镇开发边界约 {area_m2:,.0f} m²",
                                        "≈{area_m2:,.0f} m² outside the urban development "
                                        "boundary"),
    "analysis.review.summary.straddles": ("跨 {n} 个控规单元", "straddles {n} regulatory plan units"),
    "analysis.review.summary.none": ("无冲突", "no conflicts"),
    # gis.review: checking units against the constraint layers.
    "analysis.review.points_as_buildings": (
        "以点表示的历史建筑：点位于改造单元内（含边界）即视为压占，压占面积计 0 m²。",
        "Historic buildings given as points conflict with a unit when the point lies in it or "
        "on its boundary; their overlap counts as 0 m²."),
    "analysis.review.units_repaired": ("改造单元 {ids} 的无效多边形已用 make_valid 修复。",
                                       "units: invalid polygons of unit_id {ids} repaired with "
                                       "make_valid."),
    "analysis.review.tree_zone": (
        "{src}：古树名木保护范围按冠幅半径外扩 {margin:g} m 计算"
        "（{n} 株中 {defaulted} 株无冠幅，按 {default:g} m 计）。",
        "{src}: ancient-tree protection zone = crown radius + {margin:g} m ({defaulted} of {n} "
        "trees without a crown value use {default:g} m)."),
    "analysis.review.outside_boundary": ("城镇开发边界以外",
                                         "outside the urban development boundary"),
    # gis.candidates (siting candidates)
    "analysis.candidates.placed_inside": (
        "{src}：{n} 个面状或线状候选地块取其内部一点。",
        "{src}: {n} candidate areas or lines placed at a point inside them."),
    "analysis.candidates.numbered": (
        "{src}：无编号字段，候选点按行顺序编号为 C1 … C{n}。",
        "{src}: no id field; candidates numbered C1 … C{n} in row order."),
    # gis.siting
    "analysis.siting.outside": (
        "{n} 个候选点距所有小区超过 {reach_m:.0f} 米，无法覆盖任何小区，已剔除。",
        "{n} candidates lie more than {reach_m:.0f} m outside the estates and cannot cover "
        "any; they were left out."),
    "analysis.siting.far_from_street": (
        "{n} 个自动生成的候选点距道路超过 {far_m:.0f} 米，已剔除。",
        "{n} generated candidates more than {far_m:.0f} m from any street were left out."),
    "analysis.siting.households_unknown": (
        "{n} 个小区缺少户数，选址时按其余小区户数中位数 {weight:,.0f} 户计。",
        "{n} estates have no household count; siting weighs each as {weight:,.0f} households "
        "(the median of the others)."),
}
