"""Fold text for matching: full-width and compatibility forms, traditional characters.

Category values, POI types and field names arrive as typed on any system: full-width
letters (ｃｌｉｎｉｃ), traditional characters (診所, 戶數) or compatibility forms (㎡).
`fold_text` maps them to one form — Unicode NFKC, then `T2S`, then case-folded — so
they match the standards' words. `T2S` is a table of the traditional forms of the
characters used in the bundled standards' category words and the recognised field names,
plus common POI-name characters; it is not a general converter (none is needed to match
a fixed vocabulary).

On top of it, `norm_text` is the one rule for matching field names and category words
(also dropping spaces, underscores, dashes, brackets and separators, so that
``小区编号（Estate ID）`` and ``estate-id`` compare as typed), and `id_text` the one rule
for turning an id cell into text.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["T2S", "fold_text", "id_text", "norm_text"]

_TRAD = ("豐鄉會務區醫衛衞廁厠發員場辦劃庫總戶擬換數時標棟樁樓點電療積稱簽類級納編計設診遞郵鎮門間驛鮮"
         "車黨屬築寬碼項藥廳園兒學圖書館養體動賣買貿樂氣業營網購價寶銀廠廈際東華蘇雲連衆眾號億"
         "鄰裡裏舊進達運點專業臨內鐵環廣場務壽獸個倉檔針綜勞爾齊劑龍鳳")
_SIMP = ("丰乡会务区医卫卫厕厕发员场办划库总户拟换数时标栋桩楼点电疗积称签类级纳编计设诊递邮镇门间驿鲜"
         "车党属筑宽码项药厅园儿学图书馆养体动卖买贸乐气业营网购价宝银厂厦际东华苏云连众众号亿"
         "邻里里旧进达运点专业临内铁环广场务寿兽个仓档针综劳尔齐剂龙凤")
assert len(_TRAD) == len(_SIMP)
T2S = str.maketrans(_TRAD, _SIMP)


def fold_text(text: object) -> str:
    """NFKC-normalised, traditional characters simplified (`T2S`), case-folded, stripped.

    Examples
    --------
    >>> fold_text("診所"), fold_text("ＣＬＩＮＩＣ "), fold_text("㎡")
    ('诊所', 'clinic', 'm2')
    """
    return unicodedata.normalize("NFKC", str(text)).translate(T2S).casefold().strip()


# Dropped by `norm_text` after folding (with every kind of white space): the separators
# and brackets that vary between spreadsheets typed by hand.
_SEPARATORS = str.maketrans("", "", "_-()（）[]【】/\\:：")


def norm_text(text: object) -> str:
    """Text folded for comparing field names and values: `fold_text`, then white space,
    underscores, dashes, brackets and ``/ \\ :`` dropped.

    Examples
    --------
    >>> norm_text("Estate_ID"), norm_text("户数（户）"), norm_text("戶數 [Households]")
    ('estateid', '户数户', '户数households')
    >>> norm_text("estate-id") == norm_text(" ESTATE ID ") == norm_text("ｅｓｔａｔｅ＿ｉｄ")
    True
    """
    return "".join(fold_text(text).split()).translate(_SEPARATORS)


def id_text(value: Any) -> str:
    """An id as text, the one rule for every layer and table: Excel turns 101 into
    101.0, and an id is text either way; surrounding spaces are dropped.

    Examples
    --------
    >>> id_text(101.0), id_text(101), id_text(" A-7 "), id_text(2.5)
    ('101', '101', 'A-7', '2.5')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
