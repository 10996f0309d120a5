"""The numpydoc ``Examples`` sections run as doctests (issue 12 item 8).

Each module listed here has its examples executed; the examples on the bundled demo data
print real numbers of the demo town, so a change of result shows up here too.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["gis.i18n", "gis.notes", "gis.text", "gis.sources", "gis.standards", "gis.eligibility",
           "gis.adjacency", "gis.coverage", "gis.units", "gis.synthetic"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             raise_on_error=False, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
