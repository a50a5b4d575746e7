"""A moto server in a process of its own (the faithful mode's): the AWS side then has its own
interpreter and core instead of sharing the workers' (it runs the state machine engine, queues and
buckets for every worker at once).

    python -m storywink.local.moto_process --port 5000
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # moto's Wait states compare against the local clock
    time.tzset()
    os.environ["MOTO_PORT"] = str(args.port)  # the Step Functions engine calls SQS here
    from moto.server import ThreadedMotoServer

    from storywink.local.moto_patches import apply_moto_patches

    apply_moto_patches()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
