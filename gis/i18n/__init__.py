"""One catalogue of user-facing text in Chinese and English, keyed by message id.

Reports, maps and summaries render text by asking `tr` for a message id in a language,
never by writing ``"..." if en else "..."`` at the call site. Data columns keep machine
values (category keys, counts, ids); words are chosen only when a table, map or report is
rendered, so one result can be written in either language.

`MESSAGES` maps a message id to ``(zh, en)``; both are `str.format` templates with the
same fields. `list_sep` is the separator of a list inside one cell ("、" in Chinese,
", " in English); `clause_sep` separates clauses ("；" / "; ").

Examples
--------
>>> tr("link_reason", "zh", a="E1", b="E2", gap_m=0.0, facing_m=111)
'E1–E2：间距0.0米，相邻边111米'
>>> tr("link_reason", "en", a="E1", b="E2", gap_m=0.0, facing_m=111)
'E1–E2: gap 0.0 m, facing 111 m'
>>> join(["A", "B"], "en"), join(["甲", "乙"], "zh")
('A, B', '甲、乙')
"""

from __future__ import annotations

from collections.abc import Iterable

from gis.i18n import analysis, cli, core, inputs, maps, programme, report, review

__all__ = ["LANGS", "MESSAGES", "clause_join", "join", "tr"]

#: Languages every message has.
LANGS = ("zh", "en")


def _merge(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One catalogue from the per-output tables; a message id defined twice is a bug."""
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        for key, texts in table.items():
            if key in merged:
                msg = f"Message id {key!r} is defined in two catalogue modules."
                raise RuntimeError(msg)
            merged[key] = texts
    return merged


#: Every message id → ``(zh, en)``: the tables of `gis.i18n.core`, `.inputs`, `.analysis`,
#: `.report`, `.review`, `.maps`, `.programme` and `.cli`, one catalogue.
MESSAGES: dict[str, tuple[str, str]] = _merge(core.MESSAGES, inputs.MESSAGES, analysis.MESSAGES,
                                              report.MESSAGES, review.MESSAGES,
                                              maps.MESSAGES, programme.MESSAGES, cli.MESSAGES)


def _index(lang: str) -> int:
    if lang not in LANGS:
        msg = f"Language {lang!r} is not one of {', '.join(LANGS)}."
        raise ValueError(msg)
    return LANGS.index(lang)


def tr(msg_id: str, lang: str = "zh", /, **fields: object) -> str:
    """The message ``msg_id`` in ``lang``, its ``{fields}`` filled in.

    Parameters
    ----------
    msg_id : str
        A key of `MESSAGES`.
    lang : {"zh", "en"}
    **fields
        Values for the template's fields (data values are inserted as given).

    Returns
    -------
    str

    Raises
    ------
    KeyError
        For an unknown message id (a programming error, caught by the tests).

    Examples
    --------
    >>> tr("check_group.四通", "en")
    'Four utilities'
    >>> tr("unit_gap", "zh", category="菜市场", n=2, households=1234)
    '菜市场（2个小区，1,234户）'
    """
    text = MESSAGES[msg_id][_index(lang)]
    return text.format(**fields) if fields else text


def join(items: Iterable[object], lang: str = "zh") -> str:
    """Items of a list in one cell, with the language's list separator.

    Examples
    --------
    >>> join(["XQ001", "XQ002"], "zh")
    'XQ001、XQ002'
    """
    return tr("list_sep", lang).join(str(i) for i in items)


def clause_join(items: Iterable[object], lang: str = "zh") -> str:
    """Clauses in one cell, with the language's clause separator ("；" / "; ").

    Examples
    --------
    >>> clause_join(["a", "b"], "en")
    'a; b'
    """
    return tr("clause_sep", lang).join(str(i) for i in items)
