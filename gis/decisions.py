"""Reviewers' decisions on links and units, read from CSV or XLSX and applied on every run.

A row names either a link (``estate_a``, ``estate_b``) or a unit (``unit_id``, with
optional ``members``), a ``decision`` — ``approve`` (通过), ``reject`` (否决) or
``split`` (拆分) — and a ``comment``. The review workbook written by ``gis review`` has
these columns, so reviewers can fill it in and pass it back with ``--decisions``.

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
from gis.layers import read_table

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


def read_decisions(path: str | Path, *, encoding: str | None = None) -> Decisions:
    """Read a decisions file (CSV in UTF-8/GBK, or XLSX such as the review workbook).

    Rows with an empty decision are skipped (the review workbook lists every unit).

    Raises
    ------
    InputError
        Missing columns, unknown decision words, a row naming neither a link nor a unit,
        or "split" on a link.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such decisions file."
        raise InputError(msg)
    df, _ = read_table(path, encoding=encoding)
    cols = {}
    for canon, aliases in _FIELDS.items():
        normed = {_norm(c): c for c in df.columns}
        hit = next((normed[_norm(a)] for a in aliases if _norm(a) in normed), None)
        if hit is not None:
            cols[canon] = hit
    if "decision" not in cols:
        msg = (f"{path.name}: no decision (决定) column; add one with approve/reject/split "
               "(通过/否决/拆分).")
        raise InputError(msg)
    rows = []
    problems = []
    words = {_norm(w): k for k, ws in _VALUES.items() for w in ws}
    for pos, rec in enumerate(df.to_dict("records")):
        line = pos + 2  # header is line 1
        raw = rec.get(cols["decision"])
        if raw is None or (isinstance(raw, float) and pd.isna(raw)) or str(raw).strip() == "":
            continue
        decision = words.get(_norm(raw))
        if decision is None:
            problems.append(f"line {line}: decision {str(raw)!r} is not approve/reject/split "
                            "(通过/否决/拆分)")
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
                problems.append(f"line {line}: a link cannot be split; use reject")
                continue
        elif unit or members:
            target = "unit"
        else:
            problems.append(f"line {line}: names neither a link (estate_a, estate_b) nor a unit "
                            "(unit_id)")
            continue
        rows.append({"row": line, "target": target, "estate_a": a, "estate_b": b,
                     "unit_id": unit, "members": members, "decision": decision,
                     "comment": cell("comment")})
    if problems:
        shown = "; ".join(problems[:5])
        more = f" … ({len(problems)} problems)" if len(problems) > 5 else ""
        msg = f"{path.name}: {shown}{more}. Fix those rows and run again."
        raise InputError(msg)
    table = pd.DataFrame(rows, columns=["row", "target", "estate_a", "estate_b", "unit_id",
                                        "members", "decision", "comment"])
    return Decisions(table=table, source=path.name)


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-()（）]", "", str(text)).lower()


def _id(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
