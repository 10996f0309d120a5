"""The headless QGIS session of tests/test_qgis_programme.py (a subprocess, not collected).

It reuses tests/qgis_session.py's set-up (project numpy first, Debian's QGIS bindings
appended) and its `styled` reader. Usage: ``python tests/qgis_programme_session.py JOB.json``;
the job holds ``runs`` (algorithm name → parameters, in order), ``errors`` (runs expected
to fail) and ``styles`` (key → [gpkg, layer]); results go to ``JOB.json.out``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import qgis_session  # noqa: F401  (environment and sys.path first)
from qgis_session import styled
from qgis.core import QgsApplication, QgsProcessingFeedback


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from gis_estate_renewal import classFactory

    plugin = classFactory(None)  # kept: the provider lives as long as the plugin
    plugin.initProcessing()
    import processing

    out: dict = {"runs": {}, "errors": {}, "styles": {}}
    for name, (alg, params) in job["runs"].items():
        out["runs"][name] = processing.run(f"gis_estate_renewal:{alg}", params,
                                           feedback=QgsProcessingFeedback())
    for name, (alg, params) in job["errors"].items():
        try:
            processing.run(f"gis_estate_renewal:{alg}", params, feedback=QgsProcessingFeedback())
            out["errors"][name] = None
        except Exception as err:  # QgsProcessingException
            out["errors"][name] = [type(err).__name__, str(err)]
    for key, (path, layer) in job["styles"].items():
        out["styles"][key] = styled(path, layer)
    Path(sys.argv[1] + ".out").write_text(json.dumps(out, ensure_ascii=False, default=str),
                                          encoding="utf-8")
    app.exitQgis()
    if qgis_session._RUNTIME:
        shutil.rmtree(qgis_session._RUNTIME, ignore_errors=True)


if __name__ == "__main__":
    main()
