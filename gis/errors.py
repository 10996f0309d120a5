"""Exceptions raised by `gis`.

Every class also inherits a builtin so callers can catch ``ValueError`` or
``RuntimeError`` without importing this module. Only the concrete classes are
raised. Messages say what is wrong, where (file, row, field) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "GeometryError",
    "GisError",
    "InputError",
    "NetworkError",
    "StandardsError",
]


class GisError(Exception):
    """Base class of every error `gis` raises on purpose."""


class InputError(GisError, ValueError):
    """A file or table cannot be used: unreadable, missing columns, bad values, duplicate ids."""


class GeometryError(InputError):
    """Empty or invalid geometry that could not be repaired."""


class CRSError(GisError, ValueError):
    """A coordinate reference system is missing, unsuitable or mismatched."""


class StandardsError(GisError, ValueError):
    """A living-circle standard file is malformed or names an unknown category."""


class NetworkError(GisError, RuntimeError):
    """The street network cannot be used: no walkable edges, nothing to snap to."""
