#include "harness.h"

#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unistd.h>

namespace ulvs::test {

namespace {

rte_mempool* g_pool = nullptr;

rte_mbuf* to_mbuf(const frame& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (m == nullptr)
        return nullptr;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
    if (!f.empty()) // an empty vector's data() may be null, which memcpy must not get
        std::memcpy(p, f.data(), f.size());
    return m;
}

// Fragments are chained mbufs (a header segment + the shared data): read the whole chain.
frame from_mbuf(rte_mbuf* m) {
    frame f(rte_pktmbuf_pkt_len(m));
    const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(f.size()), f.data());
    if (p != f.data())
        std::memcpy(f.data(), p, f.size());
    rte_pktmbuf_free(m);
    return f;
}

} // namespace

bool init_eal(const char* prog, unsigned mem_mb, const std::string& lcores) {
    const std::string prefix =
        std::string("--file-prefix=ulvs-") + prog + "-" + std::to_string(getpid());
    const std::string mem = std::to_string(mem_mb);
    const std::string lc = "--lcores=" + lcores;
    const char* argv[] = {prog,        "--no-huge",         "-m",
                          mem.c_str(), "--no-pci",          "--no-telemetry",
                          lc.c_str(),  "--log-level=error", prefix.c_str()};
    if (rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)) < 0)
        return false;
    g_pool = rte_pktmbuf_pool_create("test_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    return g_pool != nullptr;
}

rte_mempool* test_pool() {
    return g_pool;
}

std::array<uint8_t, 6> pcap_port_mac(size_t i) {
    return {0x02, 0x70, 0x63, 0x61, 0x70, static_cast<uint8_t>(i)};
}

rig::rig(const config::config& cfg, uint64_t now_ms, uint32_t n_workers) : m_cfg(cfg) {
    for (const auto& n : m_cfg.neighbors)
        for (size_t p = 0; p < m_cfg.ports.size(); ++p)
            if (m_cfg.ports[p].name == n.port)
                m_neigh.set_static(n.address, static_cast<uint8_t>(p), n.mac);
    auto snap = ctl::build_snapshot(m_cfg, m_inputs);
    if (!snap) {
        m_error = snap.error();
        return;
    }
    m_snap = std::move(*snap);
    dp::worker_params wp;
    wp.conn_capacity = m_cfg.connections.max;
    wp.neigh = &m_table;
    wp.pool = g_pool;
    wp.n_workers = n_workers;
    for (size_t p = 0; p < m_cfg.ports.size(); ++p) {
        // net_pcap ports, as the daemon sees them: partial checksums are completed.
        wp.ports.push_back(
            {static_cast<uint16_t>(p), 0, pcap_port_mac(p), m_cfg.ports[p].mtu, true, true});
        m_addrs.push_back({pcap_port_mac(p), m_cfg.ports[p].addresses});
    }
    for (uint32_t i = 0; i < n_workers; ++i) {
        wp.id = i;
        m_workers.push_back(std::make_unique<dp::worker_ctx>(wp, now_ms));
        m_workers.back()->snap = m_snap.get();
    }
}

bool rig::reconfigure(const config::config& cfg) {
    auto snap = ctl::build_snapshot(cfg, m_inputs);
    if (!snap) {
        m_error = snap.error();
        return false;
    }
    m_cfg = cfg;
    m_old_snaps.push_back(std::move(m_snap));
    m_snap = std::move(*snap);
    for (auto& w : m_workers)
        w->snap = m_snap.get();
    return true;
}

bool rig::ok() const {
    if (!m_error.empty() || m_workers.empty())
        return false;
    for (const auto& w : m_workers)
        if (!w->conns.ok())
            return false;
    return true;
}

// Move what `w` staged into `out` (TX) or through the responder (control), as the loops would.
void rig::collect(dp::worker_ctx& w, std::vector<std::vector<frame>>& out, uint64_t now_ms) {
    for (size_t q = 0; q < m_cfg.ports.size(); ++q) {
        for (uint16_t k = 0; k < w.tx[q].n; ++k)
            out[q].push_back(from_mbuf(w.tx[q].pkts[k]));
        w.tx[q].n = 0;
    }
    for (dp::tx_stage* s : {&w.to_ctrl_prio, &w.to_ctrl}) { // the control lcore's order
        for (uint16_t k = 0; k < s->n; ++k) {
            rte_mbuf* m = s->pkts[k];
            if (ctl::handle_resolve_request(m_neigh, m)) {
                m_unres.take(m, now_ms);
                continue;
            }
            const auto in_port = static_cast<uint8_t>(m->port);
            if (ctl::handle_exception(*m_snap, m_addrs, m_neigh, m, in_port, now_ms) ==
                ctl::exception_verdict::reply)
                out[in_port].push_back(from_mbuf(m));
            else
                rte_pktmbuf_free(m);
        }
        s->n = 0;
    }
    m_unres.service(m_neigh, m_addrs, now_ms,
                    [&out](uint8_t port, rte_mbuf* m) { out[port].push_back(from_mbuf(m)); });
}

std::vector<std::vector<frame>> rig::burst_on(uint32_t wi, uint8_t port,
                                              const std::vector<frame>& in, uint64_t now_ms,
                                              uint64_t ol_flags) {
    std::vector<std::vector<frame>> out(m_cfg.ports.size());
    rte_mbuf* pkts[dp::max_burst];
    const auto n = static_cast<uint16_t>(std::min<size_t>(in.size(), dp::max_burst));
    for (uint16_t k = 0; k < n; ++k) {
        pkts[k] = to_mbuf(in[k]);
        pkts[k]->ol_flags |= ol_flags;
    }
    dp::worker_ctx& w = *m_workers[wi];
    dp::process_burst(w, port, pkts, n, now_ms);
    collect(w, out, now_ms);
    // The rings: each owner processes what was redirected to it, until nothing moves (a
    // fragment goes to the worker that reassembles it, the datagram to its connection's owner).
    for (bool moved = true; moved;) {
        moved = false;
        for (const auto& from : m_workers)
            for (uint32_t o = 0; o < m_workers.size(); ++o) {
                dp::redirect_stage& r = from->redirect[o];
                if (r.n == 0)
                    continue;
                rte_mbuf* batch[dp::max_burst];
                const uint16_t k = r.n;
                std::copy(r.pkts, r.pkts + k, batch);
                r.n = 0;
                dp::process_redirected(*m_workers[o], batch, k, now_ms);
                collect(*m_workers[o], out, now_ms);
                moved = true;
            }
    }
    return out;
}

} // namespace ulvs::test
