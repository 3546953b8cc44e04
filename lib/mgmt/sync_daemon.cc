// --start-daemon / --stop-daemon / -L --daemon on `sync:` (include/ulvs/mgmt/sync_daemon.h).
#include "ulvs/mgmt/sync_daemon.h"

#include <string>

namespace ulvs::mgmt {

namespace {

using config::sync_cfg;
using config::sync_role;

std::unexpected<error> fail(errc c, std::string msg) {
    return std::unexpected(error{c, std::move(msg), {}});
}

std::expected<sync_role, error> state_of(const json& op) {
    const json s = op.value("state", json());
    if (s == "master")
        return sync_role::master;
    if (s == "backup")
        return sync_role::backup;
    return fail(errc::bad_request, "\"state\" must be \"master\" or \"backup\"");
}

// An optional integer field: absent, or within 0..max.
std::expected<std::optional<uint64_t>, error> opt_uint(const json& op, const char* key,
                                                       uint64_t max) {
    auto it = op.find(key);
    if (it == op.end())
        return std::nullopt;
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<uint64_t>() > max)
        return fail(errc::bad_request,
                    std::string("\"") + key + "\" must be an integer 0.." + std::to_string(max));
    return it->get<uint64_t>();
}

// The options of a start: applied to `s`, or (second daemon) checked against it.
std::expected<void, error> apply_options(sync_cfg& s, const json& op, bool check_only,
                                         sync_role running) {
    auto differs = [&](const std::string& option, const std::string& given,
                       const std::string& now) -> std::expected<void, error> {
        return fail(errc::invalid,
                    "the master and backup sync daemons share one configuration (sync: in the "
                    "file): --" +
                        option + " " + given + " differs from the running " +
                        std::string(to_string(running)) + " daemon's " + now);
    };
    if (auto it = op.find("mcast_ifn"); it != op.end()) {
        if (!it->is_string() || it->get<std::string>().empty())
            return fail(errc::bad_request, "\"mcast_ifn\" must be a port name");
        const std::string name = it->get<std::string>();
        if (check_only && name != s.interface)
            return differs("mcast-interface", name, "mcast-interface " + s.interface);
        s.interface = name;
    }
    struct num {
        const char* key;
        const char* option;
        uint64_t min, max;
        uint64_t now;
        void (*set)(sync_cfg&, uint64_t);
    };
    const num nums[] = {
        {"syncid", "syncid", 0, 255, s.syncid,
         [](sync_cfg& x, uint64_t v) { x.syncid = uint8_t(v); }},
        {"maxlen", "sync-maxlen", 1, 65507, s.maxlen,
         [](sync_cfg& x, uint64_t v) { x.maxlen = uint16_t(v); }},
        {"port", "mcast-port", 1, 65535, s.port,
         [](sync_cfg& x, uint64_t v) { x.port = uint16_t(v); }},
        {"ttl", "mcast-ttl", 1, 255, s.ttl, [](sync_cfg& x, uint64_t v) { x.ttl = uint8_t(v); }},
    };
    for (const num& n : nums) {
        auto v = opt_uint(op, n.key, n.max);
        if (!v)
            return std::unexpected(v.error());
        if (!*v)
            continue;
        if (**v < n.min)
            return fail(errc::bad_request,
                        std::string("\"") + n.key + "\" must be at least " + std::to_string(n.min));
        if (check_only && **v != n.now) // maxlen 0: the default, said so
            return differs(n.option, std::to_string(**v),
                           std::string(n.option) + " " +
                               (n.now ? std::to_string(n.now) : "default"));
        n.set(s, **v);
    }
    if (auto it = op.find("group"); it != op.end()) {
        auto a = it->is_string() ? ip_addr::parse(it->get<std::string>()) : std::nullopt;
        if (!a)
            return fail(errc::bad_request, "\"group\" must be an IPv4 address");
        if (check_only && *a != s.group)
            return differs("mcast-group", a->to_string(), "mcast-group " + s.group.to_string());
        s.group = *a;
    }
    return {};
}

} // namespace

std::expected<void, error> sync_daemon_op(config::config& c, const json& op) {
    const std::string cmd = op.value("cmd", "");
    auto state = state_of(op);
    if (!state)
        return std::unexpected(state.error());
    const bool runs = c.sync && (static_cast<uint8_t>(c.sync->role) & static_cast<uint8_t>(*state));
    if (cmd == "stop_daemon") {
        if (!runs)
            return fail(errc::not_found, "No daemon is running");
        if (c.sync->role == sync_role::both)
            c.sync->role = *state == sync_role::master ? sync_role::backup : sync_role::master;
        else
            c.sync.reset();
        return {};
    }
    if (runs)
        return fail(errc::exists, "Daemon has already run");
    if (c.sync) { // the other daemon runs: this one joins it
        const sync_role running = c.sync->role;
        if (auto r = apply_options(*c.sync, op, true, running); !r)
            return r;
        c.sync->role = sync_role::both;
        return {};
    }
    sync_cfg s; // ipvsadm's defaults for what the options do not say
    s.role = *state;
    if (auto r = apply_options(s, op, false, *state); !r)
        return r;
    // ipvsadm's default interface is eth0; ulvs' ports have names of the user's choice.
    if (s.interface.empty() && c.ports.size() != 1) {
        std::string names;
        for (const config::port_cfg& p : c.ports)
            names += (names.empty() ? "" : ", ") + p.name;
        return fail(errc::bad_request, "You need to supply the 'mcast-interface' option for the "
                                       "'start-daemon' command (ports: " +
                                           names + ")");
    }
    c.sync = s;
    return {};
}

json daemon_listing(const config::config& c) {
    json daemons = json::array();
    if (c.sync) {
        const sync_cfg& s = *c.sync;
        uint16_t mtu = 1500;
        for (const config::port_cfg& p : c.ports)
            if (p.name == s.interface)
                mtu = p.mtu;
        for (sync_role r : {sync_role::master, sync_role::backup}) {
            if (!(static_cast<uint8_t>(s.role) & static_cast<uint8_t>(r)))
                continue;
            json d = {{"state", to_string(r)},
                      {"mcast_ifn", s.interface},
                      {"syncid", s.syncid},
                      {"maxlen", config::sync_maxlen(s, mtu)},
                      {"group", s.group.to_string()},
                      {"port", s.port},
                      {"ttl", s.ttl}};
            if (s.peer)
                d["peer"] = s.peer->to_string();
            daemons.push_back(std::move(d));
        }
    }
    return {{"daemons", daemons}};
}

} // namespace ulvs::mgmt
