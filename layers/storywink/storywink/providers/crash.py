"""Crash injection for workers: simulates a Lambda container dying after a partial write.

Step code calls ``maybe_crash(point, key)`` right after a side effect. When ``CRASH_AT`` names
that point, the first ``CRASH_TIMES`` (default 1) calls for each key in this process raise
``InjectedCrash``; later calls pass. ``InjectedCrash`` is deliberately not a ``ProviderError``:
the runner treats it as a crash, so the message goes back to SQS and is redelivered.

Points:

- ``story.after_write``: the story step has written the pages' texts
- ``illustration.after_upload``: the illustration step has put the image in S3
- ``pdf.after_upload``: the PDF step has put the PDF in S3
"""

from __future__ import annotations

import os
import threading

CRASH_POINTS = frozenset({"story.after_write", "illustration.after_upload", "pdf.after_upload"})

_crashes: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


class InjectedCrash(RuntimeError):
    pass


def maybe_crash(point: str, key: str) -> None:
    if point not in CRASH_POINTS:
        raise ValueError(f"Unknown crash point {point!r}; known: {', '.join(sorted(CRASH_POINTS))}")
    target = os.environ.get("CRASH_AT", "").strip()
    if not target:
        return
    if target not in CRASH_POINTS:
        raise ValueError(f"CRASH_AT must be one of {', '.join(sorted(CRASH_POINTS))}, got {target!r}")
    if target != point:
        return
    times = _crash_times()
    with _lock:
        crashes = _crashes.get((point, key), 0)
        if crashes >= times:
            return
        _crashes[(point, key)] = crashes + 1
    raise InjectedCrash(f"crash: injected at {point} for {key} ({crashes + 1} of {times})")


def _crash_times() -> int:
    raw = os.environ.get("CRASH_TIMES", "").strip() or "1"
    try:
        times = int(raw)
    except ValueError:
        raise ValueError(f"CRASH_TIMES must be an integer, got {raw!r}") from None
    if times < 0:
        raise ValueError(f"CRASH_TIMES must not be negative, got {times}")
    return times
