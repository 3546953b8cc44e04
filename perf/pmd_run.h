// The forwarding benchmark through real PMD bursts (issue 17): rx_burst -> burst function ->
// tx_burst, the worker loop's shape (worker_loop.cc), on vdevs:
//  - RX: net_ring devices (rte_eth_from_rings) over rings of ours, one RX queue per worker, which
//    the generator fills before a round, each packet on the queue the NIC's RSS would choose
//    (steer.h);
//  - TX: net_null devices, one TX queue per worker: tx_burst takes the mbufs and the driver
//    frees them, as a NIC's TX completion does.
// The same rounds of packets go through the burst function, then through testpmd's io forwarding
// (rx_burst, tx_burst) and a 5-tuple swap (baseline.h) on the same vdevs, each timed alone.
//
// Several workers: worker i runs on lcore i (worker 0 on the main lcore; no control lcore runs),
// drains the redirect rings from the others as worker_main does, and a round ends when every
// worker's RX queues and incoming rings are empty. A round's time is from the workers' common
// start (a barrier) to the last one's end, so Mpps is the aggregate rate.
#pragma once

#include "harness.h"
#include "steer.h"
#include "traffic.h"

#include "ulvs/dataplane/fwd/worker_loop.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

struct rte_mempool;
struct rte_ring;

namespace ulvs::perf {

constexpr uint16_t pmd_max_workers = 2;
constexpr uint8_t pmd_ports_n = 2; // the benchmark config's wan and lan

struct pmd_ports {
    std::array<uint16_t, pmd_ports_n> rx_port{}; // net_ring
    std::array<uint16_t, pmd_ports_n> tx_port{}; // net_null
    std::array<std::array<rte_ring*, pmd_max_workers>, pmd_ports_n> rx_ring{};
};

// Create and start the vdevs (once per process), pmd_max_workers queues each. False with `err`.
bool open_pmd_ports(pmd_ports& p, rte_mempool* pool, std::string& err);

struct pmd_result {
    uint64_t pkts = 0;
    uint64_t real = 0, io = 0, swap = 0; // wall-clock cycles of the rounds
    uint64_t redirected = 0;
    // Per round: wall-clock cycles per packet of each. Their medians are what the rows report: a
    // round in which the shared machine took a worker's core away stands out and is not counted,
    // where a sum would spread it over the run (on a quiet machine the two agree).
    std::vector<double> real_round, io_round, swap_round;
};

class pmd_bench {
public:
    // Workers 0..n_workers-1 of `rig` on queues 0..n_workers-1; `now` is the rig's clock (ms),
    // advanced a millisecond per round as bench_run does.
    pmd_bench(test::rig& rig, uint32_t n_workers, const pmd_ports& ports, rte_mempool* pool,
              uint64_t& now);
    ~pmd_bench();
    pmd_bench(const pmd_bench&) = delete;
    pmd_bench& operator=(const pmd_bench&) = delete;

    bool ok() const { return m_ok; }
    void set_steering(steering s) { m_steer = s; }

    // Packets [k0, k0 + count) of stream `s` (k0, count multiples of traffic::burst) through the
    // burst function, and with `baselines` through io forwarding and the swap as well.
    pmd_result measure(const traffic& t, stream_kind s, uint64_t k0, uint64_t count,
                       bool baselines);

    // Packets the workers handed to the control lcore's rings since the last call (freed):
    // none is expected.
    uint64_t take_to_ctrl();

private:
    enum class kind : uint8_t { real, io, swap };
    static int lcore_entry(void* self);
    void run_worker(uint32_t i);
    void generate(uint32_t i, uint64_t k, uint64_t n);
    void run_real(uint32_t i);
    void run_fwd(uint32_t i, kind how);
    unsigned drain_redirects(uint32_t i);
    void barrier();

    test::rig& m_rig;
    uint32_t m_n;
    const pmd_ports& m_ports;
    rte_mempool* m_pool;
    uint64_t& m_now;
    steering m_steer = steering::owner_rss;
    bool m_ok = true;
    std::array<dp::worker_runtime, pmd_max_workers> m_rt{};
    // The workers' port views before this bench changed them (restored by the destructor).
    std::array<std::array<dp::port_view, pmd_ports_n>, pmd_max_workers> m_saved{};
    std::atomic<bool> m_stop{false};

    // The measurement in progress (read by every worker).
    const traffic* m_t = nullptr;
    stream_kind m_s{};
    uint64_t m_k0 = 0, m_count = 0;
    bool m_baselines = false;
    pmd_result m_res;
    // Round synchronisation.
    alignas(64) std::atomic<uint32_t> m_bar_count{0};
    alignas(64) std::atomic<uint32_t> m_bar_gen{0};
    alignas(64) std::array<std::atomic<uint64_t>, pmd_max_workers> m_rx_done{};
    std::array<uint64_t, pmd_max_workers> m_t0{}, m_t1{};
    // Runs of one kind so far, per worker: the same sequence on every worker (m_rx_done).
    std::array<uint64_t, pmd_max_workers> m_epoch{};
};

} // namespace ulvs::perf
