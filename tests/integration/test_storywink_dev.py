"""`storywink dev` listens where its flags say and uses the PostgreSQL server DATABASE_URL names, as the
sam local recipe (README) runs it. The stack runs in a process of its own: moto keeps its state per process,
and the session's moto server and e2e stack must not see this stack's queues."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy import create_engine, inspect

from storywink.db.tables import Base

# `storywink dev` with its options built as the command builds them; only the state directory is the test's
# own (a developer's running stack keeps its stack.json).
DEV = """
import dataclasses, pathlib, sys
from storywink.local.cli import build_parser, dev_options, run_in_foreground

args = build_parser().parse_args(["dev", *sys.argv[2:]])
sys.exit(run_in_foreground(dataclasses.replace(dev_options(args), state_dir=pathlib.Path(sys.argv[1])), args.user))
"""
DATABASE = f"storywink_dev_{os.getpid()}"


@pytest.fixture
def separate_database(embedded_postgres) -> Iterator[str]:
    """A database of the session's embedded PostgreSQL that no other test uses, empty."""
    yield embedded_postgres.create_database(DATABASE, recreate=True)
    embedded_postgres.drop_database(DATABASE)


def storywink_dev(state_dir: Path, database_url: str, *flags: str) -> subprocess.Popen[bytes]:
    environment = {name: value for name, value in os.environ.items() if name != "AWS_ENDPOINT_URL"}
    environment |= {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    with log_of(state_dir).open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", DEV, str(state_dir), *flags], env=environment, stdout=log, stderr=subprocess.STDOUT
        )


def log_of(state_dir: Path) -> Path:
    return state_dir.parent / f"{state_dir.name}.log"


def output_of(state_dir: Path) -> str:
    return log_of(state_dir).read_text(errors="replace")[-3000:]


def wait_until_up(process: subprocess.Popen[bytes], api_port: int, state_dir: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, output_of(state_dir)
        assert time.monotonic() < deadline, output_of(state_dir)
        time.sleep(0.25)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_the_stack_listens_on_the_ports_given_and_uses_the_database_url_migrated(tmp_path, free_ports, separate_database):
    api, moto, websocket = free_ports(), free_ports(), free_ports()
    state_dir = tmp_path / "dev"
    process = storywink_dev(
        state_dir, separate_database,
        "--port", str(api), "--moto-port", str(moto), "--websocket-port", str(websocket), "--host", "127.0.0.1",
    )
    try:
        wait_until_up(process, api, state_dir)

        sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{moto}", region_name="us-east-1")
        assert any(url.endswith("/storywink-local-StoryQueue") for url in sqs.list_queues()["QueueUrls"])
        gone = httpx.post(f"http://127.0.0.1:{websocket}/@connections/nobody", content=b"{}")
        assert (gone.status_code, gone.json()["__type"]) == (410, "GoneException")
        assert httpx.get(f"http://127.0.0.1:{api}/.well-known/jwks.json").json()["keys"]
        assert set(Base.metadata.tables) <= table_names(separate_database)
        assert not (state_dir / "pg").exists()  # the embedded PostgreSQL never started
    finally:
        assert stop(process) == 0, output_of(state_dir)


def test_a_moto_port_already_taken_fails_the_start_at_once_and_leaves_the_running_stacks_file(
    tmp_path, free_ports, separate_database
):
    state_dir = tmp_path / "dev"
    state_dir.mkdir()
    running = state_dir / "stack.json"
    running.write_text('{"apiUrl": "http://127.0.0.1:8000"}')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = storywink_dev(state_dir, separate_database, "--port", str(free_ports()), "--moto-port", str(port))
        try:
            returncode = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                stop(process)

    assert returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in output_of(state_dir)
    assert running.exists()
