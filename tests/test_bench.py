"""Smoke run of the coverage benchmark so the runner never rots (no timing assertions)."""

from __future__ import annotations

import importlib.util
import sys

from conftest import ROOT


def test_quick_benchmark_runs_and_matches_networkx(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_coverage", ROOT / "bench" / "bench_coverage.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_coverage"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path / "quick.md")])
    assert result["matched"] is True
    assert result["sizes"]["estates"] == 100
    assert (tmp_path / "quick.md").read_text(encoding="utf-8").startswith("# Coverage benchmark")


def test_quick_units_benchmark_checks_caps_and_connectivity(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_units", ROOT / "bench" / "bench_units.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_units"] = module
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path / "units.md")])
    assert result["verified"] is True and result["problems"] == []
    assert result["sizes"]["estates"] > 100
    assert (tmp_path / "units.md").read_text(encoding="utf-8").startswith("# Units benchmark")


def test_quick_scale_runner_writes_its_report(tmp_path):
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path)])
    assert result["ok"] is True
    assert (tmp_path / "benchmarks_quick.md").read_text(encoding="utf-8").startswith("#")


def test_quick_siting_benchmark_checks_matrix_and_objectives(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_siting", ROOT / "bench" / "bench_siting.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_siting"] = module
    spec.loader.exec_module(module)
    # The run stops (SystemExit) if the networkx matrix or spopt's objectives differ.
    result = module.main(["--quick", "--out", str(tmp_path / "siting.md")])
    cmp = result["compare"][0]
    assert cmp["pairs"] > 100 and cmp["gis_mclp_optimal"] and cmp["gis_lscp_optimal"]
    if cmp["spopt"] == "ok":  # spopt and pulp come with the [bench] extra only
        assert cmp["spopt_mclp"] == cmp["gis_mclp"] and cmp["spopt_lscp"] == cmp["gis_lscp"]
    scale = result["scale"]
    assert scale["greedy_value"] <= scale["exact_value"] + 1e-6 <= scale["bound"] + 1e-3
    assert all(s["share"] >= 1 - 1 / 2.718281828 for s in result["shares"]["runs"])
    assert (tmp_path / "siting.md").read_text(encoding="utf-8").startswith("# Siting benchmark")


def test_scale_runner_skips_the_plot_without_matplotlib(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert module.plot_or_skip([], tmp_path / "b.png") is None
    assert "Plot skipped (matplotlib" in capsys.readouterr().out
    assert not (tmp_path / "b.png").exists()
