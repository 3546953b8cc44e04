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

bool contains_addr(const std::vector<ip_addr>& v, ip_addr a) {
    return std::find(v.begin(), v.end(), a) != v.end();
}

// `a` joins `out` unless an address of `out` is the same (whatever its prefix length).
void add_unique(std::vector<ip_prefix>& out, const ip_prefix& a) {
    if (std::none_of(out.begin(), out.end(), [&](const ip_prefix& o) { return o.addr == a.addr; }))
        out.push_back(a);
}

} // namespace

std::vector<std::vector<ip_prefix>>
tap_plan::host_addresses(const std::vector<std::string>& masters) const {
    std::vector<std::vector<ip_prefix>> out = addresses;
    for (size_t p = 0; p < out.size() && p < vips.size(); ++p)
        for (const ip_prefix& a : vips[p])
            add_unique(out[p], a);
    for (const vrrp_vips& v : vrrp)
        if (v.port < out.size() &&
            std::find(masters.begin(), masters.end(), v.instance) != masters.end())
            for (const ip_prefix& a : v.addresses)
                add_unique(out[v.port], a);
    return out;
}

std::vector<ip_addr> tap_plan::host_vip_candidates() const {
    std::vector<ip_addr> out;
    for (const auto& port_vips : vips)
        for (const ip_prefix& a : port_vips)
            out.push_back(a.addr);
    for (const vrrp_vips& v : vrrp)
        for (const ip_prefix& a : v.addresses)
            out.push_back(a.addr);
    return out;
}

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
    // The host view (tap_plan.h): VRRP instances' addresses on their ports, other VIPs on the
    // port whose subnet holds them.
    std::vector<ip_addr> under_vrrp;
    for (const config::vrrp_instance_cfg& in : c.vrrp_instances) {
        auto port = std::find_if(c.ports.begin(), c.ports.end(),
                                 [&](const config::port_cfg& pc) { return pc.name == in.port; });
        if (port == c.ports.end() || in.virtual_addresses.empty())
            continue; // the validator requires a known port
        const auto idx = static_cast<size_t>(port - c.ports.begin());
        p.needed[idx] = true;
        p.vrrp.push_back({in.name, idx, in.virtual_addresses});
        for (const ip_prefix& a : in.virtual_addresses)
            under_vrrp.push_back(a.addr);
    }
    p.vips.resize(c.ports.size());
    auto add_vip = [&](ip_addr a) {
        if (contains_addr(under_vrrp, a))
            return;
        if (auto port = c.port_for(a))
            p.vips[*port].push_back({a, 32});
    };
    for (const auto& vs : c.virtual_servers) {
        if (vs.match)
            for (ip_addr a : vs.match->destinations)
                add_vip(a);
        else
            add_vip(vs.address);
    }
    for (auto& v : p.vips) {
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    }
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
