"""bench/read_scale.py runs whole on a small database and judges itself: no read answered wrongly and no hot
query scans books, pages, events or job runs sequentially (its exit code; its timings are never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(r"^read p95 ms: library [\d.]+ deep [\d.]+ book [\d.]+ status [\d.]+ notmodified [\d.]+$")


def test_a_small_read_scale_run_answers_every_read_and_scans_no_large_table_sequentially():
    run = subprocess.run(
        [sys.executable, "bench/read_scale.py", "--books", "2000", "--requests", "20", "--warmup", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert LAST_LINE.match(run.stdout.strip().splitlines()[-1]), output
    assert run.returncode == 0, output
