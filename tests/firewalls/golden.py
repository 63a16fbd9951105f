"""Golden files of normalised rulesets: reviewed JSON, rewritten only on request."""

from __future__ import annotations

import json
import os
from pathlib import Path

from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.ruleset import Ruleset

GOLDEN = Path(__file__).parent / "golden"


def check_golden(ruleset: Ruleset, vendor: str, name: str) -> None:
    """Compare with the reviewed golden JSON; PLANTGATE_UPDATE_GOLDEN=1 rewrites it."""
    golden = GOLDEN / vendor / f"{name}.json"
    text = json.dumps(ruleset_to_dict(ruleset), indent=2, sort_keys=True) + "\n"
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"missing golden {golden}; run with PLANTGATE_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text()
