"""Shared output plumbing: atomic staging of output files, text-only cells, Markdown
tables, Excel widths.

Every output file is staged in a hidden folder next to the outputs and moved into place
only when all of them are written, so a failed run leaves no partial file; the files an
earlier run left there are put back if the move itself fails. Data values reach
spreadsheets only as text: no workbook cell is a formula, and CSV cells that a
spreadsheet would read as one are prefixed with ``'`` (OWASP's advice for CSV
injection).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import secrets
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from gis.errors import GisError
from gis.i18n import LANGS

__all__ = [
    "OutputError",
    "autofit",
    "csv_safe",
    "in_lang",
    "md_table",
    "md_text",
    "record_outputs",
    "refuse_overwriting_inputs",
    "staged_outputs",
    "stop_on_signals",
    "text_only_cells",
    "write_csv",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ABANDONED_S = 24 * 3600  # a staging folder untouched this long was abandoned
_MD_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# A spreadsheet reads a cell starting with one of these as a formula (tab and CR too:
# Excel drops them and reads on).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(GisError, OSError):
    """Outputs cannot be written (read-only or full disk, a signal); nothing new was left."""


@contextlib.contextmanager
def staged_outputs(out_dir: str | Path, *, stale: Iterable[str] = (),
                   inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``, else delete it.

    Files replace same-named outputs of an earlier run only when every file of this
    run has been written. The move is all or nothing: outputs of the earlier run are
    first set aside in the staging folder and put back if any move fails.

    Parameters
    ----------
    out_dir : str or Path
    stale : iterable of str
        Names of earlier outputs that must not stay beside the new ones (e.g. the map
        of an earlier run when this run writes none); removed with the move.
    inputs : iterable of path
        Input files of the run: an output that would replace one is refused
        (`refuse_overwriting_inputs`) before anything is moved.

    Raises
    ------
    OutputError
        The folder or a file cannot be written (read-only or full disk, permissions),
        or an output would replace an input.

    Examples
    --------
    Files appear together when the block ends; a failure inside it leaves the folder as
    it was:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     with staged_outputs(out) as stage:
    ...         _ = (stage / "a.md").write_text("A", encoding="utf-8")
    ...         _ = (stage / "b.md").write_text("B", encoding="utf-8")
    ...         during = sorted(p.name for p in Path(out).iterdir() if p.is_file())
    ...     after = sorted(p.name for p in Path(out).iterdir())
    ...     try:
    ...         with staged_outputs(out) as stage:
    ...             _ = (stage / "a.md").write_text("new A", encoding="utf-8")
    ...             raise OSError(28, "No space left on device")
    ...     except OutputError as err:
    ...         message = str(err)
    ...     kept = (Path(out) / "a.md").read_text(encoding="utf-8")
    ...     left = sorted(p.name for p in Path(out).iterdir())
    >>> during, after
    ([], ['a.md', 'b.md'])
    >>> "cannot write the outputs: No space left on device" in message, kept, left
    (True, 'A', ['a.md', 'b.md'])
    """
    out = Path(out_dir)
    # The staging folder is named before it is made, so a stop signal arriving at any
    # point (even inside mkdir) finds a name to clean up. Masking signals would not do:
    # a signal may be taken by another thread (GDAL's, BLAS's) and still run here.
    stage = out / f".staging-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
            _remove_abandoned_stages(out)
            stage.mkdir()
        except OutputError:
            raise
        except OSError as err:
            raise _output_error(out, err) from err
        yield stage
        refuse_overwriting_inputs([out / f.name for f in stage.iterdir()], inputs)
        _commit(stage, out, list(stale))
    except OutputError:
        raise
    except OSError as err:
        raise _output_error(out, err) from err
    except Exception as err:
        # GDAL (through pyogrio) and SQLite report a full disk or an unwritable file as
        # their own errors, not OSError: the same one line, not a traceback.
        if type(err).__module__.split(".")[0] not in _WRITER_MODULES:
            raise
        raise _output_error(out, OSError(str(err).strip() or type(err).__name__)) from err
    finally:
        shutil.rmtree(stage, ignore_errors=True)


#: Libraries whose errors while writing an output are write failures (full disk, locked
#: or unwritable file), reported like an OSError.
_WRITER_MODULES = {"pyogrio", "sqlite3"}


def _remove_abandoned_stages(out: Path) -> None:
    """Delete staging folders older than `_ABANDONED_S`: left by a run killed with
    SIGKILL or a power cut, which no handler sees. Writing takes seconds, so a
    staging folder that old belongs to no running process."""
    now = time.time()
    for old in out.glob(".staging-*"):
        with contextlib.suppress(OSError):
            if old.is_dir() and now - old.stat().st_mtime > _ABANDONED_S:
                logger.warning("Removing %s, left by a run that was killed", old)
                shutil.rmtree(old, ignore_errors=True)


def _commit(stage: Path, out: Path, stale: list[str]) -> None:
    """Move every staged file into ``out``; on any failure restore what was there."""
    new = sorted(f for f in stage.iterdir() if not f.name.startswith("."))
    backup = stage / ".previous"
    backup.mkdir()
    set_aside: list[str] = []
    moved: list[Path] = []
    try:
        for name in [f.name for f in new] + [n for n in stale if n not in {f.name for f in new}]:
            if (out / name).is_file():
                os.replace(out / name, backup / name)
                set_aside.append(name)
        for f in new:
            os.replace(f, out / f.name)
            moved.append(out / f.name)
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        for name in set_aside:
            os.replace(backup / name, out / name)
        raise


def _output_error(out: Path, err: OSError) -> OutputError:
    where = f" ({err.filename})" if err.filename else ""
    return OutputError(f"{out}: cannot write the outputs: {err.strerror or err}{where}. Nothing "
                       "new was written and earlier outputs are untouched; free space or choose "
                       "another `out_dir`.")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGHUP) into an `OutputError` while the block runs, so staging
    folders are cleaned up as on any other failure (SIGINT already raises
    KeyboardInterrupt). Only in the main thread; elsewhere a no-op.

    Examples
    --------
    >>> import os
    >>> try:
    ...     with stop_on_signals():
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ... except OutputError as err:
    ...     print(err)
    stopped by SIGTERM; nothing new was written and earlier outputs are untouched.
    >>> signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        # Only the first signal stops the run; a second must not cut its clean-up short.
        for s in wanted:
            signal.signal(s, signal.SIG_IGN)
        name = signal.Signals(signum).name
        msg = f"stopped by {name}; nothing new was written and earlier outputs are untouched."
        raise OutputError(msg)

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, stop) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def refuse_overwriting_inputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path | None],
                              ) -> None:
    """Raise `OutputError` when an output file would replace an input file.

    Paths are compared after resolving symbolic links and ``..`` (and as the same
    file on disk when both exist, which catches hard links).

    Examples
    --------
    >>> refuse_overwriting_inputs(["out/coverage.csv"], ["data/estates.gpkg", None])
    >>> try:
    ...     refuse_overwriting_inputs(["data/../data/estates.gpkg"], ["data/estates.gpkg"])
    ... except OutputError as err:
    ...     print(str(err).split(";")[0])
    `out_dir` would overwrite the input data/estates.gpkg with estates.gpkg
    """
    ins = [Path(p) for p in inputs if p]
    for o in outputs:
        o = Path(o)
        for i in ins:
            same = os.path.realpath(o) == os.path.realpath(i)
            if not same and o.exists() and i.exists():
                with contextlib.suppress(OSError):
                    same = os.path.samefile(o, i)
            if same:
                # `out_dir`: a parameter; the command line shows its own option for it.
                msg = (f"`out_dir` would overwrite the input {i} with {o.name}; outputs never "
                       "replace inputs: choose another `out_dir` (or copy the input elsewhere "
                       "first).")
                raise OutputError(msg)


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell a spreadsheet would read as a formula prefixed by
    ``'`` (text starting with = + - @ tab or CR, as OWASP advises: even "+1" would be
    read as a number, not the name it is); numbers stay numbers.

    Examples
    --------
    >>> table = pd.DataFrame({"name": ["=1+2", "+1", "@SUM(A1)", "海连小区"],
    ...                       "households": [320, -5, 7, 410]})
    >>> csv_safe(table).to_dict("list")
    {'name': ["'=1+2", "'+1", "'@SUM(A1)", '海连小区'], 'households': [320, -5, 7, 410]}
    """
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_neutral_text)
    return out


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` for Excel/WPS: UTF-8 with BOM, formula-like text prefixed
    (`csv_safe`), CRLF row ends as RFC 4180 has them, so a text cell holding a bare CR
    or LF is quoted and cannot split its row.

    Examples
    --------
    >>> import tempfile
    >>> table = pd.DataFrame({"小区名称": ["海连小区", "=1+1", "two\\nlines"],
    ...                       "户数": [320, 410, 5]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     write_csv(table, Path(out) / "coverage.csv")
    ...     raw = (Path(out) / "coverage.csv").read_bytes()
    >>> raw.startswith(b"\\xef\\xbb\\xbf"), raw.count(b"\\r\\n")  # BOM, CRLF rows
    (True, 4)
    >>> raw.decode("utf-8-sig").split("\\r\\n")
    ['小区名称,户数', '海连小区,320', "'=1+1,410", '"two\\nlines",5', '']
    """
    csv_safe(table).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _neutral_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def text_only_cells(book: Any) -> None:
    """Make every formula cell of an openpyxl workbook a text cell with the same text.

    openpyxl stores any string that starts with ``=`` as a formula; data values (an
    estate named ``=HYPERLINK(...)``) must stay text. The writers here write no
    formulas of their own, so every such cell came from the data.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> book = Workbook()
    >>> book.active.append(["=SUM(A1:A9)", "海连小区"])
    >>> [c.data_type for c in book.active[1]]
    ['f', 's']
    >>> text_only_cells(book)
    >>> [(c.data_type, c.value) for c in book.active[1]]
    [('s', '=SUM(A1:A9)'), ('s', '海连小区')]
    """
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def md_text(value: object) -> str:
    """Data text for one line of Markdown: line breaks become spaces and ``<`` is
    written ``&lt;`` (see `md_table`).

    Examples
    --------
    >>> md_text("海连小区\\n<b>二期</b>")
    '海连小区 &lt;b>二期&lt;/b>'
    """
    return _MD_BREAKS.sub(" ", str(value)).replace("<", "&lt;")


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; cells cannot break it or carry markup.

    Pipes become ``/`` and line breaks (CR, LF, U+2028/U+2029) spaces, so a cell stays
    in its row; ``<`` is written ``&lt;`` so a name such as ``<img src=x onerror=…>``
    shows as text where the report is rendered as HTML (GitLab, VS Code, pandoc).

    Examples
    --------
    >>> print(md_table(["小区名称", "户数"], [["海连|小区", "320"], ["<img src=x>", "—"]]))
    | 小区名称 | 户数 |
    |---|---|
    | 海连/小区 | 320 |
    | &lt;img src=x> | — |
    """
    def cell(x: object) -> str:
        return md_text(x).replace("|", "/")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)




def in_lang(lang: str, zh: T, en: T) -> T:
    """Of two data values that exist once per language, the one for ``lang``.

    For machine names, not words: a column and its English twin
    (``not_analysed_reason`` / ``not_analysed_reason_en``), a standard's ``name_zh`` /
    ``name_en``. Words a report writes come from the catalogue (`gis.i18n.tr`).

    Parameters
    ----------
    lang : {"zh", "en"}
    zh, en
        The value for each language.

    Raises
    ------
    ValueError
        For a language the catalogue does not have.

    Examples
    --------
    >>> in_lang("en", "name_zh", "name_en"), in_lang("zh", "name_zh", "name_en")
    ('name_en', 'name_zh')
    """
    return (zh, en)[LANGS.index(lang)]


def autofit(book: Any) -> None:
    """Freeze the header row and size columns to their text (CJK counted wide).

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> book = Workbook()
    >>> book.active.append(["小区名称", "households"])
    >>> book.active.append(["连云港市海州区海连小区", 320])
    >>> autofit(book)
    >>> ws = book.active
    >>> ws.freeze_panes, ws.column_dimensions["A"].width, ws.column_dimensions["B"].width
    ('A2', 17.6, 16.0)
    """
    for ws in book.worksheets:
        ws.freeze_panes = "A2"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(8, width * 1.6), 60)


def add_run_record_sheet(path: str | Path, record: dict[str, Any], lang: str = "zh") -> Path:
    """Append the run record (`gis.workflows.run_record`: parameters, standard, CRS,
    input fingerprints, version, time) to an XLSX report as a key/value sheet 运行记录
    (``Run record``), text cells only; the same values the GeoPackage's ``gis_metadata``
    table holds (`gis.workflows.record_rows`).

    Examples
    --------
    >>> import tempfile
    >>> import openpyxl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     book = Path(tmp) / "report.xlsx"
    ...     pd.DataFrame({"a": [1]}).to_excel(book, index=False)
    ...     _ = add_run_record_sheet(book, {"workflow": "units", "params": {"gap_m": 15.0}})
    ...     ws = openpyxl.load_workbook(book)["运行记录"]
    ...     [[c.value for c in row] for row in ws.iter_rows()]
    [['项目', '值'], ['workflow', 'units'], ['params.gap_m', '15.0']]
    """
    import openpyxl

    from gis.i18n import tr
    from gis.workflows import record_rows

    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet(tr("workflow.record_sheet", lang))
    sheet.append([tr("workflow.record_key", lang), tr("workflow.record_value", lang)])
    for key, value in record_rows(record, lang):
        sheet.append([key, value])
    text_only_cells(book)  # a source name such as "=cmd|…" stays text
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 80
    book.save(path)
    return Path(path)


def record_outputs(paths: dict[str, Path], record: dict[str, Any], lang: str = "zh",
                   gpkgs: tuple[str, ...] = ("gpkg",)) -> None:
    """The run's record in every output that can hold one: the ``gis_metadata`` table of
    each GeoPackage (``gpkgs``: keys of ``paths``; `gis.workflows.write_metadata`) and a
    运行记录 sheet in the XLSX (key ``"xlsx"``; `add_run_record_sheet`). The write step
    every adapter shares (the command line, the QGIS tools), inside its staging folder.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> import openpyxl
    >>> import shapely
    >>> from gis.workflows import read_metadata
    >>> record = {"workflow": "units", "params": {"gap_m": 15.0}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = {"gpkg": Path(tmp) / "units.gpkg", "xlsx": Path(tmp) / "review.xlsx"}
    ...     gpd.GeoDataFrame({"unit_id": ["U1"]}, geometry=[shapely.box(0, 0, 1, 1)],
    ...                      crs="EPSG:4548").to_file(paths["gpkg"], layer="units")
    ...     pd.DataFrame({"unit_id": ["U1"]}).to_excel(paths["xlsx"], index=False)
    ...     record_outputs(paths, record, "en")
    ...     read_metadata(paths["gpkg"]), openpyxl.load_workbook(paths["xlsx"]).sheetnames
    ({'workflow': 'units', 'params': {'gap_m': 15.0}}, ['Sheet1', 'Run record'])
    """
    from gis.workflows import write_metadata

    for key in gpkgs:
        if key in paths:
            write_metadata(paths[key], record)
    if "xlsx" in paths:
        add_run_record_sheet(paths["xlsx"], record, lang)
