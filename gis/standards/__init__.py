"""Living-circle standards: which facility categories, and how far residents may walk.

Standards are TOML files (see ``lianyungang_15min.toml`` for the documented format).
Bundled ones are named without extension; any other path is read as a file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from gis.errors import StandardsError

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
        return self.name_en if lang == "en" else self.name_zh


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
    """Names of the standards shipped with the package."""
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
    return _parse(data, str(path))


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
