"""The numpydoc ``Examples`` sections run as doctests (issue 12 item 8).

Every module of the package is found here (none can be forgotten) and each one with
examples has them executed; the examples on the bundled demo data print real numbers of
the demo town, so a change of result shows up here too. Every public function (listed in
the module's ``__all__``) must have an example; the click commands are documented by
``--help`` and the README instead.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import gis

#: Command-line adapters: their public callables are click commands.
COMMANDS = {"gis.cli", "gis.programme.cli", "gis.__main__"}

MODULES = sorted(m.name for m in pkgutil.walk_packages(gis.__path__, "gis.")
                 if m.name not in COMMANDS)


def _source(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin)


def _public_functions(name: str) -> list[ast.FunctionDef]:
    tree = ast.parse(_source(name).read_text(encoding="utf-8"))
    exported = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__"
                                                for t in node.targets):
            exported = set(ast.literal_eval(node.value))
    return [node for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            and (exported is None or node.name in exported)]


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_has_an_example(name):
    lacking = [f.name for f in _public_functions(name)
               if ">>>" not in (ast.get_docstring(f) or "")
               or "Examples" not in (ast.get_docstring(f) or "")]
    assert not lacking, f"{name}: no numpydoc Examples for {', '.join(lacking)}"


#: Modules with examples to run (a module without public functions may have none).
WITH_EXAMPLES = [name for name in MODULES if ">>>" in _source(name).read_text(encoding="utf-8")]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             raise_on_error=False, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
