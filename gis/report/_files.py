"""Shared output plumbing: atomic staging of output files, Markdown tables, Excel widths.

Every output file is staged in a hidden folder next to the outputs and moved into place
only when all of them are written, so a failed run leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["autofit", "md_table", "staged_outputs"]


@contextlib.contextmanager
def staged_outputs(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``, else delete it.

    Files replace same-named outputs of an earlier run only when every file of this
    run has been written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; pipes inside cells are replaced so they cannot break it."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x).replace("|", "/") for x in r) + " |" for r in rows]
    return "\n".join(lines)




def autofit(book: Any) -> None:
    """Freeze the header row and size columns to their text (CJK counted wide)."""
    for ws in book.worksheets:
        ws.freeze_panes = "A2"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(8, width * 1.6), 60)
