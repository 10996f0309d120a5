"""Messages of the command-line adapters and the run workflows (gis.cli, gis.workflows):
console lines, option help; ids ``cli.``, ``workflow.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # gis/cli.py
    "cli.summary_head": ("摘要：", "Summary:"),
    # what the writers add to an output file's name in this language (gap_report_en.md)
    "cli.file_suffix": ("", "_en"),
    # notes of gis/cli.py (`gis siting --coverage`, `gis units/review --coverage`)
    "cli.coverage_recomputed_differs": (
        "{file}：有 {differ} 个小区-类别覆盖结果与按本次路网重新计算的不同（选址采用重新计算的"
        "结果）；请使用覆盖分析时的路网、出入口和标准。",
        "{file}: {differ} estate-category results differ from the coverage recomputed "
        "on these streets (the siting uses the recomputed one); pass the streets, gates "
        "and standard the coverage was run with."),
    "cli.coverage_other_standard": (
        "{file}：覆盖分析所用标准为 {theirs}，与本次所用 {mine} 不同；"
        "各单元的生活圈缺口按前者计算。如需一致，请用相同 --standard 重新运行 gis coverage。",
        "{file}: computed with the standard {theirs}, not {mine} used here; its "
        "living-circle gaps follow that standard. Rerun `gis coverage` with the same "
        "--standard to compare like with like."),
    "cli.decisions_other_params": (
        "{file}：其中的决定针对按不同参数组成的改造单元（{changes}）；与本次不再对应的决定未执行，"
        "见决定执行情况。",
        "{file}: its decisions were made on units formed with other parameters ({changes}); "
        "those that no longer match this run are not applied (see the decisions sheet)."),
    # gis/workflows.py (the run record, as the XLSX sheet 运行记录 shows it)
    "workflow.record_sheet": ("运行记录", "Run record"),
    "workflow.record_key": ("项目", "Key"),
    "workflow.record_value": ("值", "Value"),
}
