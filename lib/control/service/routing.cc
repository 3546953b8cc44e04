#include "ulvs/control/service/routing.h"

#include <rte_errno.h>
#include <rte_lpm.h>

#include <arpa/inet.h>

#include <algorithm>

namespace ulvs::ctl {

namespace {

// A gateway with the neighbour slot this build gave it.
struct gateway {
    uint8_t port;
    uint32_t slot;
};

std::expected<std::shared_ptr<const dp::route_table>, std::string>
make_table(const config::config& cfg, const std::vector<gateway>& gws, uint32_t serial) {
    auto t = std::make_shared<dp::route_table>();
    rte_lpm_config lc{};
    lc.max_rules = 1024;
    lc.number_tbl8s = 256; // prefixes longer than /24 need a tbl8 group each
    const std::string name = "ulvs_lpm_" + std::to_string(serial);
    t->lpm.reset(rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &lc));
    if (!t->lpm)
        return std::unexpected("cannot create the route table: " +
                               std::string(rte_strerror(rte_errno)));
    auto add = [&](const ip_prefix& p, dp::next_hop hop) -> std::expected<void, std::string> {
        t->hops.push_back(hop);
        if (p.len == 0) {
            t->default_hop = static_cast<uint32_t>(t->hops.size() - 1);
            return {};
        }
        if (rte_lpm_add(t->lpm.get(), p.addr.v4 & p.mask_v4(), p.len,
                        static_cast<uint32_t>(t->hops.size() - 1)) != 0)
            return std::unexpected("cannot add route " + p.to_string());
        return {};
    };
    // Connected subnets first: a static route for the same prefix replaces them (rte_lpm_add
    // overwrites), a more specific one wins by longest-prefix match.
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        for (const ip_prefix& a : cfg.ports[p].addresses)
            if (auto r = add(a, {static_cast<uint8_t>(p), 0, dp::no_index}); !r)
                return std::unexpected(r.error());
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
        const config::route_cfg& r = cfg.routes[i];
        if (auto res = add(r.prefix, {gws[i].port, htonl(r.via.v4), gws[i].slot}); !res)
            return std::unexpected(res.error());
    }
    return t;
}

} // namespace

std::expected<std::shared_ptr<const dp::route_table>, std::string>
route_cache::get(const config::config& cfg, neigh_manager& neigh) {
    std::vector<gateway> gws;
    for (const config::route_cfg& r : cfg.routes) {
        auto port = cfg.port_for(r.via);
        auto slot = port ? neigh.slot_for(r.via, static_cast<uint8_t>(*port)) : std::nullopt;
        if (!slot)
            return std::unexpected("route via " + r.via.to_string() +
                                   ": not on a connected subnet, or out of neighbour slots");
        gws.push_back({static_cast<uint8_t>(*port), *slot});
    }
    // Everything the table is made of, in order.
    std::vector<uint64_t> key;
    for (const config::port_cfg& p : cfg.ports) {
        key.push_back(p.addresses.size());
        for (const ip_prefix& a : p.addresses)
            key.push_back(uint64_t{a.addr.v4} << 8 | a.len);
    }
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
        const config::route_cfg& r = cfg.routes[i];
        key.push_back(uint64_t{r.prefix.addr.v4} << 8 | r.prefix.len);
        key.push_back(uint64_t{r.via.v4} << 8 | gws[i].port);
        key.push_back(gws[i].slot);
    }
    if (m_last && key == m_key)
        return m_last;
    // rte_lpm names are process-wide: two caches may live at once (a test's pair of nodes), so
    // the name's number is too.
    static uint32_t process_serial = 0;
    ++m_serial;
    auto t = make_table(cfg, gws, ++process_serial);
    if (!t)
        return t;
    ++m_builds;
    m_key = std::move(key);
    m_last = *t;
    std::erase_if(m_made, [](const auto& w) { return w.expired(); });
    m_made.push_back(*t);
    return t;
}

size_t route_cache::live() {
    std::erase_if(m_made, [](const auto& w) { return w.expired(); });
    return m_made.size();
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
