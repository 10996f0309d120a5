"""Monthly bulletin (月通报) and yearly evaluation (年度考评) from the ledger.

Figures are rebuilt from the ledger's history as of the end of the month (or year), so a
bulletin for an earlier month can be written again later with the same numbers:

* by district (县区): estates planned for the year, started (开工 or later), finished
  (完工 or later), accepted (验收), with households and floor area; the year's programme
  target for the whole programme;
* behind schedule: estates of an earlier plan year (at the year's end, of this year too)
  not finished, and estates of this plan year not started after the programme's
  ``start_by_month``;
* content items done by class (基础类/完善类/提升类);
* the finish checklist (三入、四通、四有、两整 and the living circle) over the finished
  estates;
* charts (PNG, matplotlib): progress against plan by district, and month by month
  against the year's target; a map of estates by plan year and status, as PNG (in the
  workbook) and as an offline HTML map (`gis.programme.progress_map`).

Written as Markdown and XLSX (charts embedded), all together or not at all.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gis.i18n import MESSAGES, tr
from gis.programme.catalogue import CLASSES, Catalogue, in_lang
from gis.programme.ledger import STATUSES, find_ledger, ledger_meta, ledger_state, status_label
from gis.report._files import md_table, staged_outputs

__all__ = ["bulletin_figures", "write_bulletin"]

logger = logging.getLogger(__name__)
_ORDER = {s: i for i, s in enumerate(STATUSES)}
_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
          "SimHei", "Microsoft YaHei", "PingFang SC", "DejaVu Sans"]



def bulletin_figures(ledger: str | Path, as_of: dt.date, catalogue: Catalogue,
                     lang: str = "zh") -> dict[str, Any]:
    """The bulletin's tables as of the end of ``as_of`` (a date); Chinese column names,
    values (classes, checklist lines, reasons, 合计) in ``lang``.

    Returns
    -------
    dict
        ``progress`` (by district and 合计), ``by_subdistrict`` (by 县区 and 街道),
        ``behind``, ``items`` (by class),
        ``checklist``, ``monthly`` (cumulative started/finished by month of the year),
        ``target`` (the year's estate target or None), ``year``, ``estates`` (state).

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.programme.demo import demo_ledger, simulated_progress
    >>> from gis.programme.ledger import import_progress
    >>> from gis.programme._xlsx import write_book
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = demo_ledger(tmp)
    ...     sheet = write_book(Path(tmp) / "p.xlsx", {"进度表": simulated_progress(path, "城关区")})
    ...     _ = import_progress(path, sheet, today=dt.date(2022, 6, 30))
    ...     f = bulletin_figures(path, dt.date(2021, 12, 31), load_catalogue(), "en")
    >>> f["progress"][["县区", "计划小区", "已开工", "已完工", "已验收"]].values.tolist()
    [['东城区', 1, 0, 0, 0], ['城关区', 2, 2, 1, 1], ['total', 3, 2, 1, 1]]
    >>> f["target"], len(f["behind"]), [int(n) for n in f["monthly"].iloc[-1, 1:]]
    (10, 3, [2, 1])
    >>> f["behind"]["原因"].iloc[0]
    'planned for 2021, not finished by 2021-12-31'
    """
    meta = ledger_meta(ledger)
    est, items = ledger_state(ledger, as_of.isoformat())
    year = as_of.year
    est["rank"] = est["status"].map(_ORDER)
    est["district"] = est["district"].fillna("").replace("", "—")
    this = est[est["plan_year"] == year]
    progress = _progress(this, "district", "县区", tr("programme.total", lang))
    est["subdistrict"] = est["subdistrict"].fillna("").replace("", "—")
    by_street = _progress(est[est["plan_year"] == year], ["district", "subdistrict"],
                          ["县区", "街道"], None)
    start_by = int(meta.get("start_by_month", 6))
    # by the year's last day, this year's estates are due too (the yearly evaluation)
    due = year if (as_of.month, as_of.day) == (12, 31) else year - 1
    late = est[(est["plan_year"] <= due) & (est["rank"] < _ORDER["完工"])]
    slow = est[(est["plan_year"] == year) & (as_of.month > start_by)
               & (est["rank"] < _ORDER["开工"])]
    behind = pd.concat([
        late.assign(原因=[tr("programme.behind.not_finished", lang, year=int(y), as_of=as_of)
                          for y in late["plan_year"]]),
        slow.assign(原因=tr("programme.behind.not_started", lang, year=year, start_by=start_by,
                          as_of=as_of)),
    ])
    behind = pd.DataFrame({"县区": behind["district"], "小区编号": behind["estate_id"],
                           "小区名称": behind["name"], "计划年度": behind["plan_year"],
                           "状态": behind["status"].map(lambda s: status_label(s, lang)),
                           "原因": behind["原因"]})
    behind["计划年度"] = behind["计划年度"].astype("Int64")
    behind = behind.sort_values(["县区", "计划年度", "小区编号"]).reset_index(drop=True)
    by_class = []
    for cls in CLASSES:
        sel = items[items["item_class"] == cls]
        by_class.append({"类别": catalogue.class_label(cls, lang), "内容项": len(sel),
                         "已完成": int(sel["done"].sum())})
    done_set = set(zip(items.loc[items["done"], "estate_id"], items.loc[items["done"], "item_key"]))
    listed = set(zip(items["estate_id"], items["item_key"]))
    finished = est[est["rank"] >= _ORDER["完工"]]
    checks = []
    for chk in catalogue.checks:
        met = 0
        for rec in finished.to_dict("records"):
            eid = rec["estate_id"]
            ok = all((eid, k) not in listed or (eid, k) in done_set for k in chk.items)
            if chk.category and rec.get("covered") is not None:
                covered = chk.category in str(rec["covered"]).split(",")
                ok = ok and (covered or any((eid, k) in done_set for k in chk.items))
            if chk.property_management and rec.get("has_property_management") == 0:
                ok = ok and any((eid, k) in done_set for k in chk.items)
            met += ok
        checks.append({"分组": tr("check_group." + chk.group, lang) if "check_group." + chk.group
                       in MESSAGES else chk.group, "标准": in_lang(chk.name_zh, chk.name_en, lang),
                       "完工小区": len(finished),
                       "达标": met, "依据": chk.source})
    target = next((t.get("estates") for t in meta.get("years", []) if t["year"] == year), None)
    monthly = []
    for m in range(1, as_of.month + 1):
        end = dt.date(year, m, calendar.monthrange(year, m)[1]).isoformat()
        monthly.append({"月份": f"{year}-{m:02d}",
                        "累计开工": int(((this["started_date"].notna())
                                        & (this["started_date"] <= end)).sum()),
                        "累计完工": int(((this["finished_date"].notna())
                                        & (this["finished_date"] <= end)).sum())})
    return {"progress": progress, "by_subdistrict": by_street, "behind": behind, "items": pd.DataFrame(by_class),
            "checklist": pd.DataFrame(checks), "monthly": pd.DataFrame(monthly),
            "target": target, "year": year, "estates": est, "meta": meta}


_PROGRESS = ["计划小区", "计划户数", "计划建筑面积m2", "已开工", "开工户数", "开工建筑面积m2",
             "已完工", "完工户数", "完工建筑面积m2", "已验收", "完工率"]


def _progress(this: pd.DataFrame, by: str | list[str], names: str | list[str],
              total: str | None) -> pd.DataFrame:
    """Planned / started / finished / accepted estates, households and floor area (m²) of
    the year's plan per group, with a total row when ``total`` names it."""
    keys = [by] if isinstance(by, str) else by
    heads = [names] if isinstance(names, str) else names
    groups = list(this.groupby(keys, sort=True)) if len(this) else []
    if total is not None:
        groups.append(((total,) + ("",) * (len(keys) - 1), this))
    rows = []
    for name, g in groups:
        name = name if isinstance(name, tuple) else (name,)
        started = g[g["rank"] >= _ORDER["开工"]]
        finished = g[g["rank"] >= _ORDER["完工"]]
        rows.append({**dict(zip(heads, name)), "计划小区": len(g),
                     "计划户数": g["households"].sum(), "计划建筑面积m2": g["floor_area_m2"].sum(),
                     "已开工": len(started), "开工户数": started["households"].sum(),
                     "开工建筑面积m2": started["floor_area_m2"].sum(),
                     "已完工": len(finished), "完工户数": finished["households"].sum(),
                     "完工建筑面积m2": finished["floor_area_m2"].sum(),
                     "已验收": int((g["rank"] >= _ORDER["验收"]).sum()),
                     "完工率": round(len(finished) / len(g), 3) if len(g) else np.nan})
    return pd.DataFrame(rows, columns=[*heads, *_PROGRESS])


def write_bulletin(ledger: str | Path, out_dir: str | Path, catalogue: Catalogue, *,
                   month: str | None = None, year: int | None = None, lang: str = "zh",
                   illustrative: bool = False) -> dict[str, Path]:
    """Write the monthly bulletin (``month`` = "2022-06") or the yearly evaluation
    (``year`` = 2022) as ``.md`` + ``.xlsx`` with PNG charts and map.

    Returns
    -------
    dict
        Output kind → path.

    Examples
    --------
    >>> import tempfile
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.programme.demo import demo_ledger
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_bulletin(demo_ledger(tmp), Path(tmp) / "out", load_catalogue(),
    ...                            month="2021-06", lang="en")
    ...     md = paths["md"].read_text(encoding="utf-8")
    >>> sorted(p.name for p in paths.values())  # doctest: +NORMALIZE_WHITESPACE
    ['bulletin_2021-06.md', 'bulletin_2021-06.xlsx', 'bulletin_2021-06_by_district.png',
     'bulletin_2021-06_by_month.png', 'bulletin_2021-06_map.html', 'bulletin_2021-06_map.png']
    >>> print(md.splitlines()[2])  # doctest: +NORMALIZE_WHITESPACE
    As of 2021-06-30: 3 estates planned for 2021 (target 10), 0 started, 0 finished,
    0 accepted; 0 behind schedule.
    """
    from gis.programme._xlsx import write_book

    if month:
        y, m = (int(p) for p in month.split("-"))
        as_of = dt.date(y, m, calendar.monthrange(y, m)[1])
        stem = f"bulletin_{y}-{m:02d}"
    else:
        as_of = dt.date(int(year), 12, 31)  # type: ignore[arg-type]
        stem = f"evaluation_{year}"
    ledger = find_ledger(ledger)
    f = bulletin_figures(ledger, as_of, catalogue, lang)
    meta = f["meta"]
    title_name = in_lang(meta.get("name_zh", ""), meta.get("name_en", ""), lang)
    title = tr("programme.bulletin.title_month" if month else "programme.bulletin.title_year",
               lang, name=title_name, year=as_of.year, month=as_of.month)
    total = f["progress"].iloc[-1]
    tables = {"progress": f["progress"], "by_subdistrict": f["by_subdistrict"],
              "behind": f["behind"], "items": f["items"], "checklist": f["checklist"],
              "monthly": f["monthly"]}
    if not month:
        # the programme's target for the whole; each district against its own plan
        yes, no = tr("programme.yes", lang), tr("programme.no", lang)
        rows = [{"县区": r["县区"], "年度": as_of.year,
                 "目标": (f["target"] if i == len(f["progress"]) - 1 else int(r["计划小区"])),
                 "计划小区": int(r["计划小区"]), "已完工": int(r["已完工"])}
                for i, r in enumerate(f["progress"].to_dict("records"))]
        for r in rows:
            r["是否达标"] = "—" if r["目标"] is None else (yes if r["已完工"] >= r["目标"] else no)
        tables["evaluation"] = pd.DataFrame(rows)
    # The tables are built with Chinese column names; shown in ``lang`` from the catalogue.
    tables = {k: t.rename(columns=lambda c: _column(c, lang)) for k, t in tables.items()}
    names = {k: tr(f"programme.bulletin.{k}", lang) for k in tables}
    paths: dict[str, Path] = {}
    with staged_outputs(out_dir) as stage:
        mark = tr("programme.demo_mark", lang) if illustrative else ""
        charts = _charts(f, stage, stem, lang, mark)
        map_png = _map(ledger, f["estates"], stage / f"{stem}_map.png", lang, mark)
        _html_map(ledger, f["estates"], stage / f"{stem}_map.html", lang, illustrative)
        lines = [f"# {title}", ""]
        if illustrative:
            lines += [tr("demo_banner_md", lang), ""]
        target = f["target"]
        lines += [tr("programme.bulletin.summary", lang, as_of=as_of, year=as_of.year,
                     planned=int(total["计划小区"]),
                     target=("" if target is None else
                             tr("programme.bulletin.summary_target", lang, target=target)),
                     started=int(total["已开工"]), finished=int(total["已完工"]),
                     accepted=int(total["已验收"]), behind=len(f["behind"])), ""]
        for key, table in tables.items():
            lines += [f"## {names[key]}", "", md_table([str(c) for c in table.columns],
                                                 [[_fmt(v) for v in r] for r in
                                                  table.itertuples(index=False)]), ""]
        for png in [*charts, map_png]:
            lines += [f"![{png.stem}]({png.name})", ""]
        (stage / f"{stem}.md").write_text("\n".join(lines), encoding="utf-8")
        sheets = {names[k]: t for k, t in tables.items()}
        first = next(iter(sheets))
        write_book(stage / f"{stem}.xlsx", sheets, images={first: [*charts, map_png]})
        out = Path(out_dir)
        paths = {"md": out / f"{stem}.md", "xlsx": out / f"{stem}.xlsx",
                 "html_map": out / f"{stem}_map.html",
                 **{p.stem.removeprefix(stem + "_"): out / p.name for p in [*charts, map_png]}}
    return paths


def _column(name: str, lang: str) -> str:
    """A bulletin table's column (named in Chinese where it is built) in ``lang``."""
    key = f"programme.col.{name}"
    return tr(key, lang) if key in MESSAGES else name


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.0f}"
    # names are data: in Markdown viewers that render inline HTML they stay text
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure and axes on the Agg canvas, without pyplot's global state."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.sans-serif"] = _FONTS
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Any, path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(path, dpi=110, bbox_inches="tight")
    if any("Glyph" in str(w.message) for w in caught):
        logger.warning("No CJK font found: Chinese labels in %s show as boxes; install "
                       "fonts-noto-cjk (Debian) or use `lang=\"en\"`.", path.name)


def _charts(f: dict, stage: Path, stem: str, lang: str, mark: str = "") -> list[Path]:
    prog = f["progress"].iloc[:-1]
    out = []
    fig, ax = _figure((7, 3.6))
    x = np.arange(len(prog))
    for k, (col, label) in enumerate([("计划小区", tr("programme.chart.planned", lang)),
                                      ("已开工", tr("programme.chart.started", lang)),
                                      ("已完工", tr("programme.chart.finished", lang))]):
        ax.bar(x + (k - 1) * 0.27, prog[col].to_numpy(dtype=float), 0.27, label=label)
    ax.set_xticks(x, [str(d) for d in prog["县区"]])
    ax.set_ylabel(tr("programme.chart.estates", lang))
    ax.set_title(tr("programme.chart.by_district", lang, year=f["year"]) + mark)
    ax.legend()
    p = stage / f"{stem}_by_district.png"
    _save(fig, p)
    out.append(p)
    fig, ax = _figure((7, 3.6))
    mon = f["monthly"]
    ax.plot(mon["月份"], mon["累计开工"], marker="o",
            label=tr("programme.chart.started_to_date", lang))
    ax.plot(mon["月份"], mon["累计完工"], marker="s",
            label=tr("programme.chart.finished_to_date", lang))
    if f["target"] is not None:
        ax.axhline(f["target"], color="red", ls="--",
                   label=tr("programme.chart.target", lang, target=f["target"]))
    ax.set_ylabel(tr("programme.chart.estates", lang))
    ax.set_title(tr("programme.chart.by_month", lang, year=f["year"]) + mark)
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    p = stage / f"{stem}_by_month.png"
    _save(fig, p)
    out.append(p)
    return out


def _html_map(ledger: str | Path, est: pd.DataFrame, path: Path, lang: str,
              illustrative: bool) -> Path:
    import geopandas as gpd

    from gis.maps._page import write_map
    from gis.programme.progress_map import programme_map

    geo = gpd.read_file(ledger, layer="estates", engine="pyogrio")
    geo["estate_id"] = geo["estate_id"].astype(str)
    geo = geo.drop(columns=["name", "district"]).merge(
        est[["estate_id", "name", "district", "plan_year", "status"]], on="estate_id", how="left")
    return write_map(programme_map(geo, lang=lang, illustrative=illustrative), path)


def _map(ledger: str | Path, est: pd.DataFrame, path: Path, lang: str, mark: str = "") -> Path:
    import geopandas as gpd
    import shapely
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    geo = gpd.read_file(ledger, layer="estates", engine="pyogrio")
    geo["estate_id"] = geo["estate_id"].astype(str)
    geo = geo.merge(est[["estate_id", "plan_year", "status", "rank"]], on="estate_id",
                    how="left")
    fig, ax = _figure((7, 7))

    def rings(sel: gpd.GeoDataFrame) -> list[np.ndarray]:
        parts = shapely.get_parts(np.asarray(sel.geometry.values))
        return [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(p)))
                for p in parts]

    def draw(sel: gpd.GeoDataFrame, **style: Any) -> None:
        if len(sel):
            ax.add_collection(PolyCollection(rings(sel), **style))

    years = sorted(int(y) for y in geo["plan_year"].dropna().unique())
    cmap = colormaps["viridis"].resampled(max(len(years), 1))
    draw(geo[geo["plan_year"].isna()], facecolor="#dddddd", edgecolor="#999999",
         linewidth=0.3)
    handles = []
    for i, y in enumerate(years):
        draw(geo[geo["plan_year"] == y], facecolor=cmap(i), edgecolor="black", linewidth=0.3)
        handles.append(Patch(color=cmap(i), label=str(y)))
    done = geo[geo["rank"] >= _ORDER["完工"]]
    if len(done):
        draw(done, facecolor="none", edgecolor="red", linewidth=1.2, hatch="///")
        handles.append(Patch(facecolor="none", edgecolor="red", hatch="///",
                             label=tr("programme.chart.finished", lang)))
    started = geo[(geo["rank"] >= _ORDER["开工"]) & (geo["rank"] < _ORDER["完工"])]
    if len(started):
        draw(started, facecolor="none", edgecolor="orange", linewidth=1.2)
        handles.append(Patch(facecolor="none", edgecolor="orange",
                             label=tr("programme.chart.started", lang)))
    handles.append(Patch(color="#dddddd", label=tr("programme.chart.reserve", lang)))
    minx, miny, maxx, maxy = geo.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    # degrees: keep the ground's proportions at this latitude
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)) if geo.crs and geo.crs.is_geographic
                  else 1)
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_axis_off()
    ax.set_title(tr("programme.chart.map_title", lang) + mark)
    _save(fig, path)
    return path
