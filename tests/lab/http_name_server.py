#!/usr/bin/python3
"""A real server for the netns lab: answers every GET (and HEAD) with its own name.

    http_name_server.py NAME [--bind 0.0.0.0] [--port 80] [--pidfile FILE]

The body is "NAME\n", so a client can tell which real server answered. Nothing is logged
per request. The pid file is written once the socket listens, so whoever started the
server can wait for it and later stop exactly this process. Standard library only.
"""

import argparse
import http.server
import os
import signal
import sys


class NameHandler(http.server.BaseHTTPRequestHandler):
    server_version = "ulvs-lab"
    sys_version = ""
    # HTTP/1.0: one request per connection, the server closes. Every curl is a new
    # connection, so every request is scheduled afresh by the load balancer.
    protocol_version = "HTTP/1.0"

    def _answer(self, with_body: bool) -> None:
        body = (self.server.name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # never per request


class NameServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, name: str):
        self.name = name
        super().__init__(address, NameHandler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--pidfile")
    args = parser.parse_args()

    server = NameServer((args.bind, args.port), args.name)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)

    # SIGTERM keeps its default action: the process ends at once, sockets and all.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
