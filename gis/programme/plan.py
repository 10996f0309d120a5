"""The annual plan from estates in memory: survey → priority → units → schedule → content
lists → the ledger's rows, and its writer (``plan.md``, ``plan.xlsx``, a new ledger).

`plan_programme` is the analysis: it takes prepared frames (estates with their coverage
columns, a survey table, the units' membership or barrier features) and returns a
`ProgrammePlan`, printing nothing. `write_plan` writes it; `make_plan` is both for files
on disk, as ``gis programme plan``, `gis demo` and the QGIS ``programme_plan`` algorithm
call it. The readers of the plan's optional inputs (`estates_with_coverage`,
`read_unit_membership`, `survey_in_layer`) are here too, so every adapter reads them the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import GisError, InputError
from gis.i18n import LANGS, join, tr
from gis.programme.catalogue import Catalogue, Programme, in_lang
from gis.programme.schedule import Plan
from gis.standards import Standard

__all__ = ["ProgrammePlan", "estates_with_coverage", "make_plan", "plan_programme",
           "read_unit_membership", "survey_in_layer", "write_plan"]

#: The language content lists are stored in (``name_zh``, ``origin_text``), as the ledger
#: keeps them: the contents sheet shows them as stored in it, translated in the others.
_STORED = LANGS[0]


@dataclass(frozen=True)
class ProgrammePlan:
    """Result of `plan_programme` (and of `make_plan`, with the ``paths`` written).

    Attributes
    ----------
    programme, catalogue
        The programme (targets, weights) and content catalogue planned with.
    plan : gis.programme.schedule.Plan
        Units with their plan year, years against their targets, the solver method.
    register : GeoDataFrame
        One row per eligible estate: the ledger's estates (``estate_id``, ``name``,
        ``district``, ``unit_id``, ``priority``, ``covered``, ``plan_year`` …).
    contents : DataFrame
        Content lists (`gis.programme.survey.content_lists`).
    estates_sheet : DataFrame
        The register with the priority parts, as the plan's estates sheet shows it.
    meta : dict
        The programme description the ledger stores.
    paths : dict
        Output kind → path, once written (`make_plan`); empty before.
    """

    programme: Programme
    catalogue: Catalogue
    plan: Plan
    register: Any
    contents: pd.DataFrame
    estates_sheet: pd.DataFrame
    meta: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def planned_estates(self) -> int:
        """Estates given a plan year."""
        return int(self.plan.years["estates"].sum())


def plan_programme(estates: Any, programme: Programme, catalogue: Catalogue, *,
                   survey: pd.DataFrame | None = None, membership: pd.DataFrame | None = None,
                   barriers: Any = None, method: str = "auto",
                   standard: Standard | None = None) -> ProgrammePlan:
    """Prioritise, form units, schedule and list the contents of a programme.

    Parameters
    ----------
    estates : GeoDataFrame
        Canonical estates (`gis.layers.read_estates`), with ``covered_<category>`` /
        ``dist_m_<category>`` columns where the living-circle analysis was run
        (`estates_with_coverage`, or a `gis.coverage` result's estates).
    programme : Programme
        From `gis.programme.catalogue.load_programme`.
    catalogue : Catalogue
        From `gis.programme.catalogue.load_catalogue`.
    survey : DataFrame, optional
        From `gis.programme.survey.read_survey` or `survey_in_layer`.
    membership : DataFrame, optional
        ``estate_id`` → ``unit_id`` of reviewed units (`read_unit_membership`); without
        it units are formed here (`gis.units.renovation_units`, default caps).
    barriers : GeoDataFrame, optional
        Without ``membership``: features that keep estates out of one unit
        (`gis.adjacency.barrier_features`).
    method : {"auto", "exact", "greedy"}
        See `gis.programme.schedule.schedule`.
    standard : Standard, optional
        Default: the programme's standard.

    Returns
    -------
    ProgrammePlan

    Examples
    --------
    >>> from gis.layers import read_estates
    >>> from gis.programme.catalogue import load_catalogue, load_programme
    >>> from gis.programme.survey import read_survey
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> cat = load_catalogue()
    >>> survey = read_survey(demo_folder() / "survey.xlsx", cat)
    >>> result = plan_programme(est, load_programme("qinshui_2021_2024"), cat, survey=survey)
    >>> result.plan.years[["year", "estates", "units"]].values.tolist()
    [[2021, 10, 8], [2022, 16, 12], [2023, 7, 4], [2024, 60, 24]]
    >>> len(result.register), len(result.contents), result.plan.method
    (115, 1330, 'exact (scipy.optimize.milp)')
    """
    from gis.eligibility import assess_eligibility
    from gis.programme.priority import estate_priority
    from gis.programme.schedule import schedule, units_for_plan
    from gis.programme.survey import content_lists
    from gis.standards import load_standard
    from gis.units import renovation_units

    prog, cat = programme, catalogue
    std = standard if standard is not None else load_standard(prog.standard)
    if membership is not None:
        assessed = assess_eligibility(estates, std, include_extended=prog.include_extended)
    else:
        result, assessed = renovation_units(estates, std, include_extended=prog.include_extended,
                                            barriers=barriers)
        membership = result.membership
    prio = estate_priority(assessed, survey, cat, std, prog)
    units = units_for_plan(assessed, membership, prio, survey, std.built_by)
    the_plan = schedule(units, prog, method=method)
    year_of = {m: y for ms, y in zip(the_plan.units["members"], the_plan.units["plan_year"])
               for m in ms.split("、")}
    unit_of = {m: u for ms, u in zip(the_plan.units["members"], the_plan.units["unit_id"])
               for m in ms.split("、")}
    eligible = assessed[assessed["eligible"]].copy()
    eligible["estate_id"] = eligible["estate_id"].astype(str)
    contents = content_lists(eligible, survey, cat, std)
    register = eligible[["estate_id", "name", "geometry"]].copy()
    register["district"] = (survey["district"].reindex(register["estate_id"]).fillna("")
                            .to_numpy() if survey is not None else "")
    for col in ("subdistrict", "build_year", "households", "floor_area_m2"):
        register[col] = eligible[col].to_numpy() if col in eligible else None
    register["unit_id"] = register["estate_id"].map(unit_of)
    register["priority"] = prio["priority"].reindex(register["estate_id"]).to_numpy()
    register["has_property_management"] = (
        survey["has_property_management"].reindex(register["estate_id"]).to_numpy()
        if survey is not None else None)
    cov_cols = [k for k in std.keys if f"covered_{k}" in eligible]
    register["covered"] = ([",".join(k for k in cov_cols if bool(r[f"covered_{k}"]))
                            for _, r in eligible.iterrows()] if cov_cols else None)
    register["plan_year"] = pd.array([year_of.get(e) for e in register["estate_id"]],
                                     dtype="Int64")
    meta = {"name_zh": prog.name_zh, "name_en": prog.name_en, "programme_file": prog.path,
            "start_by_month": prog.start_by_month, "method": the_plan.method,
            "years": [{"year": t.year, "estates": t.estates, "households": t.households,
                       "floor_area_m2": t.floor_area_m2, "source": t.source}
                      for t in prog.years]}
    estates_sheet = register.drop(columns="geometry").merge(
        prio.reset_index(), on="estate_id", how="left", suffixes=("", "_"))
    estates_sheet = estates_sheet.drop(columns=[c for c in estates_sheet if c.endswith("_")])
    return ProgrammePlan(prog, cat, the_plan, register, contents, estates_sheet, meta)


def write_plan(result: ProgrammePlan, out_dir: str | Path, ledger: str | Path, *,
               lang: str = "zh", illustrative: bool = False) -> dict[str, Path]:
    """Write ``plan.md`` and ``plan.xlsx`` into ``out_dir`` and create the ledger.

    The plan files appear together with the ledger or not at all; an existing ledger is
    never overwritten.

    Parameters
    ----------
    result : ProgrammePlan
        From `plan_programme`.
    out_dir : str or Path
    ledger : str or Path
        The new ledger GeoPackage (refused if it exists).
    lang : {"zh", "en"}
    illustrative : bool
        Mark the plan as demo data.

    Returns
    -------
    dict
        ``plan_md``, ``plan_xlsx``, ``ledger`` → path.

    Raises
    ------
    GisError
        The ledger exists already.

    Examples
    --------
    >>> import tempfile
    >>> from gis.layers import read_estates
    >>> from gis.programme.catalogue import load_catalogue, load_programme
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> result = plan_programme(est, load_programme("qinshui_2021_2024"), load_catalogue())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_plan(result, tmp, Path(tmp) / "ledger.gpkg", lang="en")
    ...     print(sorted(p.name for p in Path(tmp).iterdir()))
    ['ledger.gpkg', 'plan.md', 'plan.xlsx']
    """
    from gis.programme._xlsx import write_book
    from gis.programme.ledger import create_ledger
    from gis.report._files import md_table, staged_outputs

    _refuse_existing(ledger)
    prog, the_plan = result.programme, result.plan
    with staged_outputs(out_dir) as stage:
        years = the_plan.years
        sheets = {tr("programme.plan.sheet_years", lang): years,
                  tr("programme.plan.sheet_units", lang): _units_sheet(
                      the_plan.units.sort_values(["plan_year", "rank_in_year"]), lang),
                  tr("programme.plan.sheet_estates", lang): result.estates_sheet,
                  tr("programme.plan.sheet_contents", lang): _contents_sheet(
                      result.contents, result.catalogue, lang)}
        write_book(stage / "plan.xlsx", sheets)
        lines = [f"# {in_lang(prog.name_zh, prog.name_en, lang)}", ""]
        if illustrative:
            lines += [tr("demo_banner_md", lang), ""]
        lines += [tr("programme.plan.method", lang, method=the_plan.method,
                     overshoot=the_plan.overshoot),
                  "", md_table(["year", "target", "max", "estates", "households", "m²", "units"],
                               [[r.year, "" if pd.isna(r.target_estates) else int(r.target_estates),
                                 "" if pd.isna(r.max_estates) else int(r.max_estates), r.estates,
                                 f"{r.households:,.0f}", f"{r.floor_area_m2:,.0f}", r.units]
                                for r in years.itertuples()]), ""]
        (stage / "plan.md").write_text("\n".join(lines), encoding="utf-8")
        create_ledger(ledger, result.register, result.contents, result.meta,
                      plan_date=f"{prog.first_year}-01-01")
    out = Path(out_dir)
    return {"plan_md": out / "plan.md", "plan_xlsx": out / "plan.xlsx", "ledger": Path(ledger)}


def make_plan(*, estates_path: str | None = None, survey_path: str | None = None,
              coverage_path: str | None = None, programme_name: str = "qinshui_2021_2024",
              catalogue: str | None = None, barrier_paths: tuple[str, ...] = (),
              units_path: str | None = None, barrier_classes: str = "主干路,快速路",
              ledger: str, out_dir: str, method: str = "auto", input_crs: str | None = None,
              lang: str = "zh", estates: Any = None, illustrative: bool = False,
              survey: Any = None, **_: Any) -> ProgrammePlan:
    """Read the inputs, plan (`plan_programme`) and write (`write_plan`): ``gis programme
    plan`` without the printing.

    ``estates`` (a GeoDataFrame with coverage columns) may replace ``estates_path`` and
    ``coverage_path``, as in `gis demo`; ``survey`` (from `survey_in_layer`) may replace
    ``survey_path``. Without ``units_path``, units are formed here, kept apart by the
    ``barrier_paths`` (lines of ``barrier_classes`` only).

    Returns
    -------
    ProgrammePlan
        With ``paths`` (``plan_md``, ``plan_xlsx``, ``ledger``).

    Examples
    --------
    >>> import tempfile
    >>> from gis.sources import demo_folder
    >>> demo = demo_folder()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     result = make_plan(estates_path=str(demo / "estates.gpkg"),
    ...                        survey_path=str(demo / "survey.xlsx"),
    ...                        ledger=str(Path(tmp) / "台账.gpkg"), out_dir=tmp)
    ...     print(sorted(p.name for p in result.paths.values()))
    ['plan.md', 'plan.xlsx', '台账.gpkg']
    >>> len(result.plan.units), result.planned_estates
    (64, 93)
    """
    from gis.adjacency import barrier_features
    from gis.layers import read_barriers, read_estates
    from gis.programme.catalogue import load_catalogue, load_programme
    from gis.programme.survey import read_survey

    _refuse_existing(ledger)
    prog = load_programme(programme_name)
    cat = load_catalogue(catalogue)
    if estates is None:
        estates = read_estates(estates_path, input_crs=input_crs)  # type: ignore[arg-type]
        if coverage_path:
            estates = estates_with_coverage(estates, coverage_path)
    ids = set(estates["estate_id"].astype(str))
    if survey is not None:
        pass  # read by the caller (the QGIS algorithm, from the estates layer)
    elif survey_path:
        survey = read_survey(survey_path, cat, known_ids=ids)
    elif estates_path:
        from gis.layers import read_layer

        raw, _, src = read_layer(estates_path, role="estates", layer=None, input_crs=input_crs,
                                 encoding=None)
        survey = survey_in_layer(raw, cat, src)
    membership = barriers = None
    if units_path:
        membership = read_unit_membership(units_path, ids)
    else:
        classes = tuple(c.strip() for c in barrier_classes.split(",") if c.strip())
        parts = []
        for p in barrier_paths:
            layer = read_barriers(p, input_crs=input_crs)
            lines = layer.geometry.geom_type.str.contains("Line").all()
            parts.append(barrier_features(layer, kind=Path(p).stem,
                                          road_classes=classes if lines else ())
                         .to_crs(estates.crs))
        barriers = pd.concat(parts, ignore_index=True) if parts else None
    result = plan_programme(estates, prog, cat, survey=survey, membership=membership,
                            barriers=barriers, method=method)
    paths = write_plan(result, out_dir, ledger, lang=lang, illustrative=illustrative)
    return replace(result, paths=paths)


def _refuse_existing(ledger: str | Path) -> None:
    if Path(ledger).exists():
        raise GisError(f"{ledger}: the ledger already exists; a plan never overwrites a ledger. "
                       "Choose a new `ledger` file, or import progress with `gis programme "
                       "update`.")


def survey_in_layer(raw: Any, cat: Catalogue, src: str) -> pd.DataFrame | None:
    """Survey fields kept in the estates layer itself (`read_estates` keeps only its own
    fields), as a survey table; ``None`` when the layer has none.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from gis.programme.catalogue import load_catalogue
    >>> from gis.sources import demo_folder
    >>> raw = gpd.read_file(demo_folder() / "estates.gpkg")
    >>> survey_in_layer(raw, load_catalogue(), "estates.gpkg") is None  # no survey fields
    True
    >>> sheet = pd.read_excel(demo_folder() / "survey.xlsx", dtype={"小区编号": str})
    >>> both = raw.merge(sheet.drop(columns=["小区名称", "所属街道"]), on="小区编号")
    >>> survey = survey_in_layer(both, load_catalogue(), "estates.gpkg")
    >>> len(survey), survey.loc["XQ002", "lacking"][:3]
    (150, ('drainage', 'heating', 'gas'))
    """
    from gis.layers import find_field
    from gis.programme.survey import SURVEY_FIELDS, survey_from_table

    raw = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    aliases = [*(a for k, v in SURVEY_FIELDS.items() if k != "estate_id" for a in v),
               *(a for it in cat.items for a in (it.name_zh, *it.aliases))]
    own = [c for c in raw.columns if find_field([c], tuple(aliases))]
    return survey_from_table(raw, cat, src) if own else None


def read_unit_membership(path: str | Path, ids: set[str]) -> pd.DataFrame:
    """``estate_id`` → ``unit_id`` from the estates layer of a units.gpkg (`gis units`,
    `gis review`), checked against the planned estates' ids.

    Raises
    ------
    InputError
        Not a units.gpkg, or estates that are not among ``ids``.

    Examples
    --------
    >>> from gis.sources import demo_folder
    >>> import geopandas as gpd
    >>> ids = set(gpd.read_file(demo_folder() / "estates.gpkg")["小区编号"])
    >>> units = read_unit_membership(demo_folder() / "plan_units.gpkg", ids)
    Traceback (most recent call last):
    gis.errors.InputError: ...plan_units.gpkg: not a units.gpkg from `gis units`/`gis review` (...).
    """
    import geopandas as gpd

    try:
        est = gpd.read_file(path, layer="estates", ignore_geometry=True)
    except Exception as err:
        raise InputError(f"{path}: not a units.gpkg from `gis units`/`gis review` ({err}).") \
            from err
    if not {"estate_id", "unit_id"} <= set(est.columns):
        raise InputError(f"{path}: its estates layer has no estate_id / unit_id; rerun "
                         "`gis units`.")
    est["estate_id"] = est["estate_id"].astype(str)
    unknown = sorted(set(est["estate_id"]) - ids)
    if unknown:
        raise InputError(f"{path}: {len(unknown)} estates are not in `estates_path` (e.g. "
                         f"{', '.join(unknown[:5])}); use the units made from the same estates.")
    return est.loc[est["unit_id"].notna(), ["estate_id", "unit_id"]]


def estates_with_coverage(estates: Any, path: str | Path) -> Any:
    """``estates`` with the covered_/dist_m_ columns of a coverage.gpkg written by
    `gis coverage` on the same estates.

    Raises
    ------
    InputError
        Not a coverage.gpkg, or estates without a coverage result.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> est = read_estates(demo_folder() / "estates.gpkg")
    >>> written = gpd.GeoDataFrame({"estate_id": est["estate_id"],  # as `gis coverage` writes
    ...                             "covered_clinic": est["households"] > 200,
    ...                             "dist_m_clinic": 100.0}, geometry=est.geometry)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written.to_file(Path(tmp) / "coverage.gpkg", layer="estates")
    ...     both = estates_with_coverage(est, Path(tmp) / "coverage.gpkg")
    ...     broken = written.iloc[:3]
    ...     broken.to_file(Path(tmp) / "part.gpkg", layer="estates")
    ...     estates_with_coverage(est, Path(tmp) / "part.gpkg")
    Traceback (most recent call last):
    gis.errors.InputError: .../part.gpkg: 147 estates have no coverage result (e.g. ...); ...
    >>> int(both["covered_clinic"].sum()), len(both), both.columns[-2:].tolist()
    (54, 150, ['covered_clinic', 'dist_m_clinic'])
    """
    import geopandas as gpd

    try:
        cov = gpd.read_file(path, layer="estates", ignore_geometry=True)
    except Exception as err:
        raise InputError(f"{path}: not a coverage.gpkg from `gis coverage` ({err}).") from err
    cols = [c for c in cov.columns if c.startswith(("covered_", "dist_m_"))]
    if "estate_id" not in cov or not cols:
        raise InputError(f"{path}: has no estate_id / covered_<category> columns; rerun "
                         "`gis coverage`.")
    cov["estate_id"] = cov["estate_id"].astype(str)
    missing = set(estates["estate_id"].astype(str)) - set(cov["estate_id"])
    if missing:
        raise InputError(f"{path}: {len(missing)} estates have no coverage result (e.g. "
                         f"{', '.join(sorted(missing)[:5])}); run `gis coverage` on the same "
                         "estates file.")
    return estates.merge(cov[["estate_id", *cols]], on="estate_id", how="left")


def _units_sheet(units: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The plan's units as shown in ``lang``: member ids listed with the language's
    separator (the schedule keeps them "、"-joined, ids never contain it)."""
    if units.empty:
        return units
    shown = units.copy()
    shown["members"] = [join(m.split("、"), lang) if isinstance(m, str) else m
                        for m in shown["members"]]
    return shown


def _contents_sheet(contents: pd.DataFrame, cat: Catalogue, lang: str) -> pd.DataFrame:
    """The content lists as shown in ``lang``: as stored (with the English origin beside)
    in the stored language; otherwise item names and origins from the catalogue's and the
    list's English columns (machine keys stay)."""
    if lang == _STORED or contents.empty:
        return contents
    shown = contents.copy()
    shown["name_zh"] = [cat.item(k).label(lang) for k in shown["item_key"]]
    shown["origin_text"] = shown["origin_text_en"]
    return shown.drop(columns="origin_text_en").rename(columns={"name_zh": "name"})
