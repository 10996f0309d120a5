"""Write a workflow's result as every adapter does (the command line, the QGIS tools).

`write_units_run` is the shared part of writing a `gis.workflows.UnitsRun`: the summary,
the units outputs, or with a review the conflict tables in the output language and the
review package. The adapters add what is theirs around it (the command line its Word
figures and HTML map; both the run record, `gis.report._files.record_outputs`), so
`gis units` / `gis review` and the QGIS units / review tools write the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.report.units import write_review, write_units
from gis.review import review_tables
from gis.summary import units_summary

__all__ = ["write_units_run"]


def write_units_run(run: Any, out_dir: str | Path, *, lang: str = "zh",
                    notes: list[Any] | None = None, skipped: list[dict] | None = None,
                    illustrative: bool = False,
                    figures: Callable[[pd.DataFrame, gpd.GeoDataFrame], Any] | None = None,
                    ) -> tuple[dict[str, Path], list[str], pd.DataFrame | None,
                               gpd.GeoDataFrame | None]:
    """Write a `gis.workflows.UnitsRun` into ``out_dir`` (a staging folder): units.gpkg
    and the tables (`write_units`), or, when the run was reviewed, the review package
    (`write_review`; conflicts in the estates' CRS).

    Parameters
    ----------
    run : UnitsRun
        From `gis.workflows.units_run` (with ``constraints`` for a review).
    out_dir : str or Path
    lang, illustrative
        As in `write_units` / `write_review`.
    notes, skipped : list, optional
        Data notes and rows left out, every layer's (the adapter gathers them).
    figures : callable, optional
        ``figures(checks, conflicts)`` → the Word figures of a review
        (`gis.maps.printmap.review_figures`), given the labelled tables.

    Returns
    -------
    (paths, summary, checks, conflicts)
        The files written, the run's summary lines (`gis.summary.units_summary`) and, for
        a review, the checks and conflicts labelled in ``lang`` (`gis.review.review_tables`;
        None otherwise) for the adapter's map.

    Examples
    --------
    >>> import tempfile
    >>> from gis.layers import read_estates
    >>> from gis.sources import demo_folder
    >>> from gis.standards import load_standard
    >>> from gis.workflows import units_run
    >>> run = units_run(read_estates(demo_folder() / "estates.gpkg"), load_standard(None))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths, summary, checks, _ = write_units_run(run, tmp, lang="en")
    ...     sorted(p.name for p in paths.values()), checks is None
    (['unit_members.csv', 'units.csv', 'units.gpkg', 'units_report_en.md'], True)
    >>> summary[1]
    '48 renovation units, 29 joint.'
    """
    out_dir = Path(out_dir)
    summary = units_summary(run.units, run.assessed, barriers=run.barrier_layers,
                            blocked=run.blocked, skipped=skipped, lang=lang)
    if run.review is None:
        paths = write_units(run.units, run.assessed, out_dir, lang=lang, summary=summary,
                            notes=notes, skipped=skipped)
        return paths, summary, None, None
    checks, conflicts = review_tables(run.review.checks, run.review.conflicts, lang)
    paths = write_review(run.units, run.assessed, checks, conflicts.to_crs(run.assessed.crs),
                         out_dir, lang=lang, illustrative=illustrative, notes=notes,
                         constraint_sources=[c.source for c in run.review.constraints],
                         summary=summary, skipped=skipped,
                         figures=figures(checks, conflicts) if figures is not None else None)
    return paths, summary, checks, conflicts
