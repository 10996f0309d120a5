"""Generate the demo layers of a small, ILLUSTRATIVE Chinese county town (示例县城).

Everything written by this script is FICTIONAL: the town, its roads, its river (龙河),
its residential estates (小区), gates and service points are invented so that the
toolkit can be tried and tested without real data. Nothing here describes a real
place, even though the layers sit near lon 117.60 E, lat 34.40 N and the street
names are common ones.

The town is laid out the way a planner would expect a northern Jiangsu / Anhui county
seat to look: an old town (老城) on the north bank of the river with a dense grid of
streets and lanes (街巷), newer districts at the edges, and a planned new district
(新区, 经X路/纬X路) on the south bank linked by three bridges.

Geometry is built in metres on a local grid, shifted into EPSG:4548
("CGCS2000 / 3-degree Gauss-Kruger CM 117E") and stored in EPSG:4490 (CGCS2000
lon/lat). The output is deterministic: every random choice comes from ``numpy``
generators seeded with ``SEED`` (no clock, no hash order). Layers written to ``--out``
(default ``layers/demo``):

* ``streets.gpkg``  road centre-lines (道路名称, 道路等级, 道路宽度), one row per segment
  between junctions, a vertex every ~50 m. Junctions are shared vertices with identical
  coordinates, except ONE deliberate grade separation: the elevated ``东风路高架`` crosses
  ``东园路`` with no vertex. The river is crossed only by three bridges (segments from bank
  to bank); other streets stop at the bank; a few streets and lanes are dead ends.
* ``estates.gpkg``  150 residential estates (小区). Neighbours may share edges exactly,
  touch only at a corner, stand 2-10 m apart, or be 0.3 m apart (a digitising gap).
  One estate (a 家属院 on both sides of a lane) is a MultiPolygon; the layer therefore
  has the generic GEOMETRY type and every other row is a Polygon.
* ``gates.gpkg``    estate gates (小区出入口) for about 40 % of the estates.
* ``services.gpkg`` service points (7 categories), unevenly spread on purpose: the
  south-east corner (和平社区) has no clinic or service centre within 1 km on foot.
* ``rivers.gpkg``   the river polygon.
* constraint layers for reviewing renovation units, all invented:
  ``historic_districts.gpkg`` (历史文化街区, around the old core),
  ``historic_buildings.gpkg`` (历史建筑, points), ``ancient_trees.gpkg`` (古树名木, points
  with 古树编号, 树种 and 冠幅 = crown diameter in metres), ``eco_redline.gpkg``
  (生态保护红线 along the river), ``development_boundary.gpkg`` (城镇开发边界, leaving
  out the far east edge) and ``plan_units.gpkg`` (控规单元, six planning units).

Usage::

    python scripts/make_demo_data.py [--out layers/demo]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time
from collections import Counter
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
import shapely.ops
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

SEED = 20211
BUILD_CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E (metres)
OUTPUT_CRS = "EPSG:4490"  # CGCS2000 geographic (lon/lat)
# Local (0, 0) in EPSG:4548; local (1500, 1250) lands at about 117.60 E, 34.40 N.
ORIGIN = (553670.0, 3806945.0)

LAYERS = ("streets", "estates", "gates", "services", "rivers")
# Constraint layers the natural resources bureau reviews units against (all FICTIONAL).
CONSTRAINT_LAYERS = ("historic_districts", "historic_buildings", "ancient_trees", "eco_redline",
                     "development_boundary", "plan_units")

GRID = 150.0  # nominal street spacing (m)
N_COLS = 21  # columns x = 0 .. 3000 m
NORTH_ROWS_Y = 1050.0 + GRID * np.arange(10)  # north of the river: y = 1050 .. 2400
SOUTH_ROWS_Y = np.array([0.0, 140.0, 280.0, 420.0, 560.0, 690.0])  # south new district
SOUTH_SHIFT_X = 25.0  # the south grid is offset and slightly rotated
SOUTH_ROTATION_DEG = -1.5
SOUTH_PIVOT = (1500.0, 350.0)
OLD_CORE = (1500.0, 1450.0)  # historic centre of the old town
OLD_TOWN_BOX = (700.0, 1000.0, 2300.0, 2000.0)  # xmin, ymin, xmax, ymax (no missing links)
BRIDGE_COLS = (6, 10, 14)
OVERPASS = {"row": 5, "from_col": 16, "to_col": 18, "under_col": 17}
RIVER_SETBACK = 10.0  # estates keep this far from the river polygon
FACE_GRID = 0.001  # snap-rounding grid (m) used when polygonizing blocks
HA = 10_000.0
TARGET_ESTATES = 150

WIDTH_RANGE = {  # 道路宽度 (m) by 道路等级
    "主干路": (30.0, 40.0), "次干路": (18.0, 24.0), "支路": (10.0, 14.0), "街巷": (4.0, 7.0),
}

NORTH_COLUMNS = [
    ("西环路", "次干路"), ("西园路", "支路"), ("工农路", "主干路"), ("花园路", "支路"),
    ("西关街", "次干路"), ("西门街", "支路"), ("建设路", "主干路"), ("书院街", "支路"),
    ("胜利街", "次干路"), ("县前街", "支路"), ("中山路", "主干路"), ("鼓楼街", "支路"),
    ("新华街", "次干路"), ("马市街", "支路"), ("文化路", "主干路"), ("草市街", "支路"),
    ("东关街", "次干路"), ("东园路", "支路"), ("东环路", "主干路"), ("工人路", "支路"),
    ("东城路", "次干路"),
]
NORTH_ROWS = [
    ("南关街", "支路"), ("人民路", "主干路"), ("府前街", "支路"), ("解放路", "次干路"),
    ("钟楼街", "支路"), ("东风路", "主干路"), ("青年路", "支路"), ("和平路", "次干路"),
    ("育才路", "支路"), ("北环路", "次干路"),
]
SOUTH_COLUMNS = [
    ("西环南路", "次干路"), ("经一路", "支路"), ("工业大道", "主干路"), ("经二路", "支路"),
    ("金山路", "次干路"), ("经三路", "支路"), ("建设南路", "主干路"), ("经四路", "支路"),
    ("银河路", "次干路"), ("经五路", "支路"), ("中山南路", "主干路"), ("经六路", "支路"),
    ("光明路", "次干路"), ("经七路", "支路"), ("文化南路", "主干路"), ("经八路", "支路"),
    ("兴业路", "次干路"), ("经九路", "支路"), ("东环南路", "主干路"), ("经十路", "支路"),
    ("东城南路", "次干路"),
]
SOUTH_ROWS = [
    ("南环路", "次干路"), ("纬一路", "支路"), ("迎宾大道", "主干路"), ("纬二路", "支路"),
    ("振兴路", "次干路"), ("纬三路", "支路"),
]
LANE_NAMES = [
    "杨家巷", "王家巷", "仓巷", "井巷", "油坊巷", "铁匠巷", "盐店巷", "染坊巷", "槐树巷",
    "柳巷", "石板巷", "文庙巷", "三元巷", "马道巷", "甜水巷", "竹竿巷", "火神庙巷", "当铺巷",
    "米市弄", "清风弄", "月牙弄", "小东弄", "大井弄", "财神弄", "衙前巷", "状元巷", "孔家巷",
    "刘家巷", "张家巷", "太平巷", "花市巷", "箍桶巷", "酱园弄", "长生弄", "学前巷", "鱼市巷",
]

# Estate names. Old work-unit housing (单位宿舍/家属院/生活区) first, then 1990s-2000s
# 小区/新村/苑, then post-2005 commercial developments.
WORK_UNITS = [  # 单位 whose staff housing became 宿舍 / 家属院 / 生活区
    "纺织厂", "粮食局", "机械厂", "供销社", "化肥厂", "棉纺厂", "酒厂", "食品公司", "农机厂",
    "水利局", "交通局", "税务局", "人民医院", "第一中学", "邮电局", "电业局", "烟草公司",
    "百货公司", "印刷厂", "造纸厂", "木材公司", "物资局", "公安局", "法院", "教育局",
    "卫生局", "建筑公司", "轴承厂", "电机厂", "面粉厂", "油棉厂", "制药厂", "水泥厂",
    "运输公司", "工商银行", "农业银行", "信用社", "商业局", "外贸公司", "糖酒公司",
    "五金公司", "化工厂", "广电局", "自来水公司", "粮油公司", "针织厂", "塑料厂", "玻璃厂",
    "农业局", "林业局", "财政局", "检察院", "武装部", "气象局", "中医院", "县委", "二轻局",
]
OLD_NAMES = [  # planned housing of the 1970s-80s
    "建设新村", "幸福里", "和平里", "工人新村", "职工新村", "团结新村", "教师新村", "铁路新村",
    "红旗小区", "向阳小区", "东方小区", "朝阳小区", "民主小区", "友谊小区", "光明小区",
    "丰收小区", "胜利新村", "劳动新村", "跃进里", "新风里",
]
MID_NAMES = [  # 1990s-early 2000s 小区 / 苑 / 园
    "文化苑", "育才小区", "安居小区", "振兴小区", "兴华小区", "龙河小区", "康乐小区", "富民小区",
    "金桥小区", "春晖园", "丽景苑", "怡和苑", "嘉和园", "锦华苑", "惠民小区", "龙泉小区",
    "书香苑", "桂花园", "梧桐苑", "百合园", "长青小区", "利民小区", "永安小区", "华兴苑",
    "翠竹园", "海棠苑", "迎春小区", "益民小区", "康宁小区", "新华小区", "园丁小区", "祥和苑",
    "金穗小区", "文苑小区", "荷花池小区", "兴隆小区", "安康苑", "阳光小区", "清华苑",
    "建业小区", "金鼎苑", "宏远小区", "平安小区", "双喜小区",
]
NEW_NAMES = [
    "阳光花园", "锦绣华庭", "御景名苑", "龙河湾", "壹号院", "金色家园", "翰林苑", "书香门第",
    "盛世华府", "碧水蓝天", "紫荆花园", "东方名城", "凤凰城", "天一华府", "学府花园",
    "中央公馆", "世纪花园", "新城花园", "君悦华庭", "香樟园", "玫瑰园", "水岸名都", "帝景豪庭",
    "金域华府", "城市之光", "锦绣江南", "绿洲花园", "福星家园", "名门世家", "时代广场",
    "龙河一品", "万和家园", "悦澜湾", "翡翠城", "春江花月", "尚城国际", "领秀华庭", "金色港湾",
    "鸿福苑", "雅居苑", "怡景湾", "瑞和园", "御河湾", "和煦家园", "康桥名苑", "银河湾",
]

# Service categories: Amap-style POI type string for each.
POI_TYPES = {
    "便民服务中心": "政府机构及社会团体;政府机关;社区服务中心",
    "社区卫生服务站": "医疗保健服务;诊所;诊所",
    "公共厕所": "公共设施;公共厕所;公共厕所",
    "快递收发点": "生活服务;物流速递;物流速递",
    "便民超市": "购物服务;便民商店/便利店;便民商店/便利店",
    "停车场": "交通设施服务;停车场;停车场",
    "充电设施": "汽车服务;充电站;充电站",
}
CN_ORDINALS = ["", "二", "三", "四", "五", "六", "七", "八", "九"]
# Where each community's service centre and clinic stand (local metres). 和平社区 in
# the new south-east has neither, and 新华社区's sit at its north-west end by the river.
COMMUNITY_CENTRES = {
    "西关社区": ((380.0, 1800.0), (470.0, 1730.0)),
    "文化社区": ((1100.0, 2100.0), (1190.0, 2030.0)),
    "人民社区": ((1050.0, 1350.0), (1140.0, 1280.0)),
    "解放社区": ((1850.0, 1350.0), (1940.0, 1280.0)),
    "胜利社区": ((1900.0, 2050.0), (1990.0, 1980.0)),
    "东关社区": ((2700.0, 1600.0), (2790.0, 1530.0)),
    "滨河社区": ((480.0, 520.0), (570.0, 450.0)),
    "龙河社区": ((1350.0, 560.0), (1440.0, 490.0)),
    "新华社区": ((1850.0, 700.0), (1840.0, 560.0)),
}
STREET_OFFICES = {  # 街道办事处 (local metres)
    "城关街道": (1250.0, 1600.0), "东城街道": (2000.0, 1600.0),
    "滨河街道": (1100.0, 300.0), "新城街道": (1900.0, 640.0),
}


@dataclass(frozen=True)
class Road:
    """A named road: name, grade (道路等级), width (m) and the building setback (m)."""

    name: str
    grade: str
    width: float
    setback: float


def q(xy) -> tuple[float, float]:
    """Round a coordinate pair to the millimetre (all construction points go through this)."""
    return (float(np.round(xy[0], 3)), float(np.round(xy[1], 3)))


def lerp(a, b, t: float) -> tuple[float, float]:
    """Point at fraction ``t`` from ``a`` to ``b``, rounded to the millimetre."""
    return q((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))


def make_road(rng: np.random.Generator, name: str, grade: str) -> Road:
    """Draw a width for the road's grade (0.5 m steps) and a 3-6 m building setback."""
    lo, hi = WIDTH_RANGE[grade]
    width = float(np.round(rng.uniform(lo, hi) * 2) / 2)
    setback = float(np.round(rng.uniform(3.0, 6.0) * 2) / 2)
    return Road(name, grade, width, setback)


# --------------------------------------------------------------------------- river
def river_centre_y(x):
    """Y of the river centre-line (gentle meander around y = 868 m)."""
    x = np.asarray(x, dtype=float)
    return 868.0 + 30.0 * np.sin(2 * np.pi * (x + 200.0) / 1700.0) + 12.0 * np.sin(
        2 * np.pi * x / 610.0 + 1.1
    )


def river_half_width(x):
    """Half the river width: the river is 30-38 m wide."""
    x = np.asarray(x, dtype=float)
    return 17.0 + 2.0 * np.sin(2 * np.pi * x / 900.0 + 0.4)


def build_river() -> Polygon:
    """River polygon (龙河) crossing the whole town west to east, in local metres."""
    xs = np.arange(-200.0, 3200.0 + 1.0, 20.0)
    yc, hw = river_centre_y(xs), river_half_width(xs)
    south = [q(p) for p in zip(xs, yc - hw, strict=True)]
    north = [q(p) for p in zip(xs, yc + hw, strict=True)]
    return Polygon(south + north[::-1])


# ------------------------------------------------------------------------- streets
def grid_nodes(rng: np.random.Generator) -> tuple[dict, dict]:
    """Perturbed intersection points of the north (old town) and south (new district) grids.

    Each line is jittered according to its grade (arterials stay straighter), so every
    node is shared by the column and the row passing through it.
    """
    sd = {"主干路": 1.5, "次干路": 2.5, "支路": 4.0}
    north, south = {}, {}
    col_off = rng.normal(0.0, 4.0, N_COLS)
    row_off = rng.normal(0.0, 4.0, len(NORTH_ROWS_Y))
    for i in range(N_COLS):
        for k, y in enumerate(NORTH_ROWS_Y):
            jx = rng.normal(0.0, sd[NORTH_COLUMNS[i][1]])
            jy = rng.normal(0.0, sd[NORTH_ROWS[k][1]])
            north[i, k] = q((GRID * i + col_off[i] + jx, y + row_off[k] + jy))
    ang = math.radians(SOUTH_ROTATION_DEG)
    ca, sa = math.cos(ang), math.sin(ang)
    px, py = SOUTH_PIVOT
    for i in range(N_COLS):
        for r, y in enumerate(SOUTH_ROWS_Y):
            x0 = GRID * i + SOUTH_SHIFT_X + rng.normal(0.0, sd[SOUTH_COLUMNS[i][1]])
            y0 = y + rng.normal(0.0, sd[SOUTH_ROWS[r][1]])
            dx, dy = x0 - px, y0 - py
            south[i, r] = q((px + ca * dx - sa * dy, py + sa * dx + ca * dy))
    return north, south


def to_south_frame(x: float, y: float) -> tuple[float, float]:
    """Undo the south grid's rotation and shift (for community look-ups)."""
    ang = -math.radians(SOUTH_ROTATION_DEG)
    px, py = SOUTH_PIVOT
    dx, dy = x - px, y - py
    return (px + math.cos(ang) * dx - math.sin(ang) * dy - SOUTH_SHIFT_X,
            py + math.sin(ang) * dx + math.cos(ang) * dy)


def in_old_town(x: float, y: float) -> bool:
    """True inside the dense old-town box north of the river."""
    x0, y0, x1, y1 = OLD_TOWN_BOX
    return x0 <= x <= x1 and y0 <= y <= y1


def extend_to(line_start, through, target) -> tuple[float, float]:
    """Point where the ray from ``through`` away from ``line_start`` first meets ``target``."""
    a, b = np.asarray(line_start, float), np.asarray(through, float)
    d = (b - a) / np.hypot(*(b - a))
    ray = LineString([tuple(b), tuple(b + d * 600.0)])
    hit = shapely.get_parts(ray.intersection(target))
    hit = sorted(hit, key=lambda p: p.distance(Point(tuple(b))))
    return q((hit[0].x, hit[0].y))


class EdgeSet:
    """Road pieces under construction, keyed by a grid id; junction points can be inserted."""

    def __init__(self):
        self.edges: dict = {}

    def add(self, key, coords, road: Road) -> None:
        """Add a polyline piece of ``road``."""
        self.edges[key] = {"coords": [q(c) for c in coords], "road": road, "inserts": []}

    def insert(self, key, t: float) -> tuple[float, float]:
        """Insert a junction at fraction ``t`` of a straight two-point edge; return it."""
        e = self.edges[key]
        a, b = e["coords"][0], e["coords"][-1]
        p = lerp(a, b, t)
        e["inserts"].append((t, p))
        return p

    def lines(self) -> list[tuple[list, Road, object]]:
        """Final vertex lists (with inserted junctions) as (coords, road, key)."""
        out = []
        for key, e in self.edges.items():
            coords = e["coords"]
            if e["inserts"]:
                mids = [p for _, p in sorted(e["inserts"])]
                coords = [coords[0]] + mids + [coords[-1]]
            out.append((coords, e["road"], key))
        return out


def build_streets(rng: np.random.Generator, river: Polygon) -> tuple[list, dict]:
    """Lay out the street network as pieces whose junctions are shared vertices.

    Returns the list of (coords, Road, key) pieces and a dict of facts used later
    (the old-town lanes as (key, runs-through) pairs).
    """
    north, south = grid_nodes(rng)
    ncol = [make_road(rng, *nm) for nm in NORTH_COLUMNS]
    nrow = [make_road(rng, *nm) for nm in NORTH_ROWS]
    scol = [make_road(rng, *nm) for nm in SOUTH_COLUMNS]
    srow = [make_road(rng, *nm) for nm in SOUTH_ROWS]
    binhe = make_road(rng, "滨河路", "次干路")
    dongfeng = nrow[OVERPASS["row"]]
    overpass_road = Road("东风路高架", "主干路", dongfeng.width, dongfeng.setback)
    es = EdgeSet()

    # 滨河路 follows the north bank ~28 m beyond the water; north columns start on it.
    xs = np.arange(-60.0, 3060.0 + 1.0, 40.0)
    bank_road_y = river_centre_y(xs) + river_half_width(xs) + 28.0
    samples = LineString([q(p) for p in zip(xs, bank_road_y, strict=True)])
    junction = {i: extend_to(north[i, 1], north[i, 0], samples) for i in range(N_COLS)}
    jx = [junction[i][0] for i in range(N_COLS)]
    pts = [junction[i] for i in range(N_COLS)]
    pts += [c for c in samples.coords
            if jx[0] < c[0] < jx[-1] and min(abs(c[0] - v) for v in jx) > 8.0]
    es.add(("binhe",), sorted(pts), binhe)

    def periphery(a, b) -> bool:
        m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        return not in_old_town(*m)

    r, c0, c1, cu = OVERPASS["row"], OVERPASS["from_col"], OVERPASS["to_col"], OVERPASS["under_col"]
    # replaced by the overpass and the street under it
    over_skip = {("nr", c0, r), ("nr", cu, r), ("nc", cu, r - 1), ("nc", cu, r)}
    # always built, so that the street under the overpass is connected at both ends
    keep = {("nr", c0, r - 1), ("nr", cu, r - 1), ("nr", c0, r + 1), ("nr", cu, r + 1)}
    n_stub = 0

    def maybe_drop(key, a, b, road, p_drop, p_stub=0.3) -> None:
        """Add edge a-b, or leave it out (a missing link), sometimes keeping a dead-end stub."""
        nonlocal n_stub
        if road.grade == "支路" and key not in keep and rng.random() < p_drop:
            if rng.random() < p_stub:
                s, e = (a, b) if rng.random() < 0.5 else (b, a)
                es.add(("stub", n_stub), [s, lerp(s, e, rng.uniform(0.45, 0.65))], road)
                n_stub += 1
            return
        es.add(key, [a, b], road)

    # North grid: columns (from 滨河路 northwards) and rows.
    for i in range(N_COLS):
        chain = [junction[i]] + [north[i, k] for k in range(len(NORTH_ROWS_Y))]
        for k in range(-1, len(NORTH_ROWS_Y) - 1):
            key = ("nc", i, k)
            if key in over_skip:
                continue
            a, b = chain[k + 1], chain[k + 2]
            maybe_drop(key, a, b, ncol[i], 0.35 if periphery(a, b) else 0.0)
    for k in range(len(NORTH_ROWS_Y)):
        for i in range(N_COLS - 1):
            key = ("nr", i, k)
            if key in over_skip:
                continue
            a, b = north[i, k], north[i + 1, k]
            maybe_drop(key, a, b, nrow[k], 0.3 if periphery(a, b) else 0.0)

    # The grade separation: 东风路高架 spans two blocks, 东园路 passes underneath.
    es.add(("overpass",), [north[c0, r], north[c1, r]], overpass_road)
    es.add(("under",), [north[cu, r - 1], north[cu, r + 1]], ncol[cu])

    # South grid: rows, and columns ending at the river bank (or crossing it on a bridge).
    for r in range(len(SOUTH_ROWS_Y)):
        for i in range(N_COLS - 1):
            maybe_drop(("sr", i, r), south[i, r], south[i + 1, r], srow[r], 0.55, 0.12)
    top = len(SOUTH_ROWS_Y) - 1
    for i in range(N_COLS):
        for r in range(top):
            maybe_drop(("sc", i, r), south[i, r], south[i, r + 1], scol[i], 0.55, 0.12)
        if i in BRIDGE_COLS:
            a, b = south[i, top], junction[i]
            banks = sorted(shapely.get_parts(LineString([a, b]).intersection(river.exterior)),
                           key=lambda p: p.distance(Point(a)))
            assert len(banks) == 2, "a bridge must cross exactly two banks"
            sb, nb = q((banks[0].x, banks[0].y)), q((banks[1].x, banks[1].y))
            es.add(("sc", i, top), [a, sb], scol[i])
            es.add(("bridge", i), [sb, nb], ncol[i])
            es.add(("bridgehead", i), [nb, b], ncol[i])
        else:
            end = extend_to(south[i, top - 1], south[i, top], river.exterior)
            maybe_drop(("sc", i, top), south[i, top], end, scol[i], 0.55, 0.12)

    # Old-town lanes (街巷) through or into blocks: T-junctions inserted as shared vertices.
    lane_names = list(LANE_NAMES)
    lanes = []
    for i in range(5, 15):
        for k in range(6):
            if rng.random() > 0.32 or not lane_names:
                continue
            ns = rng.random() < 0.5
            e1, e2 = (("nr", i, k), ("nr", i, k + 1)) if ns else (("nc", i, k), ("nc", i + 1, k))
            if e1 not in es.edges or e2 not in es.edges:
                continue
            t1, t2 = rng.uniform(0.38, 0.62, 2)
            if any(abs(t - t1) < 0.12 for t, _ in es.edges[e1]["inserts"]) or any(
                abs(t - t2) < 0.12 for t, _ in es.edges[e2]["inserts"]
            ):
                continue
            road = make_road(rng, lane_names.pop(0), "街巷")
            if rng.random() < 0.3:  # dead-end lane (断头巷)
                if rng.random() < 0.5:
                    e1, e2, t1, t2 = e2, e1, t2, t1
                a = es.insert(e1, t1)
                e2a, e2b = es.edges[e2]["coords"][0], es.edges[e2]["coords"][-1]
                b = lerp(a, lerp(e2a, e2b, t2), rng.uniform(0.55, 0.7))
                full = False
            else:
                a, b = es.insert(e1, t1), es.insert(e2, t2)
                full = True
            key = ("lane", len(lanes))
            es.add(key, [a, b], road)
            lanes.append((key, full))
    return es.lines(), {"lanes": lanes}


def split_at_junctions(pieces: list) -> list[tuple[LineString, Road, object]]:
    """Split pieces at every vertex shared with another piece (exact coordinate match).

    Because junctions were built as shared vertices this is exact: no new coordinates
    are computed, so both streets keep IDENTICAL junction coordinates.
    """
    count = Counter()
    for coords, _, _ in pieces:
        count.update(set(coords))
    out = []
    for coords, road, key in pieces:
        cur = [coords[0]]
        for n, c in enumerate(coords[1:], start=1):
            cur.append(c)
            if count[c] > 1 and n < len(coords) - 1:
                out.append((LineString(cur), road, key))
                cur = [c]
        if len(cur) > 1:
            out.append((LineString(cur), road, key))
    return largest_component(out)


def largest_component(segments: list) -> list:
    """Keep only segments connected to the main network (missing links can cut off a stub)."""
    parent: dict = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for geom, _, _ in segments:
        parent[find(geom.coords[0])] = find(geom.coords[-1])
    sizes = Counter(find(g.coords[0]) for g, _, _ in segments)
    main = max(sizes, key=lambda r: (sizes[r], r))
    return [s for s in segments if find(s[0].coords[0]) == main]


def densify(line: LineString, key) -> LineString:
    """Digitise densely: a vertex every ~40-55 m (1/7 of the span for the overpass pair)."""
    if key in (("overpass",), ("under",)):
        return shapely.segmentize(line, line.length / 7.0 + 1e-6)
    return shapely.segmentize(line, 55.0)


def streets_frame(segments: list) -> gpd.GeoDataFrame:
    """GeoDataFrame of street segments in local metres (plus internal helper columns)."""
    return gpd.GeoDataFrame(
        {
            "道路名称": [r.name for _, r, _ in segments],
            "道路等级": [r.grade for _, r, _ in segments],
            "道路宽度": [r.width for _, r, _ in segments],
            "_setback": [r.setback for _, r, _ in segments],
            "_key": [str(k) for _, _, k in segments],
        },
        geometry=[g for g, _, _ in segments],
    )


# ------------------------------------------------------------------------- estates
def polygon_frame(poly) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin and axis vectors (long side first) of the polygon's minimum rotated rectangle."""
    c = np.asarray(shapely.minimum_rotated_rectangle(poly).exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[3] - c[0]
    if np.hypot(*e1) >= np.hypot(*e2):
        return c[0], e1, e2
    return c[0], e2, e1


def frame_coords(frame, pt) -> tuple[float, float]:
    """Normalised (s, t) of a point in a polygon frame (0..1 across the rectangle)."""
    o, u, v = frame
    s, t = np.linalg.solve(np.column_stack([u, v]), np.asarray(pt, float) - o)
    return float(s), float(t)


def frame_line(frame, p0, p1) -> LineString:
    """World line between two normalised frame points."""
    o, u, v = frame
    return LineString([tuple(o + p0[0] * u + p0[1] * v), tuple(o + p1[0] * u + p1[1] * v)])


def choose_pattern(rng: np.random.Generator, frame, n: int):
    """Pick how to subdivide a piece into ``n`` estates (1-4).

    Returns (kind, cut lines as pairs of normalised frame points, group predicates on
    the normalised (s, t) of a face). Cells matching no group are left as other land.
    Kinds: one, halves, ell, diagonal, strips, tee, cross.
    """
    long_side = np.hypot(*frame[1])
    short_side = np.hypot(*frame[2])
    aspect = long_side / max(short_side, 1.0)
    big = long_side * short_side
    eps = 0.4 / long_side  # overshoot of a T-cut past the cut it ends on
    a, b = rng.uniform(0.42, 0.58), rng.uniform(0.42, 0.58)
    across_s = ((a, -0.2), (a, 1.2))
    across_t = ((-0.2, b), (1.2, b))
    if n == 1:
        return "one", [], [lambda s, t: True]
    if n == 2 and aspect < 1.7 and big > 2.2 * HA and rng.random() < 0.35:
        # two estates in opposite quarters, meeting only at one corner
        flip = rng.random() < 0.5
        return "diagonal", [across_s, across_t], [
            lambda s, t: s < a and (t < b) != flip, lambda s, t: s > a and (t > b) != flip]
    if n == 2 and short_side > 130 and big > 2.6 * HA and rng.random() < 0.4:
        # an L-shaped estate wrapped round a smaller one in a corner
        cs, ct = rng.random() < 0.5, rng.random() < 0.5

        def corner(s, t):
            return (s > a) == cs and (t > b) == ct

        return "ell", [across_s, across_t], [lambda s, t: not corner(s, t), corner]
    if n == 2:
        return "halves", [across_s], [lambda s, t: s < a, lambda s, t: s > a]
    if n == 3 and aspect > 1.7:
        a1, a2 = rng.uniform(0.28, 0.38), rng.uniform(0.62, 0.72)
        return "strips", [((a1, -0.2), (a1, 1.2)), ((a2, -0.2), (a2, 1.2))], [
            lambda s, t: s < a1, lambda s, t: a1 < s < a2, lambda s, t: s > a2]
    if n == 3:
        return "tee", [across_s, ((a - eps, b), (1.2, b))], [
            lambda s, t: s < a, lambda s, t: s > a and t < b, lambda s, t: s > a and t > b]
    if aspect > 2.2:
        cuts = list(rng.uniform(0.2, 0.3) + np.array([0.0, 0.25, 0.5]))
        bounds = [-1.0] + cuts + [2.0]
        return "strips", [((c, -0.2), (c, 1.2)) for c in cuts], [
            lambda s, t, lo=lo, hi=hi: lo < s < hi for lo, hi in itertools.pairwise(bounds)]
    return "cross", [across_s, across_t], [
        lambda s, t: s < a and t < b, lambda s, t: s > a and t < b,
        lambda s, t: s < a and t > b, lambda s, t: s > a and t > b]


def polygonize_with_cuts(parcel: Polygon, cuts: list) -> list[Polygon]:
    """Split a parcel by cut lines in ONE noding step, so neighbours share exact vertices."""
    merged = shapely.union_all([parcel.boundary] + list(cuts), grid_size=FACE_GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(merged)))
    return [f for f in faces if parcel.contains(f.representative_point())]


def dedupe_collinear(lines) -> list[LineString]:
    """One straight representative per chain of touching, collinear dangling pieces."""
    reps: list[LineString] = []
    for d in sorted(lines, key=lambda g: (-g.length, g.coords[0])):
        (x0, y0), (x1, y1) = d.coords[0], d.coords[-1]
        ang = math.atan2(y1 - y0, x1 - x0) % math.pi
        same = False
        for r in reps:
            (a0, b0), (a1, b1) = r.coords[0], r.coords[-1]
            da = abs(ang - math.atan2(b1 - b0, a1 - a0) % math.pi)
            if min(da, math.pi - da) < 0.02 and d.distance(r) < 0.01:
                same = True
                break
        if not same:
            reps.append(LineString([d.coords[0], d.coords[-1]]))
    return reps


def block_parcels(streets: gpd.GeoDataFrame, river: Polygon) -> list[dict]:
    """Street blocks minus road reserves and river setback, with the dead ends inside them."""
    merged = shapely.union_all(list(streets.geometry) + [river.exterior], grid_size=FACE_GRID)
    faces, _, dangles, _ = shapely.polygonize_full(shapely.get_parts(merged))
    dangles = dedupe_collinear(shapely.get_parts(dangles))
    reserve = shapely.buffer(
        streets.geometry.values, streets["道路宽度"].values / 2 + streets["_setback"].values
    )
    tree = shapely.STRtree(reserve)
    river_buf = river.buffer(RIVER_SETBACK)
    parcels = []
    for face in shapely.get_parts(faces):
        if river.contains(face.representative_point()):
            continue
        near = reserve[tree.query(face)]
        inner = face.difference(shapely.union_all(near)).difference(river_buf)
        inside = [d for d in dangles if face.contains(d.interpolate(0.5, normalized=True))]
        for part in sorted(shapely.get_parts(inner), key=lambda p: -p.area):
            if part.area >= 0.5 * HA:
                parcels.append({"poly": part, "dangles": inside})
    return parcels


def parcel_zone(poly) -> tuple[float, float, bool]:
    """(weight for being residential, preferred estate area, south-bank flag) of a parcel.

    Blocks left without estates stand for offices, schools, markets, factories and
    self-built housing (自建房), which are not 小区.
    """
    c = poly.centroid
    xy = shapely.get_coordinates(poly)
    riverside = 3.0 if np.min(np.abs(xy[:, 1] - river_centre_y(xy[:, 0]))) < 100.0 else 1.0
    if c.y < river_centre_y(c.x):
        return 1.3 * riverside, 1.8 * HA, True
    if in_old_town(c.x, c.y):
        core = math.hypot(c.x - OLD_CORE[0], c.y - OLD_CORE[1]) < 260
        return (0.6 if core else 1.0) * riverside, 0.5 * HA, False
    return (0.45 if c.x < 450 else 0.8) * riverside, 0.9 * HA, False


def split_parcel(rng: np.random.Generator, parcel: dict) -> list[dict]:
    """Split one residential parcel into 1-4 estates.

    Dead ends inside the block are continued as property lines first; then each piece
    gets a pattern (halves, strips, T, cross, L, diagonal pair). Most estates share
    walls exactly; some stand back behind a wall or lane (2-5 m each), a few are digitised
    0.3 m short of their neighbour.
    """
    poly = parcel["poly"]
    _, pref, south = parcel_zone(poly)
    big_single = south and rng.random() < 0.35  # one large commercial development
    level1 = []
    for d in parcel["dangles"]:
        a, b = np.asarray(d.coords[0]), np.asarray(d.coords[-1])
        u = (b - a) / np.hypot(*(b - a))
        level1.append(LineString([tuple(a - 500 * u), tuple(b + 500 * u)]))
    pieces = polygonize_with_cuts(poly, level1) if level1 else [poly]
    cuts, plans = list(level1), []
    for piece in pieces:
        if piece.area < 0.5 * HA:
            continue
        frame = polygon_frame(piece)
        n_min = max(1, math.ceil(piece.area / (7.2 * HA)))
        n_max = max(n_min, min(4, int(piece.area // (0.56 * HA))))
        if big_single:
            n = n_min
        else:
            n = int(np.clip(round(piece.area / pref * rng.uniform(0.8, 1.35)), n_min, n_max))
        kind, pcuts, groups = choose_pattern(rng, frame, n)
        clip = piece.buffer(0.05, join_style="mitre")
        for p0, p1 in pcuts:
            cuts.append(frame_line(frame, p0, p1).intersection(clip))
        plans.append((piece, frame, groups, kind))
    if len(cuts) > len(level1):
        faces = polygonize_with_cuts(poly, cuts)
    else:
        faces = pieces
    out = []
    for piece, frame, groups, kind in plans:
        members = [[] for _ in groups]
        for f in faces:
            rp = f.representative_point()
            if not piece.contains(rp):
                continue
            s, t = frame_coords(frame, (rp.x, rp.y))
            for gi, pred in enumerate(groups):
                if pred(s, t):
                    members[gi].append(f)
                    break
        for fs in members:
            if not fs:
                continue
            geom = shapely.union_all(fs) if len(fs) > 1 else fs[0]
            if geom.geom_type != "Polygon":
                geom = max(shapely.get_parts(geom), key=lambda g: g.area)
            if len(groups) > 1 and rng.random() < 0.05:
                continue  # a kindergarten, a shop row or a small works between estates
            r = rng.random()
            if kind in ("cross", "diagonal"):
                shrink = 0.0  # built together: the quarters meet at a common corner
            else:
                shrink = (float(np.round(rng.uniform(2.0, 5.0), 1)) if r < 0.15
                          else 0.3 if r < 0.21 else 0.0)
            if shrink:
                geom = geom.buffer(-shrink, join_style="mitre")
                if geom.geom_type != "Polygon":
                    geom = max(shapely.get_parts(geom), key=lambda g: g.area)
            width = np.hypot(*polygon_frame(geom)[2])
            if 0.5 * HA <= geom.area <= 8.0 * HA and width >= 40.0:
                out.append({"geom": geom, "n_in_block": len(groups), "shrink": shrink})
    return out


def lane_split_pair(parcels: list[dict], streets: gpd.GeoDataFrame, lanes: list) -> tuple[int, int]:
    """Indices of two old-town parcels on either side of one through lane (街巷)."""
    for key, full in lanes:
        if not full:
            continue
        lane = shapely.union_all(streets.loc[streets["_key"] == str(key)].geometry.values)
        middle = shapely.ops.substring(shapely.line_merge(lane), 0.3, 0.7, normalized=True)
        near = [i for i, p in enumerate(parcels) if p["poly"].distance(middle) < 15.0]
        if len(near) != 2:
            continue
        a, b = (parcels[i]["poly"] for i in near)
        if all(in_old_town(*g.centroid.coords[0]) and 0.5 * HA <= g.area <= 1.6 * HA
               for g in (a, b)):
            return near[0], near[1]
    raise RuntimeError("no old-town lane with a parcel on each side")


def subdivide(seed: int, parcels: list[dict], target: int, pair: tuple[int, int]) -> list[dict]:
    """Make parcels residential in a weighted random order until ``target`` estates exist.

    Each parcel draws from its own generator, so the layout of one block does not
    depend on how many blocks were looked at before it. The two parcels of ``pair``
    come first, each kept whole: they become the two parts of one MultiPolygon estate.
    """
    rng = np.random.default_rng([seed, 2])
    weights = np.array([parcel_zone(p["poly"])[0] for p in parcels])
    keys = rng.random(len(parcels)) ** (1.0 / weights)  # weighted sampling order
    estates: list[dict] = [{"geom": parcels[i]["poly"], "n_in_block": 1, "shrink": 0.0,
                            "pair": True} for i in pair]
    for idx in np.argsort(-keys, kind="stable"):
        if len(estates) >= target:
            break
        if int(idx) in pair:
            continue
        estates += split_parcel(np.random.default_rng([seed, 1000 + int(idx)]), parcels[idx])
    return estates


def merge_lane_split_estate(estates: list[dict]) -> None:
    """Turn the two estates on both sides of one old-town lane into one MultiPolygon 家属院."""
    i, j = [k for k, e in enumerate(estates) if e.get("pair")]
    merged = dict(estates[i])
    merged["geom"] = MultiPolygon([estates[i]["geom"], estates[j]["geom"]])
    merged["multipart"] = True
    del estates[j]
    estates[i] = merged


def community_of(x: float, y: float) -> tuple[str, str]:
    """(所属街道, 所属社区) from a location; boundaries follow major roads and the river."""
    if y > river_centre_y(x):
        if x < 1500:
            return "城关街道", ("西关社区" if x < 600 else "文化社区" if y >= 1800 else "人民社区")
        return "东城街道", ("东关社区" if x >= 2400 else "胜利社区" if y >= 1800 else "解放社区")
    sx, _ = to_south_frame(x, y)
    if sx < 1800:
        return "滨河街道", ("滨河社区" if sx < 900 else "龙河社区")
    return "新城街道", ("新华社区" if sx < 2400 else "和平社区")


def year_from_quantile(q_: float, jitter: int) -> int:
    """Map a rank quantile to a build year: 60 % <= 2000, 20 % 2001-05, 20 % 2006-12."""
    if q_ < 0.6:
        lo, hi, f = 1975, 2000, q_ / 0.6
    elif q_ < 0.8:
        lo, hi, f = 2001, 2005, (q_ - 0.6) / 0.2
    else:
        lo, hi, f = 2006, 2012, (q_ - 0.8) / 0.2
    y = lo + int(f * (hi - lo + 1)) + jitter
    return int(min(max(y, lo), hi))


def estate_attributes(rng: np.random.Generator, estates: list[dict],
                      streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Ids, names, build years, floor area, households, buildings and admin units."""
    # Stable reading order: bands of 300 m from north to south, west to east inside a band.
    def order_key(e):
        c = e["geom"].centroid
        return (int((2600.0 - c.y) // 300.0), c.x)

    estates.sort(key=order_key)
    n = len(estates)
    cent = [e["geom"].centroid for e in estates]
    score = np.array([
        math.hypot(c.x - OLD_CORE[0], c.y - OLD_CORE[1])
        + (0.0 if c.y > river_centre_y(c.x) else 450.0)  # the south bank was built up later
        for c in cent
    ]) + rng.normal(0.0, 130.0, n)
    rank = np.empty(n, int)
    rank[np.argsort(score, kind="stable")] = np.arange(n)
    years = [year_from_quantile(rank[i] / n, int(rng.integers(-1, 2))) for i in range(n)]
    for i, e in enumerate(estates):
        if e.get("multipart"):
            years[i] = min(years[i], 1984)

    named = streets[streets["道路等级"] != "街巷"]
    tree = shapely.STRtree(named.geometry.values)
    units = list(rng.permutation(WORK_UNITS))
    olds = list(rng.permutation(OLD_NAMES))
    mids = list(rng.permutation(MID_NAMES))
    news = list(rng.permutation(NEW_NAMES))
    used: set[str] = set()
    rows = []
    for i, (e, c) in enumerate(zip(estates, cent, strict=True)):
        y = years[i]
        road = named["道路名称"].iloc[int(tree.query_nearest(c)[0])]
        name = None
        r = rng.random()
        if e.get("multipart"):
            name = units.pop(0) + "家属院"
        elif (y <= 1990 and r < 0.8) or (1990 < y <= 2000 and r < 0.3):
            unit = units.pop(0) if units else None
            if unit:
                suffix = ("宿舍" if y < 1988 else "家属院") if not unit.endswith("厂") else (
                    ["宿舍", "生活区", "家属院"][int(rng.integers(0, 3))])
                name = unit + suffix
        elif y <= 1990:
            name = olds.pop(0) if olds else None
        elif y <= 2005:
            name = road + "小区" if r < 0.25 else (mids.pop(0) if mids else None)
        else:
            name = news.pop(0) if news else None
        if name is None or name in used:
            fallbacks = ("小区", "新村", "家园", "东苑", "西苑", "南苑", "北苑", f"{i + 1}号院")
            for cand in [road + sfx for sfx in fallbacks]:
                if cand not in used:
                    name = cand
                    break
        used.add(name)

        if y <= 1990:
            far, per_bldg = rng.uniform(0.8, 1.35), rng.uniform(1500, 2800)
        elif y <= 2000:
            far, per_bldg = rng.uniform(1.1, 1.6), rng.uniform(2200, 4000)
        elif y <= 2005:
            far, per_bldg = rng.uniform(1.3, 1.9), rng.uniform(3000, 5000)
        else:
            far, per_bldg = rng.uniform(1.7, 2.5), rng.uniform(4500, 9000)
        if name.endswith("宿舍") and rng.random() < 0.35:
            far = rng.uniform(0.3, 0.6)  # one or two blocks of flats in a big yard
        floor = e["geom"].area * far
        per_hh = rng.uniform(78.0, 93.0)
        households = floor / per_hh
        if households > 1500:
            households = rng.uniform(1380, 1500)
            floor = households * per_hh
        households = int(np.clip(round(households), 24, 1500))
        street, comm = community_of(c.x, c.y)
        rows.append({
            "小区编号": f"XQ{i + 1:03d}",
            "小区名称": name,
            "建成年份": int(y),
            "户数": households,
            "建筑面积": float(np.round(floor, 1)),
            "楼栋数": int(max(1, round(floor / per_bldg))),
            "所属街道": street,
            "所属社区": comm,
            "棚改计划": "否",
        })
    frame = gpd.GeoDataFrame(rows, geometry=[e["geom"] for e in estates])
    oldest = [i for i in np.argsort(frame["建成年份"].values, kind="stable")[:18]
              if not estates[i].get("multipart")]
    for i in sorted(rng.choice(oldest, size=5, replace=False)):
        frame.loc[int(i), "棚改计划"] = "是"
    return frame


# --------------------------------------------------------------------------- gates
def side_name(nx: float, ny: float) -> str:
    """Chinese compass name of the side an outward normal points to."""
    if abs(nx) > abs(ny):
        return "东" if nx > 0 else "西"
    return "北" if ny > 0 else "南"


def make_gates(rng: np.random.Generator, estates: gpd.GeoDataFrame,
               streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Gates for ~40 % of estates, on boundary edges that face a street."""
    tree = shapely.STRtree(streets.geometry.values)
    est_tree = shapely.STRtree(estates.geometry.values)
    rows, geoms = [], []
    for idx, (eid, geom) in enumerate(zip(estates["小区编号"], estates.geometry, strict=True)):
        if rng.random() >= 0.4:
            continue
        cands = []
        for part in shapely.get_parts(geom):
            ring = shapely.orient_polygons(part).exterior.coords  # exterior counter-clockwise
            for a, b in itertools.pairwise(ring):
                dx, dy = b[0] - a[0], b[1] - a[1]
                length = math.hypot(dx, dy)
                if length < 25.0:
                    continue
                nx, ny = dy / length, -dx / length
                m = Point(a[0] + dx / 2, a[1] + dy / 2)
                probe = Point(m.x + 8 * nx, m.y + 8 * ny)
                d0 = tree.query_nearest(m, return_distance=True)[1][0]
                d1 = tree.query_nearest(probe, return_distance=True)[1][0]
                blocked = [j for j in est_tree.query(probe, predicate="intersects") if j != idx]
                if d0 < 40.0 and d1 < d0 - 6.0 and not blocked:
                    cands.append((a, b, side_name(nx, ny)))
        if not cands:
            continue
        first = cands[int(rng.integers(0, len(cands)))]
        chosen = [first]
        others = [c for c in cands if c[2] != first[2]]
        if others and rng.random() < 0.45:
            chosen.append(others[int(rng.integers(0, len(others)))])
        for a, b, side in chosen:
            t = rng.uniform(0.3, 0.7)
            geoms.append(Point(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
            rows.append({"小区编号": eid, "名称": side + "门"})
    return gpd.GeoDataFrame(rows, geometry=geoms)


# ------------------------------------------------------------------------ services
def candidate_sites(rng: np.random.Generator, streets: gpd.GeoDataFrame, river: Polygon,
                    estates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Roadside spots (both sides, every 30 m) a few metres beyond the carriageway."""
    carriage = shapely.union_all(shapely.buffer(streets.geometry.values,
                                                streets["道路宽度"].values / 2 + 1.0))
    shapely.prepare(carriage)
    river_buf = river.buffer(3.0)
    shapely.prepare(river_buf)
    est_tree = shapely.STRtree(shapely.centroid(estates.geometry.values))
    est_years = estates["建成年份"].values
    rows = []
    columns = [streets[c] for c in ("道路名称", "道路等级", "道路宽度", "_key")]
    for geom, name, grade, width, key in zip(streets.geometry, *columns, strict=True):
        if key.startswith(("('overpass'", "('bridge'")):  # nothing stands on a deck
            continue
        (x0, y0), (x1, y1) = geom.coords[0], geom.coords[-1]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        for along in np.arange(15.0, length - 14.9, 30.0):
            for side in (-1.0, 1.0):
                off = min(width / 2 + rng.uniform(3.0, 9.0), 23.0)
                p = Point(x0 + ux * along - side * uy * off, y0 + uy * along + side * ux * off)
                if carriage.contains(p) or river_buf.contains(p):
                    continue
                near = est_tree.query(p.buffer(300.0))
                new_area = bool(len(near)) and float(np.median(est_years[near])) >= 2005.0
                st, comm = community_of(p.x, p.y)
                rows.append({"x": p.x, "y": p.y, "road": name, "grade": grade,
                             "street": st, "comm": comm, "new": new_area})
    return pd.DataFrame(rows)


def pick_sites(rng, cands: pd.DataFrame, weights: np.ndarray, n: int, spacing: float,
               taken: list) -> list[int]:
    """Weighted sampling without replacement, keeping ``spacing`` m between picks."""
    xy = cands[["x", "y"]].to_numpy()
    w = np.asarray(weights, float).copy()
    picks: list[int] = []
    while len(picks) < n and w.sum() > 0:
        j = int(rng.choice(len(w), p=w / w.sum()))
        w[j] = 0.0
        pts = [xy[k] for k in picks]
        if pts and np.min(np.hypot(*(np.asarray(pts) - xy[j]).T)) < spacing:
            continue
        if taken and np.min(np.hypot(*(np.asarray(taken) - xy[j]).T)) < 8.0:
            continue
        picks.append(j)
        taken.append(xy[j])
    return picks


def nearest_site(cands: pd.DataFrame, target, taken: list, mask=None) -> int:
    """Index of the candidate nearest to ``target`` that keeps 8 m from points already placed."""
    xy = cands[["x", "y"]].to_numpy()
    d = np.hypot(xy[:, 0] - target[0], xy[:, 1] - target[1])
    if mask is not None:
        d = np.where(mask, d, np.inf)
    for j in np.argsort(d, kind="stable"):
        if not taken or np.min(np.hypot(*(np.asarray(taken) - xy[j]).T)) >= 8.0:
            taken.append(xy[j])
            return int(j)
    raise RuntimeError("no free site")


def make_services(rng: np.random.Generator, streets: gpd.GeoDataFrame, river: Polygon,
                  estates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Service points of the seven categories, dense in the old town, with real gaps.

    和平社区 in the south-east deliberately has no clinic and no community service
    centre: from the estates in its far corner the nearest ones are over 1 km on foot.
    Chargers stand only in newer districts and along arterials.
    """
    cands = candidate_sites(rng, streets, river, estates)
    d_core = np.hypot(cands["x"] - OLD_CORE[0], cands["y"] - OLD_CORE[1]).to_numpy()
    main = cands["grade"].isin(["主干路", "次干路"]).to_numpy()
    arterial = (cands["grade"] == "主干路").to_numpy()
    se = (cands["comm"] == "和平社区").to_numpy()
    taken: list = []
    out: list[tuple[int, str, str]] = []  # (candidate, category, name)
    names: Counter = Counter()

    def unique(name: str) -> str:
        names[name] += 1
        if names[name] == 1:
            return name
        nth = CN_ORDINALS[min(names[name] - 1, 8)]
        return name[:-1] + nth + ")" if name.endswith(")") else name + nth

    # One service centre and one clinic per community, none for 和平社区; the sub-district
    # (街道) offices add a centre each and, except 新城街道, a health service centre.
    for comm, (centre, clinic) in COMMUNITY_CENTRES.items():
        mask = (cands["comm"] == comm).to_numpy()
        j = nearest_site(cands, centre, taken, mask & ~arterial)
        out.append((j, "便民服务中心", f"{comm}便民服务中心"))
        j = nearest_site(cands, clinic, taken, mask)
        out.append((j, "社区卫生服务站", f"{comm}卫生服务站"))
    for street, target in STREET_OFFICES.items():
        mask = (cands["street"] == street).to_numpy()
        j = nearest_site(cands, target, taken, mask)
        out.append((j, "便民服务中心", f"{street}便民服务中心"))
        if street != "新城街道":
            j = nearest_site(cands, (target[0] - 60.0, target[1] + 60.0), taken, mask)
            out.append((j, "社区卫生服务站", f"{street}社区卫生服务中心"))

    def brand(options, weights):
        return options[int(rng.choice(len(options), p=np.asarray(weights) / np.sum(weights)))]

    specs = [
        ("便民超市", 52, 70.0, (0.06 + np.exp(-(d_core / 650.0) ** 2)) * np.where(se, 0.5, 1.0)),
        ("快递收发点", 38, 90.0, (0.1 + np.exp(-(d_core / 750.0) ** 2)) * np.where(se, 0.6, 1.0)),
        ("公共厕所", 13, 320.0, np.where(main, 0.25 + np.exp(-(d_core / 800.0) ** 2), 0.0)),
        ("停车场", 20, 220.0, np.where(main, 0.35 + np.exp(-(d_core / 600.0) ** 2), 0.03)),
        ("充电设施", 16, 230.0, np.where(cands["new"], 1.0, 0.0) + np.where(arterial, 0.6, 0.0)),
    ]
    for cat, n, spacing, w in specs:
        for j in pick_sites(rng, cands, w, n, spacing, taken):
            road = cands["road"].iloc[j]
            if cat == "便民超市":
                b = brand(["苏果便利店", "华联超市", "好又多超市", "美宜佳便利店",
                           "易捷便利店", "万家福超市", "家家乐便民超市", "惠民生活超市"],
                          [4, 3, 2, 3, 2, 2, 2, 2])
                name = f"{b}({road}店)"
            elif cat == "快递收发点":
                b = brand(["菜鸟驿站", "妈妈驿站", "兔喜生活", "中通快递", "韵达快递", "顺丰速运",
                           "中国邮政"], [6, 2, 2, 2, 2, 2, 1])
                tail = {"中通快递": "网点", "韵达快递": "网点", "顺丰速运": "营业点",
                        "中国邮政": "邮政所"}.get(b, "店")
                name = f"{b}({road}{tail})"
            elif cat == "公共厕所":
                name = f"公共厕所({road})"
            elif cat == "停车场":
                name = f"{road}{brand(['停车场', '公共停车场'], [2, 1])}"
            else:
                b = brand(["国家电网充电站", "特来电充电站", "星星充电站"], [3, 2, 2])
                name = f"{b}({road})"
            out.append((j, cat, name))
    rows, geoms = [], []
    for j, cat, name in out:
        rows.append({"名称": unique(name), "类别": cat, "类型": POI_TYPES[cat]})
        geoms.append(Point(cands["x"].iloc[j], cands["y"].iloc[j]))
    return gpd.GeoDataFrame(rows, geometry=geoms)


# ---------------------------------------------------------------------- constraints
def make_constraints(
    rng: np.random.Generator, estates: gpd.GeoDataFrame, river: Polygon
) -> dict[str, gpd.GeoDataFrame]:
    """Invent the review constraint layers (local metres), placed so that some units hit them."""
    cx, cy = OLD_CORE
    district = shapely.affinity.rotate(shapely.box(cx - 330, cy - 150, cx + 170, cy + 140), 4,
                                       origin=(cx, cy))
    historic = gpd.GeoDataFrame({"名称": ["老城历史文化街区"], "保护级别": ["县级"]},
                                geometry=[district])
    old = estates[estates.geometry.centroid.within(shapely.box(*OLD_TOWN_BOX))]
    picks = old.iloc[np.sort(rng.choice(len(old), 3, replace=False))]
    buildings = gpd.GeoDataFrame(
        {"名称": ["文庙大成殿", "商会旧址", "老邮局"], "类别": ["历史建筑"] * 3},
        geometry=list(shapely.point_on_surface(picks.geometry.values)),
    )
    chosen = estates.iloc[np.sort(rng.choice(len(estates), 8, replace=False))]
    trees = []
    species = ["国槐", "银杏", "皂荚", "侧柏", "榆树", "国槐", "枣树", "银杏"]
    for k, geom in enumerate(chosen.geometry):
        ring = geom.geoms[0].exterior if geom.geom_type == "MultiPolygon" else geom.exterior
        edge = ring.interpolate(rng.uniform(0, ring.length))
        centre = geom.representative_point()
        dx, dy = centre.x - edge.x, centre.y - edge.y
        norm = math.hypot(dx, dy) or 1.0
        trees.append(Point(edge.x + 3 * dx / norm, edge.y + 3 * dy / norm))  # 3 m inside
    crowns = np.round(rng.uniform(8, 16, len(trees)), 1)
    ancient = gpd.GeoDataFrame(
        {"古树编号": [f"GS-{k + 1:03d}" for k in range(len(trees))], "树种": species,
         "冠幅": crowns, "树龄": rng.integers(100, 400, len(trees))},
        geometry=trees,
    )
    redline = gpd.GeoDataFrame({"名称": ["龙河生态保护红线"]},
                               geometry=[river.buffer(13.0, join_style="mitre")])
    minx, miny, maxx, maxy = estates.total_bounds
    boundary = shapely.box(minx - 60, miny - 60, maxx - 120, maxy + 60)
    dev = gpd.GeoDataFrame({"名称": ["城镇开发边界"]}, geometry=[boundary])
    xs = [minx - 80, 1050.0, 1950.0, maxx + 80]  # along street centre-lines
    ys = [miny - 80, 900.0, 1650.0, maxy + 80]
    plan, names = [], []
    for j in range(3):
        for i in range(3):
            if j == 0 and i != 1:
                continue  # the south bank is fewer, larger units
            x0 = xs[0] if (j == 0) else xs[i]
            x1 = xs[3] if (j == 0) else xs[i + 1]
            plan.append(shapely.box(x0, ys[j], x1, ys[j + 1]))
            names.append(f"控规单元{'南北'[j > 0]}-{len(names) + 1:02d}")
    units = gpd.GeoDataFrame({"单元名称": names}, geometry=plan)
    return {"historic_districts": historic, "historic_buildings": buildings,
            "ancient_trees": ancient, "eco_redline": redline,
            "development_boundary": dev, "plan_units": units}


# ---------------------------------------------------------------------------- I/O
def to_output_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shift local metres into EPSG:4548 and reproject to EPSG:4490 (lon/lat)."""
    geom = shapely.transform(gdf.geometry.values, lambda c: c + np.asarray(ORIGIN))
    out = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=geom, crs=BUILD_CRS)
    out = out[[c for c in out.columns if not c.startswith("_")]]
    return out.to_crs(OUTPUT_CRS)


def write_layer_atomic(gdf: gpd.GeoDataFrame, path: str, mixed: bool = False) -> None:
    """Write a GeoPackage to a temporary file in the same folder, then os.replace it."""
    folder, base = os.path.split(path)
    layer = os.path.splitext(base)[0]
    tmp = os.path.join(folder, f".{layer}.{os.getpid()}.tmp.gpkg")
    if os.path.exists(tmp):
        os.remove(tmp)
    kwargs = {"geometry_type": "Unknown", "promote_to_multi": False} if mixed else {}
    try:
        gdf.to_file(tmp, driver="GPKG", layer=layer, engine="pyogrio", **kwargs)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_stale(out: str) -> None:
    """Delete earlier outputs of this script (and temp files of an interrupted run)."""
    for name in sorted(os.listdir(out)):
        stem = name.split(".")[0] if not name.startswith(".") else name.split(".")[1]
        if stem in (*LAYERS, *CONSTRAINT_LAYERS) and (name.endswith(".gpkg") or ".gpkg-" in name or ".tmp." in name):
            os.remove(os.path.join(out, name))


def build(seed: int = SEED) -> dict[str, gpd.GeoDataFrame]:
    """Build all layers (local metres); all randomness comes from ``seed``."""
    def stream(k: int) -> np.random.Generator:
        # one independent stream per stage, so tuning one stage leaves the others alone
        return np.random.default_rng([seed, k])

    river = build_river()
    pieces, facts = build_streets(stream(1), river)
    segments = split_at_junctions(pieces)
    streets = streets_frame(segments)
    parcels = block_parcels(streets, river)
    pair = lane_split_pair(parcels, streets, facts["lanes"])
    raw = subdivide(seed, parcels, TARGET_ESTATES + 1, pair)  # the pair merges into one
    merge_lane_split_estate(raw)
    estates = estate_attributes(stream(3), raw, streets)
    gates = make_gates(stream(4), estates, streets)
    services = make_services(stream(5), streets, river, estates)
    streets = streets.set_geometry(gpd.GeoSeries(
        [densify(g, k) for (_, _, k), g in zip(segments, streets.geometry, strict=True)]))
    rivers = gpd.GeoDataFrame({"名称": ["龙河"]}, geometry=[river])
    return {"streets": streets, "estates": estates, "gates": gates,
            "services": services, "rivers": rivers,
            **make_constraints(stream(6), estates, river)}


# --------------------------------------------------------------------------- survey
# 摸底调查 for the renovation programme (gis programme): three districts (县区) from the
# 街道, and per estate the catalogue items it lacks, residents' support and property
# management. Its own random stream, so the layers above are unchanged by it.
DISTRICTS = {"城关街道": "城关区", "滨河街道": "城关区", "东城街道": "东城区", "新城街道": "新城区"}
PROPERTY = ("物业服务企业", "社区托管", "居民自管", "无")


def make_survey(estates: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """Survey sheet rows for the demo estates, deterministic for a seed."""
    import tomllib

    rng = np.random.default_rng([seed, 6])
    catalogue = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gis",
                             "programme", "data", "catalogue.toml")
    with open(catalogue, "rb") as fh:
        items = tomllib.load(fh)["item"]
    est = estates.sort_values("小区编号")
    rows = []
    for rec in est.to_dict("records"):
        old = float(np.clip((2012 - rec["建成年份"]) / 35, 0, 1))  # older estates lack more
        row = {"小区编号": rec["小区编号"], "小区名称": rec["小区名称"],
               "所属县区": DISTRICTS.get(rec["所属街道"], "城关区"), "所属街道": rec["所属街道"],
               "居民改造意愿": int(rng.integers(55, 99)),
               "物业管理": PROPERTY[int(rng.choice(4, p=[0.35, 0.3, 0.15, 0.2]))],
               "指定年度": ""}
        for it in items:
            base = {"basic": 0.15 + 0.45 * old, "improve": 0.35, "upgrade": 0.2}[it["class"]]
            row[it["name_zh"]] = "缺" if rng.random() < base else ""
        rows.append(row)
    table = pd.DataFrame(rows)
    # Two pilot estates the county has already decided on (指定年度 2021).
    pilots = est.loc[(est["建成年份"] <= 1990) & (est["棚改计划"] == "否"), "小区编号"].tolist()
    for eid in sorted(rng.choice(pilots, size=2, replace=False)):
        table.loc[table["小区编号"] == eid, "指定年度"] = "2021"
    return table


def write_survey(estates: pd.DataFrame, path: str, seed: int = SEED) -> None:
    """Write the demo survey as XLSX, every cell text or number (no formulas)."""
    from openpyxl import Workbook

    table = make_survey(estates, seed)
    book = Workbook()
    ws = book.active
    ws.title = "摸底调查"
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if v == "" else v for v in row])
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    tmp = path + ".tmp.xlsx"
    book.save(tmp)
    os.replace(tmp, path)
    print(f"{path}: {len(table)} survey rows")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="layers/demo", help="output folder (default: layers/demo)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED})")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    layers = build(args.seed)
    os.makedirs(args.out, exist_ok=True)
    remove_stale(args.out)
    for name in (*LAYERS, *CONSTRAINT_LAYERS):
        gdf = to_output_crs(layers[name])
        path = os.path.join(args.out, f"{name}.gpkg")
        write_layer_atomic(gdf, path, mixed=(name == "estates"))
        print(f"{path}: {len(gdf)} features, {os.path.getsize(path) / 1024:.0f} KiB")
    write_survey(layers["estates"], os.path.join(args.out, "survey.xlsx"), args.seed)
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
