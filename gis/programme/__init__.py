"""The renovation programme (改造计划与台账): content catalogue, survey and content lists,
priority, annual plan against targets, the append-only ledger and the bulletins.

Modules, in the order data flows:

* `catalogue` — the content catalogue (基础类/完善类/提升类), finish checklist and
  programme TOML files (targets per year, priority weights), with sources;
* `survey` — survey fields per estate (摸底调查), the blank template, content lists;
* `priority` — the documented priority score;
* `schedule` — renovation units to years against targets (exact MILP, greedy otherwise);
* `plan` — the annual plan from frames in memory (survey → priority → units → schedule →
  content lists) and its writer; `make_plan` for files, as the CLI and QGIS call it;
* `ledger` — the GeoPackage ledger (台账): statuses, items, append-only history, imports;
* `bulletin` — monthly bulletin (月通报) and yearly evaluation (年度考评), charts and map;
* `progress_map` — the offline HTML map of plan years and statuses;
* `demo` — `gis demo`'s programme step (simulated district progress) and a small ledger
  for examples;
* `cli` — the ``gis programme`` command group (parse, call, write, print).
"""
