// Checks across items, run after every section was read. Items that already had an error are
// skipped (see draft.h), and subnet checks need every port to have been read.
#include "draft.h"
#include "parse_health.h"
#include "parse_persist_match.h"

#include <algorithm>
#include <tuple>

namespace ulvs::config::detail {

namespace {

// Whether a static route (that parsed) covers `a`.
bool routed(const draft& d, ip_addr a) {
    for (size_t i = 0; i < d.cfg.routes.size(); ++i)
        if (d.routes[i].ok && d.cfg.routes[i].prefix.contains(a))
            return true;
    return false;
}

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

std::string port_list(const config& c) {
    std::string s;
    for (const port_cfg& p : c.ports)
        s += (s.empty() ? "" : ", ") + p.name;
    return s;
}

void check_ports(reader& r, const draft& d) {
    const config& c = d.cfg;
    if (c.ports.empty()) {
        if (!d.ports_unreadable) // else that was the mistake, already reported
            r.error(d.ports_at, "at least one port is required (ports: [...])");
        return;
    }
    for (size_t i = 0; i < c.ports.size(); ++i) {
        const port_cfg& p = c.ports[i];
        for (size_t j = 0; j < i && !p.name.empty(); ++j) {
            if (c.ports[j].name == p.name) {
                r.error(d.ports[i].name_at, "port name " + quoted(p.name) +
                                                " is already used by ports[" + std::to_string(j) +
                                                "]");
                break;
            }
        }
        // One address on two ports would make ARP answers and the exception path ambiguous.
        for (size_t a = 0; a < p.addresses.size(); ++a) {
            ip_addr addr = p.addresses[a].addr;
            std::string where;
            for (size_t j = 0; j <= i && where.empty(); ++j) {
                size_t n = j == i ? a : c.ports[j].addresses.size();
                for (size_t b = 0; b < n && where.empty(); ++b)
                    if (c.ports[j].addresses[b].addr == addr)
                        where =
                            j == i ? "earlier on this port" : "on port " + quoted(c.ports[j].name);
            }
            if (!where.empty())
                r.error(d.ports[i].address_at[a],
                        "address " + addr.to_string() + " is already " + where);
        }
    }
}

void check_routes(reader& r, const draft& d, bool subnets_known) {
    const config& c = d.cfg;
    for (size_t i = 0; i < c.routes.size(); ++i) {
        if (!d.routes[i].ok)
            continue;
        const route_cfg& rt = c.routes[i];
        for (size_t j = 0; j < i; ++j) {
            if (d.routes[j].ok && c.routes[j].prefix == rt.prefix) {
                r.error(rt.loc, "route " + rt.prefix.to_string() +
                                    " is already defined by routes[" + std::to_string(j) + "]");
                break;
            }
        }
        // The next hop is resolved by ARP on a port, so it must be directly reachable.
        if (subnets_known && !c.port_for(rt.via))
            r.error(d.routes[i].via_at, "route via " + rt.via.to_string() +
                                            " is not on a connected subnet of any port");
    }
}

void check_neighbors(reader& r, const draft& d, bool names_known, bool subnets_known) {
    const config& c = d.cfg;
    for (size_t i = 0; i < c.neighbors.size(); ++i) {
        if (!d.neighbors[i].ok)
            continue;
        const neighbor_cfg& n = c.neighbors[i];
        for (size_t j = 0; j < i; ++j) {
            if (d.neighbors[j].ok && c.neighbors[j].address == n.address) {
                r.error(d.neighbors[i].address_at, "neighbor " + n.address.to_string() +
                                                       " is already defined by neighbors[" +
                                                       std::to_string(j) + "]");
                break;
            }
        }
        if (!names_known)
            continue;
        auto port = std::find_if(c.ports.begin(), c.ports.end(),
                                 [&](const port_cfg& p) { return p.name == n.port; });
        if (port == c.ports.end()) {
            r.error(d.neighbors[i].port_at, "neighbor port " + quoted(n.port) +
                                                " names no port (ports: " + port_list(c) + ")");
            continue;
        }
        bool on_subnet = std::any_of(port->addresses.begin(), port->addresses.end(),
                                     [&](const ip_prefix& p) { return p.contains(n.address); });
        if (subnets_known && !on_subnet)
            r.error(d.neighbors[i].address_at, "neighbor " + n.address.to_string() +
                                                   " is not on a subnet of port " + quoted(n.port));
    }
}

void check_real_servers(reader& r, const draft& d, size_t v, bool subnets_known) {
    const virtual_server_cfg& vs = d.cfg.virtual_servers[v];
    const virtual_server_note& note = d.virtual_servers[v];
    std::string where = "virtual_servers[" + std::to_string(v) + "]";
    // IPVS knows a destination by address and port; DR and TUN reach the server on the service
    // port whatever is written, so there the address alone names it.
    auto identity = [&](const real_server_cfg& rs) {
        return std::pair{rs.address, vs.mode_of(rs) == fwd_mode::nat ? rs.port : uint16_t(0)};
    };
    for (size_t i = 0; i < vs.real_servers.size(); ++i) {
        const real_server_cfg& rs = vs.real_servers[i];
        if (!note.real_servers[i].ok || !note.fwd_ok)
            continue;
        for (size_t j = 0; j < i; ++j) {
            if (note.real_servers[j].ok && identity(vs.real_servers[j]) == identity(rs)) {
                r.error(rs.loc, "real server " + rs.address.to_string() + " is listed twice in " +
                                    where + " (also real_servers[" + std::to_string(j) + "])");
                break;
            }
        }
        // DR rewrites only the destination MAC: the server must be on a link we have.
        if (subnets_known && vs.mode_of(rs) == fwd_mode::dr && !d.cfg.port_for(rs.address))
            r.error(note.real_servers[i].address_at,
                    "DR real server " + rs.address.to_string() +
                        " is not on a connected subnet of any port");
        // NAT and TUN route to the server: a connected subnet or a static route must reach it.
        if (subnets_known && vs.mode_of(rs) != fwd_mode::dr && !d.cfg.port_for(rs.address) &&
            !routed(d, rs.address))
            r.error(note.real_servers[i].address_at,
                    "real server " + rs.address.to_string() +
                        " has no route: not on a connected subnet and no route covers it");
    }
}

void check_virtual_servers(reader& r, const draft& d, bool subnets_known) {
    const config& c = d.cfg;
    for (size_t i = 0; i < c.virtual_servers.size(); ++i) {
        const virtual_server_cfg& vs = c.virtual_servers[i];
        const virtual_server_note& note = d.virtual_servers[i];
        for (size_t j = 0; j < i && !vs.name.empty(); ++j) {
            if (c.virtual_servers[j].name == vs.name) {
                r.error(note.name_at, "virtual server name " + quoted(vs.name) +
                                          " is already used by virtual_servers[" +
                                          std::to_string(j) + "]");
                break;
            }
        }
        auto key = [](const virtual_server_cfg& s) {
            return std::tuple{s.address, s.port, s.protocol};
        };
        for (size_t j = 0; j < i && note.key_ok; ++j) {
            if (d.virtual_servers[j].key_ok && key(c.virtual_servers[j]) == key(vs)) {
                r.error(vs.loc, "service " + std::string(to_string(vs.protocol)) + " " +
                                    vs.address.to_string() + ":" + std::to_string(vs.port) +
                                    " is already defined by virtual_servers[" + std::to_string(j) +
                                    "]");
                break;
            }
        }
        check_real_servers(r, d, i, subnets_known);
    }
}

} // namespace

void validate(reader& r, draft& d) {
    // Without every port's subnets, "not on a connected subnet" would be a guess.
    bool subnets_known =
        !d.ports.empty() && std::all_of(d.ports.begin(), d.ports.end(),
                                        [](const port_note& n) { return n.addresses_ok; });
    bool names_known =
        std::all_of(d.ports.begin(), d.ports.end(), [](const port_note& n) { return n.name_ok; });
    check_ports(r, d);
    check_routes(r, d, subnets_known);
    check_neighbors(r, d, names_known, subnets_known);
    check_virtual_servers(r, d, subnets_known);
    check_persist_match(r, d);
    check_sorry_servers(r, d, subnets_known); // parse_health.cc
    check_vrrp_instances(r, d, names_known, subnets_known);
    check_vrrp_sync_groups(r, d);
    check_mbufs(r, d);
}

} // namespace ulvs::config::detail
