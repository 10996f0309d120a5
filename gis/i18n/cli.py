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
    # gis/workflows.py (the run record, as the XLSX sheet 运行记录 shows it)
    "workflow.record_sheet": ("运行记录", "Run record"),
    "workflow.record_key": ("项目", "Key"),
    "workflow.record_value": ("值", "Value"),
}
