"""The committed OpenAPI document (openapi.json at the repo root) is generated from the app and checked in CI."""

from __future__ import annotations

import json

from storywink.api.app import create_app


def openapi_document() -> str:
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
