"""The work ledger (台账): a GeoPackage holding every estate of the programme with its
status, plan year and content items, and an append-only history of every change.

A GeoPackage is an SQLite database: the layer ``estates`` holds the boundaries (any GIS
opens it); the tables ``programme_meta``, ``programme_estates``, ``programme_items`` and
``programme_events`` hold the programme. Triggers refuse any UPDATE or DELETE of
``programme_events``, so the history is only ever appended to; current values in the
other tables change only together with the event that records the change, in one
transaction.

Statuses follow the works: 储备 → 计划 → 设计 → 审查 → 开工 → 完工 → 验收. A progress
sheet may move an estate one step at a time (several rows, in date order, for several
steps); a skipped or backward step is refused unless forced with a note. Imports are
all-or-nothing per file (every problem is listed), idempotent (a row that states what
the ledger already holds changes nothing), and safe when two run at once (``BEGIN
IMMEDIATE``: the second waits for the first and then validates against its result).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gis.errors import InputError
from gis.i18n import LANGS, tr
from gis.layers import find_field, norm_text, read_table
from gis.text import id_text

__all__ = ["ITEM_DONE", "ITEM_OPEN", "LEDGER_NAMES", "SCHEMA_VERSION", "STATUSES", "STATUS_EN",
           "ImportResult", "LedgerError", "create_ledger", "export_progress", "find_ledger",
           "import_progress", "ledger_events", "ledger_meta", "ledger_name", "ledger_state",
           "parse_status", "status_label"]

SCHEMA_VERSION = 1
STATUSES = ("储备", "计划", "设计", "审查", "开工", "完工", "验收")
#: English status words, from the catalogue (also accepted in progress sheets).
STATUS_EN = {s: tr(f"programme.status.{s}", "en") for s in STATUSES}
#: The names the tool gives a ledger it names itself (台账.gpkg, ledger.gpkg), one per
#: language; a reader finds a ledger under any of them.
LEDGER_NAMES = tuple(tr("programme.file.ledger", lang) for lang in LANGS)
_STATUS_ALIASES = {**{s: s for s in STATUSES}, **{v: k for k, v in STATUS_EN.items()},
                   "已开工": "开工", "在建": "开工", "施工": "开工", "已完工": "完工",
                   "竣工": "完工", "已验收": "验收", "设计中": "设计", "审查中": "审查",
                   "联合审查": "审查", "列入计划": "计划", "项目储备": "储备"}
ITEM_OPEN, ITEM_DONE = "待实施", "完工"
PROGRESS_FIELDS = {
    "estate_id": ("estate_id", "小区编号", "小区代码", "小区id"),
    "district": ("district", "所属县区", "县区", "区县", "所属区县"),
    "status": ("status", "进度状态", "状态", "新状态", "当前状态"),
    "date": ("date", "日期", "状态日期", "完成日期", "时间"),
    "items_done": ("items_done", "完成内容", "已完成内容", "完成改造内容"),
    "plan_year": ("plan_year", "计划年度", "改造年度"),
    "note": ("note", "备注", "说明"),
}

_SCHEMA = """
CREATE TABLE programme_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE programme_estates (
    estate_id TEXT PRIMARY KEY, name TEXT, district TEXT, subdistrict TEXT, unit_id TEXT,
    build_year INTEGER, households REAL, floor_area_m2 REAL, priority REAL,
    has_property_management INTEGER, covered TEXT, plan_year INTEGER,
    status TEXT NOT NULL, status_date TEXT NOT NULL);
CREATE TABLE programme_items (
    estate_id TEXT NOT NULL, item_key TEXT NOT NULL, item_class TEXT NOT NULL, name_zh TEXT,
    origin TEXT, status TEXT NOT NULL, done_date TEXT, PRIMARY KEY (estate_id, item_key));
CREATE TABLE programme_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL,
    effective_date TEXT NOT NULL, estate_id TEXT NOT NULL, field TEXT NOT NULL,
    old_value TEXT, new_value TEXT, source_file TEXT, source_row INTEGER, note TEXT,
    forced INTEGER NOT NULL DEFAULT 0);
CREATE TRIGGER programme_events_no_update BEFORE UPDATE ON programme_events
BEGIN SELECT RAISE(ABORT, 'programme_events is append-only'); END;
CREATE TRIGGER programme_events_no_delete BEFORE DELETE ON programme_events
BEGIN SELECT RAISE(ABORT, 'programme_events is append-only'); END;
"""
_TABLES = ("programme_meta", "programme_estates", "programme_items", "programme_events")


class LedgerError(InputError):
    """The ledger file cannot be used (missing, not a ledger, from a newer version)."""


@dataclass(frozen=True)
class ImportResult:
    """What an import changed: ``events`` appended (0 when the sheet was already in), of
    which status changes, plan-year changes and content items done."""

    source: str
    rows: int
    events: int
    status_changes: int
    items_done: int
    plan_year_changes: int = 0


def parse_status(text: Any) -> str | None:
    """The status a cell names (Chinese, English or a common alias), or None.

    Examples
    --------
    >>> parse_status("已完工"), parse_status(" started "), parse_status("开公")
    ('完工', '开工', None)
    """
    return _STATUS_ALIASES.get(str(text).strip()) or _STATUS_ALIASES.get(norm_text(text))


def status_label(status: str, lang: str = "zh") -> str:
    """A ledger status (one of `STATUSES`) as shown in ``lang``.

    Examples
    --------
    >>> status_label("开工", "en"), status_label("开工", "zh")
    ('started', '开工')
    """
    return tr(f"programme.status.{status}", lang)


def ledger_name(lang: str = "zh") -> str:
    """The file name the tool gives a ledger it names itself (`gis demo`).

    Examples
    --------
    >>> ledger_name("zh"), ledger_name("en")
    ('台账.gpkg', 'ledger.gpkg')
    """
    return tr("programme.file.ledger", lang)


def find_ledger(path: str | Path) -> Path:
    """The ledger ``path`` means: the file itself; in a folder, the ledger under one of
    `LEDGER_NAMES`; for a missing ``台账.gpkg`` / ``ledger.gpkg``, the ledger of the other
    language's name beside it (a ledger written by a Chinese run is found by an English
    one, and back). Otherwise ``path`` unchanged (opening it then says it is missing).

    Raises
    ------
    LedgerError
        A folder holding ledgers under both names (say which one).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "台账.gpkg").write_bytes(b"")
    ...     found = find_ledger(Path(tmp) / "ledger.gpkg"), find_ledger(tmp)
    >>> [p.name for p in found]
    ['台账.gpkg', '台账.gpkg']
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        found = [path / n for n in LEDGER_NAMES if (path / n).is_file()]
        if len(found) > 1:
            msg = (f"{path}: holds {' and '.join(p.name for p in found)}; give the ledger file "
                   "itself.")
            raise LedgerError(msg)
        return found[0] if found else path / LEDGER_NAMES[0]
    if path.name in LEDGER_NAMES:
        other = [path.with_name(n) for n in LEDGER_NAMES if n != path.name]
        return next((p for p in other if p.is_file()), path)
    return path


def create_ledger(path: str | Path, register: Any, items: pd.DataFrame, meta: dict[str, Any],
                  *, plan_date: str, source: str = "plan") -> Path:
    """Write a new ledger; refuses to replace an existing file.

    Parameters
    ----------
    register : GeoDataFrame
        One row per programme estate: ``estate_id``, ``name``, ``district``,
        ``subdistrict``, ``unit_id``, ``build_year``, ``households``, ``floor_area_m2``,
        ``priority``, ``has_property_management``, ``covered`` (comma-joined covered
        category keys, or missing when no coverage was run), ``plan_year`` (missing =
        reserve), geometry.
    items : DataFrame
        From `gis.programme.survey.content_lists`.
    meta : dict
        Programme description stored as JSON (targets, names, start_by_month, checks).
    plan_date : str
        ISO date the initial statuses take effect (the programme's start).

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from gis.sources import demo_folder
    >>> est = gpd.read_file(demo_folder() / "estates.gpkg", rows=3)
    >>> register = gpd.GeoDataFrame({"estate_id": est["小区编号"], "name": est["小区名称"],
    ...                              "district": "城关区", "plan_year": [2021, 2022, None]},
    ...                             geometry=est.geometry)
    >>> items = pd.DataFrame({"estate_id": ["XQ001"], "item_key": ["drainage"],
    ...                       "item_class": ["basic"], "name_zh": ["排水"],
    ...                       "origin_text": ["摸底调查缺项"]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = create_ledger(Path(tmp) / "台账.gpkg", register, items, {"years": []},
    ...                          plan_date="2021-01-01")
    ...     est, items = ledger_state(path)
    ...     create_ledger(path, register, items, {}, plan_date="2021-01-01")
    Traceback (most recent call last):
    gis.programme.ledger.LedgerError: .../台账.gpkg: the ledger already exists; ...
    >>> est["status"].tolist(), est["plan_year"].astype("Int64").tolist()
    (['计划', '计划', '储备'], [2021, 2022, <NA>])
    """
    import geopandas as gpd

    path = Path(path)
    if path.exists():
        msg = (f"{path}: the ledger already exists; import progress with `gis programme update` "
               "or choose a new `ledger` file (a plan never overwrites a ledger).")
        raise LedgerError(msg)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.gpkg")
    now = _now()
    try:
        geo = gpd.GeoDataFrame(register[["estate_id", "name", "district", "geometry"]].copy(),
                               geometry="geometry", crs=register.crs)
        geo["estate_id"] = geo["estate_id"].astype(str)
        geo.to_file(tmp, driver="GPKG", layer="estates", engine="pyogrio")
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.executescript(_SCHEMA)
            con.execute("BEGIN")
            for t in _TABLES:
                con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                            "last_change) VALUES (?, 'attributes', ?, ?)", (t, t, now))
            meta = {**meta, "schema_version": SCHEMA_VERSION, "created_at": now,
                    "plan_date": plan_date}
            con.executemany("INSERT INTO programme_meta VALUES (?, ?)",
                            [(k, json.dumps(v, ensure_ascii=False)) for k, v in meta.items()])
            for rec in register.drop(columns="geometry").to_dict("records"):
                year = rec.get("plan_year")
                year = None if year is None or pd.isna(year) else int(year)
                status = "计划" if year is not None else "储备"
                con.execute(
                    "INSERT INTO programme_estates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (str(rec["estate_id"]), _s(rec.get("name")), _s(rec.get("district")),
                     _s(rec.get("subdistrict")), _s(rec.get("unit_id")), _i(rec.get("build_year")),
                     _f(rec.get("households")), _f(rec.get("floor_area_m2")),
                     _f(rec.get("priority")), _i(rec.get("has_property_management")),
                     None if _s(rec.get("covered")) is None else str(rec["covered"]),
                     year, status, plan_date))
                _event(con, now, plan_date, str(rec["estate_id"]), "status", None, status,
                       source, None, f"plan year {year}" if year else "reserve", False)
                if year is not None:
                    _event(con, now, plan_date, str(rec["estate_id"]), "plan_year", None,
                           str(year), source, None, "", False)
            for rec in items.to_dict("records"):
                con.execute("INSERT INTO programme_items VALUES (?,?,?,?,?,?,NULL)",
                            (rec["estate_id"], rec["item_key"], rec["item_class"],
                             rec["name_zh"], rec["origin_text"], ITEM_OPEN))
            con.execute("COMMIT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _connect(path: str | Path) -> sqlite3.Connection:
    path = find_ledger(path)
    if not path.is_file():
        raise LedgerError(f"{path}: no such ledger; create one with `gis programme plan`.")
    try:
        con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=120,
                              isolation_level=None)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as err:
        raise LedgerError(f"{path}: not a ledger GeoPackage ({err}).") from err
    if not set(_TABLES) <= names:
        con.close()
        raise LedgerError(f"{path}: not a programme ledger (no programme_* tables); create one "
                          "with `gis programme plan`.")
    row = con.execute("SELECT value FROM programme_meta WHERE key='schema_version'").fetchone()
    version = int(json.loads(row[0])) if row else 0
    if version > SCHEMA_VERSION:
        con.close()
        raise LedgerError(f"{path}: the ledger was written by a newer gis (schema {version}; this "
                          f"version reads up to {SCHEMA_VERSION}); upgrade gis to open it. "
                          "Nothing was changed.")
    return con


def ledger_meta(path: str | Path) -> dict[str, Any]:
    """The programme description stored in the ledger.

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.demo import demo_ledger
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     meta = ledger_meta(demo_ledger(tmp))
    >>> meta["name_en"], meta["plan_date"], [y["estates"] for y in meta["years"]]
    ('Qinshui county old-estate renovation 2021–2024', '2021-01-01', [10, 16, 7, None])
    """
    con = _connect(path)
    try:
        return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM programme_meta")}
    finally:
        con.close()


def ledger_events(path: str | Path) -> pd.DataFrame:
    """The whole history, oldest first.

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.demo import demo_ledger
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     events = ledger_events(demo_ledger(tmp, estates=3))
    >>> events[["estate_id", "field", "old_value", "new_value", "note"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['XQ001', 'status', None, '计划', 'plan year 2021'], ['XQ001', 'plan_year', None, '2021', ''],
     ['XQ002', 'status', None, '计划', 'plan year 2022'], ['XQ002', 'plan_year', None, '2022', ''],
     ['XQ003', 'status', None, '储备', 'reserve']]
    """
    con = _connect(path)
    try:
        return pd.read_sql_query("SELECT * FROM programme_events ORDER BY event_id", con)
    finally:
        con.close()


def ledger_state(path: str | Path, as_of: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estates and items as they stood at the end of ``as_of`` (ISO date), rebuilt from the
    history; current values when ``as_of`` is None.

    Returns
    -------
    (DataFrame, DataFrame)
        Estates (the ``programme_estates`` columns, ``status`` and ``status_date`` as of
        the date, plus ``started_date`` and ``finished_date``) and items (``done`` bool,
        ``done_date``).

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.demo import demo_ledger
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     before = bool(ledger_state(path, "2020-12-31")[0]["status"].isna().all())
    ...     est, items = ledger_state(path)
    >>> before, est["status"].tolist()[:3], int(items["done"].sum()), len(items)
    (True, ['计划', '计划', '计划'], 0, 86)
    """
    con = _connect(path)
    try:
        est = pd.read_sql_query("SELECT * FROM programme_estates ORDER BY estate_id", con)
        items = pd.read_sql_query("SELECT * FROM programme_items", con)
        ev = pd.read_sql_query("SELECT * FROM programme_events ORDER BY effective_date, "
                               "event_id", con)
    finally:
        con.close()
    if as_of is not None:
        ev = ev[ev["effective_date"] <= as_of]
    st = ev[ev["field"] == "status"].groupby("estate_id").tail(1).set_index("estate_id")
    est["status"] = st["new_value"].reindex(est["estate_id"]).to_numpy()
    est["status_date"] = st["effective_date"].reindex(est["estate_id"]).to_numpy()
    for col, status in (("started_date", "开工"), ("finished_date", "完工")):
        hit = ev[(ev["field"] == "status") & (ev["new_value"] == status)]
        first = hit.groupby("estate_id")["effective_date"].min()
        est[col] = first.reindex(est["estate_id"]).to_numpy()
    done = ev[ev["field"].str.startswith("item:") & (ev["new_value"] == ITEM_DONE)]
    done = done.assign(item_key=done["field"].str[5:]).groupby(["estate_id", "item_key"])[
        "effective_date"].min()
    key = pd.MultiIndex.from_frame(items[["estate_id", "item_key"]])
    items["done_date"] = done.reindex(key).to_numpy()
    items["done"] = items["done_date"].notna()
    return est, items


def import_progress(ledger: str | Path, sheet: str | Path, *, district: str | None = None,
                    force: bool = False, note: str = "", today: dt.date | None = None,
                    encoding: str | None = None) -> ImportResult:
    """Import a district's progress sheet (进度表) into the ledger, all or nothing.

    Parameters
    ----------
    sheet : path
        XLSX/CSV with 小区编号, 进度状态 and 日期 (one row per status reached; several rows
        of one estate in date order for several steps), optional 县区, 完成内容 (content
        items finished, 、-separated, by name or key), 计划年度 and 备注. A reserve estate
        entering the plan (储备→计划) needs its 计划年度; changing a planned estate's year
        needs ``force``.
    district : str, optional
        The district sending the sheet; rows of estates of another district are refused.
    force : bool
        Accept skipped or backward steps; needs ``note``, stored with each forced event.
    today : date, optional
        Dates after it are refused (default: today).

    Raises
    ------
    InputError
        Listing every problem: unknown ids or statuses (with the nearest match), dates
        unreadable, in the future or before the plan, duplicate rows, rows of another
        district, invalid transitions; `LedgerError` for a missing or newer ledger. The
        ledger is unchanged whenever anything is raised.

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.demo import demo_ledger, simulated_progress
    >>> from gis.programme._xlsx import write_book
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     sheet = write_book(Path(tmp) / "进度表.xlsx",
    ...                        {"进度表": simulated_progress(path, "城关区")})
    ...     first = import_progress(path, sheet, district="城关区", today=dt.date(2022, 6, 30))
    ...     again = import_progress(path, sheet, district="城关区", today=dt.date(2022, 6, 30))
    ...     import_progress(path, sheet, district="东城区", today=dt.date(2022, 6, 30))
    Traceback (most recent call last):
    gis.errors.InputError: 进度表.xlsx: the sheet names 县区 城关区, not 东城区; ...
    >>> first.rows, first.status_changes, first.items_done, again.events
    (12, 12, 9, 0)
    """
    sheet = Path(sheet)
    if force and not note.strip():
        raise InputError("`force` needs a `note` saying why the refused steps are accepted.")
    today = today or dt.date.today()
    con = _connect(ledger)  # version check before reading anything else
    try:
        table = _read_progress(sheet, encoding)
        cols = {k: find_field(table.columns, a) for k, a in PROGRESS_FIELDS.items()}
        con.execute("BEGIN IMMEDIATE")
        try:
            result = _apply(con, table, cols, sheet.name, district, force, note, today)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()
    return result


def _read_progress(sheet: Path, encoding: str | None) -> pd.DataFrame:
    if not sheet.is_file():
        raise InputError(f"{sheet}: no such progress sheet.")
    table, _ = read_table(sheet, encoding=encoding)
    if find_field(table.columns, PROGRESS_FIELDS["estate_id"]) is None:
        for skip in range(1, 6):
            try:
                again, _ = read_table(sheet, encoding=encoding, header_row=skip) \
                    if sheet.suffix.lower() in (".xlsx", ".xls") else (table.iloc[0:0], "")
            except InputError:
                break
            if find_field(again.columns, PROGRESS_FIELDS["estate_id"]) is not None:
                msg = (f"{sheet.name}: the header is on row {skip + 1} under {skip} merged title "
                       f"row(s); delete the title rows so 小区编号 heads row 1, then import again. "
                       "The ledger is unchanged.")
                raise InputError(msg)
        raise InputError(f"{sheet.name}: no 小区编号 (estate_id) column; use the progress sheet "
                         "`export_progress` writes (`gis programme template` with "
                         '`kind="progress"`). The ledger is unchanged.')
    for need in ("date",):
        if find_field(table.columns, PROGRESS_FIELDS[need]) is None:
            raise InputError(f"{sheet.name}: no 日期 (date) column; every row needs the date "
                             "the status was reached. The ledger is unchanged.")
    if find_field(table.columns, PROGRESS_FIELDS["status"]) is None and \
            find_field(table.columns, PROGRESS_FIELDS["items_done"]) is None:
        raise InputError(f"{sheet.name}: no 进度状态 (status) or 完成内容 column. The ledger is "
                         "unchanged.")
    return table


def _apply(con: sqlite3.Connection, table: pd.DataFrame, cols: dict, src: str,
           district: str | None, force: bool, note: str, today: dt.date) -> ImportResult:
    est = {r[0]: {"district": r[1], "status": r[2], "status_date": r[3], "plan_year": r[4]}
           for r in con.execute("SELECT estate_id, district, status, status_date, plan_year "
                                "FROM programme_estates")}
    items: dict[str, dict[str, str]] = {}
    for eid, key, name, status in con.execute(
            "SELECT estate_id, item_key, name_zh, status FROM programme_items"):
        items.setdefault(eid, {})[key] = status
        items[eid][f"name:{name}"] = key
    meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM programme_meta")}
    reached = set(con.execute("SELECT estate_id, new_value FROM programme_events WHERE "
                              "field = 'status'").fetchall())
    start = dt.date.fromisoformat(meta["plan_date"])
    plan_years = [int(t["year"]) for t in meta.get("years", [])]
    problems: list[str] = []
    rows = []

    def cell(rec: dict, name: str) -> str:
        v = rec.get(cols[name]) if cols.get(name) else None
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return id_text(v)  # the one id rule: Excel's 101.0 is the id 101

    seen: dict[tuple, int] = {}
    districts = set()
    for pos, rec in enumerate(table.to_dict("records")):
        line = pos + 2
        eid = cell(rec, "estate_id")
        if not any(cell(rec, k) for k in ("status", "items_done", "plan_year")):
            continue  # a row with nothing to report (an estate not updated this month)
        if eid not in est:
            near = difflib.get_close_matches(eid, sorted(est), n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append(f"row {line}: 小区编号 {eid!r} is not in the ledger{hint}")
            continue
        said = cell(rec, "district")
        if said:
            districts.add(said)
        home = est[eid]["district"] or ""
        if said and home and said != home:
            problems.append(f"row {line}: {eid} belongs to {home} in the ledger, not {said}")
        if district and home and home != district:
            problems.append(f"row {line}: {eid} belongs to {home}, not to {district} "
                            "(a sheet of another district?)")
        raw_status = cell(rec, "status")
        status = parse_status(raw_status) if raw_status else None
        if raw_status and status is None:
            near = difflib.get_close_matches(raw_status, list(_STATUS_ALIASES), n=1, cutoff=0.4)
            hint = f"; did you mean {_STATUS_ALIASES[near[0]]}?" if near else ""
            problems.append(f"row {line}: status {raw_status!r} is not one of "
                            f"{'→'.join(STATUSES)}{hint}")
            continue
        raw_date = rec.get(cols["date"])
        date = _date(raw_date)
        if date is None:
            problems.append(f"row {line}: date {str(raw_date)!r} is not a date (use 2022-06-30)")
            continue
        if date > today:
            problems.append(f"row {line}: date {date} is in the future (today is {today})")
            continue
        if date < start:
            problems.append(f"row {line}: date {date} is before the plan starts ({start})")
            continue
        done = [w for w in _split(cell(rec, "items_done"))]
        keys = []
        for w in done:
            k = w if w in items.get(eid, {}) else items.get(eid, {}).get(f"name:{w}")
            if k is None:
                names = [n[5:] for n in items.get(eid, {}) if n.startswith("name:")]
                near = difflib.get_close_matches(w, names, n=1, cutoff=0.4)
                hint = f"; did you mean {near[0]}?" if near else ""
                problems.append(f"row {line}: {w!r} is not in {eid}'s content list{hint}")
            else:
                keys.append(k)
        raw_year = cell(rec, "plan_year")
        year = None
        if raw_year:
            if raw_year.isdigit() and int(raw_year) in plan_years:
                year = int(raw_year)
            else:
                problems.append(f"row {line}: 计划年度 {raw_year!r} is not a plan year "
                                f"({', '.join(map(str, plan_years))})")
                continue
        dup_key = (eid, status, tuple(sorted(keys)))
        if dup_key in seen:
            problems.append(f"row {line} repeats row {seen[dup_key]} ({eid} {status or ''}"
                            f"{' ' + '、'.join(keys) if keys else ''}); delete the duplicate")
            continue
        seen[dup_key] = line
        rows.append({"line": line, "eid": eid, "status": status, "date": date, "items": keys,
                     "note": cell(rec, "note"), "plan_year": year})
    if district and districts - {district}:
        problems.insert(0, f"the sheet names 县区 {', '.join(sorted(districts - {district}))}, "
                           f"not {district}")
    # Transitions, per estate in date order (the sheet may list several steps).
    order = {s: i for i, s in enumerate(STATUSES)}
    changes = []
    year_changes = []
    for eid in dict.fromkeys(r["eid"] for r in rows):
        current = est[eid]["status"]
        said_years = {r["plan_year"] for r in rows if r["eid"] == eid and r["plan_year"]}
        first = next(r for r in rows if r["eid"] == eid)
        have = est[eid]["plan_year"]
        enters = have is None and any(r["eid"] == eid and r["status"] and
                                      order[r["status"]] >= order["计划"] for r in rows)
        if len(said_years) > 1:
            problems.append(f"row {first['line']}: {eid} has several 计划年度 "
                            f"({', '.join(map(str, sorted(said_years)))}) in the sheet")
        elif said_years and (new_year := said_years.pop()) != have:
            if have is None or force:
                year_changes.append((first, have, new_year, have is not None))
            else:
                problems.append(f"row {first['line']}: {eid} 计划年度 {new_year} differs from the "
                                f"ledger's {have}; changing a plan year needs `force` with "
                                "a `note` (joint estates share one year)")
        elif enters and not said_years:
            problems.append(f"row {first['line']}: {eid} enters the plan (储备→计划) without a "
                            "计划年度; fill it in")
        cur_date = dt.date.fromisoformat(est[eid]["status_date"])
        mine = sorted((r for r in rows if r["eid"] == eid and r["status"]),
                      key=lambda r: (r["date"], order[r["status"]]))
        for r in mine:
            new = r["status"]
            if new == current or (eid, new) in reached and order[new] < order[current]:
                continue  # already recorded: importing the same sheet again changes nothing
            step = order[new] - order[current]
            if r["date"] < cur_date:
                problems.append(f"row {r['line']}: {eid} {new} dated {r['date']}, before its "
                                f"{current} of {cur_date}")
                continue
            if step != 1 and not force:
                kind = "goes back" if step < 0 else "skips " + "、".join(
                    STATUSES[order[current] + 1:order[new]])
                problems.append(f"row {r['line']}: {eid} {current}→{new} {kind}; record each "
                                "step, or pass `force` with a `note`")
                continue
            changes.append((r, current, new, step != 1))
            current, cur_date = new, r["date"]
    if problems:
        shown = "; ".join(problems[:8])
        more = f" … ({len(problems)} problems in all)" if len(problems) > 8 else ""
        raise InputError(f"{src}: {shown}{more}. Nothing was imported; the ledger is unchanged.")
    now = _now()
    n_events = n_items = 0
    n_years = len(year_changes)
    for r, old, new, forced in year_changes:
        con.execute("UPDATE programme_estates SET plan_year=? WHERE estate_id=?", (new, r["eid"]))
        _event(con, now, r["date"].isoformat(), r["eid"], "plan_year",
               None if old is None else str(old), str(new), src, r["line"],
               "; ".join(x for x in (r["note"], note if forced else "") if x), forced)
    for r, old, new, forced in changes:
        con.execute("UPDATE programme_estates SET status=?, status_date=? WHERE estate_id=?",
                    (new, r["date"].isoformat(), r["eid"]))
        _event(con, now, r["date"].isoformat(), r["eid"], "status", old, new, src, r["line"],
               "; ".join(x for x in (r["note"], note if forced else "") if x), forced)
        n_events += 1
    for r in rows:
        for k in r["items"]:
            if items[r["eid"]][k] == ITEM_DONE:
                continue
            items[r["eid"]][k] = ITEM_DONE
            con.execute("UPDATE programme_items SET status=?, done_date=? WHERE estate_id=? AND "
                        "item_key=?", (ITEM_DONE, r["date"].isoformat(), r["eid"], k))
            _event(con, now, r["date"].isoformat(), r["eid"], f"item:{k}", ITEM_OPEN, ITEM_DONE,
                   src, r["line"], r["note"], False)
            n_items += 1
    return ImportResult(src, len(rows), n_years + n_events + n_items, n_events, n_items, n_years)


def export_progress(ledger: str | Path, out: str | Path, *, district: str | None = None,
                    lang: str = "zh") -> Path:
    """Write the progress sheet districts fill in and send back: one row per estate with its
    current status and date (importing it unchanged changes nothing).

    Examples
    --------
    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> from gis.programme.demo import demo_ledger
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     sheet = export_progress(path, Path(tmp) / "progress.xlsx", lang="en")
    ...     ws = load_workbook(sheet).active
    ...     unchanged = import_progress(path, sheet)
    >>> ws.title, [c.value for c in ws[1]][:6], ws.max_row, unchanged.events
    ('progress', ['estate_id', 'name', 'district', 'plan_year', 'status', 'date'], 9, 0)
    """
    from gis.programme._xlsx import write_book

    est, items = ledger_state(ledger)
    if district:
        if district not in set(est["district"].dropna()):
            known = ", ".join(sorted(set(est["district"].dropna())))
            raise InputError(f"`district={district!r}` is not in the ledger (districts: {known}).")
        est = est[est["district"] == district]
    done = items[items["done"]].groupby("estate_id")["name_zh"].agg("、".join)
    todo = items[~items["done"]].groupby("estate_id")["name_zh"].agg("、".join)
    columns = {
        "estate_id": est["estate_id"], "name": est["name"], "district": est["district"],
        "plan_year": est["plan_year"], "status": est["status"], "date": est["status_date"],
        "items_done": done.reindex(est["estate_id"]).fillna("").to_numpy(),
        "items_open": todo.reindex(est["estate_id"]).fillna("").to_numpy(),
        "note": "",
    }
    # Headers in ``lang``; every one is also a name `import_progress` reads back.
    table = pd.DataFrame({tr(f"programme.progress.{k}", lang): v for k, v in columns.items()})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_book(out, {tr("programme.progress.sheet", lang): table})


def _event(con: sqlite3.Connection, now: str, when: str, eid: str, field: str, old: Any,
           new: Any, src: str, row: Any, note: str, forced: bool) -> None:
    con.execute("INSERT INTO programme_events (recorded_at, effective_date, estate_id, field, "
                "old_value, new_value, source_file, source_row, note, forced) VALUES "
                "(?,?,?,?,?,?,?,?,?,?)", (now, when, eid, field, old, new, src, row, note,
                                          int(forced)))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _date(v: Any) -> dt.date | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v).strip().replace("/", "-").replace(".", "-").replace("年", "-").replace(
        "月", "-").rstrip("日")
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in s.split(" ")[0].split("-")))
    except ValueError:
        return None


def _split(text: str) -> list[str]:
    import re

    return [w for w in re.split(r"[、,，;；\n]+", text) if w.strip()]


def _s(v: Any) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)


def _i(v: Any) -> int | None:
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else int(v)


def _f(v: Any) -> float | None:
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) \
        else float(v)
