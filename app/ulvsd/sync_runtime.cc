#include "sync_runtime.h"

#include <rte_mbuf.h>

#include <spdlog/spdlog.h>

#include <cstring>

namespace ulvs::app {

std::expected<sync_runtime, std::string>
sync_runtime::make(const config::config& cfg, ctl::control_env& env, ctl::neigh_manager& neigh,
                   rte_mempool* pool, const dp::publisher* pub, uint32_t n_workers) {
    ctl::sync_engine::params p;
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const config::port_cfg& pc = cfg.ports[i];
        p.ports.push_back({pc.name, env.addrs[i].mac,
                           pc.addresses.empty() ? 0u : pc.addresses.front().addr.v4, pc.mtu});
    }
    p.n_workers = n_workers;
    p.snapshot = [pub] { return pub->current(); };
    ctl::sync_engine::io io;
    io.send = [&env, pool](uint8_t port, std::span<const uint8_t> f) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr)
            return; // the connections are sent again at their next period or state
        if (char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()))) {
            std::memcpy(d, f.data(), f.size());
            ctl::control_transmit(env, port, m);
        } else {
            rte_pktmbuf_free(m);
        }
    };
    io.peer_mac = [&neigh](uint8_t port, uint32_t peer) -> std::optional<std::array<uint8_t, 6>> {
        const ip_addr a = ip_addr::from_v4(peer);
        neigh.slot_for(a, port, true); // pinned, as VRRP's unicast peers
        if (const auto mac = neigh.mac_of(a))
            return mac->b;
        return std::nullopt;
    };
    sync_runtime rt;
    rt.engine = std::make_unique<ctl::sync_engine>(std::move(p), std::move(io));
    if (auto c = rt.engine->configure(cfg.sync); !c)
        return std::unexpected(c.error());
    return rt;
}

std::expected<void, std::string> sync_runtime::connect(dp::worker_runtime& wrt, uint32_t id) {
    auto rings = engine->connect_worker(id);
    if (!rings)
        return std::unexpected(rings.error());
    wrt.sync_out = rings->first;
    wrt.sync_in = rings->second;
    return {};
}

void sync_runtime::committed(const config::config& cfg) {
    if (auto c = engine->configure(cfg.sync); !c)
        spdlog::error("connection sync stopped: {}", c.error());
}

std::vector<mgmt::control_counter> sync_runtime::counters() const {
    std::vector<mgmt::control_counter> out;
    for (const ctl::sync_counter& c : engine->named_counters())
        out.push_back({c.name, c.help, c.value});
    return out;
}

} // namespace ulvs::app
