"""The SQL a route really runs (captured from the API's own engine) and EXPLAIN (ANALYZE, BUFFERS) of it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

# A sequential scan of one of these (or of a partition of one) fails the bench: they grow with every book.
LARGE_TABLES = ("books", "pages", "book_events", "job_runs")
STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@dataclass
class Captured:
    statement: str
    parameters: Any
    routes: list[str] = field(default_factory=list)


class StatementRecorder:
    """Records every statement the engines send while `recording(route)` is open, once per distinct SQL."""

    def __init__(self, engines: list[Engine]) -> None:
        self.engines = list({id(engine): engine for engine in engines}.values())  # the reader may be the primary
        self.statements: dict[str, Captured] = {}
        self._route: str | None = None
        self._lock = threading.Lock()

    def _record(self, conn, cursor, statement: str, parameters: Any, context, executemany: bool) -> None:
        route = self._route
        if route is None or not statement.lstrip().upper().startswith(STATEMENTS):
            return
        with self._lock:
            captured = self.statements.setdefault(statement, Captured(statement, parameters))
            if route not in captured.routes:
                captured.routes.append(route)

    @contextmanager
    def recording(self, route: str) -> Iterator[None]:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        self._route = route
        try:
            yield
        finally:
            self._route = None
            for engine in self.engines:
                event.remove(engine, "before_cursor_execute", self._record)


@dataclass
class PlanNode:
    depth: int
    node_type: str
    relation: str | None
    index: str | None
    rows: int
    loops: int
    hit: int
    read: int
    ms: float


@dataclass
class Explained:
    captured: Captured
    nodes: list[PlanNode]
    execution_ms: float

    def sequential_scans(self) -> list[str]:
        return [
            node.relation
            for node in self.nodes
            if node.node_type == "Seq Scan" and node.relation
            and any(node.relation == t or node.relation.startswith(f"{t}_") for t in LARGE_TABLES)
        ]


def _walk(plan: dict[str, Any], depth: int = 0) -> Iterator[PlanNode]:
    yield PlanNode(
        depth,
        plan["Node Type"],
        plan.get("Relation Name"),
        plan.get("Index Name"),
        int(plan.get("Actual Rows", 0)),
        int(plan.get("Actual Loops", 1)),
        int(plan.get("Shared Hit Blocks", 0)),
        int(plan.get("Shared Read Blocks", 0)),
        float(plan.get("Actual Total Time", 0.0)),
    )
    for child in plan.get("Plans", []):
        yield from _walk(child, depth + 1)


def explain_all(engine: Engine, statements: list[Captured]) -> list[Explained]:
    """EXPLAIN (ANALYZE, BUFFERS) each statement with the parameters it ran with, in one transaction that is
    rolled back (the routes' writes, the user upsert and the rate-limit counter, change nothing)."""
    explained = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for captured in statements:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {captured.statement}", captured.parameters)
            document = cursor.fetchone()[0]
            top = (json.loads(document) if isinstance(document, str) else document)[0]
            explained.append(Explained(captured, list(_walk(top["Plan"])), float(top["Execution Time"])))
        raw.rollback()
    finally:
        raw.close()
    return explained


def one_line(statement: str, width: int = 150) -> str:
    flat = re.sub(r"\s+", " ", statement).strip()
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def print_plans(explained: list[Explained]) -> None:
    print("\nHot queries: EXPLAIN (ANALYZE, BUFFERS) with the parameters the routes ran them with")
    for item in explained:
        print(f"\n[{', '.join(item.captured.routes)}] {one_line(item.captured.statement)}")
        for node in item.nodes:
            target = f" on {node.relation}" if node.relation else ""
            using = f" using {node.index}" if node.index else ""
            loops = f" loops={node.loops}" if node.loops != 1 else ""
            print(
                f"  {'  ' * node.depth}{node.node_type}{using}{target}: rows={node.rows}{loops} "
                f"buffers hit={node.hit} read={node.read} time={node.ms:.3f} ms"
            )
        print(f"  execution {item.execution_ms:.3f} ms")
