"""An embedded PostgreSQL 16 (pgserver) for development and tests, reached by pg8000 over its unix socket."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    server: object

    def url(self, database: str = "postgres") -> str:
        socket_dir = self.server.get_postmaster_info().socket_dir or self.pgdata  # type: ignore[attr-defined]
        return f"postgresql+pg8000://postgres@/{database}?unix_sock={socket_dir}/.s.PGSQL.5432"

    def create_database(self, name: str, *, recreate: bool = False) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
                if exists and recreate:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                    exists = False
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.server.cleanup()  # type: ignore[attr-defined]


def start_embedded_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start (or join) the embedded server whose data lives in ``pgdata``; it stops when this process exits."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver then uses /tmp, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_owners(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return EmbeddedPostgres(pgdata=pgdata, server=server)


def _forget_dead_owners(pgdata: Path) -> None:
    """pgserver stops the server when its last owner process exits. An owner that was killed never
    deregisters, so the server would outlive every later run: drop owners that no longer exist."""
    owners_file = pgdata / ".handle_pids.json"
    if not owners_file.exists():
        return
    try:
        owners = json.loads(owners_file.read_text() or "[]")
    except ValueError:
        owners = []
    alive = [pid for pid in owners if _process_exists(pid)]
    if alive != owners:
        owners_file.write_text(json.dumps(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
