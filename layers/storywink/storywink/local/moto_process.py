"""A moto server in a process of its own (the faithful mode's): the AWS side then has its own
interpreter and core instead of sharing the workers' (it runs the state machine engine, queues and
buckets for every worker at once).

    python -m storywink.local.moto_process --port 5000 [--host 0.0.0.0]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time

# Where moto, and with it the whole local stack, listens: this machine only, or every interface too (so
# that containers reach it); either way this machine reaches it at 127.0.0.1. Nothing else: moto's Step
# Functions engine calls back to localhost:$MOTO_PORT.
LISTEN_ADDRESSES = ("127.0.0.1", "0.0.0.0")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", choices=LISTEN_ADDRESSES, default=LISTEN_ADDRESSES[0])
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # moto's Wait states compare against the local clock
    time.tzset()
    os.environ["MOTO_PORT"] = str(args.port)  # the Step Functions engine calls SQS here
    from moto.server import ThreadedMotoServer

    from storywink.local.moto_patches import apply_moto_patches

    apply_moto_patches()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
