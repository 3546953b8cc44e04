#!/usr/bin/python3
"""Long-lived TCP sessions for the connection sync scenarios (tests/lab/sync_*.sh).

    sync_stream.py serve NAME PORT PIDFILE
        A real server: on every connection it sends "NAME\\n", then echoes each line back.
    sync_stream.py clients HOST:PORT N STATEFILE STOPFILE [--interval S] [--limit S]
        N interactive sessions to HOST:PORT. Each sends a numbered line every S seconds
        (default 0.1) and checks that the echoes come back complete and in order. STATEFILE
        is rewritten (JSON) every 200 ms with each session's server, lines sent and echoed,
        and error. Once STOPFILE exists the sessions stop sending, wait (at most --limit
        seconds, default 20) for the echoes still due, and close. Exit 0 when no session saw
        a reset, an early close, a wrong or missing byte; 1 otherwise.

A failover the sessions do not notice is exactly that: TCP retransmits what was sent while no
director forwarded, and the stream goes on where it stopped. Standard library only.
"""

import json
import os
import selectors
import socket
import socketserver
import sys
import time


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock = self.request
        sock.sendall((self.server.name + "\n").encode())
        while True:
            data = sock.recv(4096)
            if not data:
                return
            sock.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(name: str, port: int, pidfile: str) -> None:
    srv = Server(("0.0.0.0", port), Echo)
    srv.name = name
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(pidfile + ".tmp", pidfile)
    srv.serve_forever()


class Session:
    def __init__(self, idx: int, host: str, port: int) -> None:
        self.idx = idx
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.setblocking(False)
        self.name = ""
        self.buf = b""
        self.sent = 0
        self.echoed = 0
        self.error = ""

    def line(self, seq: int) -> bytes:
        return f"s{self.idx} {seq}\n".encode()

    def send_next(self) -> None:
        try:
            self.sock.send(self.line(self.sent))  # 10 bytes: the socket buffer never fills
            self.sent += 1
        except BlockingIOError:
            pass
        except OSError as e:
            self.error = self.error or f"send: {e}"

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            self.error = self.error or f"recv: {e}"
            return
        if not data:
            self.error = self.error or "closed by the peer"
            return
        self.buf += data
        while b"\n" in self.buf:
            got, self.buf = self.buf.split(b"\n", 1)
            if not self.name:
                self.name = got.decode(errors="replace")
                continue
            want = self.line(self.echoed).rstrip(b"\n")
            if got != want:
                self.error = self.error or f"echo {got!r}, expected {want!r}"
                return
            self.echoed += 1

    def state(self) -> dict:
        return {"server": self.name, "sent": self.sent, "echoed": self.echoed,
                "error": self.error}


def write_state(path: str, sessions: list) -> None:
    with open(path + ".tmp", "w") as f:
        json.dump([s.state() for s in sessions], f)
    os.rename(path + ".tmp", path)


def clients(target: str, n: int, statefile: str, stopfile: str, interval: float,
            limit: float) -> int:
    host, port = target.rsplit(":", 1)
    sessions = [Session(i, host, int(port)) for i in range(n)]
    sel = selectors.DefaultSelector()
    for s in sessions:
        sel.register(s.sock, selectors.EVENT_READ, s)
    next_send = time.monotonic()
    next_state = 0.0
    stop_at = None
    while True:
        now = time.monotonic()
        if stop_at is None and os.path.exists(stopfile):
            stop_at = now
        if stop_at is None and now >= next_send:
            for s in sessions:
                if not s.error:
                    s.send_next()
            next_send += interval
        for key, _ in sel.select(timeout=0.02):
            key.data.on_readable()
        if now >= next_state:
            write_state(statefile, sessions)
            next_state = now + 0.2
        if stop_at is not None:
            done = all(s.error or s.echoed == s.sent for s in sessions)
            if done or now - stop_at > limit:
                break
    write_state(statefile, sessions)
    bad = 0
    for s in sessions:
        if not s.error and s.echoed != s.sent:
            s.error = f"{s.sent - s.echoed} lines never echoed"
        if s.error:
            bad += 1
            print(f"session {s.idx} ({s.name}): {s.error}", file=sys.stderr)
        s.sock.close()
    print(f"{n - bad} of {n} sessions whole: "
          f"{sum(s.echoed for s in sessions)} lines echoed in order")
    return 1 if bad else 0


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "serve":
        serve(args[1], int(args[2]), args[3])
        return 0
    if len(args) >= 5 and args[0] == "clients":
        opts = {"--interval": 0.1, "--limit": 20.0}
        rest = args[5:]
        while len(rest) >= 2 and rest[0] in opts:
            opts[rest[0]] = float(rest[1])
            rest = rest[2:]
        if not rest:
            return clients(args[1], int(args[2]), args[3], args[4], opts["--interval"],
                           opts["--limit"])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
