"""Writers of tables and reports (GeoPackage, CSV, Markdown, XLSX): one module per output set.

All writers stage their files and move them into place only when every file is written.
"""

from __future__ import annotations

from gis.report._files import staged_outputs
from gis.report.coverage import write_coverage
from gis.report.units import write_review, write_units

__all__ = ["staged_outputs", "write_coverage", "write_review", "write_units"]
