// `snat:` and `forwarding_rules:` (snat_cfg.h): read, checked against the ports and VIPs, emitted.
#include "snat.h"

#include "draft.h"
#include "yaml_quote.h"

#include <algorithm>
#include <charconv>

namespace ulvs::config::detail {

namespace {

// A port name that must be one of `ports` (when every port name was read).
std::optional<std::string> read_port_name(reader& r, const field& f, const draft& d) {
    auto name = read_string(r, f);
    if (!name)
        return std::nullopt;
    const bool names_known =
        std::all_of(d.ports.begin(), d.ports.end(), [](const port_note& n) { return n.name_ok; });
    if (names_known && std::none_of(d.cfg.ports.begin(), d.cfg.ports.end(),
                                    [&](const port_cfg& p) { return p.name == *name; })) {
        std::string known;
        for (const port_cfg& p : d.cfg.ports)
            known += (known.empty() ? "" : ", ") + p.name;
        r.error(f.at, f.path + " \"" + *name + "\" names no port (ports: " + known + ")");
        return std::nullopt;
    }
    return name;
}

std::optional<uint16_t> number16(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < 1 || v > 65535)
        return std::nullopt;
    return static_cast<uint16_t>(v);
}

// `ports: A-B` (or one port A).
bool read_port_range(reader& r, const field& f, uint16_t& first, uint16_t& last) {
    std::string s;
    if (f.value.IsScalar())
        s = f.value.Scalar();
    const auto dash = s.find('-');
    auto a = number16(std::string_view(s).substr(0, dash));
    auto b = dash == std::string::npos ? a : number16(std::string_view(s).substr(dash + 1));
    if (!a || !b || *a > *b) {
        r.error(f.at,
                f.path + " must be a port range A-B (1..65535, A <= B), got " + describe(f.value));
        return false;
    }
    first = *a;
    last = *b;
    return true;
}

// `to: ADDRESS` or `to: A-B` (an address range).
bool read_addr_range(reader& r, const field& f, ip_addr& first, ip_addr& last) {
    std::string s;
    if (f.value.IsScalar())
        s = f.value.Scalar();
    const auto dash = s.find('-');
    auto a = ip_addr::parse(s.substr(0, dash));
    auto b = dash == std::string::npos ? a : ip_addr::parse(s.substr(dash + 1));
    if (!a || !b || a->v4 > b->v4 || b->v4 - a->v4 >= 256) {
        r.error(f.at, f.path +
                          " must be an IPv4 address or a range A-B of at most 256 addresses, "
                          "got " +
                          describe(f.value));
        return false;
    }
    first = *a;
    last = *b;
    return true;
}

void parse_snat_rule(reader& r, const field& f, draft& d, snat_rule_cfg& out) {
    mapping m(r, f, {"sources", "out_port", "to", "ports"});
    if (!m.valid())
        return;
    if (auto s = m.require("sources")) {
        read_networks(r, *s, out.sources);
        if (out.sources.empty() && s->value.IsSequence())
            r.error(s->at, s->path + " must list at least one prefix");
    }
    const size_t before = r.error_count();
    if (auto p = m.require("out_port"))
        if (auto name = read_port_name(r, *p, d))
            out.out_port = *name;
    const bool port_ok = r.error_count() == before && !out.out_port.empty();
    if (auto t = m.get("to")) {
        if (read_addr_range(r, *t, out.to_first, out.to_last)) {
            for (const virtual_server_cfg& vs : d.cfg.virtual_servers)
                if (!vs.match && vs.address.v4 >= out.to_first.v4 &&
                    vs.address.v4 <= out.to_last.v4)
                    r.error(t->at, t->path + " includes " + vs.address.to_string() +
                                       ", the address of virtual server " + vs.name +
                                       ": SNAT addresses must not be VIPs");
        }
    } else if (port_ok) { // MASQUERADE: the out_port's own (first) address
        for (const port_cfg& p : d.cfg.ports)
            if (p.name == out.out_port) {
                if (p.addresses.empty())
                    r.error(f.at, f.path + ": port " + p.name +
                                      " has no address: give the rule a `to` address");
                else
                    out.to_first = out.to_last = p.addresses.front().addr;
            }
    }
    if (auto p = m.get("ports"))
        read_port_range(r, *p, out.ports_first, out.ports_last);
}

void parse_forwarding_rule(reader& r, const field& f, draft& d, forwarding_rule_cfg& out) {
    mapping m(r, f, {"sources", "destinations", "in_port", "out_port"});
    if (!m.valid())
        return;
    if (auto s = m.require("sources"))
        read_networks(r, *s, out.sources);
    if (auto s = m.require("destinations"))
        read_networks(r, *s, out.destinations);
    if (auto p = m.get("in_port"))
        if (auto name = read_port_name(r, *p, d))
            out.in_port = *name;
    if (auto p = m.get("out_port"))
        if (auto name = read_port_name(r, *p, d))
            out.out_port = *name;
}

std::string prefixes(const std::vector<ip_prefix>& v) {
    std::string s = "[";
    for (size_t k = 0; k < v.size(); ++k)
        s += (k ? ", " : "") + v[k].to_string();
    return s + "]";
}

} // namespace

void parse_snat(reader& r, const field& f, draft& d) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        snat_rule_cfg rule;
        const size_t before = r.error_count();
        parse_snat_rule(r, item, d, rule);
        if (r.error_count() != before)
            continue;
        // Replies find their connection by (SNAT address, port): two rules must not hand out
        // the same address (list both rules' sources in one rule instead).
        for (const snat_rule_cfg& o : d.cfg.snat)
            if (rule.to_first.v4 <= o.to_last.v4 && o.to_first.v4 <= rule.to_last.v4)
                r.error(item.at, item.path +
                                     ": its `to` addresses overlap an earlier snat rule's (put "
                                     "both rules' sources in one rule)");
        d.cfg.snat.push_back(std::move(rule));
    }
}

void parse_forwarding_rules(reader& r, const field& f, draft& d) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        forwarding_rule_cfg rule;
        const size_t before = r.error_count();
        parse_forwarding_rule(r, item, d, rule);
        if (r.error_count() == before)
            d.cfg.forwarding_rules.push_back(std::move(rule));
    }
}

std::string emit_snat(const config& c) {
    std::string s;
    if (!c.snat.empty()) {
        s += "snat: [";
        for (size_t i = 0; i < c.snat.size(); ++i) {
            const snat_rule_cfg& a = c.snat[i];
            s += (i ? ", " : "") + std::string("{sources: ") + prefixes(a.sources) +
                 ", out_port: " + yaml_quote(a.out_port) + ", to: " + a.to_first.to_string();
            if (a.to_last != a.to_first)
                s += "-" + a.to_last.to_string();
            s += ", ports: " + std::to_string(a.ports_first) + "-" + std::to_string(a.ports_last) +
                 "}";
        }
        s += "]\n";
    }
    if (!c.forwarding_rules.empty()) {
        s += "forwarding_rules: [";
        for (size_t i = 0; i < c.forwarding_rules.size(); ++i) {
            const forwarding_rule_cfg& a = c.forwarding_rules[i];
            s += (i ? ", " : "") + std::string("{sources: ") + prefixes(a.sources) +
                 ", destinations: " + prefixes(a.destinations);
            if (!a.in_port.empty())
                s += ", in_port: " + yaml_quote(a.in_port);
            if (!a.out_port.empty())
                s += ", out_port: " + yaml_quote(a.out_port);
            s += "}";
        }
        s += "]\n";
    }
    return s;
}

} // namespace ulvs::config::detail
