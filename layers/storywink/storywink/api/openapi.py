"""The committed OpenAPI document (openapi.json at the repo root) is generated from the app and checked in CI."""

from __future__ import annotations

import json

from storywink.api.app import create_app
from storywink.config import load_settings
from storywink.wiring import Container


def openapi_document() -> str:
    return json.dumps(create_app(Container(load_settings())).openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
