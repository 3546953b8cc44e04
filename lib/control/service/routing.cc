#include "ulvs/control/service/routing.h"

#include <rte_errno.h>
#include <rte_lpm.h>

#include <arpa/inet.h>

namespace ulvs::ctl {

std::expected<void, std::string> build_routes(const config::config& cfg, neigh_manager& neigh,
                                              dp::snapshot& s, uint32_t serial) {
    rte_lpm_config lc{};
    lc.max_rules = 1024;
    lc.number_tbl8s = 256; // prefixes longer than /24 need a tbl8 group each
    const std::string name = "ulvs_lpm_" + std::to_string(serial);
    s.lpm.reset(rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &lc));
    if (!s.lpm)
        return std::unexpected("cannot create the route table: " +
                               std::string(rte_strerror(rte_errno)));
    auto add = [&](const ip_prefix& p, dp::next_hop hop) -> std::expected<void, std::string> {
        s.hops.push_back(hop);
        if (p.len == 0) {
            s.default_hop = static_cast<uint32_t>(s.hops.size() - 1);
            return {};
        }
        if (rte_lpm_add(s.lpm.get(), p.addr.v4 & p.mask_v4(), p.len,
                        static_cast<uint32_t>(s.hops.size() - 1)) != 0)
            return std::unexpected("cannot add route " + p.to_string());
        return {};
    };
    // Connected subnets first: a static route for the same prefix replaces them (rte_lpm_add
    // overwrites), a more specific one wins by longest-prefix match.
    for (size_t p = 0; p < cfg.ports.size(); ++p) {
        const auto& addrs = cfg.ports[p].addresses;
        s.port_addr.push_back(addrs.empty() ? 0 : htonl(addrs.front().addr.v4));
        for (const ip_prefix& a : addrs)
            if (auto r = add(a, {static_cast<uint8_t>(p), 0, dp::no_index}); !r)
                return r;
    }
    for (const config::route_cfg& r : cfg.routes) {
        auto port = cfg.port_for(r.via);
        auto slot = port ? neigh.slot_for(r.via, static_cast<uint8_t>(*port)) : std::nullopt;
        if (!slot)
            return std::unexpected("route via " + r.via.to_string() +
                                   ": not on a connected subnet, or out of neighbour slots");
        if (auto res = add(r.prefix, {static_cast<uint8_t>(*port), htonl(r.via.v4), *slot}); !res)
            return res;
    }
    return {};
}

std::expected<resolved_hop, std::string> resolve(const dp::snapshot& s, neigh_manager& neigh,
                                                 ip_addr dst) {
    const dp::next_hop* hop = s.route(htonl(dst.v4));
    if (hop == nullptr)
        return std::unexpected("no route to " + dst.to_string());
    if (hop->gateway != 0)
        return resolved_hop{hop->port, hop->neigh};
    auto slot = neigh.slot_for(dst, hop->port);
    if (!slot)
        return std::unexpected("out of neighbour slots for " + dst.to_string());
    return resolved_hop{hop->port, *slot};
}

} // namespace ulvs::ctl
