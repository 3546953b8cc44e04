// `virtual_servers` and their real servers.
#include "draft.h"

#include <algorithm>
#include <array>

namespace ulvs::config::detail {

namespace {

// Only what this version implements is accepted; the rest of ipvsadm's names are recognised so
// the message says "not yet" rather than "unknown".
constexpr std::array<std::string_view, 2> supported_schedulers{"rr", "wrr"};
constexpr std::array<std::string_view, 7> later_schedulers{"lc",  "wlc", "sh", "dh",
                                                           "sed", "nq",  "mh"};

template <class A> bool in(const A& names, std::string_view s) {
    return std::find(names.begin(), names.end(), s) != names.end();
}

// Empty message: supported.
std::string scheduler_problem(const std::string& name) {
    if (in(supported_schedulers, name))
        return {};
    if (in(later_schedulers, name))
        return "scheduler \"" + name + "\" not supported yet (this version has rr and wrr)";
    return "unknown scheduler \"" + name + "\" (expected rr, wrr, lc, wlc, sh, dh, sed, nq or mh)";
}

std::optional<fwd_mode> read_forwarding(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    if (*s == "dr")
        return fwd_mode::dr;
    if (*s == "nat" || *s == "tun")
        r.error(f.at, "forwarding \"" + *s + "\" not supported yet (this version has dr only)");
    else
        r.error(f.at, f.path + " must be one of nat, dr, tun, got " + describe(f.value));
    return std::nullopt;
}

std::optional<l4_proto> read_protocol(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    if (*s == "tcp")
        return l4_proto::tcp;
    if (*s == "udp")
        return l4_proto::udp;
    r.error(f.at, f.path + " must be tcp or udp, got " + describe(f.value));
    return std::nullopt;
}

void parse_real_server(reader& r, const field& f, real_server_cfg& out, real_server_note& note) {
    mapping m(r, f, {"address", "port", "weight", "forwarding"},
              {"inhibit_on_failure", "thresholds", "health_check", "notify"});
    out.loc = f.at;
    note.address_at = f.at;
    if (auto w = m.get("weight"))
        if (auto v = read_uint(r, *w, 0, 65535))
            out.weight = uint32_t(*v);
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
              {"name", "address", "port", "protocol", "scheduler", "forwarding", "real_servers"},
              {"scheduler_flags", "persistence", "quorum", "hysteresis", "alpha", "sorry_server",
               "health_check", "match"});
    out.loc = f.at;
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

    // `match:` replaces address/port/protocol; it was already reported as not supported, so
    // asking for the keys it stands for would only repeat that one mistake.
    bool has_match = f.value["match"].IsDefined();
    size_t before = r.error_count();
    if (auto a = has_match ? m.get("address") : m.require("address"))
        if (auto v = read_addr(r, *a))
            out.address = *v;
    if (auto p = has_match ? m.get("port") : m.require("port"))
        if (auto v = read_uint(r, *p, 1, 65535))
            out.port = uint16_t(*v);
    if (auto p = has_match ? m.get("protocol") : m.require("protocol"))
        if (auto v = read_protocol(r, *p))
            out.protocol = *v;
    note.key_ok = !has_match && r.error_count() == before;

    if (auto s = m.get("scheduler")) {
        if (auto name = read_string(r, *s)) {
            out.scheduler = *name;
            if (auto problem = scheduler_problem(*name); !problem.empty())
                r.error(s->at, problem);
        }
    } else if (!scheduler_problem(out.scheduler).empty()) {
        r.error(f.at, f.path + ": scheduler \"" + out.scheduler +
                          "\" (ipvsadm's default when scheduler is omitted) not supported yet "
                          "(this version has rr and wrr)");
    }

    if (auto fw = m.get("forwarding")) {
        auto v = read_forwarding(r, *fw);
        note.fwd_ok = v.has_value();
        if (v)
            out.forwarding = *v;
    }

    if (auto rs = m.get("real_servers")) {
        auto items = read_list(r, *rs);
        if (!items)
            return;
        for (const field& item : *items) {
            real_server_cfg c;
            real_server_note n;
            parse_real_server(r, item, c, n);
            out.real_servers.push_back(c);
            note.real_servers.push_back(n);
        }
    }
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
