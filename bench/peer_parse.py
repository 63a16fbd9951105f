"""A peer's bare parse of a config, timed in its own process: the library-level peer rows of ``run.py``.

Why a script of its own: the peers (ciscoconfparse2) are installed for the benchmark only, in
a virtual environment apart from the project's (their dependencies pin versions the project's
test tools do not accept), so this runs under that environment's Python and imports nothing
of PlantGate. Prints one JSON line like ``measure.py``.

    bench/out/peer-venv/bin/python bench/peer_parse.py '{"peer": "ciscoconfparse2", "path": ..., "repeat": 5}'
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def main() -> None:
    params: dict[str, Any] = json.loads(sys.argv[1])
    times: list[float] = []
    count = 0
    spent_from = time.perf_counter()
    for _ in range(params["repeat"]):
        start = time.perf_counter()
        if params["peer"] == "ciscoconfparse2":
            from ciscoconfparse2 import CiscoConfParse

            count = len(CiscoConfParse(params["path"], syntax="asa").objs)
        else:
            import xml.etree.ElementTree as ElementTree

            count = sum(1 for _ in ElementTree.parse(params["path"]).iter())
        times.append(time.perf_counter() - start)
        if time.perf_counter() - spent_from > params.get("budget_s", float("inf")):
            break
    print(json.dumps({"times": times, "info": {"items": count},
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "children_maxrss_kb": 0}))


if __name__ == "__main__":
    main()
