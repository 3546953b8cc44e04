#!/usr/bin/env python3
"""check_bench.py must refuse a bench.json without issue 17's rows and fields (and accept one
with them): the check scripts/bench runs after every run, --quick included."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_bench  # noqa: E402


def row(workload, workers=1, **kw):
    r = {"workload": workload, "conns": 65536, "mpps": 10.0, "cycles_per_pkt": 200.0,
         "ratio_vs_baseline": 0.3, "baseline": "swap", "bytes_per_conn": 101.6,
         "workers": workers, "redirected": 0.0}
    if workload.startswith("new-connections"):
        r["conns_per_s"] = 5000000
    if workload.startswith("baseline-"):
        r["bytes_per_conn"] = 0.0
    if workload.endswith("-pmd"):
        r["baseline"] = "baseline-io-pmd"
    r.update(kw)
    return r


def good():
    rows = [row(w) for w in sorted(check_bench.ONE_WORKER)]
    rows += [row(w, 2) for w in sorted(check_bench.TWO_WORKERS - {"dr-pmd", "nat-pmd"})]
    for w in ("dr-pmd", "nat-pmd"):
        rows.append(row(w, 2, rss="owner"))
        rows.append(row(w, 2, rss="default", redirected=0.5))
    return rows


def without(rows, workload, workers):
    return [r for r in rows if (r["workload"], r["workers"]) != (workload, workers)]


class CheckBench(unittest.TestCase):
    def test_complete_result_passes(self):
        self.assertEqual(check_bench.problems(good(), 2), [])

    def test_missing_rows_fail(self):
        for w, n in [("dr-pmd", 1), ("baseline-io-pmd", 1), ("baseline-swap-pmd", 1),
                     ("tun-pmd", 1), ("dr-mixed", 1), ("new-connections-pmd", 2)]:
            self.assertNotEqual(check_bench.problems(without(good(), w, n), 2), [], (w, n))
        rows = [r for r in good() if not (r["workers"] == 2 and r.get("rss") == "owner")]
        self.assertNotEqual(check_bench.problems(rows, 2), [])

    def test_two_worker_rows_only_with_two_cpus(self):
        rows = [r for r in good() if r["workers"] == 1]
        self.assertEqual(check_bench.problems(rows, 1), [])
        self.assertNotEqual(check_bench.problems(rows, 2), [])

    def test_missing_fields_fail(self):
        for k in ("workers", "redirected", "baseline", "mpps", "bytes_per_conn"):
            rows = good()
            del rows[3][k]
            self.assertNotEqual(check_bench.problems(rows, 2), [], k)
        rows = good()
        del next(r for r in rows if r["workload"] == "new-connections")["conns_per_s"]
        self.assertNotEqual(check_bench.problems(rows, 2), [])

    def test_redirected_must_match_the_steering(self):
        for rss, frac in [("owner", 0.01), ("default", 0.0)]:
            rows = good()
            next(r for r in rows if r["workers"] == 2 and r.get("rss") == rss)["redirected"] = frac
            self.assertNotEqual(check_bench.problems(rows, 2), [], rss)
        rows = good()
        rows[0]["redirected"] = 0.2  # one worker has no ring to cross
        self.assertNotEqual(check_bench.problems(rows, 2), [])

    def test_pmd_ratio_is_against_io(self):
        rows = copy.deepcopy(good())
        next(r for r in rows if r["workload"] == "dr-pmd")["baseline"] = "swap"
        self.assertNotEqual(check_bench.problems(rows, 2), [])


if __name__ == "__main__":
    unittest.main()
