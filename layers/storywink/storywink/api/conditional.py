"""Conditional GETs: a strong ETag on the library, a book and its status, and 304 when the client has it.

The ETag is a hash of the exact bytes the response would carry, so it changes whenever anything in
the body does (a status, a page's text, a media URL of a new signing window) and never otherwise.
Bodies that embed media URLs are built to compare them (the URLs are what expire), but a 304 sends
nothing: a client polling an unchanged book pays a few hundred bytes, not the whole book.

`Cache-Control: private, no-cache`: a browser may keep the response (never a shared cache: it is
one parent's), but must revalidate it on every use, so a change is seen on the next read; the
revalidation is the cheap 304.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import BaseModel

CACHE_CONTROL = "private, no-cache"
IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=2000,
        description="An ETag this operation returned before (or several, comma-separated, or `*`): "
        "304 Not Modified with no body while it still matches",
    ),
]

# The OpenAPI description of the two headers and of the 304, for the routes that answer conditionally.
VALIDATOR_HEADERS = {
    "ETag": {"description": "A strong validator of this exact body: send it back in If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": f"`{CACHE_CONTROL}`: one parent's data, revalidated on every use", "schema": {"type": "string"}},
}
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    200: {"headers": VALIDATOR_HEADERS},
    304: {"description": "Not modified: the If-None-Match ETag is still current (no body)", "headers": VALIDATOR_HEADERS},
}


def entity_tag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def conditional_json(body: BaseModel, if_none_match: str | None) -> Response:
    """The body as the route's JSON response with its ETag, or a 304 when ``if_none_match`` matches it."""
    content = body.model_dump_json(by_alias=True).encode()
    etag = entity_tag(content)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison for If-None-Match, and `*` matches any current representation."""
    candidates = [candidate.strip() for candidate in if_none_match.split(",")]
    return "*" in candidates or any(candidate.removeprefix("W/") == etag for candidate in candidates)
