#include "ulvs/mgmt/config_edit.h"

#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/sync_daemon.h"

#include <algorithm>
#include <charconv>

namespace ulvs::mgmt {

namespace {

using config::real_server_cfg;
using config::virtual_server_cfg;

std::unexpected<error> fail(errc c, std::string msg) {
    return std::unexpected(error{c, std::move(msg), {}});
}

struct svc_key {
    l4_proto proto;
    ip_addr vip;
    uint16_t port;
};

template <class T> std::expected<T, error> field(const json& j, const char* key, T max) {
    auto it = j.find(key);
    // Signed or unsigned JSON integers alike (a parsed "80" is unsigned, a built one may not be).
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<uint64_t>() > uint64_t(max))
        return fail(errc::bad_request, std::string("\"") + key + "\" must be an integer 0.." +
                                           std::to_string(uint64_t(max)));
    return static_cast<T>(it->get<uint64_t>());
}

std::expected<std::string, error> text(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return fail(errc::bad_request, std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
}

std::expected<ip_addr, error> address(const json& j, const char* key) {
    auto s = text(j, key);
    if (!s)
        return std::unexpected(s.error());
    auto a = ip_addr::parse(*s);
    if (!a)
        return fail(errc::bad_request, "\"" + *s + "\" is not an IPv4 address");
    return *a;
}

std::expected<svc_key, error> service_key_of(const json& op) {
    auto it = op.find("service");
    if (it == op.end() || !it->is_object())
        return fail(errc::bad_request, "\"service\" must be an object {proto, vip, port}");
    auto proto = text(*it, "proto");
    auto vip = address(*it, "vip");
    auto port = field<uint16_t>(*it, "port", 65535);
    if (!proto || !vip || !port)
        return std::unexpected(!proto ? proto.error() : !vip ? vip.error() : port.error());
    if (*proto != "tcp" && *proto != "udp")
        return fail(errc::bad_request, "\"proto\" must be tcp or udp");
    return svc_key{*proto == "tcp" ? l4_proto::tcp : l4_proto::udp, *vip, *port};
}

std::vector<virtual_server_cfg>::iterator find_service(config::config& c, const svc_key& k) {
    return std::find_if(c.virtual_servers.begin(), c.virtual_servers.end(), [&](auto& vs) {
        // match services have no VIP:port: ipvsadm reaches only address:port services
        return !vs.match && vs.protocol == k.proto && vs.address == k.vip && vs.port == k.port;
    });
}

std::expected<fwd_mode, error> fwd_of(const json& op) {
    auto s = text(op, "fwd");
    if (!s)
        return std::unexpected(s.error());
    if (*s == "dr")
        return fwd_mode::dr;
    if (*s == "nat")
        return fwd_mode::nat;
    if (*s == "tun")
        return fwd_mode::tun;
    return fail(errc::bad_request, "\"fwd\" must be nat, dr or tun");
}

// ipvsadm -p [TIMEOUT] -M NETMASK: persistence, or none when -p is absent (as -E resets what it
// is not given). expire_quiescent_template has no ipvsadm option: an edit keeps the file's value.
std::expected<std::optional<config::persistence_cfg>, error>
persistence_of(const json& op, const std::optional<config::persistence_cfg>& old) {
    const auto p = op.find("persistent");
    const auto m = op.find("netmask");
    const bool has_mask = m != op.end() && !m->is_null();
    if (p == op.end() || p->is_null()) {
        if (has_mask && *m != "255.255.255.255")
            return fail(errc::bad_request, "a persistence netmask (-M) needs -p");
        return std::optional<config::persistence_cfg>{};
    }
    if (!p->is_number_unsigned() || p->get<uint64_t>() == 0 || p->get<uint64_t>() > 2592000)
        return fail(errc::bad_request, "\"persistent\" must be a timeout of 1..2592000 seconds");
    config::persistence_cfg pc = old.value_or(config::persistence_cfg{});
    pc.timeout = std::chrono::seconds(p->get<uint64_t>());
    pc.granularity = ip_addr::from_v4(0xffffffffu);
    if (has_mask) {
        auto a = m->is_string() ? ip_addr::parse(m->get<std::string>()) : std::nullopt;
        if (!a)
            return fail(errc::bad_request, "\"netmask\" must be a netmask a.b.c.d");
        pc.granularity = *a; // the validator checks that it is contiguous
    }
    return pc;
}

std::expected<void, error> service_op(config::config& c, const json& op, std::string_view cmd,
                                      const service_history* history) {
    auto k = service_key_of(op);
    if (!k)
        return std::unexpected(k.error());
    auto it = find_service(c, *k);
    if (cmd == "del_service") {
        if (it == c.virtual_servers.end())
            return fail(errc::not_found, "No such service");
        c.virtual_servers.erase(it);
        return {};
    }
    auto sched = text(op, "scheduler");
    if (!sched)
        return std::unexpected(sched.error());
    auto persist = persistence_of(op, it != c.virtual_servers.end()
                                          ? it->persistence
                                          : std::optional<config::persistence_cfg>{});
    if (!persist)
        return std::unexpected(persist.error());
    std::vector<std::string> flags;
    if (auto f = op.find("flags"); f != op.end() && !f->is_null()) {
        if (!f->is_array())
            return fail(errc::bad_request, "\"flags\" must be an array of strings");
        for (const json& x : *f) {
            if (!x.is_string())
                return fail(errc::bad_request, "\"flags\" must be an array of strings");
            flags.push_back(x.get<std::string>());
        }
    }
    if (cmd == "edit_service") {
        if (it == c.virtual_servers.end())
            return fail(errc::not_found, "No such service");
        it->scheduler = *sched;
        it->scheduler_flags = std::move(flags); // as ipvsadm -E: what is not given is reset
        it->persistence = *persist;
        return {};
    }
    if (it != c.virtual_servers.end())
        return fail(errc::exists, "Service already exists");
    auto name_taken = [&](const std::string& n) {
        return std::any_of(c.virtual_servers.begin(), c.virtual_servers.end(),
                           [&](auto& v) { return v.name == n; });
    };
    virtual_server_cfg vs;
    const virtual_server_cfg* before = history ? history->find(k->proto, k->vip, k->port) : nullptr;
    if (before != nullptr) // defined before: what the rule cannot say comes back (config_edit.h)
        vs = *before;
    else
        vs.forwarding = fwd_mode::dr;
    if (before == nullptr || name_taken(vs.name)) {
        const std::string base = std::string(to_string(k->proto)) + "-" + k->vip.to_string() + "-" +
                                 std::to_string(k->port);
        vs.name = base;
        for (int n = 2; name_taken(vs.name); ++n)
            vs.name = base + "-" + std::to_string(n);
    }
    vs.address = k->vip;
    vs.port = k->port;
    vs.protocol = k->proto;
    vs.scheduler = *sched;
    vs.scheduler_flags = std::move(flags);
    if (*persist && before && before->persistence) // no ipvsadm option for it
        (*persist)->expire_quiescent_template = before->persistence->expire_quiescent_template;
    vs.persistence = *persist;
    c.virtual_servers.push_back(std::move(vs));
    return {};
}

// A service as ipvsadm names it ("TCP 203.0.113.100:80"), with its YAML name.
std::string service_name(const virtual_server_cfg& vs) {
    std::string p(to_string(vs.protocol));
    std::transform(p.begin(), p.end(), p.begin(), [](char ch) { return char(ch - 32); });
    return p + " " + vs.address.to_string() + ":" + std::to_string(vs.port) + " (\"" + vs.name +
           "\")";
}

// The validator speaks of the file ("virtual_servers[0]", "virtual_servers[0].real_servers[1]
// .weight"); a change made with ulvsadm has no file lines: such a message is prefixed with the
// service as ipvsadm names it, the YAML path kept as our detail.
std::string in_ipvsadm_terms(const config::config& c, std::string msg) {
    const size_t at = msg.find("virtual_servers[");
    if (at == std::string::npos)
        return msg;
    size_t v = 0;
    const char* p = msg.c_str() + at + 16;
    auto [end, ec] = std::from_chars(p, msg.c_str() + msg.size(), v);
    if (ec != std::errc{} || *end != ']' || v >= c.virtual_servers.size())
        return msg;
    return "service " + service_name(c.virtual_servers[v]) + ": " + msg;
}

std::expected<void, error> dest_op(config::config& c, const json& op, std::string_view cmd,
                                   const service_history* history) {
    auto k = service_key_of(op);
    if (!k)
        return std::unexpected(k.error());
    auto d = op.find("dest");
    if (d == op.end() || !d->is_object())
        return fail(errc::bad_request, "\"dest\" must be an object {addr, port}");
    auto addr = address(*d, "addr");
    auto port = field<uint16_t>(*d, "port", 65535);
    if (!addr || !port)
        return std::unexpected(!addr ? addr.error() : port.error());
    auto svc = find_service(c, *k);
    if (svc == c.virtual_servers.end())
        return fail(errc::not_found, "Service not defined");
    // As IPVS (ip_vs_add_dest, ip_vs_edit_dest): only NAT maps ports; a DR or TUN real server
    // takes the service's port whatever the command said (issue 16: `-a -r RIP:8080 -g` on a
    // port-80 service was listed as RIP:8080 although it received port 80).
    if (cmd != "del_dest" && svc->port != 0)
        if (auto f = fwd_of(op); f && *f != fwd_mode::nat)
            *port = svc->port;
    auto& rss = svc->real_servers;
    auto rs = std::find_if(rss.begin(), rss.end(), [&](const real_server_cfg& r) {
        return r.address == *addr && r.port == *port;
    });
    // A DR or TUN server is known by its address alone (config validate.cc, IPVS): one written
    // with another port in the file is the same destination (issue 16: `-a` answered "listed
    // twice in virtual_servers[0]" instead of ipvsadm's "Destination already exists").
    if (rs == rss.end()) {
        auto f = fwd_of(op);
        const bool by_addr = cmd == "del_dest" || (f && *f != fwd_mode::nat);
        rs = std::find_if(rss.begin(), rss.end(), [&](const real_server_cfg& r) {
            return by_addr && r.address == *addr && svc->mode_of(r) != fwd_mode::nat;
        });
    }
    if (cmd == "del_dest") {
        if (rs == rss.end())
            return fail(errc::not_found, "No such destination");
        rss.erase(rs);
        return {};
    }
    auto fwd = fwd_of(op);
    auto weight = field<uint32_t>(op, "weight", 65535);
    auto upper = field<uint32_t>(op, "upper", INT32_MAX);
    auto lower = field<uint32_t>(op, "lower", INT32_MAX);
    if (!fwd || !weight || !upper || !lower)
        return std::unexpected(!fwd      ? fwd.error()
                               : !weight ? weight.error()
                               : !upper  ? upper.error()
                                         : lower.error());
    if (cmd == "add_dest") {
        if (rs != rss.end())
            return std::unexpected(error{errc::exists, // ipvsadm's words, then which one
                                         "Destination already exists",
                                         {addr->to_string() + ":" + std::to_string(rs->port) +
                                          " is a real server of " + service_name(*svc)}});
        rs = rss.insert(rss.end(), real_server_cfg{});
        rs->address = *addr;
        rs->port = *port;
        if (history)
            if (auto h = history->find_rs(k->proto, k->vip, k->port, *addr, *port))
                rs->health = *h;
    } else if (rs == rss.end()) {
        return fail(errc::not_found, "No such destination");
    }
    rs->weight = *weight;
    rs->thresholds = {*upper, *lower};
    rs->forwarding = *fwd == svc->forwarding ? std::nullopt : std::optional<fwd_mode>(*fwd);
    return {};
}

std::expected<void, error> set_timeouts(config::config& c, const json& op) {
    // As ipvsadm --set: 0 leaves a value unchanged.
    auto one = [&](const char* key, config::duration& d) -> std::expected<void, error> {
        auto v = field<uint32_t>(op, key, INT32_MAX);
        if (!v)
            return std::unexpected(v.error());
        if (*v != 0)
            d = std::chrono::seconds(*v);
        return {};
    };
    if (auto r = one("tcp", c.timeouts.tcp); !r)
        return r;
    if (auto r = one("tcpfin", c.timeouts.tcp_fin); !r)
        return r;
    return one("udp", c.timeouts.udp);
}

} // namespace

std::string dest_note(const json& op, const config::config& running,
                      const config::config& effective) {
    const std::string cmd = op.value("cmd", "");
    if (cmd != "add_dest" && cmd != "edit_dest")
        return {};
    auto k = service_key_of(op);
    auto d = op.find("dest");
    if (!k || d == op.end() || !d->is_object())
        return {};
    auto addr = address(*d, "addr");
    if (!addr)
        return {};
    auto in = [&](const config::config& c, bool weighted) {
        auto it = std::find_if(c.virtual_servers.begin(), c.virtual_servers.end(), [&](auto& vs) {
            return !vs.match && vs.protocol == k->proto && vs.address == k->vip &&
                   vs.port == k->port;
        });
        return it != c.virtual_servers.end() &&
               std::any_of(it->real_servers.begin(), it->real_servers.end(), [&](auto& rs) {
                   return rs.address == *addr && (!weighted || rs.weight > 0);
               });
    };
    if (!in(running, true) || in(effective, true))
        return {};
    return "real server " + addr->to_string() + " is not in service (its health check fails): " +
           std::string(cmd == "add_dest" ? "added" : "changed") +
           ", it is listed by -L and takes traffic once it is up (-S and save-yaml show it now)";
}

bool is_config_change(std::string_view cmd) {
    return cmd == "add_service" || cmd == "edit_service" || cmd == "del_service" ||
           cmd == "add_dest" || cmd == "edit_dest" || cmd == "del_dest" || cmd == "clear" ||
           cmd == "set_timeouts" || cmd == "batch" || cmd == "start_daemon" || cmd == "stop_daemon";
}

void service_history::remember(const config::config& c) {
    for (const virtual_server_cfg& vs : c.virtual_servers) {
        if (vs.match)
            continue; // ipvsadm cannot create them
        entry& e = m_services[{uint8_t(vs.protocol), vs.address.v4, vs.port}];
        e.vs = vs;
        e.vs.real_servers.clear();
        for (const real_server_cfg& rs : vs.real_servers) {
            const std::pair<uint32_t, uint16_t> key{rs.address.v4, rs.port};
            if (rs.health == config::rs_health_cfg{})
                e.rs.erase(key); // defined without: nothing to give back
            else
                e.rs[key] = rs.health;
        }
    }
}

const virtual_server_cfg* service_history::find(l4_proto proto, ip_addr vip, uint16_t port) const {
    auto it = m_services.find({uint8_t(proto), vip.v4, port});
    return it == m_services.end() ? nullptr : &it->second.vs;
}

const config::rs_health_cfg* service_history::find_rs(l4_proto proto, ip_addr vip, uint16_t port,
                                                      ip_addr addr, uint16_t rport) const {
    auto it = m_services.find({uint8_t(proto), vip.v4, port});
    if (it == m_services.end())
        return nullptr;
    auto r = it->second.rs.find({addr.v4, rport});
    return r == it->second.rs.end() ? nullptr : &r->second;
}

std::expected<void, error> apply_op(config::config& c, const json& op,
                                    const service_history* history) {
    if (!op.is_object() || !op.contains("cmd") || !op["cmd"].is_string())
        return fail(errc::bad_request, "an op must be an object with a string \"cmd\"");
    const std::string cmd = op["cmd"].get<std::string>();
    if (cmd == "add_service" || cmd == "edit_service" || cmd == "del_service")
        return service_op(c, op, cmd, history);
    if (cmd == "add_dest" || cmd == "edit_dest" || cmd == "del_dest")
        return dest_op(c, op, cmd, history);
    if (cmd == "clear") {
        c.virtual_servers.clear();
        return {};
    }
    if (cmd == "set_timeouts")
        return set_timeouts(c, op);
    if (cmd == "start_daemon" || cmd == "stop_daemon") // sync_daemon.h
        return sync_daemon_op(c, op);
    if (cmd == "zero")
        return {};
    if (cmd == "batch") {
        auto ops = op.find("ops");
        if (ops == op.end() || !ops->is_array())
            return fail(errc::bad_request, "\"ops\" must be an array");
        size_t i = 0;
        for (const json& o : *ops) {
            ++i;
            if (o.is_object() && o.value("cmd", "") == "batch")
                return fail(errc::bad_request, "a batch cannot contain a batch");
            if (auto r = apply_op(c, o, history); !r) {
                error e = r.error();
                e.message = "rule " + std::to_string(i) + ": " + e.message;
                return std::unexpected(e);
            }
        }
        return {};
    }
    return fail(errc::unknown_command, "unknown command \"" + cmd + "\"");
}

std::expected<config::config, error> revalidate(const config::config& c) {
    auto loaded = config::load_string(config::to_yaml(c), c.path);
    if (!loaded) {
        error e{errc::invalid, {}, {}};
        for (const config::diagnostic& d : loaded.error())
            e.details.push_back(in_ipvsadm_terms(c, d.message));
        e.message = e.details.empty() ? "invalid configuration" : e.details.front();
        return std::unexpected(std::move(e));
    }
    loaded->path = c.path;
    return std::move(*loaded);
}

} // namespace ulvs::mgmt

namespace ulvs::mgmt {

std::vector<std::string> restart_only_changes(const config::config& a, const config::config& b) {
    std::vector<std::string> out;
    if (a.dpdk.eal_args != b.dpdk.eal_args || a.dpdk.mbufs != b.dpdk.mbufs)
        out.push_back("dpdk");
    if (a.lcores.control != b.lcores.control || a.lcores.workers != b.lcores.workers ||
        a.lcores.idle != b.lcores.idle)
        out.push_back("lcores");
    bool ports_same = a.ports.size() == b.ports.size();
    for (size_t i = 0; ports_same && i < a.ports.size(); ++i) {
        const config::port_cfg &x = a.ports[i], &y = b.ports[i];
        ports_same = x.name == y.name && x.device == y.device && x.addresses == y.addresses &&
                     x.mtu == y.mtu;
    }
    if (!ports_same)
        out.push_back("ports");
    if (a.connections.max != b.connections.max)
        out.push_back("connections");
    // vrrp_instances are live: the VRRP engine follows every committed config (engine::update).
    if (a.management != b.management)
        out.push_back("management");
    // The neighbour table has no "forget a static entry"; adding or changing one is live.
    for (const config::neighbor_cfg& n : a.neighbors)
        if (std::none_of(b.neighbors.begin(), b.neighbors.end(),
                         [&](const config::neighbor_cfg& m) { return m.address == n.address; })) {
            out.push_back("neighbors (a static neighbor was removed)");
            break;
        }
    return out;
}

} // namespace ulvs::mgmt
