"""Living-circle standards: which facility categories, and how far residents may walk.

Standards are TOML files (see ``lianyungang_15min.toml`` for the documented format).
Bundled ones are named without extension; any other path is read as a file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis.errors import StandardsError
from gis.notes import pair_text

__all__ = ["Category", "Standard", "bundled_standards", "load_standard"]

_HERE = Path(__file__).parent
_REQUIRED = ("key", "name_zh", "name_en", "walk_m", "source")


@dataclass(frozen=True)
class Category:
    """One facility category of a living-circle standard.

    Attributes
    ----------
    key : str
        Identifier used in column names, e.g. ``dist_m_clinic``.
    name_zh, name_en : str
        Display names.
    walk_m : float
        Walking threshold along the street network, in metres.
    source : str
        Clause of the standard or plan that ``walk_m`` comes from.
    names : tuple of str
        Values accepted in a services layer's category column.
    osm_tags : tuple of (str, str)
        OpenStreetMap ``(key, value)`` pairs that classify a point into this category.
    poi_words : tuple of str
        Words that classify a POI whose type or name text contains them.
    poi_codes : tuple of str
        Leading digits of Amap POI typecodes that classify a POI.
    """

    key: str
    name_zh: str
    name_en: str
    walk_m: float
    source: str
    names: tuple[str, ...] = ()
    osm_tags: tuple[tuple[str, str], ...] = ()
    poi_words: tuple[str, ...] = ()
    poi_codes: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        """Display name in ``lang`` ("zh" or "en")."""
        return pair_text((self.name_zh, self.name_en), lang)


@dataclass(frozen=True)
class Standard:
    """A set of facility categories with walking thresholds.

    Attributes
    ----------
    name_zh, name_en : str
        Display names of the standard.
    source : str
        Plans and clauses the standard follows.
    walk_speed_m_per_min : float
        Walking speed used to express distances in minutes, in metres per minute.
    categories : tuple of Category
        In report order.
    path : str
        File the standard was read from.
    built_by : int
        Estates completed by the end of this year are eligible for renovation.
    extended_built_by : int
        Estates completed after ``built_by`` and by the end of this year are eligible
        only where the user asks for them.
    eligibility_source : str
        Where the eligibility years come from.
    """

    name_zh: str
    name_en: str
    source: str
    walk_speed_m_per_min: float
    categories: tuple[Category, ...]
    path: str
    built_by: int = 2000
    extended_built_by: int = 2005
    eligibility_source: str = ""

    @property
    def keys(self) -> list[str]:
        """Category keys in report order."""
        return [c.key for c in self.categories]

    def category(self, key: str) -> Category:
        """The category called ``key``; raises `StandardsError` if there is none."""
        for c in self.categories:
            if c.key == key:
                return c
        msg = f"Unknown category {key!r}; {self.path} defines {', '.join(self.keys)}."
        raise StandardsError(msg)

    def with_thresholds(self, walk_m: dict[str, float]) -> Standard:
        """A copy with some categories' ``walk_m`` replaced (metres)."""
        from dataclasses import replace

        for key in walk_m:
            self.category(key)
        cats = tuple(
            replace(c, walk_m=float(walk_m[c.key])) if c.key in walk_m else c
            for c in self.categories
        )
        return replace(self, categories=cats)


def bundled_standards() -> list[str]:
    """Names of the standards shipped with the package.

    Examples
    --------
    >>> bundled_standards()
    ['gb50180_tiered', 'lianyungang_15min']
    >>> [load_standard(name).name_en for name in bundled_standards()]
    ['GB 50180-2018 tiered living circles', 'Lianyungang 15-minute living circle (default)']
    """
    return sorted(p.stem for p in _HERE.glob("*.toml"))


def load_standard(name_or_path: str | Path | None = None) -> Standard:
    """Read a living-circle standard.

    Parameters
    ----------
    name_or_path : str or Path, optional
        A bundled standard's name (see `bundled_standards`) or a TOML file's path.
        Default: ``settings.default_standard``.

    Returns
    -------
    Standard

    Raises
    ------
    StandardsError
        If the file is missing, is not valid TOML, or a category lacks a field,
        repeats a key or has a non-positive ``walk_m``.

    Examples
    --------
    >>> bundled_standards()
    ['gb50180_tiered', 'lianyungang_15min']
    >>> std = load_standard()
    >>> std.keys[:3], std.categories[1].walk_m
    (['community_service', 'clinic', 'toilet'], 1000.0)
    >>> std.categories[1].label("en")
    'Clinic / community health centre'
    """
    from gis import settings

    if name_or_path is None:
        name_or_path = settings.default_standard
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = _HERE / f"{name_or_path}.toml"
    if not path.is_file():
        msg = (
            f"Standard {str(name_or_path)!r} not found; use a TOML file's path or one of "
            f"{', '.join(bundled_standards())}."
        )
        raise StandardsError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not a valid UTF-8 TOML file ({err}). Fix the syntax and run again."
        raise StandardsError(msg) from err
    _validate(data, str(path))
    return _parse(data, str(path))


# The TOML's shape, types and ranges. Unknown fields are refused so a typo (``walkm``)
# cannot silently fall back to a default.
_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_YEAR = {"type": "integer", "minimum": 1900, "maximum": 2100}
SCHEMA = {
    "type": "object",
    "properties": {
        "standard": {
            "type": "object",
            "properties": {"name_zh": _TEXT, "name_en": _TEXT, "source": _TEXT,
                           "walk_speed_m_per_min": {"type": "number", "exclusiveMinimum": 0,
                                                    "maximum": 1000}},
            "additionalProperties": False,
        },
        "eligibility": {
            "type": "object",
            "properties": {"built_by": _YEAR, "extended_built_by": _YEAR, "source": _TEXT},
            "additionalProperties": False,
        },
        "category": {
            "type": "array",
            "items": {
                "type": "object",
                "required": list(_REQUIRED),
                "properties": {
                    "key": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                    "name_zh": {"type": "string", "minLength": 1},
                    "name_en": {"type": "string", "minLength": 1},
                    "walk_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 100_000},
                    "source": _TEXT,
                    "names": _TEXTS,
                    "osm_tags": {"type": "array",
                                 "items": {"type": "string", "pattern": "^[^=]+=[^=]+$"}},
                    "poi_words": _TEXTS,
                    "poi_codes": {"type": "array",
                                  "items": {"type": "string", "pattern": "^[0-9]{2,6}$"}},
                },
                "additionalProperties": False,
            },
        },
    },
}
_KIND = {"object": "a table", "array": "a list", "string": "text", "number": "a number",
         "integer": "a whole number"}


def _validate(data: dict, path: str) -> None:
    """Check ``data`` against `SCHEMA`; one message listing every problem."""
    import math

    import jsonschema

    problems = []
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(_describe(err, data))
    for i, c in enumerate(data.get("category", []) if isinstance(data.get("category"), list)
                          else [], start=1):
        walk = c.get("walk_m") if isinstance(c, dict) else None
        if isinstance(walk, float) and math.isnan(walk):  # inf fails the schema's maximum
            problems.append(f"{_where(['category', i - 1], data)}: walk_m must be a positive "
                            f"number of metres, not {walk}")
    speed = data.get("standard", {}).get("walk_speed_m_per_min") \
        if isinstance(data.get("standard"), dict) else None
    if isinstance(speed, float) and math.isnan(speed):
        problems.append(f"[standard]: walk_speed_m_per_min must be a finite number, not {speed}")
    cats = data.get("category")
    if isinstance(cats, list):
        keys = [str(c.get("key")) for c in cats if isinstance(c, dict) and "key" in c]
        folded: dict[str, list[str]] = {}
        for k in keys:
            folded.setdefault(k.casefold(), []).append(k)
        clash = [v for v in folded.values() if len(set(v)) > 1]
        if clash:
            problems.append(
                "category keys differ only in case (" + "; ".join(", ".join(sorted(set(v)))
                                                          for v in clash)
                + "): output fields such as dist_m_<key> would collide in GeoPackage and "
                "Excel, which ignore case; rename one")
    if problems:
        msg = f"{path}: " + "; ".join(dict.fromkeys(problems)) + "."
        raise StandardsError(msg)


def _where(loc: list, data: dict) -> str:
    """``["category", 2, "walk_m"]`` → "category 'clinic' walk_m" (or #3 without a key)."""
    if not loc:
        return "the file"
    if loc[0] == "category" and len(loc) > 1:
        item = data["category"][loc[1]]
        name = f"category {item['key']!r}" if isinstance(item, dict) and isinstance(
            item.get("key"), str) else f"category #{loc[1] + 1}"
        rest = [str(x) for x in loc[2:]]
        return name + (f": {rest[0]}" if rest else "") + ("".join(f"[{x}]" for x in rest[1:]))
    return f"[{loc[0]}]" + "".join(f" {x}" for x in loc[1:])


def _describe(err: Any, data: dict) -> str:
    loc = list(err.absolute_path)
    where = _where(loc, data)
    field = str(loc[-1]) if loc else ""
    if err.validator == "required":
        missing = [f for f in err.validator_value if f not in err.instance]
        if len(loc) == 2 and loc[0] == "category":
            where = f"category #{loc[1] + 1}"  # its key may be what is missing
        return f"{where} lacks {', '.join(missing)}"
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        known = ", ".join(err.schema.get("properties", {}))
        return f"{where}: unknown field {', '.join(extra)} (known: {known})"
    if field == "walk_m":
        return f"{where} must be a positive number of metres up to 100,000, not {err.instance!r}"
    if err.validator == "type":
        return f"{where} must be {_KIND.get(err.validator_value, err.validator_value)}, " \
               f"not {err.instance!r}"
    if err.validator == "pattern" and field == "key":
        return f"keys must be letters, digits and _: {err.instance}"
    if err.validator == "pattern":
        return f"{where}: {err.instance!r} is not in the expected form ({err.validator_value})"
    return f"{where}: {err.message}"


def _parse(data: dict, path: str) -> Standard:
    head = data.get("standard", {})
    raw = data.get("category", [])
    if not raw:
        msg = f"{path}: no [[category]] tables; a standard needs at least one category."
        raise StandardsError(msg)
    problems: list[str] = []
    cats: list[Category] = []
    for i, c in enumerate(raw, start=1):
        missing = [f for f in _REQUIRED if f not in c]
        if missing:
            problems.append(f"category #{i} lacks {', '.join(missing)}")
            continue
        try:
            walk_m = float(c["walk_m"])
        except (TypeError, ValueError):
            walk_m = -1.0
        if not walk_m > 0:
            problems.append(f"category {c['key']!r}: walk_m must be a positive number of metres")
            continue
        tags: list[tuple[str, str]] = []
        for t in c.get("osm_tags", []):
            k, sep, v = str(t).partition("=")
            if not sep:
                problems.append(f"category {c['key']!r}: osm tag {t!r} is not key=value")
            tags.append((k.strip(), v.strip()))
        cats.append(
            Category(
                key=str(c["key"]),
                name_zh=str(c["name_zh"]),
                name_en=str(c["name_en"]),
                walk_m=walk_m,
                source=str(c["source"]),
                names=tuple(str(n) for n in c.get("names", [])),
                osm_tags=tuple(tags),
                poi_words=tuple(str(w) for w in c.get("poi_words", [])),
                poi_codes=tuple(str(w) for w in c.get("poi_codes", [])),
            )
        )
    keys = [c.key for c in cats]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        problems.append(f"repeated category keys {', '.join(dup)}")
    bad = [k for k in keys if not k.isidentifier()]
    if bad:
        problems.append(f"keys must be letters, digits and _: {', '.join(bad)}")
    if problems:
        msg = f"{path}: " + "; ".join(problems) + "."
        raise StandardsError(msg)
    elig = data.get("eligibility", {})
    try:
        built_by = int(elig.get("built_by", 2000))
        extended = int(elig.get("extended_built_by", 2005))
    except (TypeError, ValueError) as err:
        msg = f"{path}: [eligibility] built_by and extended_built_by must be years."
        raise StandardsError(msg) from err
    if extended < built_by:
        msg = f"{path}: [eligibility] extended_built_by ({extended}) is before built_by ({built_by})."
        raise StandardsError(msg)
    return Standard(
        built_by=built_by,
        extended_built_by=extended,
        eligibility_source=str(elig.get("source", "")),
        name_zh=str(head.get("name_zh", Path(path).stem)),
        name_en=str(head.get("name_en", Path(path).stem)),
        source=str(head.get("source", "")),
        walk_speed_m_per_min=float(head.get("walk_speed_m_per_min", 1000 / 15)),
        categories=tuple(cats),
        path=path,
    )
