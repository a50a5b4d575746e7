"""One cold start, run by bench/cold_start.py in a fresh process: import a handler module from its
CodeUri (as the Lambda runtime does), call the handler once with an event, and write how long each took.

    python bench/_invoke_once.py CODE_URI MODULE.FUNCTION FUNCTION_NAME EVENT_FILE RESULT_FILE

An EVENT_FILE of "-" imports the module only.
"""

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from storywink.local.lambda_runtime import LocalLambdaContext


def main() -> int:
    code_uri, handler, function_name, event_file, result_file = sys.argv[1:6]
    event = None if event_file == "-" else json.loads(Path(event_file).read_text())
    module_name, _, attribute = handler.rpartition(".")
    sys.path.insert(0, code_uri)
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    result = {"import_ms": (imported - started) * 1000, "first_invoke_ms": None, "response": None, "error": None}
    if event is not None:
        try:
            result["response"] = getattr(module, attribute)(event, LocalLambdaContext(function_name))
        except Exception:  # noqa: BLE001 - reported to the bench, which fails the run
            result["error"] = traceback.format_exc()
        result["first_invoke_ms"] = (time.perf_counter() - imported) * 1000
    Path(result_file).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    code = main()
    # Lambda freezes a container after its invocation and never tears it down: neither does this process
    # (finalizing a few hundred thousand objects takes longer than the bench's own work on them).
    sys.stdout.flush()
    os._exit(code)
