#include "ulvs/control/service/rss_sides.h"

#include <optional>

namespace ulvs::ctl {

namespace {

// The port a packet to `a` leaves by: longest prefix over the connected subnets and the static
// routes (a route's port is its gateway's), as the snapshot's route table decides.
std::optional<size_t> exit_port(const config::config& cfg, ip_addr a) {
    std::optional<size_t> best;
    int best_len = -1;
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        for (const ip_prefix& pf : cfg.ports[p].addresses)
            if (pf.contains(a) && pf.len > best_len) {
                best = p;
                best_len = pf.len;
            }
    for (const config::route_cfg& r : cfg.routes)
        if (r.prefix.contains(a) && r.prefix.len >= best_len) // a static route replaces a subnet
            if (auto p = cfg.port_for(r.via)) {
                best = *p;
                best_len = r.prefix.len;
            }
    return best;
}

} // namespace

std::vector<dp::rss_side> rss_sides(const config::config& cfg) {
    std::vector<bool> server(cfg.ports.size(), false), client(cfg.ports.size(), false);
    for (const config::virtual_server_cfg& vs : cfg.virtual_servers)
        for (const config::real_server_cfg& rs : vs.real_servers)
            if (vs.mode_of(rs) == fwd_mode::nat && rs.address.family == addr_family::v4)
                if (auto p = exit_port(cfg, rs.address))
                    server[*p] = true;
    for (const config::route_cfg& r : cfg.routes)
        if (r.prefix.len == 0)
            if (auto p = cfg.port_for(r.via))
                client[*p] = true;
    std::vector<dp::rss_side> out(cfg.ports.size());
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        out[p] = server[p] && client[p] ? dp::rss_side::none
                 : server[p]            ? dp::rss_side::server
                                        : dp::rss_side::client;
    return out;
}

} // namespace ulvs::ctl
