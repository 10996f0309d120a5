"""The Processing algorithms: coverage, units, review, siting.

Each one converts its input layers to GeoDataFrames in memory (`frames.layer_frame`),
runs them through the same `gis` readers' checks, calls the same workflow as the command
line (`gis.workflows`: `coverage_run`, `units_run`, `review_run` through `units_run`,
`siting_run`; `gis coverage`, `gis units`, `gis review`, `gis siting`) with `Params`
built from the tool's parameters, writes with the same writers and stores the run
record in every GeoPackage and XLSX (`gis.report._files.record_outputs`), and returns
the written GeoPackage layers (styled: they carry their QGIS style) to be added to the
project. No analysis happens here (tests/test_qgis.py checks the imports).

Parameters are declared from the library's own definitions: defaults from function
signatures, `gis.params.Params` and the bundled standards; help text from
the library's docstrings. Nothing here restates a planning number.
"""

from __future__ import annotations

import inspect
import logging
import re
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import get_args

from qgis.core import (
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from gis import settings
from gis import siting as siting_lib
from gis.candidates import read_candidates
from gis.constraints import read_constraint
from gis.errors import GisError
from gis.params import default as param_default
from gis.layers import read_barriers, read_estates, read_gates, read_services, read_streets
from gis.decisions import read_decisions
from gis.report import staged_outputs, write_coverage
from gis.params import Params
from gis.report._files import record_outputs
from gis.report.runs import write_units_run
from gis.report.siting import write_siting
from gis.standards import bundled_standards, load_standard
from gis.workflows import coverage_run, siting_run, units_run

# Declarations only: the defaults, help texts and labels of the tool's parameters are the
# library's own (never called here: tests/test_qgis.py checks).
from gis.adjacency import select_barriers
from gis.candidates import network_candidates
from gis.coverage import living_circle
from gis.review import CONSTRAINT_KINDS, KIND_LABELS, check_units
from gis.units import CAP_LABELS, UnitCaps, renovation_units

from .frames import layer_frame
from .words import in_qgis_words

LANGS = ("zh", "en")
INVALID = ("stop", "skip")  # the choices of `gis.layers.read_estates`' ``invalid``
NODING = ("auto", "on", "off")  # `living_circle`'s node_crossings: "auto", True, False


def default(func, name):
    """The default of parameter ``name`` of ``func`` (the library's own value)."""
    return inspect.signature(func).parameters[name].default


def doc(obj, name: str) -> str:
    """The numpydoc description of ``name`` in ``obj``'s Parameters/Attributes section."""
    text = inspect.getdoc(obj) or ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = line.split(" : ")[0] if " : " in line else line.strip()
        if not line.startswith(" ") and name in [h.strip() for h in head.split(",")]:
            body = []
            for more in lines[i + 1:]:
                if more and not more.startswith(" "):
                    break
                body.append(more.strip())
            return re.sub(r"\s+", " ", " ".join(body)).strip().replace("``", "")
    return ""


class _GisAlgorithm(QgsProcessingAlgorithm):
    """Shared plumbing: errors, messages and progress through the feedback."""

    def createInstance(self):  # noqa: N802
        return type(self)()

    def group(self):
        return ""

    def groupId(self):  # noqa: N802
        return ""

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        # Geometry checks are the library's (repair what can be repaired; the INVALID
        # choice stops or skips the rest, naming the rows, as the command line does):
        # QGIS's own check would stop at a self-intersection the library repairs, or
        # silently drop rows under "skip invalid" with no trace in the report.
        check = context.invalidGeometryCheck()
        context.setInvalidGeometryCheck(QgsFeatureRequest.GeometryNoCheck)
        try:
            with _to_feedback(feedback, self.in_own_words):
                return self.analyse(parameters, context, feedback)
        except GisError as err:
            # The same one line as the CLI's "错误 Error: …", and nothing written; where
            # the CLI names its flag, this names the tool's parameter.
            raise QgsProcessingException(self.in_own_words(str(err))) from err
        finally:
            context.setInvalidGeometryCheck(check)

    def in_own_words(self, message: str) -> str:
        """A library message naming this tool's parameters (`words.in_qgis_words`)."""
        def describe(name):
            definition = self.parameterDefinition(name)
            return definition.description() if definition is not None else None

        return in_qgis_words(message, describe)

    # -- helpers ---------------------------------------------------------------

    def _number(self, name, description, value, *, help_text="", optional=False,
                integer=False):
        p = QgsProcessingParameterNumber(
            name, description,
            QgsProcessingParameterNumber.Integer if integer
            else QgsProcessingParameterNumber.Double,
            defaultValue=value, optional=optional, minValue=0)
        p.setHelp(help_text)
        self.addParameter(p)

    def _common(self):
        names = bundled_standards()
        p = QgsProcessingParameterEnum(
            "STANDARD", "Standard 标准 (bundled)", options=names,
            defaultValue=names.index(settings.default_standard))
        p.setHelp(doc(load_standard, "name_or_path"))
        self.addParameter(p)
        lang = default(write_coverage, "lang")
        self.addParameter(QgsProcessingParameterEnum(
            "LANG", "Language 语言 (reports, legends)", options=list(LANGS),
            defaultValue=LANGS.index(lang)))

    def _invalid_param(self):
        p = QgsProcessingParameterEnum(
            "INVALID", "Invalid geometries 无效几何 (stop / skip)", options=list(INVALID),
            defaultValue=INVALID.index(default(read_estates, "invalid")))
        p.setHelp(doc(read_estates, "invalid"))
        self.addParameter(p)

    def _invalid(self, parameters, context):
        return INVALID[self.parameterAsEnum(parameters, "INVALID", context)]

    def _coverage_params(self):
        """Noding and gate tolerance, as `gis coverage` (shared with siting)."""
        node = default(living_circle, "node_crossings")
        p = QgsProcessingParameterEnum(
            "NODING", "Join crossing streets 路网打断 (auto / on / off)", options=list(NODING),
            defaultValue=NODING.index({True: "on", False: "off"}.get(node, "auto")))
        p.setHelp(doc(living_circle, "node_crossings"))
        self.addParameter(p)
        self._number("GATE_TOLERANCE_M", "Gate tolerance (m) 出入口容差",
                     param_default("gate_tolerance_m"),
                     help_text=doc(living_circle, "gate_tolerance_m"))

    def _given(self, parameters, context, *names):
        """The `Params` values set by the tool's parameters NAME (``name.upper()``), as
        ``{name: value}``: a parameter the call leaves out is not passed, so the standard's
        table (or the `Params` default) applies, as for an unset command-line option."""
        return {name: (self.parameterAsInt if name == "max_estates" else
                       self.parameterAsDouble)(parameters, name.upper(), context)
                for name in names if parameters.get(name.upper()) is not None}

    def _noding(self, parameters, context):
        return {"auto": "auto", "on": True, "off": False}[
            NODING[self.parameterAsEnum(parameters, "NODING", context)]]

    def _layer(self, parameters, name, context, feedback, *, required=True):
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            if required:
                raise QgsProcessingException(f"{name}: no layer given.")
            return None
        layer = self.parameterAsVectorLayer(parameters, name, context)
        label = layer.name() if layer is not None else name.lower()
        return layer_frame(layer, source, label, feedback)

    def _standard(self, parameters, context):
        return load_standard(bundled_standards()[self.parameterAsEnum(parameters, "STANDARD",
                                                                       context)])

    def _lang(self, parameters, context):
        return LANGS[self.parameterAsEnum(parameters, "LANG", context)]

    def _outputs(self, context, gpkg: Path, layers, key_prefix=""):
        """Load the written (styled) layers into the project when the run ends."""
        out = {}
        for layer in layers:
            uri = f"{gpkg}|layername={layer}"
            key = f"{key_prefix}{layer.upper()}"
            out[key] = uri
            context.addLayerToLoadOnCompletion(
                uri, QgsProcessingContext.LayerDetails(f"{gpkg.stem} {layer}", context.project(),
                                                       key))
        return out

    def _coverage(self, parameters, context, feedback, std, mode="network"):
        """Read the coverage inputs and measure the walks: `coverage_run`, as `gis coverage`."""
        estates, services, streets, gates = self._coverage_layers(parameters, context,
                                                                  feedback, std, mode)
        self._step(feedback, 20, "Measuring walks 计算步行距离")
        params = Params.from_standard(std, **self._given(parameters, context, "gate_tolerance_m"))
        return coverage_run(estates, services, std, params, streets=streets, gates=gates,
                            mode=mode, node_crossings=self._noding(parameters, context),
                            progress=False)

    @staticmethod
    def _write(out_dir: Path, write, record, lang, gpkgs=("gpkg",)):
        """``write(stage)`` and the run record (`record_outputs`, as the command line),
        staged together: every file appears with its record, or none does."""
        with staged_outputs(out_dir) as stage:
            paths = write(stage)
            record_outputs(paths, record, lang, gpkgs)
        return {k: out_dir / p.name for k, p in paths.items()}

    def _coverage_layers(self, parameters, context, feedback, std, mode="network"):
        """The coverage inputs read and checked: estates, services, streets, gates."""
        invalid = self._invalid(parameters, context)
        estates = read_estates(self._layer(parameters, "ESTATES", context, feedback), invalid=invalid)
        services = read_services(self._layer(parameters, "SERVICES", context, feedback), std,
                                 invalid=invalid)
        streets = self._layer(parameters, "STREETS", context, feedback, required=False)
        streets = read_streets(streets, invalid=invalid) if streets is not None else None
        gates = self._layer(parameters, "GATES", context, feedback, required=False)
        gates = read_gates(gates, estates, invalid=invalid) if gates is not None else None
        if mode == "network" and streets is None:
            raise GisError("A streets layer is required in network mode; or choose straight "
                           "distances.")
        return estates, services, streets, gates

    @staticmethod
    def _step(feedback, percent, text):
        if feedback.isCanceled():
            raise QgsProcessingException("Cancelled 已取消; nothing was written.")
        feedback.setProgress(percent)
        feedback.pushInfo(text)


@contextmanager
def _to_feedback(feedback, words=str):
    """The library's log lines and warnings (loud by design) go to the Processing log,
    put in the tool's words by ``words``."""

    class Handler(logging.Handler):
        def emit(self, record):
            text = words(self.format(record))
            (feedback.pushWarning if record.levelno >= logging.WARNING else feedback.pushInfo)(text)

    log = logging.getLogger("gis")
    handler = Handler()
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            yield
        for w in caught:
            feedback.pushWarning(words(str(w.message)))
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


class CoverageAlgorithm(_GisAlgorithm):
    """15-minute living-circle coverage, as `gis coverage`."""

    def name(self):
        return "coverage"

    def displayName(self):  # noqa: N802
        return "Living-circle coverage 生活圈覆盖分析"

    def shortHelpString(self):  # noqa: N802
        return ("Walking distance from every estate to the nearest facility of each category of "
                "the standard; writes coverage.gpkg (styled: estates by categories missing, "
                "services by category), coverage.csv and the gap report into the output "
                "folder — the same files and numbers as `gis coverage`.\n\n"
                + doc(living_circle, "mode"))

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            "ESTATES", "Estates 小区边界", [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "SERVICES", "Services 设施点", [QgsProcessing.TypeVectorAnyGeometry]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "STREETS", "Streets 步行路网 (network mode)", [QgsProcessing.TypeVectorLine],
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "GATES", "Gates 小区出入口", [QgsProcessing.TypeVectorPoint], optional=True))
        self._common()
        modes = ["network", "straight"]
        p = QgsProcessingParameterEnum("MODE", "Distance 距离", options=modes,
                                       defaultValue=modes.index(default(living_circle, "mode")))
        p.setHelp(doc(living_circle, "mode"))
        self.addParameter(p)
        self._coverage_params()
        self._invalid_param()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder 输出"))
        for layer in ("estates", "services"):
            self.addOutput(QgsProcessingOutputVectorLayer(layer.upper(), f"coverage {layer}"))

    def analyse(self, parameters, context, feedback):
        std = self._standard(parameters, context)
        mode = ("network", "straight")[self.parameterAsEnum(parameters, "MODE", context)]
        out_dir = Path(self.parameterAsString(parameters, "OUTPUT", context))
        self._step(feedback, 2, "Reading layers 读取图层")
        run = self._coverage(parameters, context, feedback, std, mode)
        self._step(feedback, 85, "Writing 写出结果")
        lang = self._lang(parameters, context)
        paths = self._write(out_dir, lambda stage: write_coverage(run.coverage, stage, lang=lang),
                            run.metadata, lang)
        feedback.setProgress(100)
        return {"OUTPUT": str(out_dir),
                **self._outputs(context, paths["gpkg"], ["estates", "services"])}


class UnitsAlgorithm(_GisAlgorithm):
    """Combined renovation units, as `gis units`."""

    review = False

    def name(self):
        return "units"

    def displayName(self):  # noqa: N802
        return "Combined renovation units 联动改造单元"

    def shortHelpString(self):  # noqa: N802
        return ("Groups neighbouring eligible estates into combined renovation units within the "
                "caps; writes units.gpkg (styled: units labelled with their totals, estates by "
                "eligibility, links) and the tables — the same as `gis units`.\n\n"
                + doc(renovation_units, "gap_m"))

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            "ESTATES", "Estates 小区边界", [QgsProcessing.TypeVectorPolygon]))
        p = QgsProcessingParameterMultipleLayers("BARRIERS", "Barriers 障碍（道路、河流、铁路）",
                                                 QgsProcessing.TypeVectorAnyGeometry, optional=True)
        p.setHelp(inspect.getdoc(read_barriers).splitlines()[0])
        self.addParameter(p)
        p = QgsProcessingParameterString(
            "BARRIER_CLASSES", "Barrier road classes 作为障碍的道路等级 (comma-separated; all)",
            defaultValue=",".join(param_default("barrier_classes")), optional=True)
        p.setHelp(doc(select_barriers, "road_classes"))
        self.addParameter(p)
        self._number("BARRIER_MIN_WIDTH_M", "Barrier roads at least this wide (m)",
                     default(select_barriers, "min_width_m"), optional=True,
                     help_text=doc(select_barriers, "min_width_m"))
        self._common()
        self._invalid_param()
        p = QgsProcessingParameterFile(
            "DECISIONS", "Reviewers' decisions 审查决定 (CSV/XLSX, e.g. the filled-in review.xlsx)",
            optional=True, fileFilter="Decisions (*.csv *.xlsx *.CSV *.XLSX)")
        p.setHelp(inspect.getdoc(read_decisions).splitlines()[0])
        self.addParameter(p)
        p = QgsProcessingParameterFeatureSource(
            "DECISIONS_LAYER", "Reviewers' decisions as a table layer 审查决定（表格图层）",
            [QgsProcessing.TypeVector], optional=True)
        p.setHelp("The same columns as the decisions file (unit_id or estate_a/estate_b, "
                  "decision, comment); give the file or the layer, not both.")
        self.addParameter(p)
        for name in ("include_extended", "assume_unknown_eligible"):
            p = QgsProcessingParameterBoolean(name.upper(), name.replace("_", " "),
                                              defaultValue=default(renovation_units, name))
            p.setHelp(doc(renovation_units, name))
            self.addParameter(p)
        for name in ("gap_m", "min_facing_m"):
            self._number(name.upper(), name.replace("_", " "), param_default(name),
                         help_text=doc(renovation_units, name))
        for name in ("max_households", "max_floor_area_m2", "max_estates", "min_households"):
            value = param_default(name)
            self._number(name.upper(), name.replace("_", " ") + " (0 = no cap)", value,
                         optional=value is None, integer=name == "max_estates",
                         help_text=" ".join([f"{CAP_LABELS[name][1]} ({CAP_LABELS[name][0]}).",
                                             doc(UnitCaps, name)]).strip())
        if self.review:
            for kind in CONSTRAINT_KINDS:
                zh, en = KIND_LABELS[kind]
                self.addParameter(QgsProcessingParameterFeatureSource(
                    kind.upper(), f"{en} {zh}", [QgsProcessing.TypeVectorAnyGeometry],
                    optional=True))
            self._number("TREE_CROWN_M", "Tree crown radius when unknown (m)",
                         param_default("tree_crown_m"),
                         help_text=doc(check_units, "tree_default_crown_m"))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder 输出"))
        for layer in self._layers():
            self.addOutput(QgsProcessingOutputVectorLayer(layer.upper(), f"units {layer}"))

    def _layers(self):
        return ["units", "estates", "links", *(["conflicts"] if self.review else [])]

    def _params(self, parameters, context, std):
        """`Params` from the tool's parameters, as `gis units` / `gis review` build them
        from their options (`Params.from_standard`); a cap of 0 means no cap, an optional
        cap left empty keeps the standard's value."""
        number = self._given(parameters, context, "gap_m", "min_facing_m", "max_households",
                             "max_floor_area_m2", "max_estates", "min_households",
                             *(["tree_crown_m"] if self.review else []))
        classes = tuple(c.strip() for c in (self.parameterAsString(
            parameters, "BARRIER_CLASSES", context) or "").split(",") if c.strip())
        return Params.from_standard(std, **number, barrier_classes=classes)

    def analyse(self, parameters, context, feedback):
        std = self._standard(parameters, context)
        lang = self._lang(parameters, context)
        out_dir = Path(self.parameterAsString(parameters, "OUTPUT", context))
        invalid = self._invalid(parameters, context)
        # Read first: a decisions file that cannot be used stops the run before any work.
        path = self.parameterAsFile(parameters, "DECISIONS", context)
        table = self._layer(parameters, "DECISIONS_LAYER", context, feedback, required=False)
        if path and table is not None:
            raise GisError("Give the reviewers' decisions as a file or as a table layer, not "
                           "both.")
        decisions = read_decisions(path) if path else (
            read_decisions(table) if table is not None else None)
        self._step(feedback, 2, "Reading layers 读取图层")
        estates = read_estates(self._layer(parameters, "ESTATES", context, feedback),
                               invalid=invalid)
        skipped = list(estates.attrs.get("skipped", []))
        notes = list(estates.attrs.get("notes", []))
        width = (self.parameterAsDouble(parameters, "BARRIER_MIN_WIDTH_M", context)
                 if parameters.get("BARRIER_MIN_WIDTH_M") is not None else None)
        barrier_layers = [
            (layer.name(), read_barriers(layer_frame(layer, layer, layer.name(), feedback),
                                         invalid=invalid))
            for layer in self.parameterAsLayerList(parameters, "BARRIERS", context) or []]
        constraints = None
        if self.review:
            constraints = []
            for kind in CONSTRAINT_KINDS:
                frame = self._layer(parameters, kind.upper(), context, feedback, required=False)
                if frame is not None:
                    constraints.append(read_constraint(frame, kind, invalid=invalid))
        params = self._params(parameters, context, std)
        # The same workflow as `gis units` / `gis review`: barriers chosen, units formed,
        # (reviewed against the constraint layers), run record.
        self._step(feedback, 25, "Forming units 形成改造单元" + (
            ", checking constraints 审查约束" if self.review else ""))
        run = units_run(
            estates, std, params, barrier_layers=barrier_layers, barrier_min_width_m=width,
            decisions=decisions,
            include_extended=self.parameterAsBoolean(parameters, "INCLUDE_EXTENDED", context),
            assume_unknown_eligible=self.parameterAsBoolean(parameters,
                                                            "ASSUME_UNKNOWN_ELIGIBLE", context),
            constraints=constraints)
        notes.extend(run.notes)  # the constraint layers' notes and set-aside rows included
        skipped.extend(run.skipped)
        self._step(feedback, 85, "Writing 写出结果")
        # The command line's write step (without its Word report and HTML map), the run
        # record staged with the files as in `_write`.
        with staged_outputs(out_dir) as stage:
            paths, summary, _, _ = write_units_run(run, stage, lang=lang, notes=notes,
                                                   skipped=skipped)
            record_outputs(paths, run.metadata, lang, ("gpkg", "gpkg_source"))
        paths = {k: out_dir / p.name for k, p in paths.items()}
        feedback.setProgress(100)
        for line in summary:
            feedback.pushInfo(line)
        layers = [n for n in self._layers() if n != "conflicts" or _has_layer(paths["gpkg"], n)]
        return {"OUTPUT": str(out_dir), **self._outputs(context, paths["gpkg"], layers)}


class ReviewAlgorithm(UnitsAlgorithm):
    """The review package, as `gis review`."""

    review = True

    def name(self):
        return "review"

    def displayName(self):  # noqa: N802
        return "Review package 审查材料"

    def shortHelpString(self):  # noqa: N802
        return ("Forms the units as the units algorithm does, checks each against the constraint "
                "layers given and writes units.gpkg in CGCS2000 (styled; conflicts in red), "
                "units_source_crs.gpkg and review.xlsx — the same as `gis review`.\n\n"
                + doc(check_units, "constraints"))


def _has_layer(gpkg: Path, name: str) -> bool:
    import sqlite3

    con = sqlite3.connect(str(gpkg))
    try:
        return con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?",
                           (name,)).fetchone() is not None
    finally:
        con.close()


class SitingAlgorithm(_GisAlgorithm):
    """New facility sites closing the coverage gaps, as `gis siting`."""

    def name(self):
        return "siting"

    def displayName(self):  # noqa: N802
        return "Siting new facilities 新增设施选址"

    def shortHelpString(self):  # noqa: N802
        return ("Measures the coverage as the coverage algorithm does, then chooses where to "
                "add facilities of each category among the candidate sites: k sites newly "
                "covering the most households (MCLP), or with 'all' / cover-all the fewest "
                "sites covering every gap a candidate can reach (LSCP). Writes sites.gpkg "
                "(styled: sites numbered in proposal order by category, dashed service areas, "
                "candidates, estates) and the siting report — the same as `gis siting`. "
                "Candidates: the candidate layer, and/or points along the streets, and/or one "
                "inside each estate (the command line's default is streets and estates; with "
                "a candidate layer untick both for the layer alone, as `--candidates FILE`)."
                "\n\n" + doc(siting_lib.site_facilities, "solver"))

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            "ESTATES", "Estates 小区边界", [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "SERVICES", "Services 设施点", [QgsProcessing.TypeVectorAnyGeometry]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "STREETS", "Streets 步行路网", [QgsProcessing.TypeVectorLine]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "GATES", "Gates 小区出入口", [QgsProcessing.TypeVectorPoint], optional=True))
        p = QgsProcessingParameterFeatureSource(
            "CANDIDATES", "Candidate sites 候选点位 (points or polygons)",
            [QgsProcessing.TypeVectorAnyGeometry], optional=True)
        p.setHelp(inspect.getdoc(read_candidates).splitlines()[0])
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterBoolean(
            "NETWORK_CANDIDATES", "Candidates along the streets 沿路网生成候选点", True))
        self.addParameter(QgsProcessingParameterBoolean(
            "ESTATE_CANDIDATES", "A candidate inside each estate 小区内部候选点", True))
        self._number("SPACING_M", "Spacing of street candidates (m) 候选点间距",
                     default(network_candidates, "spacing_m"),
                     help_text=doc(network_candidates, "spacing_m"))
        self._common()
        p = QgsProcessingParameterString(
            "CATEGORIES", "Categories 设施类别 (keys, comma-separated)")
        p.setHelp("Category keys of the standard, e.g. elderly_care,clinic.")
        self.addParameter(p)
        p = QgsProcessingParameterString(
            "K", "Sites per category 新增点位数 (comma-separated; a number or 'all')",
            optional=True)
        p.setHelp("One value per category, in the same order: k sites (MCLP) or 'all' (LSCP).")
        self.addParameter(p)
        self.addParameter(QgsProcessingParameterBoolean(
            "COVER_ALL", "Cover all gaps with fewest sites 全覆盖（LSCP）", False))
        solvers = list(get_args(siting_lib.Solver))
        p = QgsProcessingParameterEnum(
            "SOLVER", "Solver 求解方式", options=solvers,
            defaultValue=solvers.index(default(siting_lib.site_facilities, "solver")))
        p.setHelp(doc(siting_lib.site_facilities, "solver"))
        self.addParameter(p)
        self._number("TIME_LIMIT_S", "Time limit per category (s) 时限",
                     default(siting_lib.site_facilities, "time_limit_s"),
                     help_text=doc(siting_lib.site_facilities, "time_limit_s"))
        p = QgsProcessingParameterBoolean(
            "USE_CAPACITY", "Respect candidate capacity 考虑容量",
            default(siting_lib.site_facilities, "use_capacity"))
        p.setHelp(doc(siting_lib.site_facilities, "use_capacity"))
        self.addParameter(p)
        self._coverage_params()
        self._invalid_param()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder 输出"))
        for layer in SITES_LAYERS:
            self.addOutput(QgsProcessingOutputVectorLayer(layer.upper(), f"sites {layer}"))

    def _demands(self, parameters, context):
        """(category, k or None) pairs, checked as `gis siting --category/--k/--cover-all`."""
        cats = [c.strip() for c in (self.parameterAsString(parameters, "CATEGORIES", context)
                                    or "").split(",") if c.strip()]
        ks = [k.strip() for k in (self.parameterAsString(parameters, "K", context)
                                  or "").split(",") if k.strip()]
        if self.parameterAsBoolean(parameters, "COVER_ALL", context):
            if ks:
                raise GisError("Cover all and sites per category exclude each other; give "
                               "one of them.")
            return [(c, None) for c in cats]
        if len(ks) != len(cats):
            raise GisError(f"{len(cats)} categories but {len(ks)} site counts: give one per "
                           "category (a number, or 'all'), or tick cover all.")
        out = []
        for c, k in zip(cats, ks):
            if k.lower() in ("all", "全部"):
                out.append((c, None))
                continue
            try:
                out.append((c, int(k)))
            except ValueError:
                raise GisError(f"Sites {k!r} for {c}: give a whole number of sites, "
                               "or 'all'.") from None
        return out

    def analyse(self, parameters, context, feedback):
        std = self._standard(parameters, context)
        lang = self._lang(parameters, context)
        out_dir = Path(self.parameterAsString(parameters, "OUTPUT", context))
        demands = self._demands(parameters, context)
        for c, _ in demands:
            std.category(c)  # an unknown key stops here, naming the standard's keys
        params = Params.from_standard(std, **self._given(
            parameters, context, "spacing_m", "time_limit_s", "gate_tolerance_m"))
        self._step(feedback, 2, "Reading layers 读取图层")
        estates, services, streets, gates = self._coverage_layers(parameters, context,
                                                                  feedback, std)
        frame = self._layer(parameters, "CANDIDATES", context, feedback, required=False)
        sources = [
            *(["network"] if self.parameterAsBoolean(parameters, "NETWORK_CANDIDATES", context)
              else []),
            *(["estates"] if self.parameterAsBoolean(parameters, "ESTATE_CANDIDATES", context)
              else []),
            *([read_candidates(frame)] if frame is not None else []),
        ]
        # The same workflow as `gis siting`: coverage, candidates, choice, run record.
        self._step(feedback, 20, "Measuring walks, choosing sites 计算步行距离、选址求解")
        solvers = list(get_args(siting_lib.Solver))
        run = siting_run(
            estates, services, std, params, demands=demands, streets=streets, gates=gates,
            candidates=sources, node_crossings=self._noding(parameters, context),
            solver=solvers[self.parameterAsEnum(parameters, "SOLVER", context)],
            use_capacity=self.parameterAsBoolean(parameters, "USE_CAPACITY", context),
            progress=False)
        result = run.siting
        self._step(feedback, 85, "Writing 写出结果")
        paths = self._write(out_dir, lambda stage: write_siting(
            result, stage, lang=lang, spacing_m=params.spacing_m), run.metadata, lang)
        feedback.setProgress(100)
        for r in result.summary.itertuples(index=False):
            feedback.pushInfo(
                f"{r.name_zh} {r.category}: {r.sites} 处新增 new sites ({r.model.upper()}, "
                f"{r.method}{', proven optimal' if r.optimal else ''}); 覆盖小区 estates "
                f"covered {r.estates_covered_before} → {r.estates_covered_after}/{r.estates}")
        layers = [n for n in SITES_LAYERS if _has_layer(paths["gpkg"], n)]
        return {"OUTPUT": str(out_dir), **self._outputs(context, paths["gpkg"], layers)}


SITES_LAYERS = ("sites", "service_areas", "candidates", "estates")
