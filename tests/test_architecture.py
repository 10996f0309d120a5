"""Data flows one way: each module imports only the modules this graph allows it.

The graph is explicit (a module → the modules it may import), not one total order, so
that two modules of the same stage stay independent (graph building in `network` never
imports `noding`; `units` never imports `coverage`), and it must stay acyclic. Relative
imports (``from .x import y``, ``from .. import z``) are resolved and checked too.
When you add a module, give it an entry here: what it may import.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

GIS = Path(__file__).resolve().parents[1] / "gis"

# Leaf modules any module may import: errors, notes, text, skipped records, runtime knobs,
# polygon repair.
BASE = {"errors", "i18n", "notes", "text", "skipped", "settings", "geometry"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(), "i18n": set(), "notes": {"i18n"}, "text": set(), "geometry": set(),
    "skipped": {"errors", "i18n", "notes"},
    "settings": set(),
    "standards": BASE,
    "params": BASE | {"standards"},
    "crs": BASE,
    "osm": BASE | {"crs"},
    "postgis": BASE | {"crs"},
    # sources -> preparation
    "layers": BASE | {"standards", "params", "crs", "osm", "postgis"},
    "sources": BASE | {"layers", "osm", "postgis"},
    # network: graph building (network), noding of crossings, snapping and access points
    # (access), searching (search); none of them knows the analyses downstream
    "network": BASE | {"crs", "params"},
    "noding": BASE | {"crs", "layers", "network"},
    "access": BASE | {"crs", "params", "network"},
    "search": BASE | {"network", "access"},
    "alignment": BASE | {"crs"},
    # analysis
    "coverage": BASE | {"standards", "params", "crs", "network", "noding", "access", "search",
                        "alignment"},
    "tiles": BASE | {"standards", "params", "crs", "noding", "coverage"},
    "candidates": BASE | {"crs", "layers", "network", "access"},
    "siting": BASE | {"standards", "params", "crs", "network", "access", "search", "coverage",
                      "candidates"},
    "eligibility": BASE | {"standards"},
    "adjacency": BASE | {"crs"},
    "decisions": BASE | {"layers"},
    "units": BASE | {"standards", "params", "crs", "eligibility", "adjacency", "decisions"},
    # constraint layers are read (constraints) apart from checking units against them
    "constraints": BASE | {"crs", "layers"},
    "review": BASE | {"standards", "params", "crs", "layers", "constraints"},
    "prepare": BASE | {"standards", "layers", "sources", "constraints"},
    "summary": BASE | {"standards", "coverage", "siting", "eligibility", "adjacency", "units",
                       "review"},
    # workflows: analysis on prepared frames, with run records; no report, map or CLI
    "workflows": BASE | {"standards", "params", "crs", "layers", "sources", "prepare",
                         "network", "noding", "access", "search", "coverage", "tiles",
                         "candidates", "siting",
                         "eligibility", "adjacency", "decisions", "units", "review",
                         "summary"},
}
_ANALYSIS = set(ALLOWED)
ALLOWED |= {
    # outputs
    "report": _ANALYSIS,
    "maps": _ANALYSIS | {"report"},
    # one node for the package: catalogue, survey, priority, schedule, plan (the plan from
    # frames in memory), ledger, bulletin, progress_map, demo and the click group (cli)
    "programme": _ANALYSIS | {"report", "maps"},
    # adapters
    "batch": _ANALYSIS | {"report", "maps"},
}
# Synthetic towns and cities for tests and benchmarks: built from the analysis modules.
ALLOWED["synthetic"] = _ANALYSIS
ALLOWED["cli"] = set(ALLOWED) | {"programme", "batch"}


def _module_parts(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def gis_imports(path: Path, root: Path = GIS) -> set[str]:
    """Top-level `gis` modules a file imports, absolute or relative (``root``: the
    package folder the file is in)."""
    found = set()
    parts = _module_parts(path, root)
    package = parts if path.name == "__init__.py" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                full = base + (node.module.split(".") if node.module else [])
            else:
                full = node.module.split(".") if node.module else []
            if not full or full[0] != "gis":
                continue
            if len(full) > 1:
                found.add(full[1])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("gis."))
    return found


def _modules() -> set[str]:
    modules = {p.stem for p in GIS.glob("*.py")} - {"__init__", "__main__"}
    return modules | {p.name for p in GIS.iterdir() if (p / "__init__.py").exists()}


def test_every_module_is_placed():
    modules = _modules()
    assert modules <= set(ALLOWED), f"give new modules an entry in ALLOWED: {modules - set(ALLOWED)}"


def test_the_graph_has_no_cycle():
    try:
        list(TopologicalSorter({m: deps - {m} for m, deps in ALLOWED.items()}).static_order())
    except CycleError as err:  # pragma: no cover - the message is the point
        raise AssertionError(f"allowed imports form a cycle: {err.args[1]}") from err


def test_no_module_imports_outside_its_allowed_set():
    for name in sorted(_modules()):
        path = GIS / f"{name}.py"
        paths = [path] if path.exists() else sorted((GIS / name).rglob("*.py"))
        for p in paths:
            bad = gis_imports(p) - ALLOWED[name] - {name}
            assert not bad, f"{p.relative_to(GIS)} imports {bad}, not allowed for {name}"


def test_relative_imports_are_resolved(tmp_path):
    """The checker itself: relative imports resolve to the modules they reach."""
    folder = tmp_path / "gis" / "report"
    folder.mkdir(parents=True)
    probe = folder / "coverage.py"
    probe.write_text("from ..cli import main\nfrom . import _files\nfrom .. import maps\n"
                     "import os\n", encoding="utf-8")
    assert gis_imports(probe, tmp_path / "gis") == {"cli", "report", "maps"}
