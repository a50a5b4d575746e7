"""The committed openapi.json is exactly what the app serves (regenerate: storywink openapi --write)."""

from __future__ import annotations

import json
from pathlib import Path

from storywink.api.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def test_committed_openapi_is_current():
    assert COMMITTED.read_text() == openapi_document(), "openapi.json is stale: run `storywink openapi --write`"


def test_every_v1_operation_requires_a_bearer_token():
    document = json.loads(openapi_document())
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for method, operation in operations.items():
                assert operation.get("security"), f"{method.upper()} {path} has no security requirement"
