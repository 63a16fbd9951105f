"""The treaty's JSON Schema, generated from the pydantic model and committed beside it.

Editors validate treaty YAML as it is typed (yaml-language-server); a test keeps the
committed file equal to what the model generates.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from plantgate.model import Treaty

SCHEMA_ID = "https://plantgate.dev/schema/treaty.schema.json"


def treaty_schema() -> dict[str, Any]:
    schema = Treaty.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "PlantGate treaty", **schema}


def committed_schema() -> dict[str, Any]:
    text = (resources.files("plantgate") / "schema" / "treaty.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def baseline_schema() -> dict[str, Any]:
    """The corporate baseline file's JSON Schema (``plantgate baseline schema``)."""
    from plantgate.model.baseline import Baseline

    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://plantgate.dev/schema/baseline.schema.json", "title": "PlantGate corporate baseline",
            **Baseline.model_json_schema(by_alias=True)}
