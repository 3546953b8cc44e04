#!/usr/bin/env python3
"""Check build/bench.json (scripts/bench writes it; SPEC.md section 8, README "Tests"): the rows
and fields it must have, whatever the numbers are. Exit 0 when it does; otherwise print what is
wrong and exit 1.

    check_bench.py FILE [--workers N]

--workers: the most workers the run could use (the two-worker rows exist only with two CPUs);
default: this process's CPUs, at most 2.
"""
import argparse
import json
import math
import os
import sys

# Every row, as in issue 4, plus issue 17's fields.
FIELDS = {"workload": str, "conns": int, "mpps": float, "cycles_per_pkt": float,
          "ratio_vs_baseline": float, "baseline": str, "bytes_per_conn": float,
          "workers": int, "redirected": float}
ONE_WORKER = {"new-connections", "new-connections-nat", "new-connections-tun",
              "dr-established", "nat-established", "tun-established", "dr-mixed",
              "dr-pmd", "nat-pmd", "tun-pmd", "baseline-io-pmd", "baseline-swap-pmd",
              "snat-established"}
TWO_WORKERS = {"new-connections-pmd", "new-connections-nat-pmd", "dr-pmd", "nat-pmd",
               "baseline-io-pmd", "baseline-swap-pmd"}


def problems(rows, max_workers):
    if not isinstance(rows, list) or not rows:
        return ["empty benchmark result"]
    out = []
    for r in rows:
        name = r.get("workload")
        for k, t in FIELDS.items():
            if k not in r:
                out.append(f"{name}: no {k}")
                continue
            v = r[k]
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) if t is float \
                else isinstance(v, t) and not isinstance(v, bool)
            if not ok:
                out.append(f"{name}: {k} = {v!r}")
            elif t is float and not math.isfinite(v):
                out.append(f"{name}: {k} = {v}")
        if out:
            continue
        baseline_row = name.startswith("baseline-")
        for k in ("mpps", "cycles_per_pkt", "ratio_vs_baseline"):
            if r[k] <= 0:
                out.append(f"{name}: {k} = {r[k]}")
        if r["bytes_per_conn"] < 0 or (r["bytes_per_conn"] == 0 and not baseline_row):
            out.append(f"{name}: bytes_per_conn = {r['bytes_per_conn']}")
        if r["workers"] < 1:
            out.append(f"{name}: workers = {r['workers']}")
        if not 0 <= r["redirected"] <= 1:
            out.append(f"{name}: redirected = {r['redirected']}")
        if r["workers"] == 1 and r["redirected"] != 0:
            out.append(f"{name}: one worker, yet redirected = {r['redirected']}")
        if name.startswith("new-connections"):
            v = r.get("conns_per_s")
            if not isinstance(v, int) or v <= 0:
                out.append(f"{name}: conns_per_s = {v!r}")
        if name.endswith("-pmd") and not baseline_row and r["workers"] == 1 \
                and r["baseline"] != "baseline-io-pmd":
            out.append(f"{name}: ratio against {r['baseline']}, not baseline-io-pmd")
        if r["workers"] == 2 and name in ("dr-pmd", "nat-pmd"):
            rss = r.get("rss")
            # perf's RSS steers every packet to its owner; a default RSS does not.
            if rss == "owner" and r["redirected"] != 0:
                out.append(f"{name}, 2 workers, owner RSS: redirected = {r['redirected']}")
            elif rss == "default" and not 0.3 < r["redirected"] < 0.7:
                out.append(f"{name}, 2 workers, default RSS: redirected = {r['redirected']}")
            elif rss not in ("owner", "default"):
                out.append(f"{name}, 2 workers: rss = {rss!r}")
    if out:
        return out
    have = {(r["workload"], r["workers"]) for r in rows}
    want = {(w, 1) for w in ONE_WORKER}
    if max_workers >= 2:
        want |= {(w, 2) for w in TWO_WORKERS}
    missing = sorted(want - have)
    if missing:
        out.append("missing rows (workload, workers): " + ", ".join(map(str, missing)))
    rss = {r.get("rss") for r in rows if r["workers"] == 2 and r["workload"] == "dr-pmd"}
    if max_workers >= 2 and "owner" not in rss:
        out.append("no two-worker dr-pmd row with owner RSS")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--workers", type=int, default=min(2, len(os.sched_getaffinity(0))))
    a = ap.parse_args()
    with open(a.file) as f:
        rows = json.load(f)
    bad = problems(rows, a.workers)
    for p in bad:
        print(f"bench.json: {p}", file=sys.stderr)
    if bad:
        return 1
    print(f"bench: {len(rows)} results in {a.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
