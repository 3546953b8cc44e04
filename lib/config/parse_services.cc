// `virtual_servers` and their real servers.
#include "draft.h"
#include "parse_health.h"
#include "parse_persist_match.h"
#include "parse_sched.h"

#include <algorithm>
#include <array>

namespace ulvs::config::detail {

namespace {

std::optional<fwd_mode> read_forwarding(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    if (*s == "dr")
        return fwd_mode::dr;
    if (*s == "nat")
        return fwd_mode::nat;
    if (*s == "tun")
        return fwd_mode::tun;
    r.error(f.at, f.path + " must be one of nat, dr, tun, got " + describe(f.value));
    return std::nullopt;
}

void parse_real_server(reader& r, const field& f, real_server_cfg& out, real_server_note& note) {
    mapping m(r, f,
              {"address", "port", "weight", "forwarding", "thresholds", "inhibit_on_failure",
               "health_check", "health_checks", "notify"});
    out.loc = f.at;
    note.address_at = f.at;
    parse_rs_health(r, m, out.health); // parse_health.cc
    if (auto w = m.get("weight"))
        if (auto v = read_uint(r, *w, 0, 65535))
            out.weight = uint32_t(*v);
    parse_thresholds(r, m, out);
    // Later-version keys and a bad weight do not change who the server is or where it sits.
    size_t before = r.error_count();
    if (auto a = m.require("address")) {
        note.address_at = a->at;
        if (auto addr = read_addr(r, *a))
            out.address = *addr;
    }
    if (auto p = m.get("port"))
        if (auto v = read_uint(r, *p, 0, 65535))
            out.port = uint16_t(*v);
    if (auto fw = m.get("forwarding"))
        if (auto v = read_forwarding(r, *fw))
            out.forwarding = *v;
    note.ok = m.valid() && r.error_count() == before;
}

void parse_virtual_server(reader& r, const field& f, virtual_server_cfg& out,
                          virtual_server_note& note) {
    mapping m(r, f,
              {"name", "address", "port", "protocol", "scheduler", "scheduler_flags",
               "mh_table_size", "forwarding", "real_servers", "quorum", "hysteresis", "alpha",
               "sorry_server", "health_check", "health_checks", "notify", "persistence", "match",
               "sloppy"});
    out.loc = f.at;
    parse_vs_health(r, m, out.health); // parse_health.cc
    note.name_at = f.at;
    if (!m.valid()) {
        note.key_ok = note.fwd_ok = false;
        return;
    }
    if (auto n = m.require("name")) {
        note.name_at = n->at;
        if (auto s = read_string(r, *n)) {
            if (s->empty())
                r.error(n->at, n->path + " must not be empty");
            out.name = *s;
        }
    }

    // `match:` replaces address/port/protocol: a service is one or the other.
    size_t before = r.error_count();
    if (auto mt = m.get("match")) {
        for (const char* k : {"address", "port", "protocol"})
            if (auto extra = m.get(k))
                r.error(extra->key_at, "virtual server with match: cannot also have " +
                                           std::string(k) + " (match has destinations, ports " +
                                           "and protocol)");
        note.match_ok = parse_match(r, *mt, out);
        note.key_ok = false; // no address:port key to compare with other services
    } else {
        if (auto a = m.require("address"))
            if (auto v = read_addr(r, *a))
                out.address = *v;
        if (auto p = m.require("port"))
            if (auto v = read_uint(r, *p, 1, 65535))
                out.port = uint16_t(*v);
        if (auto p = m.require("protocol"))
            if (auto v = read_protocol(r, *p))
                out.protocol = *v;
        note.key_ok = r.error_count() == before;
    }
    if (auto p = m.get("persistence"))
        note.persistence_ok = parse_persistence(r, *p, out);

    if (auto fw = m.get("forwarding")) {
        auto v = read_forwarding(r, *fw);
        note.fwd_ok = v.has_value();
        if (v)
            out.forwarding = *v;
    }

    if (auto rs = m.get("real_servers")) {
        if (auto items = read_list(r, *rs)) {
            for (const field& item : *items) {
                real_server_cfg c;
                real_server_note n;
                parse_real_server(r, item, c, n);
                out.real_servers.push_back(c);
                note.real_servers.push_back(n);
            }
        }
    }
    // Refused with NAT: a connection picked up mid-stream would reach its new real server with
    // no NAT state behind it on the way back (the other node's rewrite), and with the client's
    // sequence numbers the server never saw; DR and TUN servers answer the client themselves.
    if (auto sl = m.get("sloppy"); sl && read_bool(r, *sl).value_or(false)) {
        const bool nat = out.forwarding == fwd_mode::nat ||
                         std::any_of(out.real_servers.begin(), out.real_servers.end(),
                                     [&](const real_server_cfg& rs) {
                                         return out.mode_of(rs) == fwd_mode::nat;
                                     });
        if (nat)
            r.error(sl->at, sl->path + " needs forwarding dr or tun for the service and each of "
                                       "its real servers (a NAT flow cannot be picked up "
                                       "mid-stream)");
        else
            out.sloppy = true;
    }
    // Last: mh checks the number of real servers against its table.
    parse_sched_keys(r, m, f, out);
}

} // namespace

void parse_virtual_servers(reader& r, const field& f, draft& d) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        virtual_server_cfg c;
        virtual_server_note n;
        parse_virtual_server(r, item, c, n);
        d.cfg.virtual_servers.push_back(std::move(c));
        d.virtual_servers.push_back(std::move(n));
    }
}

} // namespace ulvs::config::detail
