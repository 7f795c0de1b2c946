"""The format's JSON Schema (for editors: yaml-language-server), from the models."""

from __future__ import annotations

import warnings

from console.scenario.model import API_VERSION, Scenario

SCHEMA_FILE = "schema.json"     # beside the scenarios: `# yaml-language-server: $schema=schema.json`


def schema() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # defaults that JSON cannot hold are left out
        out = Scenario.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"kubelab scenario ({API_VERSION})", **out}
