"""Standards load from TOML with sources; malformed files say what to fix."""

from __future__ import annotations

import pytest

from gis.errors import StandardsError
from gis.standards import bundled_standards, load_standard


def test_default_standard_has_the_plans_seven_categories():
    std = load_standard()
    assert [c.name_zh for c in std.categories] == [
        "便民服务中心", "医疗服务中心", "公共厕所", "快递收发点", "便民超市", "停车场地", "充电设施"]
    assert all(c.walk_m == 1000 for c in std.categories)
    assert all("GB 50180-2018" in c.source for c in std.categories)


def test_bundled_standards_all_load_with_sources():
    assert {"lianyungang_15min", "gb50180_tiered"} <= set(bundled_standards())
    tiered = load_standard("gb50180_tiered")
    assert tiered.category("toilet").walk_m == 300
    assert tiered.category("clinic").walk_m == 1000


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[standard]\n", "no \\[\\[category\\]\\] tables"),
        ('[[category]]\nkey="a"\nname_zh="甲"\nname_en="A"\nsource="x"\n', "category #1 lacks walk_m"),
        ('[[category]]\nkey="a"\nname_zh="甲"\nname_en="A"\nsource="x"\nwalk_m=-5\n', "walk_m must be a positive"),
        ('[[category]]\nkey="a"\nname_zh="甲"\nname_en="A"\nsource="x"\nwalk_m=5\n' * 2, "repeated category keys a"),
        ("[[category]\n", "not a valid UTF-8 TOML file"),
    ],
)
def test_malformed_standard_files(tmp_path, text, match):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardsError, match=match):
        load_standard(path)


def test_unknown_standard_and_category():
    with pytest.raises(StandardsError, match="not found; use a TOML file's path or one of"):
        load_standard("shanghai_5min")
    with pytest.raises(StandardsError, match="Unknown category 'library'"):
        load_standard().category("library")
