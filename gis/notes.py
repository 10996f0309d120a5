"""Notes: what a run repaired, assumed or mapped, in Chinese and English.

A `Note` is an English ``str`` (so logs and tests read it as text) that also carries
its Chinese wording in ``.zh``. Its words come from the one catalogue, `gis.i18n`:
``Note.of(msg_id, **fields)`` renders the message in both languages, and keeps the id and
fields so that a note can be told apart by kind without reading its words. A field may
itself be a `Note` (a phrase in both languages: a reason, ``Note.each`` for a list); each
language's text gets that language's phrase. Reports pick
the language with `note_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from gis.i18n import LANGS, tr

__all__ = ["PARAMETER", "Note", "note_text", "pair_text", "rename_parameters"]

#: A parameter named in a library message: `name`, `name=value` or `name="value"`, and
#: for a per-layer parameter the layer after it (`coords="gcj02"` for the services).
#: Library messages name parameters this way, never command-line flags; adapters (the CLI,
#: the QGIS plugin) rename them to their own words with `rename_parameters`.
PARAMETER = re.compile(r"""`(?P<name>[a-z_][a-z0-9_]*)"""
                       r"""(?:=(?P<value>"[^"`]*"|'[^'`]*'|[^`\s"']+))?`"""
                       r"""(?: for the (?P<layer>[a-z_]+))?""")


class Note(str):
    """An English message with its Chinese translation in ``zh``.

    Build notes with `Note.of` from a catalogue message id; ``Note(en, zh)`` remains for
    text that is already in both languages (a note read back from an older output).

    Examples
    --------
    >>> note = Note.of("list_sep")
    >>> str(note), note.zh, note.msg_id
    (', ', '、', 'list_sep')
    """

    zh: str
    msg_id: str | None
    fields: dict[str, Any]

    def __new__(cls, en: str, zh: str, msg_id: str | None = None,
                fields: dict[str, Any] | None = None) -> Note:
        obj = super().__new__(cls, en)
        obj.zh = zh
        obj.msg_id = msg_id
        obj.fields = dict(fields or {})
        return obj

    @classmethod
    def of(cls, msg_id: str, /, **fields: Any) -> Note:
        """The catalogue message ``msg_id`` with ``fields`` filled in, in both languages.

        Examples
        --------
        >>> n = Note.of("link_reason", a="XQ001", b="XQ002", gap_m=3.5, facing_m=40)
        >>> str(n)
        'XQ001–XQ002: gap 3.5 m, facing 40 m'
        >>> n.zh
        'XQ001–XQ002：间距3.5米，相邻边40米'
        """
        return cls(tr(msg_id, "en", **_in(fields, "en")), tr(msg_id, "zh", **_in(fields, "zh")),
                   msg_id, fields)

    @classmethod
    def each(cls, msg_id: str, /, rows: Iterable[dict[str, Any]],
             join: Callable[[Iterable[str]], str] | str = ", ".join) -> Note:
        """The message ``msg_id`` once per row of fields, joined by ``join``, in both
        languages: a list of phrases to pass as one field of another note. ``join`` is a
        function of the phrases, or the id of a separator message (each language its own).

        Examples
        --------
        >>> pairs = Note.each("link_reason", [dict(a="A", b="B", gap_m=1, facing_m=20),
        ...                                   dict(a="B", b="C", gap_m=2, facing_m=30)])
        >>> str(pairs)
        'A–B: gap 1 m, facing 20 m, B–C: gap 2 m, facing 30 m'
        >>> pairs.zh
        'A–B：间距1米，相邻边20米, B–C：间距2米，相邻边30米'
        """
        rows = [dict(r) for r in rows]

        def text(lang: str) -> str:
            glue = tr(join, lang).join if isinstance(join, str) else join
            return glue(tr(msg_id, lang, **_in(r, lang)) for r in rows)

        return cls(text("en"), text("zh"), msg_id, {"rows": rows})

    def __getnewargs__(self) -> tuple[str, str, str | None, dict[str, Any]]:  # type: ignore[override]
        # pandas deep-copies DataFrame.attrs, where notes travel with a layer.
        return (str(self), self.zh, self.msg_id, self.fields)


def _in(fields: dict[str, Any], lang: str) -> dict[str, Any]:
    """``fields`` for rendering in ``lang``: a field that is itself a `Note` (a phrase in
    both languages, such as a reason or a list of rows) is put in as its ``lang`` text."""
    return {k: note_text(v, lang) if isinstance(v, Note) else v for k, v in fields.items()}


def note_text(note: str, lang: str = "zh") -> str:
    """The note in ``lang``; plain strings are returned unchanged.

    Examples
    --------
    >>> note = Note("2 estates overlap", "2 个小区重叠")
    >>> note_text(note), note_text(note, "en"), note_text("plain", "zh")
    ('2 个小区重叠', '2 estates overlap', 'plain')
    """
    if lang != "en" and isinstance(note, Note):
        return note.zh
    return str(note)


def pair_text(pair: tuple[str, str] | list[str], lang: str = "zh") -> str:
    """The ``lang`` text of a ``(zh, en)`` pair held as data (a standard's category names,
    a barrier rule, a row's reason): the catalogue's order of languages, `gis.i18n.LANGS`.

    Examples
    --------
    >>> pair_text(("无几何图形", "no geometry"), "en"), pair_text(("无几何图形", "no geometry"))
    ('no geometry', '无几何图形')
    """
    if lang not in LANGS:
        msg = f"Language {lang!r} is not one of {', '.join(LANGS)}."
        raise ValueError(msg)
    return pair[LANGS.index(lang)]


def rename_parameters(message: str,
                      rename: Callable[[str, str | None, str | None], str | None]) -> str:
    """``message`` with every parameter it names (`PARAMETER`) put in an adapter's words.

    ``rename(name, value, layer)`` gets the parameter's name, its value without quotes
    (None when only the name is given) and the layer it is for (None for most); it returns
    the text that replaces the whole mention (layer included), or None to keep it.

    Examples
    --------
    >>> def flag(name, value, layer):
    ...     return f"--{name.replace('_', '-')}" + (f" {value}" if value else "")
    >>> rename_parameters('rows 2, 5 left out (`invalid="skip"`); pass `input_crs`.', flag)
    'rows 2, 5 left out (--invalid skip); pass --input-crs.'
    >>> rename_parameters('Pass `coords="gcj02"` for the services.',
    ...                   lambda name, value, layer: f"{name}[{layer}]={value}")
    'Pass coords[services]=gcj02.'
    """
    def one(m: re.Match[str]) -> str:
        value = m["value"]
        if value is not None and value[:1] in "\"'" and value[-1:] == value[:1]:
            value = value[1:-1]
        new = rename(m["name"], value, m["layer"])
        return m[0] if new is None else new

    return PARAMETER.sub(one, message)
