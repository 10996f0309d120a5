"""Runtime knobs (not planning numbers: those live in `gis/standards/*.toml`).

Each setting is read only when the corresponding argument is ``None``.

Settings
--------
access_radius_m : float
    Graph nodes within this many metres of an estate's boundary (or inside it)
    count as the estate's access points when no gates layer is given.
    Default ``30.0``.
search_factor : float
    Searches reach ``search_factor`` times a category's threshold, so a gap can
    say how far the nearest facility is. Default ``2.0``.
vertex_snap_m : float
    Street vertices closer than this are merged into one graph node (absorbs
    floating-point noise from reprojection). Default ``0.01`` metres.
max_edge_m : float
    Street lines are split so no graph edge is longer than this, so estates and services
    beside a long straight road join it near where they are, not at its far ends. Bounds
    the snapping error to about this many metres. ``0`` keeps the drawn vertices only.
    Default ``20.0`` metres.
gate_tolerance_m : float
    A gate may lie at most this many metres from its estate's boundary (digitising slack,
    a gate set back across a forecourt); farther gates stop the run naming their rows.
    Default ``50.0``.
far_feature_m : float
    An estate farther than this from the other estates stops the run (a mis-digitised or
    mis-projected feature); services and streets this far from every estate are noted.
    Default ``50_000.0`` metres.
progress : bool
    Show tqdm progress bars on stderr. The CLI turns this on. Default ``False``.
default_standard : str
    Name of the bundled standard used when none is given.
    Default ``"lianyungang_15min"``.
"""

from __future__ import annotations

access_radius_m: float = 30.0
search_factor: float = 2.0
vertex_snap_m: float = 0.01
max_edge_m: float = 20.0
gate_tolerance_m: float = 50.0
far_feature_m: float = 50_000.0
progress: bool = False
default_standard: str = "lianyungang_15min"
