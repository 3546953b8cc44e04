// Every section of the file except virtual_servers (parse_services.cc).
#include "draft.h"
#include "exception_path.h"
#include "parse_scripts.h"
#include "parse_sync.h"

#include <grp.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ulvs::config::detail {

namespace {

template <class T, class U> void set(const std::optional<U>& v, T& out) {
    if (v)
        out = static_cast<T>(*v);
}

// A string that must not be empty (names, devices, paths).
std::optional<std::string> read_nonempty(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (s && s->empty()) {
        r.error(f.at, f.path + " must not be empty");
        return std::nullopt;
    }
    return s;
}

void parse_dpdk(reader& r, const field& f, draft& d) {
    dpdk_cfg& out = d.cfg.dpdk;
    mapping m(r, f, {"eal_args", "mbufs"});
    if (auto args = m.get("eal_args")) {
        if (auto items = read_list(r, *args)) {
            std::vector<std::string> v;
            for (const field& item : *items)
                if (auto s = read_string(r, item))
                    v.push_back(*s);
            out.eal_args = std::move(v);
        }
    }
    // 2^n - 1 is the mempool's sweet spot; the bounds are what one pool can sensibly hold.
    d.mbufs_at = f.key_at;
    if (auto mb = m.get("mbufs")) {
        auto v = read_uint(r, *mb, 1023, 16777215);
        set(v, out.mbufs);
        d.mbufs_at = mb->at;
        d.mbufs_given = true;
        d.mbufs_ok = v.has_value();
    }
}

// EAL accepts lcore ids up to RTE_MAX_LCORE; whether one exists here is check_host's business.
constexpr uint64_t max_lcore_id = 1023;

void parse_lcores(reader& r, const field& f, lcores_cfg& out) {
    mapping m(r, f, {"control", "workers", "idle"});
    if (auto i = m.get("idle")) {
        auto s = read_string(r, *i);
        if (s && *s == "poll")
            out.idle = idle_mode::poll;
        else if (s && *s == "adaptive")
            out.idle = idle_mode::adaptive;
        else if (s)
            r.error(i->at, i->path + " must be one of poll, adaptive, got " + describe(i->value));
    }
    if (auto c = m.get("control")) {
        set(read_uint(r, *c, 0, max_lcore_id), out.control);
        out.control_loc = c->at;
    }
    std::vector<std::pair<unsigned, source_loc>> workers;
    if (auto w = m.get("workers")) {
        auto items = read_list(r, *w);
        if (items && items->empty())
            r.error(w->at, w->path + " must list at least one lcore");
        if (items && !items->empty()) {
            out.workers.clear();
            out.worker_locs.clear();
            for (const field& item : *items) {
                auto id = read_uint(r, item, 0, max_lcore_id);
                if (!id)
                    continue;
                auto dup = std::find(out.workers.begin(), out.workers.end(), unsigned(*id));
                if (dup != out.workers.end()) {
                    r.error(item.at, item.path + ": lcore " + std::to_string(*id) +
                                         " is listed twice in lcores.workers");
                    continue;
                }
                out.workers.push_back(unsigned(*id));
                out.worker_locs.push_back(item.at);
            }
        }
    }
    // A worker polls without pause; sharing its core with the control loop would starve one.
    for (size_t i = 0; i < out.workers.size(); ++i) {
        if (out.workers[i] != out.control)
            continue;
        source_loc at = i < out.worker_locs.size() ? out.worker_locs[i] : out.control_loc;
        if (at.line == 0)
            at = f.at;
        r.error(at, "lcore " + std::to_string(out.control) +
                        " is both the control lcore and a worker; workers must not include "
                        "lcores.control");
    }
}

void parse_port(reader& r, const field& f, port_cfg& out, port_note& note) {
    mapping m(r, f, {"name", "device", "addresses", "mtu"});
    out.loc = f.at;
    note.name_at = f.at;
    size_t before = r.error_count();
    if (auto n = m.require("name")) {
        note.name_at = n->at;
        set(read_nonempty(r, *n), out.name);
    }
    note.name_ok = m.valid() && r.error_count() == before;
    if (auto dev = m.require("device"))
        set(read_nonempty(r, *dev), out.device);
    before = r.error_count();
    note.addresses_ok = m.valid();
    if (auto a = m.get("addresses")) {
        if (auto items = read_list(r, *a)) {
            for (const field& item : *items) {
                if (auto p = read_prefix(r, item)) {
                    out.addresses.push_back(*p);
                    note.address_at.push_back(item.at);
                }
            }
        }
        note.addresses_ok = note.addresses_ok && r.error_count() == before;
    }
    // 68 is IPv4's minimum (RFC 791); 9216 the usual jumbo frame limit of NICs.
    if (auto mtu = m.get("mtu"))
        set(read_uint(r, *mtu, 68, 9216), out.mtu);
}

void parse_route(reader& r, const field& f, route_cfg& out, route_note& note) {
    mapping m(r, f, {"prefix", "via"});
    out.loc = f.at;
    note.via_at = f.at;
    size_t before = r.error_count();
    if (auto p = m.require("prefix")) {
        if (auto pre = read_prefix(r, *p)) {
            out.prefix = *pre;
            // As `ip route`: 10.1.2.3/8 is almost always a typo for an address, not a route.
            if ((pre->addr.v4 & ~pre->mask_v4()) != 0)
                r.error(p->at,
                        p->path + " " + pre->to_string() + " has host bits set (did you mean " +
                            ip_prefix{ip_addr::from_v4(pre->addr.v4 & pre->mask_v4()), pre->len}
                                .to_string() +
                            "?)");
        }
    }
    if (auto v = m.require("via")) {
        note.via_at = v->at;
        set(read_addr(r, *v), out.via);
    }
    note.ok = m.valid() && r.error_count() == before;
}

void parse_neighbor(reader& r, const field& f, neighbor_cfg& out, neighbor_note& note) {
    mapping m(r, f, {"address", "mac", "port"});
    out.loc = f.at;
    note.address_at = note.port_at = f.at;
    size_t before = r.error_count();
    if (auto a = m.require("address")) {
        note.address_at = a->at;
        set(read_addr(r, *a), out.address);
    }
    if (auto mac = m.require("mac"))
        set(read_mac(r, *mac), out.mac);
    if (auto p = m.require("port")) {
        note.port_at = p->at;
        set(read_nonempty(r, *p), out.port);
    }
    note.ok = m.valid() && r.error_count() == before;
}

// Calls parse(item_field, cfg, note) for each list item.
template <class Cfg, class Note, class Fn>
void parse_items(reader& r, const field& f, std::vector<Cfg>& cfgs, std::vector<Note>& notes,
                 Fn parse) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        Cfg c;
        Note n;
        parse(r, item, c, n);
        cfgs.push_back(std::move(c));
        notes.push_back(std::move(n));
    }
}

void parse_timeouts(reader& r, const field& f, timeouts_cfg& out) {
    mapping m(r, f, {"tcp", "tcp_fin", "udp"});
    auto one = [&](std::string_view key, duration& d) {
        auto v = m.get(key);
        if (!v)
            return;
        auto t = read_duration(r, *v);
        // ipvsadm --set takes 0 as "leave unchanged"; here a value is always meant, and a zero
        // timeout would expire every connection at once.
        if (t && t->count() == 0)
            r.error(v->at, v->path + " must be greater than 0");
        else if (t)
            d = *t;
    };
    one("tcp", out.tcp);
    one("tcp_fin", out.tcp_fin);
    one("udp", out.udp);
}

void parse_connections(reader& r, const field& f, connections_cfg& out) {
    mapping m(r, f, {"max", "expire_nodest_conn"});
    if (auto mx = m.get("max"))
        set(read_uint(r, *mx, 1, 67108864), out.max);
    if (auto e = m.get("expire_nodest_conn"))
        set(read_bool(r, *e), out.expire_nodest_conn);
}

void parse_vips(reader& r, const field& f, vips_cfg& out) {
    mapping m(r, f, {"answer_ping"});
    if (auto a = m.get("answer_ping"))
        set(read_bool(r, *a), out.answer_ping);
}

// Bounds: 10 Mpps is more than one control lcore could ever take; a bucket deeper than a million
// packets is no longer a limit.
void parse_police(reader& r, const field& f, police_cfg& out) {
    mapping m(r, f, {"rate", "burst"});
    if (auto v = m.get("rate"))
        set(read_uint(r, *v, 0, 10000000), out.rate);
    if (auto v = m.get("burst"))
        set(read_uint(r, *v, 1, 1000000), out.burst);
}

void parse_control_policing(reader& r, const field& f, control_policing_cfg& out) {
    mapping m(r, f, {"icmp_echo", "exception"});
    if (auto v = m.get("icmp_echo"))
        parse_police(r, *v, out.icmp_echo);
    if (auto v = m.get("exception"))
        parse_police(r, *v, out.exception);
}

// "host:port" with a numeric port, or "[v6]:port"; the host is resolved by whoever binds it.
bool metrics_shape_ok(std::string_view s) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    std::string_view port = s.substr(colon + 1);
    unsigned n = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    return !port.empty() && ec == std::errc{} && p == port.data() + port.size() && n >= 1 &&
           n <= 65535;
}

bool group_exists(const std::string& name) {
    group gr{};
    group* found = nullptr;
    std::array<char, 16384> buf{};
    return ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr;
}

void parse_management(reader& r, const field& f, management_cfg& out) {
    mapping m(r, f, {"socket", "metrics", "group"});
    if (auto s = m.get("socket"))
        set(read_nonempty(r, *s), out.socket);
    if (auto g = m.get("group")) {
        auto s = read_nonempty(r, *g);
        if (s && !group_exists(*s))
            r.error(g->at, g->path + " names no group of this system, got " + describe(g->value));
        else if (s)
            out.group = *s;
    }
    if (auto mt = m.get("metrics")) {
        auto s = read_string(r, *mt);
        if (s && !s->empty() && !metrics_shape_ok(*s))
            r.error(mt->at, mt->path +
                                " must be \"host:port\" (port 1..65535) or \"\" to disable, got " +
                                describe(mt->value));
        else if (s)
            out.metrics = *s;
    }
}

void parse_logging(reader& r, const field& f, logging_cfg& out) {
    static constexpr std::array<std::string_view, 7> levels{"trace", "debug",    "info", "warn",
                                                            "error", "critical", "off"};
    mapping m(r, f, {"level", "file"});
    if (auto l = m.get("level")) {
        auto s = read_string(r, *l);
        if (s && std::find(levels.begin(), levels.end(), *s) == levels.end())
            r.error(l->at, l->path +
                               " must be one of trace, debug, info, warn, error, critical, off, "
                               "got " +
                               describe(l->value));
        else if (s)
            out.level = *s;
    }
    if (auto file = m.get("file"))
        set(read_string(r, *file), out.file);
}

} // namespace

void parse_document(reader& r, const YAML::Node& root, draft& d) {
    // An empty file is an empty mapping: every default, and validate() then asks for ports.
    if (root.IsNull())
        return;
    mapping m(r, field{root, {1, 1}, "", {1, 1}},
              {"dpdk", "lcores", "ports", "routes", "neighbors", "timeouts", "connections", "vips",
               "vrrp_instances", "vrrp_sync_groups", "virtual_servers", "control_policing",
               "exception_path", "management", "logging", "scripts", "sync"});
    if (!m.valid()) {
        d.ports_unreadable = true;
        return;
    }
    config& c = d.cfg;
    if (auto f = m.get("dpdk"))
        parse_dpdk(r, *f, d);
    if (auto f = m.get("lcores"))
        parse_lcores(r, *f, c.lcores);
    if (auto f = m.get("ports")) {
        d.ports_at = f->key_at;
        d.ports_unreadable = !f->value.IsSequence();
        parse_items(r, *f, c.ports, d.ports, parse_port);
    }
    if (auto f = m.get("routes"))
        parse_items(r, *f, c.routes, d.routes, parse_route);
    if (auto f = m.get("neighbors"))
        parse_items(r, *f, c.neighbors, d.neighbors, parse_neighbor);
    if (auto f = m.get("timeouts"))
        parse_timeouts(r, *f, c.timeouts);
    if (auto f = m.get("connections"))
        parse_connections(r, *f, c.connections);
    if (auto f = m.get("vips"))
        parse_vips(r, *f, c.vips);
    if (auto f = m.get("vrrp_instances"))
        parse_vrrp_instances(r, *f, d);
    if (auto f = m.get("vrrp_sync_groups"))
        parse_vrrp_sync_groups(r, *f, d);
    if (auto f = m.get("virtual_servers"))
        parse_virtual_servers(r, *f, d);
    if (auto f = m.get("control_policing"))
        parse_control_policing(r, *f, c.control_policing);
    if (auto f = m.get("exception_path")) // after `ports`: it names them
        parse_exception_path(r, *f, d);
    if (auto f = m.get("management"))
        parse_management(r, *f, c.management);
    if (auto f = m.get("logging"))
        parse_logging(r, *f, c.logging);
    if (auto f = m.get("scripts"))
        parse_scripts(r, *f, c.scripts);
    if (auto f = m.get("sync")) // after `ports`: it names one
        parse_sync(r, *f, d);
}

} // namespace ulvs::config::detail
