"""The programme's HTML map loads from disk in headless Chromium: no JavaScript errors,
no network request, one drawn feature per estate of the ledger."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gis.cli import cli
from gis.programme.ledger import ledger_state
from test_maps_browser import external_links, probe

pytestmark = pytest.mark.browser


def test_bulletin_map_loads_offline(tmp_path):
    r = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "-q"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    html = tmp_path / "programme" / "bulletin_2022-06_map.html"
    assert external_links(html.read_text(encoding="utf-8")) == []
    found = probe(html, tmp_path)
    est, _ = ledger_state(tmp_path / "programme" / "台账.gpkg")
    assert found["errors"] == [] and found["maps"] == 1
    assert found["counts"] == {"estate": len(est)}
    assert not [u for u in found["requests"] if u.startswith("http")]
