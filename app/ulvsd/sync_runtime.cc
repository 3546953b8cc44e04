#include "sync_runtime.h"

#include <rte_mbuf.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace ulvs::app {

std::expected<sync_runtime, std::string>
sync_runtime::make(const config::config& cfg, ctl::control_env& env, ctl::neigh_manager& neigh,
                   rte_mempool* pool, const dp::publisher* pub, uint32_t n_workers) {
    sync_runtime rt;
    if (!cfg.sync)
        return rt;
    const config::sync_cfg& sc = *cfg.sync;
    size_t port = cfg.ports.size();
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        if (cfg.ports[p].name == sc.interface || (sc.interface.empty() && cfg.ports.size() == 1))
            port = p;
    if (port == cfg.ports.size())
        return std::unexpected("sync.interface \"" + sc.interface + "\": no such port");
    if (cfg.ports[port].addresses.empty())
        return std::unexpected("sync.interface \"" + cfg.ports[port].name +
                               "\" has no address to send from");
    ctl::sync_engine::params p;
    p.cfg = sc;
    p.port = static_cast<uint8_t>(port);
    p.mac = env.addrs[port].mac;
    p.src_ip = cfg.ports[port].addresses.front().addr.v4;
    p.mtu = cfg.ports[port].mtu;
    p.n_workers = n_workers;
    p.snapshot = [pub] { return pub->current(); };
    ctl::sync_engine::io io;
    io.send = [&env, pool, port](std::span<const uint8_t> f) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr)
            return; // the connections are sent again at their next period or state
        if (char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()))) {
            std::memcpy(d, f.data(), f.size());
            ctl::control_transmit(env, static_cast<uint8_t>(port), m);
        } else {
            rte_pktmbuf_free(m);
        }
    };
    io.peer_mac = [&neigh, port](uint32_t peer) -> std::optional<std::array<uint8_t, 6>> {
        const ip_addr a = ip_addr::from_v4(peer);
        neigh.slot_for(a, static_cast<uint8_t>(port), true); // pinned, as VRRP's unicast peers
        if (const auto mac = neigh.mac_of(a))
            return mac->b;
        return std::nullopt;
    };
    rt.engine = std::make_unique<ctl::sync_engine>(std::move(p), std::move(io));
    return rt;
}

dp::sync_params sync_runtime::worker_params(const config::config& cfg) const {
    dp::sync_params p;
    if (!engine)
        return p;
    const config::sync_cfg& sc = *cfg.sync;
    p.send = engine->sends();
    // The count lives in 16 bits (conn::sync_pkts): larger values behave as 65535.
    p.period = static_cast<uint16_t>(std::min<uint32_t>(sc.period, 65535));
    p.threshold = static_cast<uint16_t>(std::min<uint32_t>(sc.threshold, 65534));
    p.rx_port = engine->receives() ? htons(sc.port) : 0;
    p.group = htonl(sc.group.v4);
    return p;
}

std::expected<void, std::string> sync_runtime::connect(dp::worker_runtime& wrt, uint32_t id) {
    if (!engine)
        return {};
    auto rings = engine->connect_worker(id);
    if (!rings)
        return std::unexpected(rings.error());
    wrt.sync_out = rings->first;
    wrt.sync_in = rings->second;
    return {};
}

std::vector<mgmt::control_counter> sync_runtime::counters() const {
    std::vector<mgmt::control_counter> out;
    if (engine)
        for (const ctl::sync_counter& c : engine->named_counters())
            out.push_back({c.name, c.help, c.value});
    return out;
}

} // namespace ulvs::app
