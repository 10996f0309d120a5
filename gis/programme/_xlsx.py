"""Workbooks whose every text cell stays text: a name such as ``=HYPERLINK(...)`` typed
into a survey must reach the next spreadsheet as the characters, never as a formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gis.report._files import autofit

__all__ = ["write_book"]


def write_book(path: str | Path, sheets: dict[str, pd.DataFrame],
               images: dict[str, list[str | Path]] | None = None) -> Path:
    """Write ``sheets`` (name → table) to ``path``; PNG ``images`` go to their sheet's right.

    Every string cell is stored as an inline string (data type ``s``), so text that starts
    with ``=`` is never evaluated by Excel or WPS.

    Examples
    --------
    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> table = pd.DataFrame({"小区名称": ["=1+1", "建业小区"], "户数": [142, None]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ws = load_workbook(write_book(Path(tmp) / "t.xlsx", {"小区": table})).active
    >>> ws.title, ws["A2"].value, ws["A2"].data_type, ws["B2"].value, ws["B3"].value
    ('小区', '=1+1', 's', 142, None)
    """
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        ws = book.create_sheet(title=name[:31])
        ws.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            ws.append([_plain(v) for v in row])
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would otherwise mark "=…" as a formula
    autofit(book)
    for name, pngs in (images or {}).items():
        ws = book[name[:31]]
        col = ws.max_column + 2
        row = 1
        for png in pngs:
            img = Image(str(png))
            ws.add_image(img, ws.cell(row=row, column=col).coordinate)
            row += int(img.height / 20) + 2
    book.save(path)
    return Path(path)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
