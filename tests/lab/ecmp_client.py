#!/usr/bin/python3
"""Client and echo server of the ECMP lab scenario (tests/lab/ecmp_bgp.sh).

    ecmp_client.py echo-server [--port 7000] [--pidfile FILE]
        (in each real server) echo every line back, on every address (the DR VIP on lo too);
    ecmp_client.py requests VIP COUNT
        COUNT HTTP/1.0 GETs to VIP:80, each on a new connection (new source port); prints
        "ok N failed M" and the servers' names; exit 0 only when every request succeeded;
    ecmp_client.py hold VIP PORT CONNS STOPFILE
        CONNS long-lived connections to VIP:PORT, each sending a line every 50 ms and
        expecting it back within 3 s, until STOPFILE exists; prints "conns N rounds R
        failures F"; exit 0 only when no connection failed.

Standard library only; nothing is logged per request.
"""

import os
import socket
import socketserver
import sys
import threading
import time


class Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def echo_server(args: list) -> int:
    port = int(args[args.index("--port") + 1]) if "--port" in args else 7000
    with Server(("0.0.0.0", port), Echo) as srv:
        if "--pidfile" in args:
            with open(args[args.index("--pidfile") + 1], "w") as f:
                f.write(f"{os.getpid()}\n")
        srv.serve_forever()
    return 0


def one_request(vip: str) -> str:
    with socket.create_connection((vip, 80), timeout=2) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: ecmp\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise OSError("answer: " + head[:40].decode(errors="replace"))
    return body.decode().strip()


def requests(vip: str, count: int) -> int:
    ok, failed, names = 0, 0, {}
    for _ in range(count):
        try:
            name = one_request(vip)
            names[name] = names.get(name, 0) + 1
            ok += 1
        except OSError as e:
            failed += 1
            print(f"request failed: {e}", file=sys.stderr)
    print(f"ok {ok} failed {failed} servers {sorted(names.items())}")
    return 0 if failed == 0 else 1


def hold(vip: str, port: int, conns: int, stop_file: str) -> int:
    stats = {"rounds": 0, "failures": 0}
    lock = threading.Lock()
    ready = threading.Barrier(conns + 1)

    def run(i: int) -> None:
        try:
            s = socket.create_connection((vip, port), timeout=3)
        except OSError as e:
            print(f"conn {i}: connect: {e}", file=sys.stderr)
            with lock:
                stats["failures"] += 1
            ready.wait()
            return
        ready.wait()
        f = s.makefile("rwb")
        n = 0
        try:
            while not os.path.exists(stop_file):
                line = f"conn {i} line {n}\n".encode()
                f.write(line)
                f.flush()
                if f.readline() != line:
                    raise OSError("wrong or no echo")
                n += 1
                with lock:
                    stats["rounds"] += 1
                time.sleep(0.05)
        except OSError as e:
            print(f"conn {i}: failed after {n} lines: {e}", file=sys.stderr)
            with lock:
                stats["failures"] += 1
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    ready.wait()
    print("connected", flush=True)
    for t in threads:
        t.join()
    print(f"conns {conns} rounds {stats['rounds']} failures {stats['failures']}")
    return 0 if stats["failures"] == 0 else 1


def main() -> int:
    a = sys.argv[1:]
    if a and a[0] == "echo-server":
        return echo_server(a[1:])
    if len(a) == 3 and a[0] == "requests":
        return requests(a[1], int(a[2]))
    if len(a) == 5 and a[0] == "hold":
        return hold(a[1], int(a[2]), int(a[3]), a[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
