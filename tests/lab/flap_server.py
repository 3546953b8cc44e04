#!/usr/bin/python3
"""A TCP server whose health flaps: it listens for PERIOD, then refuses for PERIOD, and so on.

    flap_server.py --port 9100 [--period-ms 500] [--pidfile FILE]

While listening it accepts every connection and closes it at once (a tcp health check passes);
while not listening the kernel answers a SYN with RST (connection refused: the check fails).
Used by tests/lab/vrrp_takeover_unresolved.sh. Standard library only.
"""

import argparse
import os
import select
import socket
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--period-ms", type=int, default=500)
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    if args.pidfile:
        with open(args.pidfile, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
    period = args.period_ms / 1000.0
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", args.port))
        s.listen(64)
        end = time.monotonic() + period
        while (left := end - time.monotonic()) > 0:
            if select.select([s], [], [], left)[0]:
                conn, _ = s.accept()
                conn.close()
        s.close()
        time.sleep(period)


if __name__ == "__main__":
    main()
