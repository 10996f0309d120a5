"""Every number that changes a result, with its unit and the source of its default.

`Params` is frozen and picklable: a workflow (`gis.workflows`), a QGIS tool or a task on
a cluster worker receives it whole, so a value set on the client is the value used
everywhere. Defaults are the numbers the toolkit has always used (results do not change);
a standard's TOML may set any of them in a ``[params]``, ``[units]``, ``[review]`` or
``[siting]`` table, and a call may override them again::

    params = Params.from_standard(std, gap_m=20.0)

Each field's ``metadata`` says its unit, the table it belongs to and where the default
comes from; numbers no document fixes say so ("project choice") rather than pretending
to a source. `describe` lists them all (for the 说明 sheet and ``gis standards``).

Runtime knobs that change no result (progress bars, logging) stay in `gis.settings`.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gis.errors import InputError
from gis.standards import Standard

__all__ = ["PARAM_TABLES", "Params", "describe"]

# TOML table a parameter may be set in (a standard's file).
PARAM_TABLES = ("params", "units", "review", "siting")


def _p(default: Any, unit: str, table: str, source: str) -> Any:
    return field(default=default, metadata={"unit": unit, "table": table, "source": source})


@dataclass(frozen=True)
class Params:
    """Numbers that change results. See the module docstring.

    Attributes
    ----------
    search_factor, access_radius_m, max_edge_m, vertex_snap_m, gate_tolerance_m,
    far_feature_m
        Coverage and the walking network (``[params]`` table).
    gap_m, min_facing_m, max_households, max_floor_area_m2, max_estates, min_households,
    barrier_classes
        Neighbour links and combined units (``[units]`` table). A cap of ``None`` (or 0
        in TOML / on the command line) means no cap.
    tree_crown_m, tree_margin_m, min_overlap_m2
        Review against constraint layers (``[review]`` table).
    spacing_m, time_limit_s
        Siting new facilities (``[siting]`` table).
    """

    # --- coverage and the walking network -------------------------------------------
    search_factor: float = _p(
        2.0, "× walk_m", "params",
        "project choice: searches reach twice each threshold so a gap can say how far the "
        "nearest facility is; coverage itself only needs 1×")
    access_radius_m: float = _p(
        30.0, "m", "params",
        "project choice: street nodes within this of an estate without gates are its access "
        "points (about one building depth)")
    max_edge_m: float = _p(
        20.0, "m", "params",
        "project choice: bounds the snapping error of estates and services along long "
        "straight roads to about this; 0 keeps drawn vertices only")
    vertex_snap_m: float = _p(
        0.01, "m", "params",
        "project choice: absorbs floating-point noise from reprojection, far below "
        "digitising accuracy")
    gate_tolerance_m: float = _p(
        50.0, "m", "params",
        "project choice: digitising slack and gates set back across a forecourt")
    far_feature_m: float = _p(
        50_000.0, "m", "params",
        "project choice: an estate this far from all others is mis-digitised or "
        "mis-projected, not part of the town")
    # --- neighbour links and units ---------------------------------------------------
    gap_m: float = _p(
        15.0, "m", "units",
        "project choice: bridges digitising gaps, walls and lanes between estates but not a "
        "street (a 支路 is 15–30 m between building lines)")
    min_facing_m: float = _p(
        10.0, "m", "units",
        "project choice: corner-only contacts across a junction are not neighbours")
    max_households: float | None = _p(
        3000.0, "households", "units",
        "project choice: a unit one community (社区, typically 1,000–3,000 households) can "
        "organise; not fixed by the national guidance")
    max_floor_area_m2: float | None = _p(
        300_000.0, "m²", "units", "project choice: the floor area of about 3,000 households")
    max_estates: int | None = _p(
        12, "estates", "units", "project choice: a unit small enough to review as one case")
    min_households: float | None = _p(
        None, "households", "units", "no floor unless given")
    barrier_classes: tuple[str, ...] = _p(
        ("主干路", "快速路"), "road classes", "units",
        "GB 50220 / CJJ 37 road classes that residents do not cross as one neighbourhood "
        "(快速路, 主干路); project choice of which classes")
    # --- review ------------------------------------------------------------------------
    tree_crown_m: float = _p(
        5.0, "m", "review",
        "project choice: crown radius for trees recorded without one")
    tree_margin_m: float = _p(
        5.0, "m", "review",
        "古树名木保护范围: crown projection plus 5 m (the usual rule of local ancient-tree "
        "regulations, e.g. 江苏省古树名木保护管理条例); check your city's own")
    min_overlap_m2: float = _p(
        1.0, "m²", "review",
        "project choice: overlaps below 1 m² are digitising noise along shared edges")
    # --- siting ------------------------------------------------------------------------
    spacing_m: float = _p(
        100.0, "m", "siting",
        "project choice: candidate points along the streets about a block front apart, "
        "well inside every walking threshold (300 m and more)")
    time_limit_s: float = _p(
        60.0, "s", "siting",
        "project choice: seconds per category for the exact solver before the greedy "
        "solution is kept (its guarantee is then reported)")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "barrier_classes":
                if isinstance(value, str):
                    object.__setattr__(self, f.name, _classes(value))
                continue
            if value is None:
                if f.name in ("max_households", "max_floor_area_m2", "max_estates",
                              "min_households"):
                    continue
                msg = f"{f.name}: a number is required ({f.metadata['unit']})."
                raise InputError(msg)
            try:
                number = float(value)
            except (TypeError, ValueError) as err:
                msg = f"{f.name}: {value!r} is not a number ({f.metadata['unit']})."
                raise InputError(msg) from err
            if not math.isfinite(number) or number < 0:
                msg = f"{f.name}: {value!r} must be a finite number ≥ 0 ({f.metadata['unit']})."
                raise InputError(msg)

    @classmethod
    def from_standard(cls, standard: Standard | None = None, **overrides: Any) -> Params:
        """Defaults, then the standard's ``[params]``/``[units]``/``[review]`` tables, then
        ``overrides`` (``None`` values are ignored, so CLI options left unset fall through).

        Raises
        ------
        InputError
            A key in those tables that is not a parameter, or a value that is not a
            non-negative number.
        """
        values: dict[str, Any] = {}
        if standard is not None:
            values.update(_from_toml(Path(standard.path)))
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            msg = f"unknown parameters {', '.join(unknown)}; known: {', '.join(names())}."
            raise InputError(msg)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **overrides: Any) -> Params:
        """A copy with the given values replaced (``None`` values ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        """Plain values (tuples as lists), for metadata records and JSON."""
        out = asdict(self)
        out["barrier_classes"] = list(self.barrier_classes)
        return out

    def caps(self) -> dict[str, Any]:
        """Unit caps with 0 read as "no cap" (as on the command line)."""
        def cap(value: float | None) -> float | None:
            return None if value is None or value <= 0 else value

        return {"max_households": cap(self.max_households),
                "max_floor_area_m2": cap(self.max_floor_area_m2),
                "max_estates": int(self.max_estates) if cap(self.max_estates) else None,
                "min_households": cap(self.min_households)}

    def coverage_values(self) -> dict[str, float]:
        """The values `gis.tiles.CoverageParams` and `gis.coverage.living_circle` take."""
        return {"search_factor": self.search_factor, "access_radius_m": self.access_radius_m,
                "max_edge_m": self.max_edge_m, "vertex_snap_m": self.vertex_snap_m,
                "gate_tolerance_m": self.gate_tolerance_m}


def names() -> list[str]:
    """Every parameter's name."""
    return [f.name for f in fields(Params)]


def default(name: str) -> Any:
    """A parameter's default (CLI option defaults read it here, never copy it)."""
    return next(f.default for f in fields(Params) if f.name == name)


def describe(params: Params | None = None) -> list[dict[str, Any]]:
    """One row per parameter: name, value, default, unit, table, source.

    Examples
    --------
    >>> rows = describe(Params(gap_m=20.0))
    >>> [(r["name"], r["value"], r["default"], r["unit"], r["table"]) for r in rows[6:8]]
    [('gap_m', 20.0, 15.0, 'm', 'units'), ('min_facing_m', 10.0, 10.0, 'm', 'units')]
    """
    params = params or Params()
    return [{"name": f.name, "value": getattr(params, f.name), "default": f.default,
             "unit": f.metadata["unit"], "table": f.metadata["table"],
             "source": f.metadata["source"]} for f in fields(Params)]


def _classes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _from_toml(path: Path) -> dict[str, Any]:
    """Parameter values set in a standard's TOML tables (none when the file has none)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # load_standard has already read and checked the file
    table_of = {f.name: f.metadata["table"] for f in fields(Params)}
    out: dict[str, Any] = {}
    for table in PARAM_TABLES:
        given = data.get(table) or {}
        if not isinstance(given, dict):
            continue
        for key, value in given.items():
            if key == "source":
                continue  # a table may say where its numbers come from
            if table_of.get(key) != table:
                where = f" (it belongs in [{table_of[key]}])" if key in table_of else ""
                msg = (f"{path.name}: [{table}] {key} is not a parameter of that table{where}; "
                       f"known: {', '.join(k for k, t in table_of.items() if t == table)}.")
                raise InputError(msg)
            out[key] = tuple(value) if key == "barrier_classes" and isinstance(value, list) \
                else value
    return out
