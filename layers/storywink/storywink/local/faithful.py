"""The local stack's cloud-faithful mode: the template's numbers, on a faster clock.

`StackOptions(faithful=True, time_scale=F)` (or `storywink dev --faithful --time-scale F`):

- every duration the cloud counts down is the template's times F: SQS visibility timeouts, Lambda
  timeouts (an invocation over its timeout is abandoned, its batch left in flight), the state machine's
  task timeouts and retry intervals (rounded up to whole seconds, as the ASL requires), job leases, the
  crash redelivery delay and the schedules; the Lambda timeouts, visibility timeouts and leases never
  drop below REAL_TIME_FLOOR_SECONDS of real time (storywink.local.runtime);
- each function runs as many execution environments as its event source mappings' MaximumConcurrency
  (capped by ReservedConcurrentExecutions), each with its own container and connection pool of the
  configured size (one by default), as in Lambda;
- the AI providers are the latency-only `simulated` ones (story 10–30 s, illustration 5–25 s by default,
  times F), and the PDF layout takes what a real one measured here at start, times F, so what is
  measured is the orchestration, not image work on this machine;
- nothing is shortened by hand: a failed record comes back when its visibility ends.
"""

from __future__ import annotations

import math
from pathlib import Path

from storywink.config import Settings, load_settings
from storywink.local.resources import LocalResources
from storywink.local.runtime import REAL_TIME_FLOOR_SECONDS
from storywink.local.template import load_template
from storywink.wiring import Container

# Parameters that are durations the cloud counts down, by how the ASL or the settings take them.
WHOLE_SECONDS = ("TimeoutSeconds", "TransientRetryIntervalSeconds", "TransientRetryMaxDelaySeconds")
FRACTIONAL_SECONDS = ("JobLeaseSeconds",)
API_FUNCTION = "ApiFunction"


def scaled_whole_seconds(seconds: float, time_scale: float) -> int:
    return max(1, math.ceil(seconds * time_scale))


def faithful_parameters(template_path: Path, time_scale: float) -> dict[str, str]:
    """The template's own defaults for every duration parameter, times the time scale."""
    parameters = {"Environment": "dev", "AllowedOrigins": "*"}
    for name, spec in load_template(template_path).get("Parameters", {}).items():
        if "Default" not in spec:
            continue
        if name.endswith(WHOLE_SECONDS):
            parameters[name] = str(scaled_whole_seconds(float(spec["Default"]), time_scale))
        elif name in FRACTIONAL_SECONDS:
            parameters[name] = str(max(float(spec["Default"]) * time_scale, REAL_TIME_FLOOR_SECONDS))
    return parameters


def measured_pdf_seconds_per_page(pages: int = 12) -> float:
    """The real layout's time per page on this machine (small pictures: the layout, not the decoding)."""
    import io
    import time

    from PIL import Image

    from storywink.printing.book_pdf import PrintBook, PrintPage, render_book_pdf

    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 160, 120)).save(picture, "JPEG")
    book = PrintBook("A Measured Book", "Mia", picture.getvalue(), [PrintPage("Once upon a time.", picture.getvalue())] * pages)
    started = time.perf_counter()
    render_book_pdf(book)
    return (time.perf_counter() - started) / (pages + 1)


def faithful_environment(time_scale: float) -> dict[str, str]:
    defaults = Settings.model_fields
    return {
        "STORY_PROVIDER": "simulated",
        "ILLUSTRATION_PROVIDER": "simulated",
        "PDF_RENDERER": "simulated",
        "SIMULATED_PDF_SECONDS_PER_PAGE": f"{measured_pdf_seconds_per_page():.4f}",
        "SIMULATED_TIME_SCALE": str(time_scale),
        "CRASH_REDELIVERY_SECONDS": str(scaled_whole_seconds(defaults["crash_redelivery_seconds"].default, time_scale)),
        # One pool per execution environment, of the size a Lambda container has.
        "DATABASE_POOL_SIZE": str(defaults["database_pool_size"].default),
        "DATABASE_MAX_OVERFLOW": str(defaults["database_max_overflow"].default),
    }


def api_container(resources: LocalResources) -> Container:
    """The API serves from one process here, where the cloud runs up to its reserved concurrency of
    containers with one connection each: the same number of connections, in one pool."""
    settings = load_settings()
    # Capped so a burst cannot exhaust the embedded server (max_connections 100); requests beyond wait.
    connections = min(resources.reserved_concurrency.get(API_FUNCTION, 10), 20) * settings.database_pool_size
    return Container(settings.model_copy(update={"database_pool_size": connections, "database_max_overflow": 0}))
