"""Data flows one way: a module imports only modules to its left in this order."""

from __future__ import annotations

import ast
from pathlib import Path

ORDER = ["errors", "notes", "text", "skipped", "settings", "standards", "params", "crs", "osm", "postgis",
         "layers", "sources", "network", "noding", "alignment", "coverage", "tiles", "candidates", "siting",
         "eligibility", "adjacency", "decisions", "units", "review", "prepare", "summary", "workflows",
         "report", "maps", "programme", "batch", "cli"]
GIS = Path(__file__).resolve().parents[1] / "gis"


def gis_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gis"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("gis."))
    return found


def test_every_module_is_placed():
    modules = {p.stem for p in GIS.glob("*.py")} - {"__init__", "__main__"}
    modules |= {p.name for p in GIS.iterdir() if (p / "__init__.py").exists()}
    assert modules <= set(ORDER), f"place new modules in ORDER: {modules - set(ORDER)}"


def test_no_module_reaches_downstream():
    for name in ORDER:
        path = GIS / f"{name}.py"
        paths = [path] if path.exists() else sorted((GIS / name).rglob("*.py"))
        allowed = set(ORDER[: ORDER.index(name)])
        for p in paths:
            bad = gis_imports(p) - allowed - {name}
            assert not bad, f"{p.relative_to(GIS)} imports downstream modules {bad}"
