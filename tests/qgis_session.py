"""One headless QGIS session for tests/test_qgis.py (run as a subprocess, not collected).

Why a subprocess with the project's own Python: Debian's QGIS bindings (python3-qgis)
live in /usr/lib/python3/dist-packages, built for Debian's /usr/bin/python3 3.11 (same
ABI as the project's 3.11). That folder also holds Debian's older numpy and pyproj, so
it is *appended* to sys.path only after the project's numpy, pandas, geopandas, shapely
and pyproj are imported: the project's versions are the ones used, Debian's only
supplies qgis, PyQt5 and sip. Doing this in the pytest process would leak Debian's
folder into every other test, and a QgsApplication is one per process: hence one
subprocess for the whole session.

Usage: ``python tests/qgis_session.py JOB.json`` where the job names the demo layers, the
output folders and the styled GeoPackages to inspect; results go to ``JOB.json.out``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_RUNTIME = None
if not os.environ.get("XDG_RUNTIME_DIR"):  # Qt wants a private (0700) runtime folder
    _RUNTIME = tempfile.mkdtemp(prefix="qgis-runtime-")
    os.environ["XDG_RUNTIME_DIR"] = _RUNTIME

# The project's scientific stack first, so Debian's copies can never shadow it.
import geopandas  # noqa: E402,F401
import numpy  # noqa: E402,F401
import pandas  # noqa: E402,F401
import pyproj  # noqa: E402,F401
import shapely  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
DEBIAN_QGIS = ("/usr/lib/python3/dist-packages", "/usr/share/qgis/python/plugins")
for folder in DEBIAN_QGIS:
    if folder not in sys.path:
        sys.path.append(folder)
sys.path.insert(0, str(ROOT / "qgis_plugin"))

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsExpressionContextUtils,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProcessingFeedback,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def styled(path: str, layer: str) -> dict:
    """How QGIS draws a layer opened from the file: renderer, legend, symbol per feature."""
    lyr = QgsVectorLayer(f"{path}|layername={layer}", layer, "ogr")
    r = lyr.renderer().clone()
    info = {"valid": lyr.isValid(), "renderer": r.type(), "labels": lyr.labelsEnabled(),
            "label_expression": lyr.labeling().settings().fieldName if lyr.labelsEnabled()
            else "", "n_features": lyr.featureCount()}
    if r.type() == "categorizedSymbol":
        cats = r.categories()
        info["categories"] = [[c.value(), c.label(), c.symbol().color().name()] for c in cats]
        ctx = QgsRenderContext()
        ctx.expressionContext().appendScopes(
            QgsExpressionContextUtils.globalProjectLayerScopes(lyr))
        r.startRender(ctx, lyr.fields())
        counts: Counter = Counter()
        per_feature = {}
        id_field = {"estates": "estate_id", "units": "unit_id",
                    "sites": "candidate_id"}.get(layer)
        for ft in lyr.getFeatures():
            ctx.expressionContext().setFeature(ft)
            keys = r.legendKeysForFeature(ft, ctx)
            value = cats[int(next(iter(keys)))].value() if keys else None
            counts[value] += 1
            if id_field and id_field in lyr.fields().names():
                per_feature[str(ft[id_field])] = value
        r.stopRender(ctx)
        info["counts"] = dict(counts)
        info["per_feature"] = per_feature
        if lyr.labelsEnabled():
            from qgis.core import QgsExpression

            expr = QgsExpression(info["label_expression"])
            ctx2 = ctx.expressionContext()
            ft = next(lyr.getFeatures())
            ctx2.setFeature(ft)
            info["first_label"] = [str(ft[id_field]) if id_field in lyr.fields().names()
                                   else "", str(expr.evaluate(ctx2))]
    return info


def render(path: str, out_png: str) -> dict:
    """Draw the units, estates and links layers of a units.gpkg into a PNG."""
    layers = [QgsVectorLayer(f"{path}|layername={n}", n, "ogr") for n in ("units", "links",
                                                                          "estates")]
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    extent = layers[2].extent()
    extent.scale(1.05)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1000, 800))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(out_png, "PNG")
    # Count non-white pixels on a grid: a blank image has none.
    coloured = sum(1 for x in range(0, 1000, 5) for y in range(0, 800, 5)
                   if QColor(image.pixel(x, y)).name() != "#ffffff")
    return {"png": out_png, "coloured_samples": coloured, "samples": 200 * 160}


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from gis_estate_renewal import classFactory

    plugin = classFactory(None)
    plugin.initProcessing()
    import processing

    out: dict = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION,
                 "numpy": numpy.__file__, "runs": {}, "styles": {}, "errors": {}}
    registry = QgsApplication.processingRegistry()
    out["params"] = {
        alg.name(): {p.name(): p.defaultValue() for p in alg.parameterDefinitions()}
        for alg in registry.providerById("gis_estate_renewal").algorithms()}
    out["help"] = {
        alg.name(): {p.name(): p.help() for p in alg.parameterDefinitions()}
        for alg in registry.providerById("gis_estate_renewal").algorithms()}
    out["enums"] = {p.name(): p.options() for p in
                    registry.algorithmById("gis_estate_renewal:coverage").parameterDefinitions()
                    if p.type() == "enum"}
    out["siting_enums"] = {
        p.name(): p.options() for p in
        registry.algorithmById("gis_estate_renewal:siting").parameterDefinitions()
        if p.type() == "enum"}
    for name, params in job["runs"].items():
        feedback = QgsProcessingFeedback()
        out["runs"][name] = processing.run(f"gis_estate_renewal:{name}", params,
                                           feedback=feedback)
    for name, params in job.get("more_runs", {}).items():
        out["runs"][f"{name}_more"] = processing.run(f"gis_estate_renewal:{name}", params,
                                                     feedback=QgsProcessingFeedback())
    if "decisions_run" in job:
        out["runs"]["units_decisions"] = processing.run(
            "gis_estate_renewal:units", job["decisions_run"], feedback=QgsProcessingFeedback())
    if "decisions_layer_run" in job:
        out["runs"]["units_decisions_layer"] = processing.run(
            "gis_estate_renewal:units", job["decisions_layer_run"],
            feedback=QgsProcessingFeedback())
    if "nonode_run" in job:
        out["runs"]["coverage_noded"] = processing.run(
            "gis_estate_renewal:coverage", job["nonode_run"], feedback=QgsProcessingFeedback())
    for name, params in job.get("memory_runs", {}).items():
        # The same algorithm on memory-provider copies of the layers: any provider works.
        from qgis.core import QgsFeatureRequest

        params = dict(params)
        for key, value in params.items():
            if isinstance(value, str) and value.endswith(".gpkg") and key != "OUTPUT":
                copy = QgsVectorLayer(value, Path(value).stem, "ogr").materialize(
                    QgsFeatureRequest())
                copy.setName(f"memory {Path(value).stem}")
                params[key] = copy
        out["runs"][f"{name}_memory"] = processing.run(f"gis_estate_renewal:{name}", params,
                                                       feedback=QgsProcessingFeedback())
    for name, params in job.get("errors", {}).items():
        try:
            processing.run(f"gis_estate_renewal:{name.split('_')[0]}", params,
                           feedback=QgsProcessingFeedback())
            out["errors"][name] = None
        except Exception as err:  # QgsProcessingException
            out["errors"][name] = [type(err).__name__, str(err)]
    if "cancel" in job:  # Cancel pressed: the run stops, nothing is written
        feedback = QgsProcessingFeedback()
        feedback.cancel()
        try:
            processing.run("gis_estate_renewal:coverage", job["cancel"], feedback=feedback)
            out["cancel"] = None
        except Exception as err:
            out["cancel"] = [type(err).__name__, str(err)]
    for key, (path, layer) in job["styles"].items():
        out["styles"][key] = styled(path, layer)
    out["render"] = render(job["render"], job["png"])
    Path(sys.argv[1] + ".out").write_text(json.dumps(out, ensure_ascii=False, default=str),
                                          encoding="utf-8")
    app.exitQgis()
    if _RUNTIME:
        shutil.rmtree(_RUNTIME, ignore_errors=True)


if __name__ == "__main__":
    main()
