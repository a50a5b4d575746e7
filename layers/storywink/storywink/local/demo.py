"""`storywink demo`: photos in, a picture-book PDF out, driven through the REST API like any client."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from storywink.auth.local_issuer import load_or_create_issuer
from storywink.local.live_follower import LiveFollower, LiveProgressRefused
from storywink.local.stack import (
    LOCAL_AUDIENCE,
    LOCAL_ISSUER,
    LocalStack,
    StackOptions,
    default_state_dir,
    running_stack_info,
)

FINAL = {"COMPLETED", "PARTIAL", "FAILED"}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
console = Console()


class ApiClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            error = response.json().get("error", {})
            raise SystemExit(
                f"{method} {path} failed: {response.status_code} {error.get('code')}: {error.get('message')}"
            )
        return response.json() if response.content else None


def demo_book_details(child: str, style: str, title: str | None) -> dict[str, str]:
    """What the demo's parent tells us about the book (the API's camelCase fields)."""
    return {
        "title": title or f"{child} and the Starry Adventure",
        "childName": child,
        "artStyle": style,
        "theme": "a trip to the stars",
        "tone": "adventurous",
        "keyCharacters": "Whiskers the cat",
        "specialObjects": "a silver rocket",
        "excitementElement": "a rocket launch",
    }


def find_photos(folder: Path) -> list[Path]:
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise SystemExit(f"no photos in {folder}")
    return photos


def upload_photos(api: ApiClient, book_id: str, photos: list[Path]) -> None:
    specs = [
        {"contentType": mimetypes.guess_type(p.name)[0] or "image/jpeg", "size": p.stat().st_size, "filename": p.name}
        for p in photos
    ]
    tickets = api.call("POST", f"/v1/books/{book_id}/photos", json={"photos": specs})["uploads"]
    for ticket, photo in zip(tickets, photos, strict=True):
        httpx.put(ticket["url"], content=photo.read_bytes(), headers=ticket["headers"], timeout=60).raise_for_status()
    api.call("POST", f"/v1/books/{book_id}/photos/confirm", json={"uploadIds": [t["uploadId"] for t in tickets]})


def watch(
    websocket_url: str, token: str, book_id: str, pages: int, start: Callable[[], Any], timeout: float = 600
) -> dict[str, Any]:
    """Follow the book's live progress over the WebSocket API, start generation once subscribed, and show
    each pushed update until the book reaches a final status (no polling). A dropped connection is
    reconnected and resumed from the last event seen (storywink.local.live_follower)."""
    total = pages + 2  # story, one illustration per page, the PDF
    follower = LiveFollower(websocket_url, token, book_id)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Starting", total=total)
        frames = follower.frames(timeout=timeout)
        while True:
            try:
                frame = next(frames)
            except LiveProgressRefused as refused:
                raise SystemExit(f"could not follow the book's progress: {refused}") from None
            if frame["type"] == "snapshot":
                start()  # subscribed: every event from now on reaches this client
                continue
            status = frame["progress"]
            story, art = status["storyGeneration"], status["illustrations"]
            done = (
                int(story["completed"]) + art["completed"] + art["failed"] + int(status["status"] in FINAL - {"FAILED"})
            )
            progress.update(task, completed=done, description=describe(status))
            if status["status"] in FINAL:
                frames.close()
                return status


def describe(status: dict[str, Any]) -> str:
    art = status["illustrations"]
    if status["status"] in FINAL:
        return status["status"]
    if status.get("queue"):
        return f"Waiting in line (number {status['queue']['position']}, about {status['queue']['estimatedStartSeconds']} s)"
    if not status["storyGeneration"]["completed"]:
        return "Writing the story"
    if art["completed"] + art["failed"] < art["total"]:
        return f"Illustrating ({art['inProgress']} in progress)"
    return "Printing the book"


def run_demo(photos: Path, style: str, out: Path, child: str, title: str | None) -> int:
    from storywink.observability import logger

    logger.setLevel("WARNING")  # the in-process workers' logs would drown the progress bar
    with ExitStack() as cleanup:
        info = running_stack_info()
        if info is None:
            console.print("Starting the local stack (embedded PostgreSQL, moto, workers, API)...")
            stack = cleanup.enter_context(
                LocalStack(StackOptions(extra_environment={"POWERTOOLS_METRICS_DISABLED": "true"}))
            )
            api_url, websocket_url = stack.api_url, stack.websocket_url
        else:
            console.print(f"Using the local stack already running at {info['apiUrl']}")
            api_url, websocket_url = info["apiUrl"], info["websocketUrl"]
        issuer = load_or_create_issuer(default_state_dir() / "auth", LOCAL_ISSUER, LOCAL_AUDIENCE)
        token = issuer.mint("demo-parent", email="parent@example.test")
        api = ApiClient(api_url, token)

        pictures = find_photos(photos)
        book = api.call("POST", "/v1/books", json={**demo_book_details(child, style, title), "autoIllustrate": True})
        console.print(f"Book {book['id']}: uploading {len(pictures)} photos")
        upload_photos(api, book["id"], pictures)

        def start_generation() -> None:
            started = api.call("POST", f"/v1/books/{book['id']}/generate")
            console.print(f"Generation started: {started['executionName']}")

        final = watch(websocket_url, token, book["id"], len(pictures), start=start_generation)
        if final["status"] not in {"COMPLETED", "PARTIAL"}:
            console.print(f"[red]The book ended {final['status']}[/red]")
            return 1
        link = api.call("GET", f"/v1/books/{book['id']}/pdf")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(httpx.get(link["url"], timeout=60).raise_for_status().content)
        console.print(f"[green]{final['status']}[/green]: {out.resolve()}")
        return 0 if final["status"] == "COMPLETED" else 1
