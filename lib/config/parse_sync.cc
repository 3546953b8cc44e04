// `sync:` (sync_cfg.h, README "Connection sync"): the connection sync daemon's settings, with
// ipvsadm's defaults and IPVS' limits.
#include "parse_sync.h"
#include "yaml_quote.h"

#include "draft.h"

#include <algorithm>

namespace ulvs::config {

std::string_view to_string(sync_role r) {
    switch (r) {
    case sync_role::master:
        return "master";
    case sync_role::backup:
        return "backup";
    case sync_role::both:
        return "both";
    }
    return "?";
}

namespace detail {

namespace {

// The IP and UDP headers a datagram of `maxlen` bytes travels with.
constexpr unsigned ip_udp_headers = 28;
// wire.h min_maxlen: the header, an IPv4 entry and the sequence option (kept in step by
// sync_wire_test; lib/config does not link the codec).
constexpr unsigned min_maxlen = 70;
constexpr unsigned max_maxlen = 65507;

constexpr bool is_multicast(ip_addr a) {
    return a.family == addr_family::v4 && (a.v4 >> 28) == 0xe;
}

std::string port_names(const draft& d) {
    std::string s;
    for (const port_cfg& p : d.cfg.ports)
        s += (s.empty() ? "" : ", ") + p.name;
    return s;
}

std::optional<sync_role> read_role(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    for (sync_role role : {sync_role::master, sync_role::backup, sync_role::both})
        if (*s == to_string(role))
            return role;
    r.error(f.at, f.path + " must be one of master, backup, both, got " + describe(f.value));
    return std::nullopt;
}

// The port the daemon sends and listens on: named, or the only one.
void read_interface(reader& r, const mapping& m, const field& f, draft& d, sync_cfg& out) {
    const bool names_known =
        std::all_of(d.ports.begin(), d.ports.end(), [](const port_note& n) { return n.name_ok; });
    auto i = m.get("interface");
    if (!i) {
        if (d.cfg.ports.size() == 1 && names_known)
            out.interface = d.cfg.ports.front().name;
        else if (names_known && !d.ports_unreadable)
            r.error(f.at, f.path +
                              ".interface must name the port sync uses when there is not "
                              "exactly one port (ports: " +
                              port_names(d) + ")");
        return;
    }
    auto name = read_string(r, *i);
    if (!name)
        return;
    auto it = std::find_if(d.cfg.ports.begin(), d.cfg.ports.end(),
                           [&](const port_cfg& p) { return p.name == *name; });
    if (names_known && it == d.cfg.ports.end()) {
        r.error(i->at, i->path + " \"" + *name + "\" names no port (ports: " + port_names(d) + ")");
        return;
    }
    out.interface = *name;
}

} // namespace

void parse_sync(reader& r, const field& f, draft& d) {
    mapping m(r, f,
              {"role", "interface", "port", "group", "peer", "syncid", "threshold", "period",
               "maxlen", "ttl"});
    if (!m.valid())
        return;
    sync_cfg out;
    const size_t before = r.error_count();
    if (auto v = m.require("role"))
        if (auto role = read_role(r, *v))
            out.role = *role;
    read_interface(r, m, f, d, out);
    if (auto v = m.get("port"))
        if (auto n = read_uint(r, *v, 1, 65535))
            out.port = uint16_t(*n);
    if (auto v = m.get("group")) {
        auto a = read_addr(r, *v);
        if (a && !is_multicast(*a))
            r.error(v->at, v->path + " must be an IPv4 multicast address (224.0.0.0/4), got " +
                               a->to_string());
        else if (a)
            out.group = *a;
    }
    if (auto v = m.get("peer")) {
        auto a = read_addr(r, *v);
        if (a && (is_multicast(*a) || a->v4 == 0 || a->v4 == 0xffffffffu))
            r.error(v->at,
                    v->path + " must be a unicast address (the other node), got " + a->to_string());
        else if (a)
            out.peer = *a;
    }
    if (auto v = m.get("syncid"))
        if (auto n = read_uint(r, *v, 0, 255))
            out.syncid = uint8_t(*n);
    // IPVS' sync_threshold sysctl takes "threshold period" with 0 <= threshold < period (or
    // period 0: once, at threshold); a period past 65535 packets would never come again.
    std::optional<field> threshold_at, period_at;
    const size_t before_counts = r.error_count();
    if ((threshold_at = m.get("threshold")))
        if (auto n = read_uint(r, *threshold_at, 0, 65535))
            out.threshold = uint32_t(*n);
    if ((period_at = m.get("period")))
        if (auto n = read_uint(r, *period_at, 0, 65535))
            out.period = uint32_t(*n);
    if (r.error_count() == before_counts && out.period != 0 && out.threshold >= out.period) {
        const field& at = threshold_at ? *threshold_at : *period_at;
        r.error(at.at, f.path + ".threshold (" + std::to_string(out.threshold) +
                           ") must be less than " + f.path + ".period (" +
                           std::to_string(out.period) + "), or period 0 (as IPVS' sync_threshold)");
    }
    if (auto v = m.get("maxlen")) {
        auto n = read_uint(r, *v, min_maxlen, max_maxlen);
        auto port = std::find_if(d.cfg.ports.begin(), d.cfg.ports.end(),
                                 [&](const port_cfg& p) { return p.name == out.interface; });
        // The control lcore does not fragment what it sends: a datagram must fit the port's MTU.
        if (n && port != d.cfg.ports.end() && *n + ip_udp_headers > port->mtu)
            r.error(v->at, v->path + " " + std::to_string(*n) + " does not fit port \"" +
                               port->name + "\"'s mtu " + std::to_string(port->mtu) +
                               " with the IP and UDP headers (at most " +
                               std::to_string(port->mtu - ip_udp_headers) + ")");
        else if (n)
            out.maxlen = uint16_t(*n);
    }
    if (auto v = m.get("ttl"))
        if (auto n = read_uint(r, *v, 1, 255))
            out.ttl = uint8_t(*n);
    if (r.error_count() == before)
        d.cfg.sync = out;
}

std::string emit_sync(const config& c) {
    if (!c.sync)
        return {};
    const sync_cfg& s = *c.sync;
    std::string o = "sync: {role: " + std::string(to_string(s.role));
    if (!s.interface.empty())
        o += ", interface: " + yaml_quote(s.interface);
    o += ", port: " + std::to_string(s.port) + ", group: " + s.group.to_string();
    if (s.peer)
        o += ", peer: " + s.peer->to_string();
    o += ", syncid: " + std::to_string(s.syncid) + ", threshold: " + std::to_string(s.threshold) +
         ", period: " + std::to_string(s.period);
    if (s.maxlen != 0)
        o += ", maxlen: " + std::to_string(s.maxlen);
    o += ", ttl: " + std::to_string(s.ttl) + "}";
    return o;
}

} // namespace detail

} // namespace ulvs::config
