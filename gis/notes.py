"""Notes: what a run repaired, assumed or mapped, in Chinese and English.

A `Note` is an English ``str`` (so logs and tests read it as text) that also carries
its Chinese wording in ``.zh``. Reports pick the language with `note_text`.
"""

from __future__ import annotations

__all__ = ["Note", "note_text"]


class Note(str):
    """An English message with its Chinese translation in ``zh``."""

    zh: str

    def __new__(cls, en: str, zh: str) -> Note:
        obj = super().__new__(cls, en)
        obj.zh = zh
        return obj

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        # pandas deep-copies DataFrame.attrs, where notes travel with a layer.
        return (str(self), self.zh)


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
