"""Messages of reading and preparing layers: notes and messages of gis.layers, .prepare, .sources, .crs, .alignment, .noding, .osm, .postgis, .standards, .decisions, .skipped; ids ``inputs.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- gis.layers -------------------------------------------------------------------
    # Row numbers inside a message: English says "row 3 has" / "rows 2, 5 have"; the
    # Chinese message puts 第…行 around the bare numbers.
    "inputs.rows.one": ("{rows}", "row {rows}"),
    "inputs.rows.many": ("{rows}", "rows {rows}"),
    "inputs.rows_have.one": ("{rows}", "row {rows} has"),
    "inputs.rows_have.many": ("{rows}", "rows {rows} have"),
    # Why a row was left out (stored with the row in attrs["skipped"], shown in reports).
    "inputs.reason.no_geometry": ("无几何图形", "no geometry"),
    "inputs.reason.not_polygon": ("不是面要素", "not a polygon"),
    "inputs.reason.not_line": ("不是线要素", "not a line"),
    "inputs.reason.not_point": ("不是点要素", "not a point"),
    "inputs.reason.barrier_point": ("是点要素，不能作为障碍", "a point, not a line or polygon"),
    "inputs.reason.estate_left_out": ("所属小区未参与分析", "its estate was left out"),
    "inputs.reason.collapsed": ("面积为零（边界退化），无法修复",
                                "no area once repaired (collapsed ring)"),
    "inputs.rows_left_out": ('{src}：第 {rows} 行{reason}，已跳过（`invalid="skip"`），未参与分析。',
                             '{src}: {rows} left out (`invalid="skip"`): {reason}.'),
    "inputs.no_geometry_skipped": ("{src}：第 {rows} 行无几何图形，已跳过。",
                                   "{src}: {rows} no geometry and were skipped."),
    "inputs.collapsed_skipped.osm": ("{src}：{n} 个面面积为零（退化），已跳过：第 {rows} 行。",
                                     "{src}: {n} collapsed OpenStreetMap areas (no area) skipped: "
                                     "rows {rows}."),
    "inputs.collapsed_skipped.polygons": ("{src}：{n} 个面面积为零（退化），已跳过：第 {rows} 行。",
                                          "{src}: {n} collapsed polygons (no area) skipped: "
                                          "rows {rows}."),
    # ``{x:.0}`` prints nothing: the GEOS reasons (English only) are left out of the
    # Chinese note, the bare row list out of the English one (which gives row and reason).
    "inputs.invalid_repaired": ("{src}：{n} 个无效多边形（自相交等）已用 make_valid 修复"
                                "（第 {rows} 行）；请核对边界。{detail:.0}",
                                "{src}: {n} invalid polygons repaired with make_valid "
                                "({detail}).{rows:.0}"),
    "inputs.no_households": ("{src}：无户数字段，户数合计未知。",
                             "{src}: no households (户数) field; household totals are unknown."),
    "inputs.estate_in": ("{inner} 位于 {outer} 内", "{inner} in {outer}"),
    "inputs.estates_inside": ("{src}：{n} 个小区位于另一小区范围内（{pairs}），请核对是否重复或为子片区。",
                              "{src}: {n} estates lie inside another ({pairs}); check whether "
                              "they are duplicates or sub-areas."),
    "inputs.estates_overlap": ("{src}：{n} 对小区边界相互重叠（{pairs}），请核对边界。",
                               "{src}: {n} pairs of estates overlap ({pairs}); boundaries "
                               "should not cross."),
    "inputs.implausible": ("{src}：{n} 个小区数值可疑，{what}（{shown}），请核对。",
                           "{src}: {n} estates have implausible values, {what} ({shown}); "
                           "check them."),
    "inputs.implausible.households": ("户数超过 {max:,}", "more than {max:,} households"),
    "inputs.implausible.area": ("面积大于 {max_km2:g} 平方公里", "larger than {max_km2:g} km²"),
    "inputs.implausible.year": ("建成年份晚于 {year} 年", "built after {year}"),
    "inputs.far_osm_areas": ("{src}：{n} 个居住区距主要片区超过 {km} 公里；分析坐标系按中位位置选取，"
                             "建议将数据裁剪到研究范围。",
                             "{src}: {n} residential areas lie more than {km} km from the "
                             "largest group; the analysis CRS is chosen from the median "
                             "position. Clip the extract to the study area for the most exact "
                             "distances."),
    # The id field taken from unique names: one message per id field (the Chinese of
    # both says 小区编号/小区名称, as it always has).
    "inputs.id_from.estate_id": ("{src}：无小区编号字段，以唯一的小区名称作为编号。{fallback:.0}",
                                 "{src}: no id field; the unique {fallback} is used as "
                                 "estate_id."),
    "inputs.id_from.candidate_id": ("{src}：无小区编号字段，以唯一的小区名称作为编号。{fallback:.0}",
                                    "{src}: no id field; the unique {fallback} is used as "
                                    "candidate_id."),
    "inputs.multipoint_split": ("{src}：{n} 个多点要素拆分为 {services} 个设施。",
                                "{src}: {n} multi-point features split into {services} "
                                "services."),
    "inputs.nonpoint_services": ("{src}：{n} 个面状或线状设施取其内部一点参与计算。",
                                 "{src}: {n} non-point services (areas/lines) placed at a point "
                                 "inside them."),
    "inputs.unmatched_services": ("{source}：{total} 个设施中有 {n} 个无法归入任何设施类别，"
                                  "未参与计算{values}。",
                                  "{source}: {n} of {total} services match no category and "
                                  "are left out{values}."),
    "inputs.unmatched_values": ("；类别/名称：{values}", "; values: {values}"),
    "inputs.z_dropped": ("{src}：三维坐标按二维读取（忽略高程）。",
                         "{src}: 3D coordinates read as 2D (heights ignored)."),
    "inputs.coords_converted": ("{src}：坐标已由 {label} 转换为 WGS84。",
                                "{src}: coordinates converted from {label} to WGS84."),
    "inputs.no_cpg_gbk": ("{name}：缺少 .cpg 编码文件，属性按 GBK 读取。",
                          "{name}: no .cpg file; attributes read as GBK."),
    "inputs.read_as_gbk": ("{name}：按 GBK 编码读取。", "{name}: text read as GBK."),
    "inputs.header_row": ("{name}：表头位于第 {row} 行，已跳过其上方 {skip} 行标题。",
                          "{name}: the header is on row {row}; {skip} title rows above it "
                          "skipped."),
    "inputs.fields_mapped": ("{src}：字段对应 {text}。", "{src}: fields mapped {text}."),
    "inputs.columns_both": ("{src}：字段 {used} 与 {others} 均可作为 {canon}{agree}，采用 {used}。",
                            "{src}: columns {used} and {others} could both be {canon}{agree}; "
                            "{used} is used."),
    "inputs.columns_agree": ("且取值一致", " and agree"),
    # --- gis.alignment ----------------------------------------------------------------
    "inputs.layer.estates": ("小区", "estates"),
    "inputs.layer.streets": ("道路", "streets"),
    "inputs.layer.services": ("设施点", "services"),
    "inputs.layer.gates": ("出入口", "gates"),
    "inputs.layer": ("{layer}", "{layer}"),
    "inputs.and_sep": ("、", " and "),
    "inputs.offset_gap": ("{a}距{b} {before:,.0f} 米 → {after:,.0f} 米",
                          "{a} to {b} {before:,.0f} m → {after:,.0f} m"),
    # The reader parameter for one layer (the CLI shows it as its ``coords`` option, per layer).
    "inputs.coords_for": ('`coords="{system}"`（{layer}）', '`coords="{system}"` for the {layer}'),
    "inputs.offset_convert": ("{what}与其他图层的偏差符合 {labels} 坐标特征（距离中位数，原样 → 转换后："
                              "{detail}），疑似互联网地图导出的偏移坐标，请使用 {fix}。",
                              "The {what} sit off the other layers the way {labels} coordinates "
                              "do (median gaps as read vs converted: {detail}): they look like a "
                              "web-map export. Pass {fix}."),
    "inputs.offset_undo": ("{given} 使图层对齐变差：{what}不做该转换时与其他图层更吻合（距离中位数，"
                           "转换后 → 不转换：{detail}）。除非确知该文件采用此坐标系，请去掉该选项。",
                           "{given} made the alignment worse: the {what} lie closer to the other "
                           "layers without that conversion (median gaps converted vs not: "
                           "{detail}). Drop that option unless you know the file is in that "
                           "system."),
    # --- gis.noding -------------------------------------------------------------------
    "inputs.about": ("约 ", "about "),
    "inputs.street_counts": ("路网中{about}{crossings:,} 处道路相交但无公共节点，有公共节点的路口 "
                             "{junctions:,} 处（占 {share:.0%}）",
                             "{about}{crossings:,} street crossings without a shared vertex "
                             "against {junctions:,} noded junctions ({share:.0%})"),
    "inputs.noding_apart": ("（{n:,} 条桥梁/隧道/分层道路除外）",
                            " except {n:,} bridge/tunnel/layer features"),
    "inputs.noding_apart_comma": ("（{n:,} 条桥梁/隧道/分层道路除外）",
                                  ", except {n:,} bridge/tunnel/layer features"),
    "inputs.noding_auto": ("{counts}：路网未打断（高德/CAD 导出常为一路一线），已在交叉处自动连通{apart}。"
                           "若部分交叉为桥梁或隧道，请以 bridge/tunnel/layer 字段标注，或使用 "
                           "`node_crossings=False` 保持所有交叉不连通。",
                           "{counts}: the street layer is unnoded (one line per road, as "
                           "Amap/CAD exports are drawn), so crossings were joined as junctions"
                           "{apart}. If some crossings are bridges or tunnels, mark them with "
                           "bridge/tunnel/layer fields, or pass `node_crossings=False` to keep "
                           "every crossing apart."),
    "inputs.noding_forced": ("{counts}：已按 `node_crossings=True` 在交叉处连通{apart}。",
                             "{counts}: joined as junctions as asked (`node_crossings=True`)"
                             "{apart}."),
    "inputs.noding_why.asked": ("（按 `node_crossings=False`）",
                                "as you asked (`node_crossings=False`)"),
    "inputs.noding_why.maybe_bridges": ("（可能是桥梁或隧道）",
                                        "because they may be bridges or tunnels"),
    "inputs.noding_off": ("{counts}：本次计算未将这些交叉视为可通行路口{why}。若为平面交叉，"
                          "步行距离会偏长或缺失：请使用 `node_crossings=True`（以 bridge/tunnel/layer "
                          "字段标注的桥梁、隧道仍不连通）。",
                          "{counts}: those crossings are NOT walkable junctions in this run, "
                          "{why}. If they are at-grade junctions, distances are too long or "
                          "missing: pass `node_crossings=True` (bridges and tunnels marked with "
                          "bridge/tunnel/layer fields stay apart)."),
    "inputs.near_misses": ("{about}{n:,} 个道路端点距另一条道路不足 {near_m:g} 米但未相接"
                           "（数字化缺口，任何选项都不会自动连接）；如为路口，请在 GIS 中将端点捕捉到道路上。",
                           "{about}{n:,} street line ends stop within {near_m:g} m of another "
                           "line without touching it: digitising gaps that no option closes. "
                           "Snap those ends to the line (GIS 'snap'/'extend' tools) where they "
                           "are junctions."),
    # --- gis.skipped: the table of rows left out --------------------------------------
    "inputs.skipped.layer": ("图层", "Layer"),
    "inputs.skipped.file": ("文件", "File"),
    "inputs.skipped.row": ("行号", "Row"),
    "inputs.skipped.id": ("编号", "Id"),
    "inputs.skipped.reason": ("原因", "Reason"),
}
