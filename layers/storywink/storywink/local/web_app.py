"""The local stack's pages: the live book page (static files at /app, its configuration and a dev
sign-in that mints local tokens) and the session's success metrics at /admin/slo. Added by LocalStack
only; the Lambda app never has these routes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from storywink.api.deps import AdminCaller
from storywink.auth.local_issuer import LocalIssuer
from storywink.local.live_follower import PING_SECONDS
from storywink.local.slo import SloBoard

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


def add_slo_page(app: FastAPI, board: SloBoard) -> None:
    """/admin/slo: the session's success metrics (a page that asks for an admin token, and its data)."""

    def slo_page() -> FileResponse:
        return FileResponse(WEB_DIR / "slo.html")

    def slo_data(caller: AdminCaller) -> dict:
        return board.summary()

    app.add_api_route("/admin/slo", slo_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/local/slo.json", slo_data, methods=["GET"], include_in_schema=False)
