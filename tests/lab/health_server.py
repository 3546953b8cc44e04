#!/usr/bin/python3
"""A controllable real server for the health-check lab scenarios (tests/lab/health_*.sh).

    health_server.py NAME --port 9000 --mode-file FILE [--pidfile FILE]

Answers every GET with "NAME\\n" like http_name_server.py, but reads FILE (if it exists) at
each new connection to decide how to behave:
    ok      200 with the name (also when FILE is missing or empty)
    500     500 Internal Server Error
    hang    accept the connection and never answer (until the peer gives up)
Stopping the server (connection refused) is done by killing it (pid file) and starting it
again. Standard library only; nothing is logged per request.
"""

import argparse
import http.server
import os
import signal
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "ulvs-lab-health"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        mode = self.server.mode()
        if mode == "hang":
            # Hold the connection without a byte of answer; the checker must time out.
            time.sleep(3600)
            return
        code = 500 if mode == "500" else 200
        body = (self.server.name + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, name: str, mode_file: str):
        self.name = name
        self.mode_file = mode_file
        super().__init__(address, Handler)

    def mode(self) -> str:
        try:
            with open(self.mode_file) as f:
                return f.read().strip() or "ok"
        except OSError:
            return "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--mode-file", required=True)
    parser.add_argument("--pidfile")
    args = parser.parse_args()
    server = Server((args.bind, args.port), args.name, args.mode_file)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
