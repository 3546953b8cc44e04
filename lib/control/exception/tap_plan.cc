// The kernel side of the exception path as a config wants it (tap_plan.h).
#include "ulvs/control/exception/tap_plan.h"

#include <algorithm>

namespace ulvs::ctl {

namespace {

// The port the kernel sends to `a` through: its connected subnet, else the longest route's
// gateway's (the kernel's own choice, given the addresses and routes of the plan).
std::optional<size_t> port_towards(const config::config& c, ip_addr a) {
    if (auto p = c.port_for(a))
        return p;
    const config::route_cfg* best = nullptr;
    for (const config::route_cfg& r : c.routes)
        if (r.prefix.contains(a) && (best == nullptr || r.prefix.len > best->prefix.len))
            best = &r;
    return best != nullptr ? c.port_for(best->via) : std::nullopt;
}

} // namespace

tap_plan tap_plan::from_config(const config::config& c) {
    tap_plan p;
    p.needed.assign(c.ports.size(), false);
    for (size_t i = 0; i < c.ports.size(); ++i) {
        p.addresses.push_back(c.ports[i].addresses);
        std::sort(p.addresses.back().begin(), p.addresses.back().end());
    }
    for (const auto& vs : c.virtual_servers)
        for (const auto& rs : vs.real_servers)
            for (const auto& chk : rs.health.effective(vs.health))
                if (auto port = port_towards(c, chk.address.v4 != 0 ? chk.address : rs.address))
                    p.needed[*port] = true;
    for (const config::exception_allow_cfg& a : c.exception_path.allow)
        for (size_t i = 0; i < c.ports.size(); ++i)
            if (a.port.empty() || a.port == c.ports[i].name)
                p.needed[i] = true;
    // announce: the VIP routes go through its port's TAP, BGP and BFD through the peers' ports.
    if (c.announce.enabled && !c.ports.empty())
        for (size_t i = 0; i < c.ports.size(); ++i)
            if (c.announce.port.empty() ? i == 0 : c.announce.port == c.ports[i].name)
                p.needed[i] = true;
    for (const ip_addr& peer : c.announce.peers)
        if (auto port = port_towards(c, peer))
            p.needed[*port] = true;
    for (const config::route_cfg& r : c.routes) {
        auto port = c.port_for(r.via);
        if (!port)
            continue; // the validator requires a connected gateway; nothing to route through
        p.routes.push_back({r.prefix, r.via, *port, r.prefix.len == 0 ? default_route_metric : 0});
    }
    std::sort(p.routes.begin(), p.routes.end());
    return p;
}

} // namespace ulvs::ctl
