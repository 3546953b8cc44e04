#!/usr/bin/python3
"""Run the packet-table cases end to end through ulvsd with net_pcap vdevs.

    run_e2e.py --ulvsd PATH --cases OUTDIR [--gen] [--case NAME ...] [--timeout S]

For each case (OUTDIR/cases.txt, or every folder with an expect.txt) runs `ulvsd -c
OUTDIR/<case>/config.yaml --exit-idle 300ms --log-level info` (the idle time can be changed with
ULVS_E2E_IDLE), then compares out_<port>.pcap with expected_<port>.pcap byte for byte (in order,
or as multisets, per expect.txt) and the drop counters of the `counters:` line ulvsd logs at
clean exit with the expected ones (absent = 0), and checks the `expect_counter` minimums. Multi-
worker cases (`workers N`) write one out_<port>_q<i>.pcap per TX queue: their frames together
are compared.
--gen first (re)generates the cases into OUTDIR with gen.py.
Prints PASS/FAIL per case and "N passed, M failed"; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import time

IDLE = os.environ.get("ULVS_E2E_IDLE", "300ms")

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402


def read_expect(path: str) -> dict:
    exp = {"description": "", "order": {}, "drops": {}, "workers": 1, "min_counters": {}}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            words = rest.split()
            if key == "description":
                exp["description"] = rest.strip()
            elif key == "order" and len(words) == 2 and words[1] in ("exact", "set"):
                exp["order"][words[0]] = words[1]
            elif key == "drop" and len(words) == 2 and words[1].isdigit():
                exp["drops"][words[0]] = int(words[1])
            elif key == "workers" and len(words) == 1 and words[0].isdigit() and int(words[0]):
                exp["workers"] = int(words[0])
            elif key == "expect_counter" and len(words) == 2 and words[1].isdigit():
                exp["min_counters"][words[0]] = int(words[1])
            else:
                raise ValueError(f"{path}:{n}: bad line: {line!r}")
    return exp


def parse_counters(stderr: str) -> dict[str, int] | None:
    """key=value pairs of the last log line holding `counters:` (None when there is none)."""
    found = None
    for line in stderr.splitlines():
        idx = line.find("counters:")
        if idx >= 0:
            found = line[idx + len("counters:"):]
    if found is None:
        return None
    counters = {}
    for word in found.split():
        m = re.fullmatch(r"([\w.]+)=(\d+)", word)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return counters


def describe(frame: bytes) -> str:
    try:
        from scapy.all import Ether  # type: ignore

        e = Ether(frame)
        return f"{len(frame)}B {e.src} > {e.dst} | {e.summary()}"
    except Exception:  # scapy cannot dissect some malformed frames
        return f"{len(frame)}B (undissectable) {frame[:32].hex()}"


def hexdiff(a: bytes, b: bytes) -> str:
    """Side-by-side 16-byte rows of got/want, marking rows that differ."""
    out = []
    for off in range(0, max(len(a), len(b)), 16):
        ra, rb = a[off:off + 16], b[off:off + 16]
        mark = "  " if ra == rb else "!!"
        out.append(f"    {mark} {off:04x}  got {ra.hex(' '):47}  want {rb.hex(' ')}")
    return "\n".join(out)


def compare_port(port: str, got: list[bytes], want: list[bytes], order: str) -> list[str]:
    errors = []
    if order == "set":
        cg, cw = collections.Counter(got), collections.Counter(want)
        if cg == cw:
            return []
        extra, missing = list((cg - cw).elements()), list((cw - cg).elements())
        errors.append(f"{port}: {len(got)} frames out, {len(want)} expected (as a set): "
                      f"{len(extra)} unexpected, {len(missing)} missing")
        for f in extra[:3]:
            errors.append(f"  unexpected: {describe(f)}")
        for f in missing[:3]:
            errors.append(f"  missing:    {describe(f)}")
        if extra and missing:
            errors.append(hexdiff(extra[0], missing[0]))
        return errors
    if got == want:
        return []
    errors.append(f"{port}: {len(got)} frames out, {len(want)} expected (in order)")
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g != w:
            errors.append(f"  first difference at frame #{i}:")
            errors.append(f"    got:  {describe(g) if g is not None else '(none)'}")
            errors.append(f"    want: {describe(w) if w is not None else '(none)'}")
            if g is not None and w is not None:
                errors.append(hexdiff(g, w))
            break
    return errors


def run_case(ulvsd: str, case_dir: str, timeout: float) -> list[str]:
    exp = read_expect(os.path.join(case_dir, "expect.txt"))
    ports = list(exp["order"])
    outs = {port: out_files(port, exp["workers"]) for port in ports}
    for port in ports:
        for name in outs[port]:
            try:
                os.remove(os.path.join(case_dir, name))
            except FileNotFoundError:
                pass
    cmd = [ulvsd, "-c", os.path.join(case_dir, "config.yaml"), "--exit-idle", IDLE,
           "--log-level", "info"]
    try:
        proc = subprocess.run(cmd, cwd=case_dir, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        with open(os.path.join(case_dir, "ulvsd.log"), "w") as f:
            f.write(stderr or "")
        return [f"ulvsd did not exit within {timeout:g} s (log: {case_dir}/ulvsd.log)"]
    with open(os.path.join(case_dir, "ulvsd.log"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    errors = []
    if proc.returncode != 0:
        tail = "\n".join("    " + s for s in proc.stderr.splitlines()[-15:])
        errors.append(f"ulvsd exited with {proc.returncode}; stderr tail:\n{tail}")

    for port in ports:
        got, ok = [], True
        for q, name in enumerate(outs[port]):
            out = os.path.join(case_dir, name)
            if not os.path.exists(out):
                # The control lcore's TX queue (the last) may be left unconfigured.
                if q < exp["workers"]:
                    errors.append(f"{port}: {out} was not written")
                    ok = False
                continue
            try:
                got += gen.read_pcap(out)
            except ValueError as e:
                errors.append(str(e))
                ok = False
        if not ok:
            continue
        want = gen.read_pcap(os.path.join(case_dir, f"expected_{port}.pcap"))
        errors += compare_port(port, got, want, exp["order"][port])

    counters = parse_counters(proc.stderr)
    if counters is None:
        errors.append("no 'counters:' line in ulvsd's stderr")
    else:
        got_drops = {k[len("drop."):]: v for k, v in counters.items()
                     if k.startswith("drop.") and v}
        if got_drops != exp["drops"]:
            for r in sorted(set(got_drops) | set(exp["drops"])):
                g, w = got_drops.get(r, 0), exp["drops"].get(r, 0)
                if g != w:
                    errors.append(f"drop.{r}: got {g}, want {w}")
        for name, least in sorted(exp["min_counters"].items()):
            if name not in counters:
                errors.append(f"counter {name}: not in the 'counters:' line, want >= {least}")
            elif counters[name] < least:
                errors.append(f"counter {name}: got {counters[name]}, want >= {least}")
    return errors


def out_files(port: str, workers: int) -> list[str]:
    """The pcap files a port's TX queues write (see gen.py)."""
    if workers == 1:
        return [f"out_{port}.pcap"]
    return [f"out_{port}_q{q}.pcap" for q in range(workers + 1)]


def case_names(cases_dir: str) -> list[str]:
    index = os.path.join(cases_dir, "cases.txt")
    if os.path.exists(index):
        with open(index) as f:
            return [s.strip() for s in f if s.strip()]
    return sorted(d for d in os.listdir(cases_dir)
                  if os.path.exists(os.path.join(cases_dir, d, "expect.txt")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ulvsd", required=True, help="path of the ulvsd executable")
    ap.add_argument("--cases", required=True, help="folder of generated cases")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--gen", action="store_true", help="generate the cases into --cases first")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per ulvsd run")
    args = ap.parse_args()

    cases_dir = os.path.abspath(args.cases)
    ulvsd = os.path.abspath(args.ulvsd)  # ulvsd runs in the case folder; meson passes it relative
    if args.gen:
        gen.generate(cases_dir)
    names = case_names(cases_dir)
    if args.case:
        unknown = set(args.case) - set(names)
        if unknown:
            print(f"run_e2e: unknown case(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        names = [n for n in names if n in args.case]
    if not os.access(ulvsd, os.X_OK):
        print(f"run_e2e: {ulvsd} is not an executable", file=sys.stderr)
        return 2

    passed = failed = 0
    for name in names:
        case_dir = os.path.join(cases_dir, name)
        start = time.monotonic()
        try:
            errors = run_case(ulvsd, case_dir, args.timeout)
        except (OSError, ValueError) as e:
            errors = [f"runner error: {e}"]
        took = time.monotonic() - start
        if errors:
            failed += 1
            print(f"FAIL {name} ({took:.1f}s): {read_expect_quiet(case_dir)}")
            for e in errors:
                print("  " + e.replace("\n", "\n  "))
        else:
            passed += 1
            print(f"PASS {name} ({took:.1f}s)")
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not names else 0


def read_expect_quiet(case_dir: str) -> str:
    try:
        return read_expect(os.path.join(case_dir, "expect.txt"))["description"]
    except (OSError, ValueError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
