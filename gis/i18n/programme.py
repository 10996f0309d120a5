"""Messages of the renovation programme (gis.programme: plans, ledger, bulletins) and batch runs (gis.batch); ids ``programme.``, ``batch.``.

Each entry maps a message id to ``(zh, en)``, both `str.format` templates with the same
fields; `gis.i18n.tr` looks them up. Keep ids unique across the catalogue modules (the
package refuses a duplicate at import).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
}
