"""bench/scale.py runs whole in faithful mode and judges itself: nothing lost, no timeout retry, nothing
done twice, no more connections than the template allows (its exit code; its timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLOSING = ("books:", "timeout retries:", "duplicate effects:", "peak db connections:", "time to final (simulated s):", "cost per book (USD, excl. AI):")


def test_a_small_scale_run_loses_nothing_retries_nothing_and_stays_within_the_connection_bound():
    run = subprocess.run(
        [sys.executable, "bench/scale.py", "--books", "20", "--pages", "4", "--time-scale", "0.01"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    assert [line.split(":")[0] + ":" for line in lines[-6:]] == list(CLOSING), run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
