"""Reviewers' decisions on links and units, read from CSV or XLSX and applied on every run.

A row names either a link (``estate_a``, ``estate_b``) or a unit (``unit_id``, with
optional ``members``), a ``decision`` — ``approve`` (通过), ``reject`` (否决) or
``split`` (拆分) — and a ``comment``. The review workbook written by ``gis review`` has
these columns, so reviewers can fill it in and pass it back as ``decisions``.
In a workbook every sheet that has a decision column is read (the review workbook's
审查表 for units and 相邻关系 for links); the same target decided differently in two
places is an error, and so is a formula cell whose value was never saved (a workbook
written by a program and not opened in Excel/WPS), which would otherwise read as blank.

* reject a link: it is removed before units are formed;
* approve a link: it is kept even where the geometric rule would not make it;
* approve a unit: its members stay one unit, as long as every member still qualifies;
* reject a unit: its members are not combined (each becomes a unit of one);
* split a unit: its members are regrouped into at least two contiguous parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis.errors import InputError
from gis.layers import id_text, read_table
from gis.text import norm_text as _norm

__all__ = ["Decisions", "read_decisions"]

_FIELDS = {
    "estate_a": ("estate_a", "小区a", "小区编号a", "小区1", "小区编号1"),
    "estate_b": ("estate_b", "小区b", "小区编号b", "小区2", "小区编号2"),
    "unit_id": ("unit_id", "单元编号", "改造单元编号", "单元"),
    "members": ("members", "成员小区", "成员小区编号", "包含小区"),
    "decision": ("decision", "决定", "审查决定", "审查意见", "意见"),
    "comment": ("comment", "说明", "备注", "审查说明"),
}
_VALUES = {
    "approve": ("approve", "approved", "通过", "同意", "批准"),
    "reject": ("reject", "rejected", "否决", "不通过", "驳回", "不同意"),
    "split": ("split", "拆分", "分拆"),
}


@dataclass(frozen=True)
class Decisions:
    """Decisions read from one file.

    Attributes
    ----------
    table : DataFrame
        One row per decision: ``row`` (line in the file), ``target`` ("link" or "unit"),
        ``estate_a``, ``estate_b`` (sorted, for links), ``unit_id``, ``members`` (tuple of
        estate ids, may be empty), ``decision``, ``comment``.
    source : str
        File name, for reports.
    """

    table: pd.DataFrame
    source: str

    def links(self, decision: str) -> set[tuple[str, str]]:
        """Pairs ``(a, b)`` with ``a < b`` that carry ``decision``."""
        t = self.table[(self.table["target"] == "link") & (self.table["decision"] == decision)]
        return set(zip(t["estate_a"], t["estate_b"]))

    def units(self, decision: str) -> pd.DataFrame:
        """Unit rows that carry ``decision``."""
        t = self.table
        return t[(t["target"] == "unit") & (t["decision"] == decision)]


def read_decisions(path: str | Path | pd.DataFrame, *,
                   encoding: str | None = None) -> Decisions:
    """Read a decisions file (CSV in UTF-8/GBK, or XLSX such as the review workbook).

    Rows with an empty decision are skipped (the review workbook lists every unit).
    ``path`` may also be a table already in memory (a QGIS table layer handed over by
    the plugin), named in messages by ``attrs["source"]``; it is checked the same way.

    Raises
    ------
    InputError
        Missing columns, unknown decision words, a row naming neither a link nor a unit,
        or "split" on a link.

    Examples
    --------
    A reviewer's table, with the review workbook's Chinese headers and words:

    >>> import pandas as pd
    >>> table = pd.DataFrame({"小区编号1": ["XQ001", "XQ005"], "小区编号2": ["XQ002", "XQ004"],
    ...                       "审查决定": ["否决", "通过"], "说明": ["隔着主干路", ""]})
    >>> decisions = read_decisions(table)
    >>> decisions.links("reject"), decisions.links("approve")
    ({('XQ001', 'XQ002')}, {('XQ004', 'XQ005')})
    >>> decisions.table[["row", "target", "decision", "comment"]].values.tolist()
    [[2, 'link', 'reject', '隔着主干路'], [3, 'link', 'approve', '']]

    The same as a CSV file:

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "decisions.csv"
    ...     table.to_csv(path, index=False)
    ...     decisions = read_decisions(path)
    >>> decisions.source, len(decisions.table)
    ('decisions.csv', 2)
    """
    if isinstance(path, pd.DataFrame):
        frame = pd.DataFrame(path.drop(columns=[c for c in ("geometry",) if c in path]))
        return _decisions(str(path.attrs.get("source", "decisions")), [("", frame, {})])
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such decisions file."
        raise InputError(msg)
    if path.suffix.lower() == ".xlsx":
        sheets = _workbook_sheets(path)
    else:
        df, _ = read_table(path, encoding=encoding)
        sheets = [("", df, {})]
    return _decisions(path.name, sheets)


def _decisions(name: str,
               sheets: list[tuple[str, pd.DataFrame, dict[tuple[int, str], str]]]) -> Decisions:
    """The decisions of every sheet that has a decision column, checked."""
    rows: list[dict] = []
    problems: list[str] = []
    read_any = False
    for sheet, df, uncached in sheets:
        cols = _columns(df)
        if "decision" not in cols:
            continue
        read_any = True
        _sheet_rows(sheet, df, cols, uncached, rows, problems)
    if not read_any:
        msg = (f"{name}: no decision (决定) column; add one with approve/reject/split "
               "(通过/否决/拆分).")
        raise InputError(msg)
    rows = _one_per_target(rows, problems)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" … ({len(problems)} problems)" if len(problems) > 5 else ""
        msg = f"{name}: {shown}{more}. Fix those rows and run again."
        raise InputError(msg)
    table = pd.DataFrame(rows, columns=["row", "target", "estate_a", "estate_b", "unit_id",
                                        "members", "decision", "comment", "sheet"])
    return Decisions(table=table, source=name)


def _columns(df: pd.DataFrame) -> dict[str, str]:
    """Canonical field → the table's column holding it."""
    normed = {_norm(c): c for c in df.columns}
    cols = {}
    for canon, aliases in _FIELDS.items():
        hit = next((normed[_norm(a)] for a in aliases if _norm(a) in normed), None)
        if hit is not None:
            cols[canon] = hit
    return cols


def _sheet_rows(sheet: str, df: pd.DataFrame, cols: dict[str, str],
                uncached: dict[tuple[int, str], str], rows: list[dict],
                problems: list[str]) -> None:
    """Append the decisions of one sheet (or CSV) to ``rows``, problems to ``problems``."""
    words = {_norm(w): k for k, ws in _VALUES.items() for w in ws}
    where = f"sheet {sheet} " if sheet else ""
    for pos, rec in enumerate(df.to_dict("records")):
        line = pos + 2  # header is line 1
        blind = [cell for (r, col), cell in uncached.items()
                 if r == pos and col in cols.values()]
        if blind:
            problems.append(f"{where}cell {', '.join(blind)} holds a formula whose value was "
                            "never saved; open and save the workbook in Excel/WPS, or type the "
                            "value")
            continue
        raw = rec.get(cols["decision"])
        if raw is None or (isinstance(raw, float) and pd.isna(raw)) or str(raw).strip() == "":
            continue
        decision = words.get(_norm(raw))
        if decision is None:
            problems.append(f"{where}line {line}: decision {str(raw)!r} is not "
                            "approve/reject/split (通过/否决/拆分)")
            continue

        def cell(name: str, rec: dict = rec) -> str:
            v = rec.get(cols[name]) if name in cols else None
            return "" if v is None or (isinstance(v, float) and pd.isna(v)) else _id(v)

        a, b, unit = cell("estate_a"), cell("estate_b"), cell("unit_id")
        members = tuple(m for m in re.split(r"[、,，;；\s]+", cell("members")) if m)
        if a and b:
            target = "link"
            a, b = sorted((a, b))
            if decision == "split":
                problems.append(f"{where}line {line}: a link cannot be split; use reject")
                continue
        elif unit or members:
            target = "unit"
        else:
            problems.append(f"{where}line {line}: names neither a link (estate_a, estate_b) "
                            "nor a unit (unit_id)")
            continue
        rows.append({"row": line, "target": target, "estate_a": a, "estate_b": b,
                     "unit_id": unit, "members": members, "decision": decision,
                     "comment": cell("comment"), "sheet": sheet})


def _one_per_target(rows: list[dict], problems: list[str]) -> list[dict]:
    """Drop repeats of the same decision on the same target; report differing ones."""
    seen: dict[tuple, dict] = {}
    out = []
    for r in rows:
        key = (r["target"], r["estate_a"], r["estate_b"]) if r["target"] == "link" \
            else (r["target"], r["unit_id"], r["members"])
        first = seen.get(key)
        if first is None:
            seen[key] = r
            out.append(r)
        elif first["decision"] != r["decision"]:
            def at(x: dict) -> str:
                return f"{'sheet ' + x['sheet'] + ' ' if x['sheet'] else ''}line {x['row']}"
            problems.append(f"{at(first)} says {first['decision']} but {at(r)} says "
                            f"{r['decision']} for the same {r['target']}; keep one")
    return out


def _workbook_sheets(path: Path) -> list[tuple[str, pd.DataFrame, dict[tuple[int, str], str]]]:
    """Every sheet of a workbook as (name, table of saved values, uncached formulas).

    The third item maps (row position, column name) to the cell reference of each
    formula cell with no saved value.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        values = openpyxl.load_workbook(path, data_only=True, read_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False, read_only=True)
    except Exception as err:
        msg = f"{path}: not a readable Excel file ({err}); re-save it as .xlsx from Excel/WPS."
        raise InputError(msg) from err
    out = []
    try:
        for ws_v, ws_f in zip(values.worksheets, formulas.worksheets):
            rows_v = list(ws_v.iter_rows(values_only=True))
            if not rows_v:
                continue
            rows_f = list(ws_f.iter_rows(values_only=True))
            header = [str(c).strip() if c is not None else f"_{k}"
                      for k, c in enumerate(rows_v[0])]
            body = [list(r) + [None] * (len(header) - len(r)) for r in rows_v[1:]]
            df = pd.DataFrame([r[: len(header)] for r in body], columns=header, dtype=object)
            uncached = {}
            for pos, (rv, rf) in enumerate(zip(rows_v[1:], rows_f[1:])):
                for k, (v, f) in enumerate(zip(rv, rf)):
                    if v is None and isinstance(f, str) and f.startswith("=") and k < len(header):
                        uncached[(pos, header[k])] = f"{get_column_letter(k + 1)}{pos + 2}"
            out.append((ws_v.title, df, uncached))
    finally:
        values.close()
        formulas.close()
    return out


def _id(value: object) -> str:
    text = id_text(value)
    # Ids copied from the CSV outputs carry the ' that neutralises a leading formula
    # character there (gis.report._files.csv_safe): take it off again.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text
