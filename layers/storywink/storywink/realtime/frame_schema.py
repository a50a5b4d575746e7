"""The JSON Schema of the live progress protocol, generated from the models in storywink.realtime.frames
and committed as `clients/websocket-frames.schema.json` (regenerate: `storywink frames-schema --write`).

`$defs` holds one schema per frame kind (SnapshotFrame, EventFrame, ErrorFrame, PongFrame) and per
message (SubscribeMessage, UnsubscribeMessage, PingMessage); `ServerFrame` and `ClientMessage` are the
unions of each direction, and the document itself accepts either.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from storywink.realtime.frames import CLIENT_MESSAGES, SERVER_FRAMES

SCHEMA_FILE = "clients/websocket-frames.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _union(description: str, models: tuple[type, ...]) -> dict[str, Any]:
    return {"description": description, "oneOf": [{"$ref": f"#/$defs/{model.__name__}"} for model in models]}


def frames_schema() -> dict[str, Any]:
    _, generated = models_json_schema(
        # Frames as the server writes them, messages as it reads them.
        [(model, "serialization") for model in SERVER_FRAMES] + [(model, "validation") for model in CLIENT_MESSAGES],
        ref_template="#/$defs/{model}",
    )
    definitions = {
        **generated["$defs"],
        "ServerFrame": _union("A frame the server sends, told apart by `type`.", SERVER_FRAMES),
        "ClientMessage": _union("A message a client sends, told apart by `action` (it picks the route).", CLIENT_MESSAGES),
    }
    return {
        "$schema": DIALECT,
        "title": "Storywink live progress over WebSocket",
        "description": "Every frame of the protocol; see the README's WebSocket protocol section.",
        "oneOf": [{"$ref": "#/$defs/ServerFrame"}, {"$ref": "#/$defs/ClientMessage"}],
        "$defs": dict(sorted(definitions.items())),
    }


def frames_schema_document() -> str:
    return json.dumps(frames_schema(), indent=2, ensure_ascii=False) + "\n"
