"""The local stack's live book page: the static files at /app, the page's configuration and a dev
sign-in that mints local tokens. Added by LocalStack only; the Lambda app never has these routes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from fastapi.staticfiles import StaticFiles

from storywink.auth.local_issuer import LocalIssuer
from storywink.local.live_follower import PING_SECONDS

WEB_DIR = Path(__file__).with_name("web")
PAGE_PATH = "/app/"

UserName = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]


def add_book_page(app: FastAPI, issuer: LocalIssuer, *, api_url: str, websocket_url: str) -> None:
    # The page pings its WebSocket as often as the demo's client does (well inside API Gateway's idle limit).
    config = {"apiUrl": api_url, "websocketUrl": websocket_url, "pingSeconds": PING_SECONDS}

    def page_config() -> dict[str, str | float]:
        return config

    def dev_token(user: UserName, plan: Literal["free", "premium"] = "free", admin: bool = False) -> dict[str, str]:
        return {"token": issuer.mint(user, plan=plan, admin=admin)}

    app.add_api_route("/local/config.json", page_config, methods=["GET"], include_in_schema=False)
    app.add_api_route("/local/token", dev_token, methods=["GET"], include_in_schema=False)
    app.mount(PAGE_PATH.rstrip("/"), StaticFiles(directory=WEB_DIR, html=True), name="book-page")
