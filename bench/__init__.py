"""Benchmarks of the gis toolkit (not part of the installed package)."""
