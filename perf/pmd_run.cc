#include "pmd_run.h"

#include "baseline.h"

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <emmintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ulvs::perf {

namespace {

// Packets per worker per round: as bench_run's batch, 1024 in flight, their mbufs in L2.
constexpr uint64_t round_per_worker = 1024;
constexpr uint16_t burst = traffic::burst;
constexpr uint32_t expire_budget = 64; // as worker_loop.cc
constexpr unsigned ring_size = 4096;   // a round's packets on one queue, whatever the steering

// As bench_run.cc: the frame's lines leave the cache, as after a NIC's DMA; the mbuf header stays
// (the driver's rx_burst has just written it, on the worker's core).
void flush_data(const rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const char*);
    _mm_clflush(p);
    _mm_clflush(p + rte_pktmbuf_data_len(m) - 1);
}

bool start_port(uint16_t port, uint16_t n_rx, uint16_t n_tx, rte_mempool* pool, std::string& err) {
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, n_rx, n_tx, &conf) != 0) {
        err = "configure port " + std::to_string(port);
        return false;
    }
    for (uint16_t q = 0; q < n_rx; ++q)
        if (rte_eth_rx_queue_setup(port, q, 1024, 0, nullptr, pool) != 0) {
            err = "rx queue of port " + std::to_string(port);
            return false;
        }
    for (uint16_t q = 0; q < n_tx; ++q)
        if (rte_eth_tx_queue_setup(port, q, 1024, 0, nullptr) != 0) {
            err = "tx queue of port " + std::to_string(port);
            return false;
        }
    if (rte_eth_dev_start(port) != 0) {
        err = "start port " + std::to_string(port);
        return false;
    }
    return true;
}

rte_ring* make_ring(const std::string& name, unsigned size) {
    return rte_ring_create(name.c_str(), size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

} // namespace

bool open_pmd_ports(pmd_ports& p, rte_mempool* pool, std::string& err) {
    for (uint8_t i = 0; i < pmd_ports_n; ++i) {
        const std::string n = std::to_string(i);
        rte_ring* tx_unused[pmd_max_workers];
        for (uint16_t q = 0; q < pmd_max_workers; ++q) {
            p.rx_ring[i][q] = make_ring("bench_rx" + n + "_" + std::to_string(q), ring_size);
            tx_unused[q] = make_ring("bench_txu" + n + "_" + std::to_string(q), 64);
            if (p.rx_ring[i][q] == nullptr || tx_unused[q] == nullptr) {
                err = "rings for net_ring";
                return false;
            }
        }
        const int rx = rte_eth_from_rings(("net_ring_bench" + n).c_str(), p.rx_ring[i].data(),
                                          pmd_max_workers, tx_unused, pmd_max_workers, 0);
        if (rx < 0) {
            err = "rte_eth_from_rings";
            return false;
        }
        p.rx_port[i] = static_cast<uint16_t>(rx);
        const std::string null_name = "net_null_bench" + n;
        if (rte_eal_hotplug_add("vdev", null_name.c_str(), "") != 0 ||
            rte_eth_dev_get_port_by_name(null_name.c_str(), &p.tx_port[i]) != 0) {
            err = "net_null vdev (is the net_null PMD installed?)";
            return false;
        }
        if (!start_port(p.rx_port[i], pmd_max_workers, pmd_max_workers, pool, err) ||
            !start_port(p.tx_port[i], 1, pmd_max_workers, pool, err))
            return false;
    }
    return true;
}

pmd_bench::pmd_bench(test::rig& rig, uint32_t n_workers, const pmd_ports& ports, rte_mempool* pool,
                     uint64_t& now)
    : m_rig(rig), m_n(n_workers), m_ports(ports), m_pool(pool), m_now(now) {
    static unsigned instance = 0; // ring names are global
    const std::string tag = std::to_string(instance++);
    for (uint32_t i = 0; i < m_n; ++i) {
        dp::worker_ctx& w = m_rig.worker(i);
        for (uint8_t p = 0; p < pmd_ports_n; ++p) {
            m_saved[i][p] = w.ports[p];
            w.ports[p].dpdk_port = m_ports.tx_port[p];
            w.ports[p].tx_queue = static_cast<uint16_t>(i);
            w.ports[p].partial_csum = false; // NIC ports
        }
        dp::worker_runtime& rt = m_rt[i];
        rt.ctx = &w;
        rt.stop = &m_stop;
        rt.rx_queue = static_cast<uint16_t>(i);
        const std::string wi = tag + "_" + std::to_string(i);
        rt.to_ctrl_prio = make_ring("bench_cp" + wi, 1024);
        rt.to_ctrl = make_ring("bench_c" + wi, 1024);
        m_ok &= rt.to_ctrl_prio != nullptr && rt.to_ctrl != nullptr;
    }
    for (uint32_t i = 0; i < m_n; ++i)
        for (uint32_t o = 0; o < m_n; ++o) {
            if (o == i)
                continue;
            rte_ring* r = make_ring(
                "bench_r" + tag + "_" + std::to_string(i) + "_" + std::to_string(o), ring_size);
            m_ok &= r != nullptr;
            m_rt[i].redirect_out[o] = r;
            m_rt[o].redirect_in[i] = r;
        }
    if (m_n > 1 && rte_get_next_lcore(-1, 1, 0) >= RTE_MAX_LCORE)
        m_ok = false; // no second lcore
}

pmd_bench::~pmd_bench() {
    take_to_ctrl();
    for (uint32_t i = 0; i < m_n; ++i) {
        for (uint8_t p = 0; p < pmd_ports_n; ++p)
            m_rig.worker(i).ports[p] = m_saved[i][p];
        rte_ring_free(m_rt[i].to_ctrl_prio);
        rte_ring_free(m_rt[i].to_ctrl);
        for (uint32_t o = 0; o < m_n; ++o)
            rte_ring_free(m_rt[i].redirect_out[o]);
    }
}

uint64_t pmd_bench::take_to_ctrl() {
    uint64_t n = 0;
    for (uint32_t i = 0; i < m_n; ++i)
        for (rte_ring* r : {m_rt[i].to_ctrl_prio, m_rt[i].to_ctrl}) {
            void* m;
            while (r != nullptr && rte_ring_sc_dequeue(r, &m) == 0) {
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
                ++n;
            }
        }
    return n;
}

void pmd_bench::barrier() {
    if (m_n == 1)
        return;
    const uint32_t gen = m_bar_gen.load(std::memory_order_acquire);
    if (m_bar_count.fetch_add(1, std::memory_order_acq_rel) + 1 == m_n) {
        m_bar_count.store(0, std::memory_order_relaxed);
        m_bar_gen.store(gen + 1, std::memory_order_release);
        return;
    }
    while (m_bar_gen.load(std::memory_order_acquire) == gen)
        rte_pause();
}

// Worker i's share of packets [k, k + n): those RSS puts on its queue, in order.
void pmd_bench::generate(uint32_t i, uint64_t k, uint64_t n) {
    rte_mbuf* pkts[burst];
    for (uint64_t kb = k; kb < k + n; kb += burst) {
        const auto len = static_cast<uint16_t>(std::min<uint64_t>(burst, k + n - kb));
        if (!m_t->fill(m_s, kb, len, m_pool, pkts)) {
            std::fprintf(stderr, "fwd_bench: mbuf pool empty (pmd)\n");
            std::exit(1);
        }
        const uint8_t port = m_t->reply_burst(m_s, kb) ? 1 : 0;
        const auto side = port == 0 ? dp::rss_side::client : dp::rss_side::server;
        for (uint16_t j = 0; j < len; ++j) {
            rte_mbuf* m = pkts[j];
            const uint16_t q = m_n == 1 ? 0
                                        : rx_queue_of(m_steer, rte_pktmbuf_mtod(m, const uint8_t*),
                                                      side, static_cast<uint16_t>(m_n));
            if (q != i) {
                rte_pktmbuf_free(m);
                continue;
            }
            flush_data(m);
            if (rte_ring_sp_enqueue(m_ports.rx_ring[port][i], m) != 0) {
                std::fprintf(stderr, "fwd_bench: RX ring full\n");
                std::exit(1);
            }
        }
    }
    _mm_mfence();
}

unsigned pmd_bench::drain_redirects(uint32_t i) {
    dp::worker_ctx& w = m_rig.worker(i);
    const dp::worker_runtime& rt = m_rt[i];
    rte_mbuf* pkts[burst];
    unsigned total = 0;
    for (uint32_t o = 0; o < m_n; ++o) {
        if (rt.redirect_in[o] == nullptr)
            continue;
        const unsigned n = rte_ring_sc_dequeue_burst(
            rt.redirect_in[o], reinterpret_cast<void**>(pkts), burst, nullptr);
        if (n == 0)
            continue;
        dp::process_redirected(w, pkts, static_cast<uint16_t>(n), m_now);
        dp::flush_stages(w, rt);
        total += n;
    }
    return total;
}

// worker_main's loop minus the RCU and idle parts, until the RX queues are empty; then, with
// several workers, until every other worker is done with its RX and nothing more comes from it.
void pmd_bench::run_real(uint32_t i) {
    dp::worker_ctx& w = m_rig.worker(i);
    const dp::worker_runtime& rt = m_rt[i];
    rte_mbuf* pkts[burst];
    for (;;) {
        unsigned got = 0;
        for (uint8_t p = 0; p < pmd_ports_n; ++p) {
            const uint16_t n = rte_eth_rx_burst(m_ports.rx_port[p], rt.rx_queue, pkts, burst);
            if (n == 0)
                continue;
            got += n;
            dp::process_burst(w, p, pkts, n, m_now);
            dp::flush_stages(w, rt);
        }
        if (m_n > 1)
            drain_redirects(i);
        dp::expire_conns(w, m_now, expire_budget);
        if (got == 0)
            break;
    }
    if (m_n == 1)
        return;
    const uint64_t epoch = m_epoch[i];
    m_rx_done[i].store(epoch, std::memory_order_release);
    for (;;) {
        bool all = true;
        for (uint32_t o = 0; o < m_n; ++o)
            all &= m_rx_done[o].load(std::memory_order_acquire) == epoch;
        if (drain_redirects(i) == 0 && all)
            break;
    }
}

void pmd_bench::run_fwd(uint32_t i, kind how) {
    rte_mbuf* pkts[burst];
    rte_mbuf* out[burst];
    for (;;) {
        unsigned got = 0;
        for (uint8_t p = 0; p < pmd_ports_n; ++p) {
            const uint16_t n =
                rte_eth_rx_burst(m_ports.rx_port[p], static_cast<uint16_t>(i), pkts, burst);
            if (n == 0)
                continue;
            got += n;
            rte_mbuf** send = pkts;
            if (how == kind::swap) {
                swap_burst(pkts, n, out);
                send = out;
            }
            const uint16_t sent =
                rte_eth_tx_burst(m_ports.tx_port[p], static_cast<uint16_t>(i), send, n);
            if (sent < n)
                rte_pktmbuf_free_bulk(send + sent, n - sent);
        }
        if (got == 0)
            break;
    }
}

void pmd_bench::run_worker(uint32_t i) {
    const uint64_t round = round_per_worker * m_n;
    const uint64_t end = m_k0 + m_count;
    for (uint64_t k = m_k0; k < end; k += round) {
        const uint64_t n = std::min(round, end - k);
        for (const kind how : {kind::real, kind::io, kind::swap}) {
            if (how != kind::real && !m_baselines)
                continue;
            generate(i, k, n);
            barrier();
            m_t0[i] = rte_rdtsc();
            if (how == kind::real) {
                ++m_epoch[i];
                run_real(i);
            } else {
                run_fwd(i, how);
            }
            m_t1[i] = rte_rdtsc();
            barrier();
            if (i != 0)
                continue;
            const uint64_t t0 = *std::min_element(m_t0.begin(), m_t0.begin() + m_n);
            const uint64_t t1 = *std::max_element(m_t1.begin(), m_t1.begin() + m_n);
            (how == kind::real ? m_res.real : how == kind::io ? m_res.io : m_res.swap) += t1 - t0;
            (how == kind::real ? m_res.real_round
             : how == kind::io ? m_res.io_round
                               : m_res.swap_round)
                .push_back(double(t1 - t0) / double(n));
        }
        if (i == 0) {
            m_res.pkts += n;
            ++m_now; // read by the others only after the next barrier
        }
        barrier();
    }
}

int pmd_bench::lcore_entry(void* self) {
    auto* b = static_cast<pmd_bench*>(self);
    b->run_worker(rte_lcore_index(static_cast<int>(rte_lcore_id())));
    return 0;
}

pmd_result pmd_bench::measure(const traffic& t, stream_kind s, uint64_t k0, uint64_t count,
                              bool baselines) {
    m_t = &t;
    m_s = s;
    m_k0 = k0;
    m_count = count;
    m_baselines = baselines;
    m_res = {};
    uint64_t redirected0 = 0;
    for (uint32_t i = 0; i < m_n; ++i)
        redirected0 += m_rig.worker(i).ctr.redirected;
    // Worker i > 0 on the i-th worker lcore (its lcore index is i).
    unsigned lc = rte_get_main_lcore();
    for (uint32_t i = 1; i < m_n; ++i) {
        lc = rte_get_next_lcore(lc, 1, 0);
        rte_eal_remote_launch(&pmd_bench::lcore_entry, this, lc);
    }
    run_worker(0);
    rte_eal_mp_wait_lcore();
    for (uint32_t i = 0; i < m_n; ++i)
        m_res.redirected += m_rig.worker(i).ctr.redirected;
    m_res.redirected -= redirected0;
    return m_res;
}

} // namespace ulvs::perf
