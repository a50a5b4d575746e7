"""The `storywink` command: run the local stack, mint tokens, make a demo book, export OpenAPI, migrate."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from storywink.local.moto_process import LISTEN_ADDRESSES
from storywink.local.template import repo_root

if TYPE_CHECKING:
    from storywink.local.stack import StackOptions


def _dev(args: argparse.Namespace) -> int:
    # Fault injection: the wiring wraps the providers when these are set (see storywink.faults).
    if args.chaos_rate:
        os.environ.update(
            {"CHAOS_FAILURE_RATE": str(args.chaos_rate), "CHAOS_ERROR_KIND": args.chaos_kind, "CHAOS_SEED": str(args.chaos_seed)}
        )
    if args.chaos_latency_ms:
        os.environ["CHAOS_LATENCY_MS"] = str(args.chaos_latency_ms)
    return run_in_foreground(dev_options(args), args.user)


def dev_options(args: argparse.Namespace) -> StackOptions:
    """The stack `storywink dev` runs: its flags, and the PostgreSQL server DATABASE_URL names (migrated at
    start) instead of the embedded one."""
    from storywink.local.stack import StackOptions

    return StackOptions(
        api_port=args.port,
        moto_port=args.moto_port,
        websocket_port=args.websocket_port,
        host=args.host,
        database_url=os.environ.get("DATABASE_URL") or None,
        faithful=args.faithful,
        time_scale=args.time_scale,
    )


def run_in_foreground(options: StackOptions, user: str) -> int:
    """Start the stack, print where it is and a token for ``user``, and stop it on Ctrl-C or SIGTERM."""
    from sqlalchemy import make_url

    from storywink.flags import FILE_MAX_AGE_SECONDS
    from storywink.local.stack import LocalStack

    stack = LocalStack(options).start()
    token = stack.mint_token(user)
    exposure = (
        f"  Listening on every interface ({options.host}): containers reach it as host.docker.internal,\n"
        "  and so does any machine that can reach this one\n"
        if options.host != LISTEN_ADDRESSES[0]
        else ""
    )
    print(
        f"Storywink local stack is up (Ctrl-C stops it).\n"
        f"  API        {stack.api_url}\n"
        f"  API docs   {stack.api_url}/docs\n"
        f"  Book page  {stack.api_url}/app/  (sign in as any name)\n"
        f"  SLOs       {stack.api_url}/admin/slo  (this session's success metrics; an admin token:\n"
        f"             storywink token --user ops --admin)\n"
        f"  WebSocket  {stack.websocket_url}/?token=<token>  then send {{\"action\": \"subscribe\", \"bookId\": ...}}\n"
        f"  JWKS       {stack.api_url}/.well-known/jwks.json\n"
        f"  AWS (moto) {stack.moto_endpoint}\n"
        f"  Database   {make_url(stack.database_url).render_as_string(hide_password=True)}\n"
        f"  Flags      {stack.flags_file}  (edit to flip a flag; applies within {FILE_MAX_AGE_SECONDS:g} s)\n"
        f"{exposure}"
        f"  Token for '{user}':\n    {token}\n"
        f"  Try: curl -H 'Authorization: Bearer {token[:16]}...' {stack.api_url}/v1/books\n",
        flush=True,
    )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    print("Stopping...", flush=True)
    stack.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    from storywink.auth.local_issuer import load_or_create_issuer
    from storywink.local.stack import LOCAL_AUDIENCE, LOCAL_ISSUER, default_state_dir

    issuer = load_or_create_issuer(default_state_dir() / "auth", LOCAL_ISSUER, LOCAL_AUDIENCE)
    print(issuer.mint(args.user, plan=args.plan, admin=args.admin, ttl_seconds=args.ttl))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from storywink.local.demo import run_demo

    return run_demo(photos=args.photos, style=args.style, out=args.out, child=args.child, title=args.title)


def _dlq(args: argparse.Namespace) -> int:
    import json
    import re

    from storywink.local.stack import running_stack_info
    from storywink.services import dead_letter_queues as dlq

    info = running_stack_info()
    if info is not None:  # the local stack's queues; otherwise DEAD_LETTER_QUEUES and AWS credentials
        os.environ["AWS_ENDPOINT_URL"] = info["motoEndpoint"]
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        queues = info["queues"]
        raw = json.dumps(
            {
                # PriorityStoryDeadLetterQueue -> "priority-story", as DEAD_LETTER_QUEUES names it in the template
                re.sub(r"(?<!^)(?=[A-Z])", "-", logical.removesuffix("DeadLetterQueue")).lower(): {
                    "dlq": url,
                    "source": queues[logical.replace("DeadLetterQueue", "Queue")],
                }
                for logical, url in queues.items()
                if logical.endswith("DeadLetterQueue")
            }
        )
    else:
        raw = os.environ.get("DEAD_LETTER_QUEUES")
    queues_by_name = dlq.queues_from_json(raw)
    import boto3

    sqs = boto3.client("sqs")
    if args.action == "list":
        selected = [dlq.find_queue(queues_by_name, args.queue)] if args.queue else list(queues_by_name.values())
        print(json.dumps([dlq.describe(sqs, queue) for queue in selected], indent=2))
        return 0
    if not args.queue:
        print("redrive needs a queue: " + ", ".join(sorted(queues_by_name)), file=sys.stderr)
        return 2
    print(json.dumps(dlq.redrive(sqs, dlq.find_queue(queues_by_name, args.queue)), indent=2))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from storywink.api.openapi import openapi_document

    return _generated_file(args, "openapi.json", openapi_document(), "storywink openapi --write")


def _frames_schema(args: argparse.Namespace) -> int:
    from storywink.realtime.frame_schema import SCHEMA_FILE, frames_schema_document

    return _generated_file(args, SCHEMA_FILE, frames_schema_document(), "storywink frames-schema --write")


def _generated_file(args: argparse.Namespace, name: str, document: str, regenerate: str) -> int:
    """Print a generated document, write it to its committed file, or check that file is current."""
    target = repo_root() / name
    if args.check:
        if not target.exists() or target.read_text() != document:
            print(f"{name} is out of date: run `{regenerate}`", file=sys.stderr)
            return 1
        print(f"{name} is current")
        return 0
    if args.write:
        target.write_text(document)
        print(f"wrote {target}")
        return 0
    sys.stdout.write(document)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from storywink.config import load_settings
    from storywink.db import migrate
    from storywink.db.engine import Database

    database = Database(load_settings())
    try:
        if args.down:
            migrate.downgrade_engine(database.engine, args.revision or "base")
        else:
            migrate.upgrade_engine(database.engine, args.revision or "head")
    finally:
        database.dispose()
    print("downgraded" if args.down else "upgraded")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="storywink", description="Storywink developer commands.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the local stack in the foreground")
    dev.add_argument("--port", type=int, default=8000, help="the API's (and its JWKS's) port (default 8000)")
    dev.add_argument("--moto-port", type=int, default=0, help="moto's port, where AWS calls go (default: a free port)")
    dev.add_argument("--websocket-port", type=int, default=0, help="the WebSocket gateway's port (default: a free port)")
    dev.add_argument(
        "--host", choices=LISTEN_ADDRESSES, default=LISTEN_ADDRESSES[0],
        help="listen on this machine only (default), or on every interface so that containers (sam local) reach the "
        "stack: so can any machine that reaches this one",
    )
    dev.add_argument("--user", default="dev-user", help="print a token for this user")
    dev.add_argument(
        "--faithful", action="store_true",
        help="cloud-faithful mode: the template's concurrency and timeouts, a container per worker, latency-only providers",
    )
    dev.add_argument("--time-scale", type=float, default=1.0, help="with --faithful: every countdown times this (e.g. 0.05)")
    dev.add_argument("--chaos-rate", type=float, default=0.0, help="fail this share of provider calls (0-1)")
    dev.add_argument("--chaos-kind", choices=["transient", "content-policy", "permanent"], default="transient")
    dev.add_argument("--chaos-seed", type=int, default=0)
    dev.add_argument("--chaos-latency-ms", type=int, default=0, help="add this latency to every provider call")
    dev.set_defaults(run=_dev)

    token = commands.add_parser("token", help="mint a bearer token the local stack accepts")
    token.add_argument("--user", required=True)
    token.add_argument("--plan", choices=["free", "premium"], default="free")
    token.add_argument("--admin", action="store_true")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    demo = commands.add_parser("demo", help="make a whole book from photos, as a real API client")
    demo.add_argument("--photos", type=Path, default=repo_root() / "samples" / "photos")
    demo.add_argument("--style", default="watercolor", help="watercolor | cartoon | pencil-sketch")
    demo.add_argument("--out", type=Path, default=Path("out") / "storywink-demo.pdf")
    demo.add_argument("--child", default="Maya", help="the child's name")
    demo.add_argument("--title", default=None)
    demo.set_defaults(run=_demo)

    dead_letters = commands.add_parser("dlq", help="list or redrive the step dead-letter queues")
    dead_letters.add_argument("action", choices=["list", "redrive"])
    dead_letters.add_argument(
        "queue", nargs="?", help="story | illustration | finalize | pdf | priority-story | priority-illustration"
    )
    dead_letters.set_defaults(run=_dlq)

    openapi = commands.add_parser("openapi", help="print, write or check the OpenAPI document")
    group = openapi.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    openapi.set_defaults(run=_openapi)

    frames = commands.add_parser("frames-schema", help="print, write or check the WebSocket frames' JSON Schema")
    group = frames.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    frames.set_defaults(run=_frames_schema)

    migrate = commands.add_parser("migrate", help="migrate the configured database (DATABASE_URL or DATABASE_SECRET_ARN)")
    migrate.add_argument("--down", action="store_true")
    migrate.add_argument("--revision")
    migrate.set_defaults(run=_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
