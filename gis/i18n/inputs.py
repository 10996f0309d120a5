"""Messages of reading and preparing layers: notes and messages of gis.layers, .prepare, .sources, .crs, .alignment, .noding, .osm, .postgis, .standards, .decisions, .skipped; ids ``inputs.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
}
