"""Runtime knobs: they change how a run looks, never what it finds.

Numbers that change a result (search reach, access radius, edge length, tolerances,
caps) are `gis.params.Params` fields, each with its unit and the source of its default,
and travel with every run (and to every cluster worker) inside that object. What is left
here only affects presentation, and is read only when the corresponding argument is
``None``.

Settings
--------
progress : bool
    Show tqdm progress bars on stderr. The CLI turns this on. Default ``False``.
default_standard : str
    Name of the bundled standard used when none is given (the standard itself, with its
    thresholds and sources, is recorded in every output's run record).
    Default ``"lianyungang_15min"``.
"""

from __future__ import annotations

progress: bool = False
default_standard: str = "lianyungang_15min"
