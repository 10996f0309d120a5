"""Content catalogue, finish checklist and programme targets, read from TOML with sources.

The catalogue (``data/catalogue.toml``) lists the renovation items of the three classes
(基础类 basic / 完善类 improve / 提升类 upgrade) as the Qinshui plan lists them and the
Lianyungang finish standard (三入、四通、四有、两整 and the seven living-circle
facilities). A programme file (``data/qinshui_2021_2024.toml``,
``data/lianyungang_2021_2023.toml``) holds the yearly targets and priority weights.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gis.errors import StandardsError
from gis.i18n import LANGS

__all__ = ["CLASSES", "Catalogue", "Check", "Item", "Programme", "YearTarget",
           "bundled_programmes", "in_lang", "load_catalogue", "load_programme"]

DATA = Path(__file__).parent / "data"
CLASSES = ("basic", "improve", "upgrade")


def in_lang(zh: str, en: str, lang: str = "zh") -> str:
    """A name a data file gives in both languages (catalogue items, checks, programmes),
    in ``lang``. The tool's own words come from `gis.i18n.tr`; these come from the TOML.

    Examples
    --------
    >>> cat = load_catalogue()
    >>> it = cat.items[0]
    >>> in_lang(it.name_zh, it.name_en, "zh"), in_lang(it.name_zh, it.name_en, "en")
    ('供水', 'Water supply')
    """
    return (zh, en)[LANGS.index(lang)]


@dataclass(frozen=True)
class Item:
    """One renovation item: ``key``, ``cls`` (basic/improve/upgrade), names, ``source``,
    ``aliases`` (survey headers) and ``from_gap`` (living-circle category keys)."""

    key: str
    cls: str
    name_zh: str
    name_en: str
    source: str
    aliases: tuple[str, ...] = ()
    from_gap: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        """Display name in ``lang``."""
        return in_lang(self.name_zh, self.name_en, lang)


@dataclass(frozen=True)
class Check:
    """One line of the finish standard; met when its ``items`` are not lacking or are done,
    the ``category`` (if any) is covered, and, with ``property_management``, the estate
    has property management."""

    key: str
    group: str
    name_zh: str
    name_en: str
    source: str
    items: tuple[str, ...] = ()
    category: str = ""
    property_management: bool = False


@dataclass(frozen=True)
class Catalogue:
    """Items in catalogue order, class display names and the finish checklist."""

    items: tuple[Item, ...]
    classes: dict[str, tuple[str, str]]
    checks: tuple[Check, ...]
    path: str

    def item(self, key: str) -> Item:
        """The item called ``key``."""
        for it in self.items:
            if it.key == key:
                return it
        raise KeyError(key)

    def class_label(self, cls: str, lang: str = "zh") -> str:
        """基础类 / Basic … for a class key."""
        return in_lang(*self.classes[cls], lang)


@dataclass(frozen=True)
class YearTarget:
    """Targets of one plan year: ``estates`` (minimum count, None = no target; then the
    year takes what remains), optional ``households`` and ``floor_area_m2`` minimums."""

    year: int
    estates: int | None
    households: float | None
    floor_area_m2: float | None
    source: str


@dataclass(frozen=True)
class Programme:
    """A renovation programme: years with targets, priority weights, scope."""

    name_zh: str
    name_en: str
    source: str
    standard: str
    include_extended: bool
    all_eligible_by: int | None
    over_target_estates: int
    start_by_month: int
    years: tuple[YearTarget, ...]
    weights: dict[str, float]
    reference_year: int
    total: dict[str, float] = field(default_factory=dict)
    path: str = ""

    @property
    def first_year(self) -> int:
        """The first plan year."""
        return self.years[0].year

    def target(self, year: int) -> YearTarget | None:
        """The targets of ``year``, or None outside the programme."""
        return next((t for t in self.years if t.year == year), None)

    def max_estates(self, year: int) -> int | None:
        """Most estates ``year`` may hold: its target plus ``over_target_estates``;
        None (no limit) for a year without a count target."""
        t = self.target(year)
        return None if t is None or t.estates is None else t.estates + self.over_target_estates


def _read(path: Path, what: str) -> dict:
    if not path.is_file():
        msg = f"{what} {str(path)!r} not found."
        raise StandardsError(msg)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not a valid UTF-8 TOML file ({err}). Fix the syntax and run again."
        raise StandardsError(msg) from err


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read the content catalogue (default: the bundled ``catalogue.toml``).

    Raises
    ------
    StandardsError
        Missing fields or sources, unknown classes, repeated keys, checks naming unknown items.

    Examples
    --------
    >>> cat = load_catalogue()
    >>> len(cat.items), len(cat.checks), cat.class_label("improve", "en")
    (33, 18, 'Improvement')
    >>> it = cat.items[0]
    >>> it.key, it.label("zh"), it.cls
    ('water_supply', '供水', 'basic')
    """
    path = Path(path) if path else DATA / "catalogue.toml"
    data = _read(path, "Catalogue")
    problems: list[str] = []
    classes = {k: (str(v.get("name_zh", k)), str(v.get("name_en", k)))
               for k, v in data.get("classes", {}).items()}
    items = []
    for i, raw in enumerate(data.get("item", []), start=1):
        missing = [f for f in ("key", "class", "name_zh", "name_en", "source") if not raw.get(f)]
        if missing:
            problems.append(f"item #{i} lacks {', '.join(missing)}")
            continue
        if raw["class"] not in CLASSES:
            problems.append(f"item {raw['key']!r}: class must be one of {', '.join(CLASSES)}")
        items.append(Item(str(raw["key"]), str(raw["class"]), str(raw["name_zh"]),
                          str(raw["name_en"]), str(raw["source"]),
                          tuple(str(a) for a in raw.get("aliases", [])),
                          tuple(str(g) for g in raw.get("from_gap", []))))
    keys = [it.key for it in items]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        problems.append(f"repeated item keys {', '.join(dup)}")
    checks = []
    for i, raw in enumerate(data.get("check", []), start=1):
        if not all(raw.get(f) for f in ("key", "group", "name_zh", "source")):
            problems.append(f"check #{i} lacks key, group, name_zh or source")
            continue
        unknown = [k for k in raw.get("items", []) if k not in keys]
        if unknown:
            problems.append(f"check {raw['key']!r} names unknown items {', '.join(unknown)}")
        checks.append(Check(str(raw["key"]), str(raw["group"]), str(raw["name_zh"]),
                            str(raw.get("name_en", raw["name_zh"])), str(raw["source"]),
                            tuple(raw.get("items", [])), str(raw.get("category", "")),
                            bool(raw.get("property_management", False))))
    if set(CLASSES) - set(classes):
        problems.append(f"[classes] must name {', '.join(CLASSES)}")
    if not items:
        problems.append("no [[item]] tables")
    if problems:
        raise StandardsError(f"{path}: " + "; ".join(problems) + ".")
    return Catalogue(tuple(items), classes, tuple(checks), str(path))


def bundled_programmes() -> list[str]:
    """Names of the programme files shipped with the package.

    Examples
    --------
    >>> bundled_programmes()
    ['lianyungang_2021_2023', 'qinshui_2021_2024']
    """
    return sorted(p.stem for p in DATA.glob("*.toml") if p.stem != "catalogue")


def load_programme(name_or_path: str | Path) -> Programme:
    """Read a programme file: a bundled name (`bundled_programmes`) or a TOML path.

    Raises
    ------
    StandardsError
        Unknown name, missing years, years out of order, non-positive targets.

    Examples
    --------
    >>> prog = load_programme("qinshui_2021_2024")
    >>> [(t.year, t.estates) for t in prog.years]
    [(2021, 10), (2022, 16), (2023, 7), (2024, None)]
    >>> prog.standard, prog.start_by_month, prog.max_estates(2022)
    ('lianyungang_15min', 6, 18)
    """
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        if str(name_or_path) not in bundled_programmes():
            msg = (f"Programme {str(name_or_path)!r} not found; use a TOML file's path or one of "
                   f"{', '.join(bundled_programmes())}.")
            raise StandardsError(msg)
        path = DATA / f"{name_or_path}.toml"
    data = _read(path, "Programme")
    head = data.get("programme", {})
    problems = []
    years = []
    for raw in data.get("year", []):
        try:
            y = int(raw["year"])
            est = None if raw.get("estates") is None else int(raw["estates"])
            hh = None if raw.get("households") is None else float(raw["households"])
            fa = None if raw.get("floor_area_m2") is None else float(raw["floor_area_m2"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"[[year]] {raw!r}: year and targets must be numbers")
            continue
        if any(v is not None and v < 0 for v in (est, hh, fa)):
            problems.append(f"year {y}: targets must not be negative")
        years.append(YearTarget(y, est, hh, fa, str(raw.get("source", ""))))
    ys = [t.year for t in years]
    if not years:
        problems.append("no [[year]] tables")
    elif ys != sorted(set(ys)):
        problems.append(f"years must be increasing and distinct, got {ys}")
    pr = data.get("priority", {})
    weights = {k: float(pr.get(k, 0.0)) for k in
               ("age", "households", "basic_lacking", "circle_gaps", "support")}
    if any(w < 0 for w in weights.values()):
        problems.append("[priority] weights must not be negative")
    all_by = head.get("all_eligible_by")
    month = int(head.get("start_by_month", 6))
    if not 1 <= month <= 12:
        problems.append("start_by_month must be 1–12")
    if problems:
        raise StandardsError(f"{path}: " + "; ".join(problems) + ".")
    return Programme(
        name_zh=str(head.get("name_zh", path.stem)), name_en=str(head.get("name_en", path.stem)),
        source=str(head.get("source", "")), standard=str(head.get("standard", "lianyungang_15min")),
        include_extended=bool(head.get("include_extended", False)),
        all_eligible_by=None if all_by is None else int(all_by),
        over_target_estates=int(head.get("over_target_estates", 0)), start_by_month=month,
        years=tuple(years), weights=weights,
        reference_year=int(pr.get("reference_year", years[0].year)),
        total={k: float(v) for k, v in data.get("total", {}).items() if k != "source"},
        path=str(path),
    )
