// virtual_server (IP PORT, fwmark N, group NAME), virtual_server_group and real_server ->
// `virtual_servers`. Semantics from keepalived's check_parser.c and check_data.c: lb_kind
// defaults to NAT, a real server's weight to the service's `weight` (1), inhibit_on_failure to the
// service's; persistence_granularity without persistence_timeout means IPVS' 360 s; a service
// without real servers is dropped by keepalived, so it is here (with a warning). A group entry is
// one IPVS service per address and port in keepalived too, so it becomes one ulvs service each.
#include "import_common.h"

#include <set>

namespace ulvs::importer {

namespace {

const std::set<std::string> schedulers = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr",
                                          "dh", "sh",  "sed", "nq",  "mh"};
const std::set<std::string> sched_flags = {"sh-port", "sh-fallback", "mh-port", "mh-fallback"};

bool ipv4(std::string_view s) {
    int dots = 0;
    for (char ch : s) {
        if (ch == '.')
            ++dots;
        else if (ch < '0' || ch > '9')
            return false;
    }
    return dots == 3;
}

// lb_kind / lvs_method: keepalived compares with strcmp, so only the upper-case words work; a
// lower-case one is ignored there (NAT stays), which is never what its author meant.
std::optional<std::string> forwarding(ctx& c, const node& n) {
    if (!need_args(c, n, 1))
        return std::nullopt;
    const std::string& w = n.arg(0);
    if (w == "NAT" || w == "DR" || w == "TUN") {
        if (n.args.size() > 1)
            c.d.warn(n.args[1].at,
                     "tunnel options (" + n.arg(1) + " ...) left out: ulvs tunnels are IPIP");
        return w == "NAT" ? "nat" : w == "DR" ? "dr" : "tun";
    }
    c.d.error(n.args[0].at, n.keyword + " must be NAT, DR or TUN (keepalived does not take '" + w +
                                "' and would forward by NAT)");
    return std::nullopt;
}

struct rs_defaults {
    std::string weight = "1";
    bool inhibit = false;
};

std::string real_server(ctx& c, const node& vs, const node& rs, const rs_defaults& def) {
    std::string o = "      - address: " + rs.arg(0) + "\n";
    if (!ipv4(rs.arg(0)))
        c.d.error(rs.at, "real_server " + rs.arg(0) + ": only IPv4 addresses are supported");
    std::string port = rs.args.size() > 1 ? rs.arg(1) : "0";
    if (!to_uint(port, 65535))
        c.d.error(rs.args[1].at, "real_server port must be 0..65535");
    o += "        port: " + port + "\n";
    std::string weight = def.weight, upper, lower, fwd, up, down;
    bool inhibit = def.inhibit;
    for (const node& n : rs.children) {
        const std::string& k = n.keyword;
        if (k == "weight") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 65535))
                weight = n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "weight must be 0..65535");
        } else if (k == "lvs_method") {
            if (auto f = forwarding(c, n))
                fwd = *f;
        } else if (k == "uthreshold" || k == "lthreshold") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 0xffffffffu))
                (k == "uthreshold" ? upper : lower) = n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, k + " must be a number");
        } else if (k == "inhibit_on_failure") {
            inhibit = n.args.empty() || to_bool(n.arg(0)).value_or(true);
        } else if (k == "notify_up" || k == "notify_down") {
            if (auto cmd = command_arg(c, n))
                (k == "notify_up" ? up : down) = *cmd;
        } else if (k == "alpha") {
            c.d.warn(n.at,
                     "alpha of a real server: ulvs has alpha per virtual server only; left out");
        } else if (k == "retry" || k == "delay_before_retry" || k == "warmup" ||
                   k == "connect_timeout" || k == "delay_loop" || k == "virtualhost" ||
                   k == "TCP_CHECK" || k == "HTTP_GET" || k == "SSL_GET" || k == "MISC_CHECK" ||
                   k == "UDP_CHECK") {
            // read by import_checks
        } else if (k == "PING_CHECK" || k == "DNS_CHECK" || k == "SMTP_CHECK" ||
                   k == "FILE_CHECK" || k == "BFD_CHECK") {
            c.d.error(n.at, k + " has no ulvs equivalent: without it the server would never be "
                                "taken out; replace it by a MISC_CHECK script");
        } else {
            unsupported(c, n, "real_server");
        }
    }
    o += "        weight: " + weight + "\n";
    if (!fwd.empty())
        o += "        forwarding: " + fwd + "\n";
    if (!upper.empty() || !lower.empty())
        o += "        thresholds: {upper: " + (upper.empty() ? "0" : upper) +
             ", lower: " + (lower.empty() ? "0" : lower) + "}\n";
    if (inhibit)
        o += "        inhibit_on_failure: true\n";
    if (!up.empty() || !down.empty()) {
        std::string t;
        if (!up.empty())
            t += "up: " + q(up);
        if (!down.empty())
            t += std::string(t.empty() ? "" : ", ") + "down: " + q(down);
        o += "        notify: {" + t + "}\n";
    }
    o += import_checks(c, vs, rs);
    return o;
}

// Everything of a virtual_server but its address, port and protocol.
vs_text body(ctx& c, const node& vs) {
    vs_text t;
    t.at = vs.at;
    std::string sched = "wlc", fwd = "nat", pto, pgr, quorum, hyst, sorry, qup, qdown;
    std::vector<std::string> flags;
    bool alpha = false;
    rs_defaults def;
    std::string servers;
    for (const node& n : vs.children) {
        const std::string& k = n.keyword;
        if (k == "lb_algo" || k == "lvs_sched") {
            if (!need_args(c, n, 1))
                continue;
            if (schedulers.contains(n.arg(0)))
                sched = n.arg(0);
            else
                c.d.error(n.args[0].at, "scheduler " + n.arg(0) +
                                            " is not one of ulvs' (rr wrr lc "
                                            "wlc lblc lblcr dh sh sed nq mh)");
        } else if (sched_flags.contains(k)) {
            flags.push_back(k);
        } else if (k == "lb_kind" || k == "lvs_method") {
            if (auto f = forwarding(c, n))
                fwd = *f;
        } else if (k == "persistence_timeout") {
            if (n.args.empty())
                pto = "360s";
            else if (auto v = to_uint(n.arg(0), 2592000); v && *v > 0)
                pto = dur(int64_t(*v) * 1000);
            else
                c.d.error(n.args[0].at, "persistence_timeout must be 1..2592000 seconds");
        } else if (k == "persistence_granularity") {
            if (need_args(c, n, 1) && ipv4(n.arg(0)))
                pgr = n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "persistence_granularity must be an IPv4 netmask");
        } else if (k == "protocol") {
            if (!need_args(c, n, 1))
                continue;
            std::string p = n.arg(0);
            for (char& ch : p)
                ch = char(std::tolower(static_cast<unsigned char>(ch)));
            if (p == "tcp" || p == "udp")
                t.udp = p == "udp";
            else
                c.d.error(n.args[0].at,
                          "protocol " + n.arg(0) + ": ulvs balances TCP and UDP only");
        } else if (k == "sorry_server") {
            if (need_args(c, n, 1) && ipv4(n.arg(0)))
                sorry = "{address: " + n.arg(0) +
                        ", port: " + (n.args.size() > 1 ? n.arg(1) : "0") + "}";
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "sorry_server needs an IPv4 address");
        } else if (k == "quorum" || k == "hysteresis") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 0xffffffffu))
                (k == "quorum" ? quorum : hyst) = n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, k + " must be a number");
        } else if (k == "alpha") {
            alpha = true;
        } else if (k == "omega") {
            c.d.warn(n.at, "omega (quorum_down run when the service is removed) has no ulvs "
                           "equivalent; left out");
        } else if (k == "quorum_up" || k == "quorum_down") {
            if (auto cmd = command_arg(c, n))
                (k == "quorum_up" ? qup : qdown) = *cmd;
        } else if (k == "weight") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 65535))
                def.weight = n.arg(0);
        } else if (k == "inhibit_on_failure") {
            def.inhibit = true;
        } else if (k == "ip_family") {
            if (n.arg(0) != "inet")
                c.d.error(n.at, "ip_family " + n.arg(0) + ": ulvs balances IPv4 only");
        } else if (k == "real_server") {
            if (need_args(c, n, 1))
                servers += real_server(c, vs, n, def);
        } else if (k == "delay_loop" || k == "connect_timeout" || k == "retry" ||
                   k == "delay_before_retry" || k == "warmup" || k == "virtualhost") {
            // checker defaults, read by import_checks
        } else if (k == "persistence_engine") {
            c.d.error(n.at, "persistence_engine (IPVS SIP persistence) has no ulvs equivalent");
        } else {
            unsupported(c, n, "virtual_server");
        }
    }
    std::string& b = t.body;
    b += "    scheduler: " + sched + "\n";
    if (!flags.empty()) {
        b += "    scheduler_flags: [";
        for (size_t i = 0; i < flags.size(); ++i)
            b += (i ? ", " : "") + flags[i];
        b += "]\n";
    }
    b += "    forwarding: " + fwd + "\n";
    if (!pto.empty() || !pgr.empty()) {
        t.persistent = true;
        b += "    persistence: {timeout: " + (pto.empty() ? std::string("360s") : pto);
        b += (pgr.empty() ? "" : ", granularity: " + pgr) + "}\n";
    }
    if (!quorum.empty())
        b += "    quorum: " + quorum + "\n";
    if (!hyst.empty())
        b += "    hysteresis: " + hyst + "\n";
    if (alpha)
        b += "    alpha: true\n";
    if (!sorry.empty())
        b += "    sorry_server: " + sorry + "\n";
    if (!qup.empty() || !qdown.empty()) {
        std::string s;
        if (!qup.empty())
            s += "quorum_up: " + q(qup);
        if (!qdown.empty())
            s += std::string(s.empty() ? "" : ", ") + "quorum_down: " + q(qdown);
        b += "    notify: {" + s + "}\n";
    }
    b += "    real_servers:\n" + servers;
    return t;
}

void address_service(ctx& c, const vs_text& base, const std::string& prefix, const std::string& ip,
                     const std::string& port, const loc& at) {
    vs_text t = base;
    t.at = at;
    const std::string proto = t.udp ? "udp" : "tcp";
    t.name = prefix + proto + "-" + ip + "-" + port;
    if (port != "0") {
        t.keys = "    address: " + ip + "\n    port: " + port + "\n    protocol: " + proto + "\n";
    } else if (!t.persistent) {
        c.d.error(at, "port 0 (every port) needs persistence, as in IPVS");
        return;
    } else {
        // IPVS' persistent port-0 service: every port of the VIP. A match service says the same
        // (its real servers' port 0 keeps the client's port); checked against address services
        // of the same VIP below, which IPVS would prefer and ulvs would not.
        t.keys = "    match: {destinations: [" + ip + "], protocol: " + proto + "}\n";
        t.any_port_vip = ip;
    }
    c.services.push_back(std::move(t));
}

// A port-0 service beside a service of a port of the same VIP: IPVS picks the port's service
// first, ulvs the match service; no faithful translation.
void check_any_port(ctx& c) {
    for (const vs_text& a : c.services) {
        if (a.any_port_vip.empty())
            continue;
        for (const vs_text& b : c.services)
            if (b.any_port_vip.empty() && !b.fwmark && b.udp == a.udp &&
                b.keys.starts_with("    address: " + a.any_port_vip + "\n"))
                c.d.error(a.at, "port 0 of " + a.any_port_vip + " beside the service of line " +
                                    std::to_string(b.at.line) + ": IPVS prefers that one for " +
                                    "its port, ulvs' match service would take it");
    }
}

void fwmark_service(ctx& c, const vs_text& base, const std::string& mark, const loc& at) {
    auto m = to_uint(mark, 0xffffffffu);
    if (!m || *m == 0) {
        c.d.error(at, "fwmark must be 1..4294967295");
        return;
    }
    vs_text t = base;
    t.at = at;
    t.fwmark = uint32_t(*m);
    t.name = "fwmark-" + mark;
    c.services.push_back(std::move(t));
}

} // namespace

void import_virtual_servers(ctx& c, const std::vector<node>& top) {
    std::map<std::string, const node*> groups;
    for (const node& n : top)
        if (n.keyword == "virtual_server_group" && need_args(c, n, 1))
            groups[n.arg(0)] = &n;
    for (const node& vs : top) {
        if (vs.keyword != "virtual_server" || !need_args(c, vs, 1))
            continue;
        bool has_rs = false;
        for (const node& ch : vs.children)
            has_rs = has_rs || ch.keyword == "real_server";
        if (!has_rs) {
            c.d.warn(vs.at, "virtual_server without real servers: keepalived ignores it; left out");
            continue;
        }
        const vs_text b = body(c, vs);
        if (vs.arg(0) == "fwmark") {
            if (need_args(c, vs, 2))
                fwmark_service(c, b, vs.arg(1), vs.at);
        } else if (vs.arg(0) == "group") {
            if (!need_args(c, vs, 2))
                continue;
            auto g = groups.find(vs.arg(1));
            if (g == groups.end()) {
                c.d.error(vs.args[1].at, "no virtual_server_group " + vs.arg(1));
                continue;
            }
            for (const node& e : g->second->children) {
                if (e.keyword == "fwmark") {
                    fwmark_service(c, b, e.arg(0), e.at);
                    continue;
                }
                // IP PORT, or IP-LAST PORT: the addresses IP .. IP with its last byte LAST.
                std::string ip = e.keyword;
                unsigned last = 0;
                if (size_t dash = ip.find('-'); dash != std::string::npos) {
                    auto l = to_uint(ip.substr(dash + 1), 255);
                    ip.resize(dash);
                    last = l ? unsigned(*l) : 256;
                }
                const size_t dot = ip.rfind('.');
                const unsigned first =
                    dot == std::string::npos
                        ? 256
                        : unsigned(to_uint(ip.substr(dot + 1), 255).value_or(256));
                if (!ipv4(ip) || first > 255 || (last != 0 && (last > 255 || last < first)) ||
                    e.args.size() != 1 || !to_uint(e.arg(0), 65535)) {
                    c.d.error(e.at, "virtual_server_group entry: expected IP PORT, IP-LAST PORT "
                                    "(IPv4) or fwmark N");
                    continue;
                }
                for (unsigned a = first; a <= (last ? last : first); ++a)
                    address_service(c, b, vs.arg(1) + "-",
                                    ip.substr(0, dot + 1) + std::to_string(a), e.arg(0), e.at);
            }
        } else {
            if (!ipv4(vs.arg(0)))
                c.d.error(vs.args[0].at,
                          "virtual_server " + vs.arg(0) + ": only IPv4 is supported");
            else if (!need_args(c, vs, 2) || !to_uint(vs.arg(1), 65535))
                c.d.error(vs.at, "virtual_server needs an address and a port (0..65535)");
            else
                address_service(c, b, "", vs.arg(0), vs.arg(1), vs.at);
        }
    }
    check_any_port(c);
}

} // namespace ulvs::importer
