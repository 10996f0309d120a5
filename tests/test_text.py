"""Category words and field names match across scripts: NFKC forms, traditional
characters, case."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gis.layers import ESTATE_FIELDS, classify_services, find_field
from gis.standards import bundled_standards, load_standard
from gis.text import T2S, fold_text


@pytest.mark.parametrize(("typed", "folded"), [
    ("診所", "诊所"), ("ｃｌｉｎｉｃ", "clinic"), ("ＣＬＩＮＩＣ", "clinic"), ("公共廁所", "公共厕所"),
    ("充電樁", "充电桩"), ("停車場", "停车场"), ("快遞收發點", "快递收发点"), ("建築面積㎡", "建筑面积m2"),
    (" 社區衛生服務站 ", "社区卫生服务站"),
])
def test_fold_text(typed, folded):
    assert fold_text(typed) == folded


def test_table_maps_only_to_simplified_forms_already_simplified():
    # Folding is idempotent: no simplified character is itself rewritten.
    for simplified in set(T2S.values()):
        assert chr(simplified).translate(T2S) == chr(simplified)


def test_traditional_field_names_are_recognised():
    assert find_field(["戶數", "名稱"], ESTATE_FIELDS["households"]) == "戶數"
    assert find_field(["ＨＯＵＳＥＨＯＬＤＳ"], ESTATE_FIELDS["households"]) == "ＨＯＵＳＥＨＯＬＤＳ"


@pytest.mark.parametrize("name", bundled_standards())
def test_traditional_and_full_width_category_values_classify_like_simplified(name):
    std = load_standard(name)
    values = ["診所", "ｃｌｉｎｉｃ", "公共廁所", "便民超市", "醫療保健服務;診所;診所"]
    simple = ["诊所", "clinic", "公共厕所", "便民超市", "医疗保健服务;诊所;诊所"]
    pts = [shapely.Point(0, 0)] * len(values)
    a = classify_services(gpd.GeoDataFrame({"category": values}, geometry=pts), std)
    b = classify_services(gpd.GeoDataFrame({"category": simple}, geometry=pts), std)
    assert a.tolist() == b.tolist()
    assert a.notna().all()
