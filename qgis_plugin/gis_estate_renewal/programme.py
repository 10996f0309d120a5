"""The renovation programme in QGIS: ``programme_plan`` and ``programme_update``.

Both call the library functions behind `gis programme plan` / `gis programme update`
(`gis.programme.plan.make_plan`, `gis.programme.ledger.import_progress`), so the plan,
the ledger and the import are the command line's. The plan also writes
``plan_estates.gpkg`` (the ledger's estates with their plan year and status, styled by
plan year) for the map; a plan's outputs appear together or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
)

from gis.layers import read_estates
from gis.programme.catalogue import bundled_programmes, load_catalogue
from gis.programme.ledger import find_ledger, import_progress, ledger_state
from gis.programme.plan import estates_with_coverage, make_plan, survey_in_layer
from gis.report.qgis_styles import LayerStyle, StyleRule, write_layer_styles

from .algorithms import INVALID, LANGS, _GisAlgorithm, default, doc

METHODS = ("auto", "exact", "greedy")  # `gis programme plan --method`
# Plan years in order of urgency: the first years warm, later ones cool; reserve grey.
_YEAR_COLOURS = ("#d7301f", "#fc8d59", "#fdcc8a", "#91bfdb", "#4575b4", "#313695")
_RESERVE = ("#bdbdbd", "储备（未入计划）", "Reserve (not planned)")
PLAN_LAYER = "estates"
PLAN_KEY = "coalesce(to_string(\"plan_year\"), 'reserve')"


def plan_style(years, lang: str = "zh") -> LayerStyle:
    """Categorised by plan year (one colour per year of the plan), reserve grey."""
    rules = [StyleRule(str(y), f"{y} 年" if lang == "zh" else str(y),
                       _YEAR_COLOURS[min(i, len(_YEAR_COLOURS) - 1)], "#555555", opacity=0.8)
             for i, y in enumerate(sorted(years))]
    rules.append(StyleRule("reserve", _RESERVE[1] if lang == "zh" else _RESERVE[2], _RESERVE[0],
                           "#555555", opacity=0.6))
    return LayerStyle(PLAN_KEY, tuple(rules), label_expression="", name="plan year")


def write_plan_estates(ledger: Path, out: Path, lang: str = "zh") -> Path:
    """The ledger's estates with plan year and status into ``out`` (styled), atomically."""
    import geopandas as gpd

    ledger = find_ledger(ledger)  # 台账.gpkg or ledger.gpkg, whichever is there
    state, _ = ledger_state(ledger)
    geo = gpd.read_file(ledger, layer="estates")[["estate_id", "geometry"]]
    geo["estate_id"] = geo["estate_id"].astype(str)
    cols = [c for c in ("estate_id", "name", "district", "unit_id", "priority", "plan_year",
                        "status") if c in state]
    state = state[cols].copy()
    state["estate_id"] = state["estate_id"].astype(str)
    layer = gpd.GeoDataFrame(geo.merge(state, on="estate_id", how="left"), geometry="geometry",
                             crs=geo.crs)
    layer["plan_year"] = layer["plan_year"].astype("Int64")
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.gpkg")
    try:
        layer.to_file(tmp, driver="GPKG", layer=PLAN_LAYER, engine="pyogrio")
        write_layer_styles(tmp, {PLAN_LAYER: plan_style(layer["plan_year"].dropna().unique(),
                                                        lang)},
                           description="gis programme plan: estates by plan year")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


class ProgrammePlanAlgorithm(_GisAlgorithm):
    """The annual plan and a new ledger, as `gis programme plan`."""

    def name(self):
        return "programme_plan"

    def displayName(self):  # noqa: N802
        return "Programme plan 改造年度计划与台账"

    def shortHelpString(self):  # noqa: N802
        return ("Priority, units, the annual plan against the programme's targets, content "
                "lists and a new ledger (台账), as `gis programme plan`; adds the estates "
                "coloured by plan year (plan_estates.gpkg) to the project.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            "ESTATES", "Estates 小区", [QgsProcessing.TypeVectorPolygon]))
        for key, label, exts in (
                ("SURVEY", "Survey sheet 摸底调查表 (XLSX/CSV)", "*.xlsx *.csv"),
                ("UNITS", "units.gpkg from units / review 改造单元", "*.gpkg"),
                ("COVERAGE", "coverage.gpkg from coverage 覆盖分析", "*.gpkg"),
                ("PROGRAMME_FILE", "Programme file 规划文件 (TOML; replaces the list)", "*.toml"),
                ("CATALOGUE", "Content catalogue 改造内容目录 (TOML)", "*.toml")):
            self.addParameter(QgsProcessingParameterFile(
                key, label, optional=True, fileFilter=f"{key.title()} ({exts})"))
        names = bundled_programmes()
        p = QgsProcessingParameterEnum(
            "PROGRAMME", "Programme 改造规划 (bundled)", options=names,
            defaultValue=names.index(default(make_plan, "programme_name")))
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterEnum(
            "METHOD", "Method 求解方法", options=list(METHODS),
            defaultValue=METHODS.index(default(make_plan, "method"))))
        p = QgsProcessingParameterEnum(
            "INVALID", "Invalid geometries 无效几何 (stop / skip)", options=list(INVALID),
            defaultValue=INVALID.index(default(read_estates, "invalid")))
        p.setHelp(doc(read_estates, "invalid"))
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterEnum(
            "LANG", "Language 语言", options=list(LANGS),
            defaultValue=LANGS.index(default(make_plan, "lang"))))
        self.addParameter(QgsProcessingParameterFileDestination(
            "LEDGER", "Ledger 台账 (new GeoPackage)", "GeoPackage (*.gpkg)"))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder"))
        self.addOutput(QgsProcessingOutputVectorLayer("PLAN_ESTATES", "Estates by plan year"))

    def _file(self, parameters, key, context):
        return self.parameterAsFile(parameters, key, context) or None

    def analyse(self, parameters, context, feedback):
        invalid = INVALID[self.parameterAsEnum(parameters, "INVALID", context)]
        raw = self._layer(parameters, "ESTATES", context, feedback)
        estates = read_estates(raw, invalid=invalid)
        survey_path = self._file(parameters, "SURVEY", context)
        catalogue = self._file(parameters, "CATALOGUE", context)
        # No sheet: survey fields kept in the estates layer itself, as the command line.
        survey = None if survey_path else survey_in_layer(raw, load_catalogue(catalogue),
                                                          raw.attrs.get("source", "estates"))
        coverage = self._file(parameters, "COVERAGE", context)
        if coverage:
            estates = estates_with_coverage(estates, coverage)
        programme = (self._file(parameters, "PROGRAMME_FILE", context)
                     or bundled_programmes()[self.parameterAsEnum(parameters, "PROGRAMME",
                                                                  context)])
        ledger = self.parameterAsFileOutput(parameters, "LEDGER", context)
        out = Path(self.parameterAsString(parameters, "OUTPUT", context))
        lang = LANGS[self.parameterAsEnum(parameters, "LANG", context)]
        plan_gpkg = out / "plan_estates.gpkg"  # replaced (os.replace) only after the plan
        self._step(feedback, 10, "Planning 编制计划")
        paths = make_plan(estates=estates, survey_path=survey_path, survey=survey,
                          units_path=self._file(parameters, "UNITS", context),
                          catalogue=catalogue,
                          programme_name=programme, ledger=ledger, out_dir=str(out),
                          method=METHODS[self.parameterAsEnum(parameters, "METHOD", context)],
                          lang=lang).paths
        self._step(feedback, 90, "Writing the plan layer 写出计划图层")
        write_plan_estates(Path(ledger), plan_gpkg, lang)
        uri = f"{plan_gpkg}|layername={PLAN_LAYER}"
        context.addLayerToLoadOnCompletion(uri, QgsProcessingContext.LayerDetails(
            "plan_estates 计划年度", context.project(), "PLAN_ESTATES"))
        return {"PLAN_ESTATES": uri, "LEDGER": str(ledger), "OUTPUT": str(out),
                "PLAN_MD": str(paths["plan_md"]), "PLAN_XLSX": str(paths["plan_xlsx"])}


class ProgrammeUpdateAlgorithm(_GisAlgorithm):
    """Import a progress sheet into the ledger, all or nothing, as `gis programme update`."""

    def name(self):
        return "programme_update"

    def displayName(self):  # noqa: N802
        return "Programme update 导入进度"

    def shortHelpString(self):  # noqa: N802
        return ("Imports a district's progress sheet (进度表) into the ledger, all or nothing, "
                "as `gis programme update`: any problem stops the import and leaves the "
                "ledger unchanged.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("LEDGER", "Ledger 台账", extension="gpkg"))
        p = QgsProcessingParameterFile("PROGRESS", "Progress sheet 进度表 (XLSX/CSV)",
                                       fileFilter="(*.xlsx *.csv)")
        p.setHelp(doc(import_progress, "sheet"))
        self.addParameter(p)
        p = QgsProcessingParameterString("DISTRICT", "District 县区", optional=True)
        p.setHelp(doc(import_progress, "district"))
        self.addParameter(p)
        p = QgsProcessingParameterBoolean("FORCE", "Force 强制接受跳步/回退", defaultValue=False)
        p.setHelp(doc(import_progress, "force"))
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterString("NOTE", "Note 说明", optional=True,
                                                       defaultValue=""))
        for key in ("ROWS", "EVENTS", "STATUS_CHANGES", "ITEMS_DONE", "PLAN_YEAR_CHANGES"):
            self.addOutput(QgsProcessingOutputNumber(key, key.lower()))
        self.addOutput(QgsProcessingOutputFile("LEDGER", "Ledger"))

    def analyse(self, parameters, context, feedback):
        ledger = self.parameterAsFile(parameters, "LEDGER", context)
        r = import_progress(ledger, self.parameterAsFile(parameters, "PROGRESS", context),
                            district=self.parameterAsString(parameters, "DISTRICT", context)
                            or None,
                            force=self.parameterAsBoolean(parameters, "FORCE", context),
                            note=self.parameterAsString(parameters, "NOTE", context) or "")
        feedback.pushInfo(f"{r.source}: {r.rows} rows, {r.status_changes} status changes, "
                          f"{r.plan_year_changes} plan-year changes, {r.items_done} items done "
                          f"({r.events} events appended)")
        return {"LEDGER": ledger, "ROWS": r.rows, "EVENTS": r.events,
                "STATUS_CHANGES": r.status_changes, "ITEMS_DONE": r.items_done,
                "PLAN_YEAR_CHANGES": r.plan_year_changes}


__all__ = ["ProgrammePlanAlgorithm", "ProgrammeUpdateAlgorithm", "plan_style",
           "write_plan_estates"]
