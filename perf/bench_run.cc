#include "bench_run.h"

#include "baseline.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <emmintrin.h>

#include <algorithm>
#include <cstdio>

namespace ulvs::perf {

namespace {

constexpr uint16_t batch_bursts = 32; // 1024 packets in flight: their mbufs stay in L2
constexpr uint16_t burst = traffic::burst;
constexpr uint32_t expire_budget = 64; // as worker_loop.cc

// A NIC writes received frames to memory by DMA (this AMD machine has no DDIO to place them in
// the cache): the generator's writes are flushed so the first read of a header misses, for the
// real path and the baseline alike. The mbuf header stays cached, as the driver's rx_burst has
// just written it.
void flush_data(const rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const char*);
    _mm_clflush(p);
    _mm_clflush(p + rte_pktmbuf_data_len(m) - 1); // the second line, if the frame crosses one
}

uint64_t drops_total(test::rig& rig, uint32_t n_workers) {
    uint64_t d = 0;
    for (uint32_t i = 0; i < n_workers; ++i)
        for (uint64_t v : rig.worker(i).ctr.drops)
            d += v;
    return d;
}

} // namespace

unsigned eal_mem_mb(uint32_t max_conns) {
    // The connection table lives in EAL memory (rte_malloc): its measured size with margin.
    return static_cast<unsigned>(768 + uint64_t{max_conns} * 512 / (1 << 20));
}

const char* mode_name(fwd_mode m) {
    return m == fwd_mode::nat ? "nat" : m == fwd_mode::dr ? "dr" : "tun";
}

std::string bench_config(fwd_mode mode, uint32_t conns) {
    std::string c = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
neighbors:
  - {address: 203.0.113.1, mac: "02:00:00:00:00:01", port: wan}
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
  - {address: 198.51.100.14, mac: "02:00:00:00:00:14", port: lan}
)";
    c += "connections: {max: " + std::to_string(conns) + "}\n";
    c += "virtual_servers:\n  - {name: bench, address: 203.0.113.101, port: 80, protocol: tcp, "
         "scheduler: rr, forwarding: ";
    c += mode_name(mode);
    c += ",\n     real_servers: [";
    for (int r = 0; r < 4; ++r)
        c += std::string(r ? ", " : "") + "{address: 198.51.100." + std::to_string(11 + r) +
             ", port: 80}";
    return c + "]}\n";
}

std::string bench_snat_config(uint32_t conns) {
    // One port: every flow has its own remote end (traffic.h), so each gets 40000.
    return bench_config(fwd_mode::nat, conns) +
           "snat: [{sources: [198.51.100.0/24], out_port: wan, ports: 40000-40000}]\n";
}

rte_mempool* bench_pool() {
    return rte_pktmbuf_pool_create("bench_pool", 4 * 8192 - 1, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   0);
}

bench_run::bench_run(const config::config& cfg, rte_mempool* pool, bool warm, uint32_t n_workers)
    : m_rig(cfg, 1000, n_workers), m_n_workers(n_workers), m_pool(pool), m_warm(warm) {}

bench_run::~bench_run() {
    rte_ring_free(m_sync);
}

bool bench_run::enable_sync() {
    m_sync = rte_ring_create_elem("bench_sync", sizeof(dp::sync_msg), dp::sync_out_ring_size, 0,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    return m_sync != nullptr;
}

run_result bench_run::measure(const traffic& t, stream_kind s, uint64_t k0, uint64_t count) {
    dp::worker_ctx& w = m_rig.worker();
    run_result r;
    rte_mbuf* pkts[batch_bursts][burst];
    uint16_t lens[batch_bursts];
    // What the worker staged for TX: a burst can stage more than it received (fragments).
    static rte_mbuf* sent[batch_bursts * dp::tx_stage_size];
    const uint64_t end = k0 + count;
    for (uint64_t k = k0; k < end; k += uint64_t{batch_bursts} * burst) {
        uint16_t nb = 0;
        auto generate = [&] {
            nb = 0;
            for (uint64_t kb = k; kb < end && nb < batch_bursts; kb += burst, ++nb) {
                lens[nb] = static_cast<uint16_t>(std::min<uint64_t>(burst, end - kb));
                if (!t.fill(s, kb, lens[nb], m_pool, pkts[nb])) {
                    std::fprintf(stderr, "fwd_bench: mbuf pool empty\n");
                    std::exit(1);
                }
                if (!m_warm)
                    for (uint16_t i = 0; i < lens[nb]; ++i)
                        flush_data(pkts[nb][i]);
            }
            _mm_mfence();
        };
        generate();
        uint32_t ns = 0;
        const uint64_t real0 = r.real_cycles, base0 = r.base_cycles, pkts0 = r.pkts;
        for (uint16_t b = 0; b < nb; ++b) {
            const uint8_t port = t.port_of(s, k + uint64_t{b} * burst);
            const uint64_t t0 = rte_rdtsc();
            dp::process_burst(w, port, pkts[b], lens[b], m_now);
            dp::expire_conns(w, m_now, expire_budget);
            if (m_sync != nullptr && w.sync_out.n != 0) { // flush_stages' part for sync
                const unsigned q = rte_ring_sp_enqueue_burst_elem(
                    m_sync, w.sync_out.recs, sizeof(dp::sync_msg), w.sync_out.n, nullptr);
                w.ctr.sync_queued += q;
                w.ctr.sync_dropped += w.sync_out.n - q;
                w.sync_out.n = 0;
            }
            r.real_cycles += rte_rdtsc() - t0;
            // Taken as rte_eth_tx_burst would take them (flush_stages), not timed.
            for (uint8_t q = 0; q < w.n_ports; ++q) {
                std::copy_n(w.tx[q].pkts, w.tx[q].n, sent + ns);
                ns += w.tx[q].n;
                w.tx[q].n = 0;
            }
            for (dp::tx_stage* c : {&w.to_ctrl_prio, &w.to_ctrl}) {
                std::copy_n(c->pkts, c->n, sent + ns);
                ns += c->n;
                m_to_ctrl += c->n;
                c->n = 0;
            }
            r.pkts += lens[b];
        }
        rte_pktmbuf_free_bulk(sent, ns);
        if (m_sync != nullptr) { // the control lcore's side, not timed
            dp::sync_msg drained[256];
            while (rte_ring_sc_dequeue_burst_elem(m_sync, drained, sizeof(dp::sync_msg), 256,
                                                  nullptr) != 0) {
            }
        }
        // The same packets again, through the baseline.
        generate();
        ns = 0;
        for (uint16_t b = 0; b < nb; ++b) {
            const uint64_t t0 = rte_rdtsc();
            ns += swap_burst(pkts[b], lens[b], sent + ns);
            r.base_cycles += rte_rdtsc() - t0;
        }
        rte_pktmbuf_free_bulk(sent, ns);
        const double np = double(r.pkts - pkts0);
        r.real_batch.push_back(double(r.real_cycles - real0) / np);
        r.base_batch.push_back(double(r.base_cycles - base0) / np);
        ++m_now; // a millisecond per batch: timers advance, nothing of these flows expires
    }
    return r;
}

double bench_run::bytes_per_conn() {
    dp::worker_ctx& w = m_rig.worker();
    return double(w.conns.memory_bytes() + w.wheel.memory_bytes()) / double(w.conns.capacity());
}

bool bench_run::check(uint32_t conns, const char* what, uint64_t to_ctrl_elsewhere) {
    bool good = true;
    m_to_ctrl += to_ctrl_elsewhere;
    const uint64_t d = drops_total(m_rig, m_n_workers);
    if (d != m_drops_seen || m_to_ctrl != 0) {
        std::fprintf(stderr, "fwd_bench: %s: %llu drops, %llu to control\n", what,
                     static_cast<unsigned long long>(d - m_drops_seen),
                     static_cast<unsigned long long>(m_to_ctrl));
        for (uint32_t wi = 0; wi < m_n_workers; ++wi) {
            const dp::worker_ctx& w = m_rig.worker(wi);
            for (size_t i = 0; i < w.ctr.drops.size(); ++i)
                if (w.ctr.drops[i])
                    std::fprintf(stderr, "  worker %u %s: %llu\n", wi,
                                 std::string(dp::drop_name(static_cast<dp::drop>(i))).c_str(),
                                 static_cast<unsigned long long>(w.ctr.drops[i]));
        }
        good = false;
    }
    uint32_t held = 0;
    for (uint32_t wi = 0; wi < m_n_workers; ++wi)
        held += m_rig.worker(wi).conns.size();
    if (held != conns) {
        std::fprintf(stderr, "fwd_bench: %s: %u connections, expected %u\n", what, held, conns);
        good = false;
    }
    m_drops_seen = d;
    m_to_ctrl = 0;
    return good;
}

} // namespace ulvs::perf
