// The `persistence:` and `match:` keys of a virtual server (IPVS persistence templates and the
// fwmark-style match services).
#include "parse_persist_match.h"

#include "draft.h"

#include <algorithm>

namespace ulvs::config::detail {

namespace {

// IPVS keeps the timeout in seconds in a 32-bit field; ulvs keeps milliseconds in 32 bits in the
// template entry, so the longest is just under 2^32 ms (about 49 days): 30 days is the limit.
constexpr uint64_t persist_timeout_max_ms = 30ull * 24 * 3600 * 1000;

bool contiguous(uint32_t mask) {
    return mask == 0 || (~mask & (~mask + 1)) == 0;
}

} // namespace

bool parse_persistence(reader& r, const field& f, virtual_server_cfg& out) {
    mapping m(r, f, {"timeout", "granularity", "expire_quiescent_template"});
    if (!m.valid())
        return false;
    const size_t before = r.error_count();
    persistence_cfg p;
    if (auto t = m.get("timeout")) {
        if (auto d = read_duration(r, *t)) {
            if (d->count() < 1000 || uint64_t(d->count()) > persist_timeout_max_ms)
                r.error(t->at,
                        t->path + " must be between 1s and 30 days, got " + describe(t->value));
            else
                p.timeout = *d;
        }
    }
    if (auto g = m.get("granularity")) {
        if (auto a = read_addr(r, *g)) {
            if (!contiguous(a->v4))
                r.error(g->at, g->path + " must be a netmask (contiguous ones, e.g. " +
                                   "255.255.255.0), got " + a->to_string());
            else
                p.granularity = *a;
        }
    }
    if (auto e = m.get("expire_quiescent_template"))
        if (auto b = read_bool(r, *e))
            p.expire_quiescent_template = *b;
    if (r.error_count() != before)
        return false;
    out.persistence = p;
    return true;
}

bool parse_match(reader& r, const field& f, virtual_server_cfg& out) {
    mapping m(r, f, {"destinations", "ports", "sources", "protocol"});
    if (!m.valid())
        return false;
    const size_t before = r.error_count();
    match_cfg mc;
    if (auto d = m.require("destinations")) {
        if (auto items = read_list(r, *d)) {
            if (items->empty())
                r.error(d->at, d->path + " must name at least one address");
            for (const field& item : *items) {
                auto a = read_addr(r, item);
                if (!a)
                    continue;
                if (std::find(mc.destinations.begin(), mc.destinations.end(), *a) !=
                    mc.destinations.end())
                    r.error(item.at, a->to_string() + " is listed twice in " + d->path);
                else
                    mc.destinations.push_back(*a);
            }
        }
    }
    if (auto p = m.get("ports")) // absent or empty: every port
        read_ports(r, *p, mc.ports);
    if (auto s = m.get("sources")) // absent or empty: every source
        read_networks(r, *s, mc.sources);
    if (auto p = m.require("protocol"))
        if (auto v = read_protocol(r, *p))
            mc.protocol = *v;
    if (r.error_count() != before)
        return false;
    out.protocol = mc.protocol;
    out.match = std::move(mc);
    return true;
}

void check_persist_match(reader& r, const draft& d) {
    const auto& vss = d.cfg.virtual_servers;
    for (size_t i = 0; i < vss.size(); ++i) {
        const virtual_server_cfg& vs = vss[i];
        if (vs.match && d.virtual_servers[i].match_ok) {
            // The first match service wins: an identical later one could never get a packet.
            for (size_t j = 0; j < i; ++j) {
                if (vss[j].match && d.virtual_servers[j].match_ok && *vss[j].match == *vs.match) {
                    r.error(vs.loc, "virtual server \"" + vs.name + "\" has the same match as " +
                                        "virtual_servers[" + std::to_string(j) +
                                        "], which takes all its packets");
                    break;
                }
            }
        }
        // A NAT reply is steered to its connection's worker by the real server's address alone
        // (the packet does not say which service it belongs to): every NAT service using that
        // address must then agree on how clients are grouped (persistence granularity or none).
        if (!d.virtual_servers[i].persistence_ok || !d.virtual_servers[i].fwd_ok)
            continue;
        const auto group = [](const virtual_server_cfg& s) -> int64_t {
            return s.persistence ? int64_t(s.persistence->granularity.v4) : -1;
        };
        for (size_t a = 0; a < vs.real_servers.size(); ++a) {
            const real_server_cfg& rs = vs.real_servers[a];
            if (vs.mode_of(rs) != fwd_mode::nat || !d.virtual_servers[i].real_servers[a].ok)
                continue;
            for (size_t j = 0; j < i; ++j) {
                const virtual_server_cfg& o = vss[j];
                if (!d.virtual_servers[j].persistence_ok || !d.virtual_servers[j].fwd_ok ||
                    group(o) == group(vs))
                    continue;
                const bool shared = std::any_of(
                    o.real_servers.begin(), o.real_servers.end(), [&](const real_server_cfg& x) {
                        return x.address == rs.address && o.mode_of(x) == fwd_mode::nat;
                    });
                if (shared) {
                    r.error(d.virtual_servers[i].real_servers[a].address_at,
                            "NAT real server " + rs.address.to_string() + " is also in " +
                                "virtual_servers[" + std::to_string(j) +
                                "] with a different persistence granularity (or none): its " +
                                "replies could not find their connection's worker");
                    break;
                }
            }
        }
    }
}

} // namespace ulvs::config::detail
