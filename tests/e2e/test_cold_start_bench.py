"""bench/cold_start.py runs whole: every function of the template imported and invoked with its sample in a
fresh process, and both floors (its exit code and its closing line; its timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_one_cold_start_of_every_function_runs_and_the_summary_line_is_printed():
    run = subprocess.run(
        [sys.executable, "bench/cold_start.py", "--runs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1].startswith("worst worker ratio: "), run.stdout[-3000:]
