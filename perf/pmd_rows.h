// The forwarding benchmark's PMD rows (pmd_run.h): `<mode>-pmd` for one worker beside its
// compute-only rows, their baselines `baseline-io-pmd` and `baseline-swap-pmd`, and the rows of
// several workers (`workers: 2`) for DR and two-arm NAT with replies.
#pragma once

#include "bench_run.h"
#include "pmd_run.h"
#include "rows.h"

#include <vector>

namespace ulvs::perf {

struct pmd_options {
    uint64_t pkts = 0;
    uint32_t repeat = 1;
    flow_dist dist = flow_dist::uniform;
    bool warm = false;
    std::vector<steering> steerings = {steering::owner_rss, steering::default_rss};
};

// One worker: established packets of `t` through `run`'s worker (its table already filled),
// appended to `rows`; with `with_baselines` the baseline rows too. False on unexpected drops.
bool pmd_rows_one_worker(bench_run& run, const pmd_ports& ports, rte_mempool* pool,
                         const traffic& t, fwd_mode mode, uint32_t conns, const pmd_options& o,
                         bool with_baselines, std::vector<row>& rows);

// Two workers on the two lcores: a new table pair filled by a handshake through the PMD path
// (row new-connections[-nat]-pmd), then established traffic per steering. `one_worker_mpps` is
// the `<mode>-pmd` row's of one worker (0: unknown) for the speedup field.
bool pmd_rows_two_workers(fwd_mode mode, uint32_t conns, const pmd_ports& ports, rte_mempool* pool,
                          const pmd_options& o, double one_worker_mpps, std::vector<row>& rows);

} // namespace ulvs::perf
