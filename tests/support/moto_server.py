"""A moto server for roster's tests, on 127.0.0.1 and a free port.

moto's DynamoDB conditional writes are not atomic under concurrent requests (measured:
two winners in 2 of 200 rounds of 20 racing `attribute_not_exists` puts), so this
launcher serialises DynamoDB requests with one lock; S3 and the rest stay concurrent.
That way the tests judge roster's use of conditional writes, not the emulator's races.

It prints `PORT <n>` once it listens, and exits when its standard input closes, so a
test process that dies never leaves a server behind.
"""

import argparse
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class SerialisedDynamoDB:
    """WSGI middleware taking one lock around every DynamoDB request."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            # Materialise the body inside the lock: the write happens while it is built.
            return list(self.app(environ, start_response))


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="do not watch standard input (for running by hand)",
    )
    arguments = parser.parse_args()

    app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1",
        arguments.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    os.environ["MOTO_PORT"] = str(server.port)
    print(f"PORT {server.port}", flush=True)
    if not arguments.keep_running:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
