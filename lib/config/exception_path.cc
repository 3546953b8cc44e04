// `exception_path:` (exception_cfg.h): the user's allow rules for the kernel exception path.
#include "exception_path.h"
#include "yaml_quote.h"

#include "draft.h"

#include <algorithm>
#include <cstdio>

namespace ulvs::config {

std::string_view to_string(allow_proto p) {
    switch (p) {
    case allow_proto::any:
        return "any";
    case allow_proto::icmp:
        return "icmp";
    case allow_proto::tcp:
        return "tcp";
    case allow_proto::udp:
        return "udp";
    }
    return "?";
}

namespace detail {

namespace {

std::string port_names(const draft& d) {
    std::string s;
    for (const port_cfg& p : d.cfg.ports)
        s += (s.empty() ? "" : ", ") + p.name;
    return s;
}

std::optional<allow_proto> read_allow_proto(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    for (allow_proto p : {allow_proto::tcp, allow_proto::udp, allow_proto::icmp, allow_proto::any})
        if (*s == to_string(p))
            return p;
    r.error(f.at, f.path + " must be tcp, udp, icmp or any, got " + describe(f.value));
    return std::nullopt;
}

void parse_allow(reader& r, const field& f, const draft& d, exception_allow_cfg& out) {
    mapping m(r, f, {"port", "protocol", "ports", "sources"});
    if (!m.valid())
        return;
    if (auto p = m.get("port")) { // absent: every port
        auto name = read_string(r, *p);
        const bool names_known = std::all_of(d.ports.begin(), d.ports.end(),
                                             [](const port_note& n) { return n.name_ok; });
        if (name && names_known &&
            std::none_of(d.cfg.ports.begin(), d.cfg.ports.end(),
                         [&](const port_cfg& pc) { return pc.name == *name; }))
            r.error(p->at,
                    p->path + " \"" + *name + "\" names no port (ports: " + port_names(d) + ")");
        else if (name)
            out.port = *name;
    }
    if (auto p = m.require("protocol"))
        if (auto v = read_allow_proto(r, *p))
            out.protocol = *v;
    if (auto p = m.get("ports")) { // absent or empty: every destination port
        if (out.protocol != allow_proto::tcp && out.protocol != allow_proto::udp)
            r.error(p->at, p->path + " needs protocol tcp or udp (" +
                               std::string(to_string(out.protocol)) + " has no ports)");
        else
            read_ports(r, *p, out.ports);
    }
    if (auto s = m.get("sources")) // absent or empty: every source
        read_networks(r, *s, out.sources);
}

} // namespace

void parse_exception_path(reader& r, const field& f, draft& d) {
    mapping m(r, f, {"allow"});
    if (!m.valid())
        return;
    auto a = m.get("allow");
    if (!a)
        return;
    auto items = read_list(r, *a);
    if (!items)
        return;
    for (const field& item : *items) {
        exception_allow_cfg rule;
        const size_t before = r.error_count();
        parse_allow(r, item, d, rule);
        if (r.error_count() == before)
            d.cfg.exception_path.allow.push_back(std::move(rule));
    }
}

std::string emit_exception_path(const exception_path_cfg& c) {
    std::string s = "exception_path: {allow: [";
    for (size_t i = 0; i < c.allow.size(); ++i) {
        const exception_allow_cfg& a = c.allow[i];
        s += i ? ", {" : "{";
        if (!a.port.empty())
            s += "port: " + yaml_quote(a.port) + ", ";
        s += "protocol: " + std::string(to_string(a.protocol));
        if (!a.ports.empty()) {
            s += ", ports: [";
            for (size_t k = 0; k < a.ports.size(); ++k)
                s += (k ? ", " : "") + std::to_string(a.ports[k]);
            s += "]";
        }
        s += ", sources: [";
        for (size_t k = 0; k < a.sources.size(); ++k)
            s += (k ? ", " : "") + a.sources[k].to_string();
        s += "]}";
    }
    return s + "]}";
}

} // namespace detail

} // namespace ulvs::config
