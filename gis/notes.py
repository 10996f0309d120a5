"""Notes: what a run repaired, assumed or mapped, in Chinese and English.

A `Note` is an English ``str`` (so logs and tests read it as text) that also carries
its Chinese wording in ``.zh``. Its words come from the one catalogue, `gis.i18n`:
``Note.of(msg_id, **fields)`` renders the message in both languages, and keeps the id and
fields so that a note can be told apart by kind without reading its words. Reports pick
the language with `note_text`.
"""

from __future__ import annotations

from typing import Any

from gis.i18n import tr

__all__ = ["Note", "note_text"]


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
        return cls(tr(msg_id, "en", **fields), tr(msg_id, "zh", **fields), msg_id, fields)

    def __getnewargs__(self) -> tuple[str, str, str | None, dict[str, Any]]:  # type: ignore[override]
        # pandas deep-copies DataFrame.attrs, where notes travel with a layer.
        return (str(self), self.zh, self.msg_id, self.fields)


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
