// --start-daemon / --stop-daemon / -L --daemon (ipvsadm_daemon.h, ipvsadm_format.h).
#include "ipvsadm_daemon.h"

#include "ulvs/mgmt/ipvsadm_format.h"

#include <arpa/inet.h>

#include <tuple>

namespace ulvs::mgmt {

namespace detail {

std::string ipvsadm_optname(opt o) {
    switch (o) {
    case opt::tcp:
    case opt::udp:
    case opt::fwmark:
        return "service-address";
    case opt::gatewaying:
    case opt::ipip:
    case opt::masquerading:
        return "forwarding-method";
    default:
        return std::string(long_name(o));
    }
}

std::string ipvsadm_cmdname(opt command) {
    switch (command) {
    case opt::clear:
        return "flush";
    case opt::set:
        return "set";
    default:
        return std::string(long_name(command));
    }
}

std::string daemon_option_misuse(const parsed& p) {
    if (!p.command)
        return {};
    for (const auto& [o, v] : p.values) {
        const bool daemon_opt = is_daemon_option(o);
        bool legal;
        if (*p.command == opt::start_daemon)
            legal = daemon_opt || o == opt::start_daemon;
        else if (*p.command == opt::stop_daemon)
            legal = o == opt::syncid || o == opt::stop_daemon;
        else
            legal = !daemon_opt && (o != opt::daemon || *p.command == opt::list);
        if (!legal)
            return "Illegal '" + ipvsadm_optname(o) + "' option with the '" +
                   ipvsadm_cmdname(*p.command) + "' command";
    }
    return {};
}

std::expected<json, std::string> daemon_request(const parsed& p) {
    const bool start = *p.command == opt::start_daemon;
    const std::string state = p.values.at(*p.command);
    if (state != "master" && state != "backup")
        return std::unexpected(start ? "illegal start-daemon parameter specified"
                                     : "illegal stop-daemon parameter specified");
    json r = {{"cmd", start ? "start_daemon" : "stop_daemon"}, {"state", state}};
    auto num = [&](opt o, unsigned long min, unsigned long max, const char* key,
                   const char* what) -> std::expected<void, std::string> {
        auto it = p.values.find(o);
        if (it == p.values.end())
            return {};
        auto v = number(it->second, max);
        if (!v || *v < min)
            return std::unexpected(std::string("illegal ") + what + " specified");
        r[key] = *v;
        return {};
    };
    // ipvsadm's bounds: syncid 0..255, maxlen 1..65535-20-8, port 1..65535, ttl 1..255.
    if (auto e = num(opt::syncid, 0, 255, "syncid", "syncid"); !e)
        return std::unexpected(e.error());
    if (!start)
        return r; // IPVS stops a daemon by its state alone: the syncid is not looked at
    for (auto [o, min, max, key, what] :
         {std::tuple{opt::sync_maxlen, 1ul, 65507ul, "maxlen", "sync-maxlen"},
          std::tuple{opt::mcast_port, 1ul, 65535ul, "port", "mcast-port"},
          std::tuple{opt::mcast_ttl, 1ul, 255ul, "ttl", "mcast-ttl"}})
        if (auto e = num(o, min, max, key, what); !e)
            return std::unexpected(e.error());
    if (auto it = p.values.find(opt::mcast_interface); it != p.values.end()) {
        if (it->second.empty())
            return std::unexpected("illegal mcast-interface specified");
        r["mcast_ifn"] = it->second;
    }
    if (auto it = p.values.find(opt::mcast_group); it != p.values.end()) {
        in_addr a{};
        if (inet_pton(AF_INET, it->second.c_str(), &a) != 1 || !IN_MULTICAST(ntohl(a.s_addr)))
            return std::unexpected(
                "invalid IPv4 mcast-group `" + it->second + "'" +
                (it->second.find(':') != std::string::npos ? " (ulvs syncs over IPv4 only)" : ""));
        r["group"] = it->second;
    }
    return r;
}

} // namespace detail

std::string render_daemons(const json& reply) {
    std::string out;
    const json daemons = reply.value("daemons", json::array());
    if (!daemons.is_array())
        return out;
    for (const json& d : daemons) {
        if (!d.is_object())
            continue;
        auto str = [&](const char* k) {
            auto it = d.find(k);
            return it == d.end()     ? std::string("?")
                   : it->is_string() ? it->get<std::string>()
                                     : it->dump();
        };
        // ipvsadm 1.31's list_daemon, field for field; `peer` (unicast) is ulvs' own.
        out += str("state") + " sync daemon (mcast=" + str("mcast_ifn") +
               ", syncid=" + str("syncid") + ", maxlen=" + str("maxlen") +
               ", group=" + str("group") + ", port=" + str("port") + ", ttl=" + str("ttl");
        if (d.contains("peer"))
            out += ", peer=" + str("peer");
        out += ")\n";
    }
    return out;
}

} // namespace ulvs::mgmt
