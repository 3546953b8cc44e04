// One worker wired as ulvsd wires it (the packet tests' rig) and the measurement loop of the
// forwarding benchmark: generated batches through process_burst and through the baseline, timed
// per burst with rte_rdtsc, mbufs recycled through one pool.
#pragma once

#include "harness.h"
#include "traffic.h"

#include <cstdint>
#include <string>
#include <vector>

struct rte_mempool;
struct rte_ring;

namespace ulvs::perf {

// EAL memory (MB) for a worker with a `max_conns` table, plus mbufs and the LPM.
unsigned eal_mem_mb(uint32_t max_conns);

const char* mode_name(fwd_mode m);

// One VIP:80 (traffic::vip) with four real servers 198.51.100.11-14 in `mode`, round robin,
// room for exactly `conns` connections.
std::string bench_config(fwd_mode mode, uint32_t conns);

// bench_config(nat) plus an SNAT rule for the real servers out of wan (issue 19, traffic.h).
std::string bench_snat_config(uint32_t conns);

// The benchmark's mbufs: enough for a batch in flight, with a per-lcore cache so recycling is
// cheap (and outside the timed region anyway).
rte_mempool* bench_pool();

struct run_result {
    uint64_t pkts = 0;
    uint64_t real_cycles = 0; // process_burst + expiry step
    uint64_t base_cycles = 0; // 5-tuple swap over the same packets
    // Per batch (1024 packets): cycles per packet of each. The rows report their medians: a
    // batch in which the shared machine took the core away stands out and is not counted, where
    // the sums would spread it over the run (on a quiet machine the two agree).
    std::vector<double> real_batch, base_batch;

    double real_cycles_per_pkt() const { return pkts ? double(real_cycles) / double(pkts) : 0; }
    double base_cycles_per_pkt() const { return pkts ? double(base_cycles) / double(pkts) : 0; }
};

class bench_run {
public:
    // `warm`: leave generated packets in the cache (default: flushed, as after a NIC's DMA).
    // `n_workers`: the rig's workers (measure() feeds worker 0 only; pmd_run.h feeds them all).
    bench_run(const config::config& cfg, rte_mempool* pool, bool warm = false,
              uint32_t n_workers = 1);

    ~bench_run();
    bool ok() const { return m_rig.ok(); }
    // Connection sync (issue 18; the config has `sync:` with a sending role, so the worker emits
    // records): the timed region also puts them on a ring to the control lcore, as
    // worker_loop.cc flush_stages does; the control lcore's draining is not timed. False: no ring.
    bool enable_sync();
    dp::worker_ctx& worker(uint32_t i = 0) { return m_rig.worker(i); }
    test::rig& rig() { return m_rig; }
    // The workers' clock (ms), advanced a millisecond per batch by whoever measures.
    uint64_t& clock() { return m_now; }

    // Packets [k0, k0 + count) of stream `s` (k0 and count multiples of traffic::burst).
    run_result measure(const traffic& t, stream_kind s, uint64_t k0, uint64_t count);

    // Everything the connection state costs (hash, entries, free list, timer wheel) divided by
    // the table's capacity.
    double bytes_per_conn();

    // False (and says why on stderr) when packets were dropped or went to the control lcore
    // since the last check (`to_ctrl_elsewhere`: those another loop saw), or the workers' tables
    // do not hold `conns` connections in all.
    bool check(uint32_t conns, const char* what, uint64_t to_ctrl_elsewhere = 0);

private:
    test::rig m_rig;
    uint32_t m_n_workers;
    rte_mempool* m_pool;
    bool m_warm;
    uint64_t m_now = 1000;
    uint64_t m_to_ctrl = 0;
    uint64_t m_drops_seen = 0;
    rte_ring* m_sync = nullptr;
};

} // namespace ulvs::perf
