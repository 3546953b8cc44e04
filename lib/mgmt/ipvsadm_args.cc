#include "ulvs/mgmt/ipvsadm_args.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <map>
#include <optional>

#include "ipvsadm_daemon.h"
#include "ipvsadm_options.h"

namespace ulvs::mgmt {

namespace {

using namespace detail;

std::optional<uint16_t> port_number(std::string_view s, std::string_view proto) {
    if (auto n = number(s, 65535))
        return static_cast<uint16_t>(*n);
    std::string name(s);
    if (const servent* e = getservbyname(name.c_str(), proto == "udp" ? "udp" : "tcp"))
        return ntohs(static_cast<uint16_t>(e->s_port));
    return std::nullopt;
}

// "a.b.c.d[:port]" -> {"addr","port"?}.
std::optional<json> endpoint(std::string_view s, std::string_view proto) {
    std::string addr(s);
    json j;
    if (auto colon = addr.rfind(':'); colon != std::string::npos) {
        auto p = port_number(std::string_view(addr).substr(colon + 1), proto);
        if (!p)
            return std::nullopt;
        j["port"] = *p;
        addr.resize(colon);
    }
    in_addr in{};
    if (inet_pton(AF_INET, addr.c_str(), &in) != 1)
        return std::nullopt;
    j["addr"] = addr;
    return j;
}

std::expected<json, std::string> service_of(const parsed& p) {
    if (p.values.contains(opt::fwmark))
        return std::unexpected("fwmark services (-f) are not supported: use a virtual server "
                               "with `match:` in the configuration file");
    const bool tcp = p.values.contains(opt::tcp), udp = p.values.contains(opt::udp);
    if (tcp && udp)
        return std::unexpected("The option '-u' conflicts with the '-t' option");
    if (!tcp && !udp)
        return std::unexpected("You need to supply the 'service-address' option");
    const std::string proto = tcp ? "tcp" : "udp";
    auto e = endpoint(p.values.at(tcp ? opt::tcp : opt::udp), proto);
    if (!e)
        return std::unexpected("illegal virtual server address[:port] specified");
    return json{{"proto", proto}, {"vip", (*e)["addr"]}, {"port", e->value("port", 0)}};
}

std::expected<json, std::string> service_request(const parsed& p, const char* cmd) {
    auto svc = service_of(p);
    if (!svc)
        return std::unexpected(svc.error());
    json r = {{"cmd", cmd}, {"service", *svc}};
    r["scheduler"] = p.values.contains(opt::scheduler) ? p.values.at(opt::scheduler)
                                                       : std::string(default_scheduler);
    json flags = json::array();
    if (auto b = p.values.find(opt::sched_flags); b != p.values.end()) {
        std::string_view s = b->second;
        while (!s.empty()) {
            auto comma = s.find(',');
            flags.push_back(std::string(s.substr(0, comma)));
            s = comma == std::string_view::npos ? "" : s.substr(comma + 1);
        }
    }
    r["flags"] = flags;
    if (auto pt = p.values.find(opt::persistent); pt != p.values.end()) {
        auto t = pt->second.empty() ? std::optional<unsigned long>(default_persistent_timeout)
                                    : number(pt->second, UINT32_MAX);
        if (!t || *t == 0)
            return std::unexpected("invalid timeout value `" + pt->second + "' specified");
        r["persistent"] = *t;
    }
    if (auto m = p.values.find(opt::netmask); m != p.values.end()) {
        in_addr in{};
        if (inet_pton(AF_INET, m->second.c_str(), &in) != 1)
            return std::unexpected("invalid netmask `" + m->second + "' specified");
        r["netmask"] = m->second;
    }
    return r;
}

std::expected<json, std::string> dest_request(const parsed& p, const char* cmd, bool full) {
    auto svc = service_of(p);
    if (!svc)
        return std::unexpected(svc.error());
    auto r_it = p.values.find(opt::real);
    if (r_it == p.values.end())
        return std::unexpected("You need to supply the 'real-server' option for the '" +
                               std::string(cmd) + "' command");
    auto d = endpoint(r_it->second, (*svc)["proto"].get<std::string>());
    if (!d)
        return std::unexpected("illegal real server address[:port] specified");
    if (!d->contains("port"))
        (*d)["port"] = (*svc)["port"]; // ipvsadm: the service's port
    json r = {{"cmd", cmd}, {"service", *svc}, {"dest", *d}};
    if (!full)
        return r;
    int modes = p.values.contains(opt::gatewaying) + p.values.contains(opt::ipip) +
                p.values.contains(opt::masquerading);
    if (modes > 1)
        return std::unexpected("multiple forwarding methods specified");
    r["fwd"] = p.values.contains(opt::masquerading) ? "nat"
               : p.values.contains(opt::ipip)       ? "tun"
                                                    : "dr";
    auto num = [&](opt o, unsigned long dflt, unsigned long max,
                   const char* what) -> std::expected<unsigned long, std::string> {
        auto it = p.values.find(o);
        if (it == p.values.end())
            return dflt;
        if (auto v = number(it->second, max))
            return *v;
        return std::unexpected(std::string("invalid ") + what + " value `" + it->second +
                               "' specified");
    };
    auto w = num(opt::weight, 1, 65535, "weight");
    auto x = num(opt::upper, 0, INT32_MAX, "upper threshold");
    auto y = num(opt::lower, 0, INT32_MAX, "lower threshold");
    for (auto* v : {&w, &x, &y})
        if (!*v)
            return std::unexpected(v->error());
    r["weight"] = *w;
    r["upper"] = *x;
    r["lower"] = *y;
    return r;
}

std::expected<cli_action, std::string> text_command(const parsed& p) {
    // drain [VIP] / undrain [VIP] (README "Scale-out with ECMP"): no VIP: every one.
    if (const std::string& c = p.positional[0]; c == "drain" || c == "undrain") {
        if (p.positional.size() > 2)
            return std::unexpected("usage: ulvsadm " + c + " [VIP]");
        cli_action a;
        a.kind = cli_kind::text;
        a.request = {{"cmd", c}};
        if (p.positional.size() == 2) {
            in_addr any{};
            if (inet_pton(AF_INET, p.positional[1].c_str(), &any) != 1)
                return std::unexpected("invalid VIP `" + p.positional[1] + "' (an IPv4 address)");
            a.request["vip"] = p.positional[1];
        }
        return a;
    }
    static const std::map<std::string, std::string> cmds = {
        {"status", "status"}, {"health", "health"},       {"vrrp", "vrrp"},
        {"reload", "reload"}, {"save-yaml", "save_yaml"},
    };
    if (p.positional.size() != 1 || !cmds.contains(p.positional[0]))
        return std::unexpected("unknown command `" + p.positional[0] + "' (try ulvsadm -h)");
    cli_action a;
    a.kind = cli_kind::text;
    a.request = {{"cmd", cmds.at(p.positional[0])}};
    return a;
}

} // namespace

std::expected<cli_action, std::string> parse_cli(std::span<const std::string> args) {
    // Not ipvsadm's syntax: the daemon writes its -c file (README "Running as a service").
    if (args.size() == 2 && args[0] == "save-yaml" && args[1] == "--write") {
        cli_action w;
        w.kind = cli_kind::text;
        w.request = {{"cmd", "save_yaml"}, {"write", true}};
        return w;
    }
    auto p = scan(args);
    if (!p)
        return std::unexpected(p.error());
    cli_action a;
    if (!p->command) {
        if (!p->positional.empty())
            return text_command(*p);
        // ipvsadm with no command lists the table.
        if (p->values.empty() || p->values.contains(opt::numeric) ||
            p->values.contains(opt::connection) || p->values.contains(opt::timeout))
            p->command = opt::list;
        else
            return std::unexpected("no command specified (try ulvsadm -h)");
    }
    if (!p->positional.empty() && *p->command != opt::set)
        return std::unexpected("unexpected argument `" + p->positional[0] + "'");
    if (auto misuse = daemon_option_misuse(*p); !misuse.empty())
        return std::unexpected(misuse);
    auto req = [&](std::expected<json, std::string> r) -> std::expected<cli_action, std::string> {
        if (!r)
            return std::unexpected(r.error());
        a.request = std::move(*r);
        return a;
    };
    switch (*p->command) {
    case opt::add_service:
        return req(service_request(*p, "add_service"));
    case opt::edit_service:
        return req(service_request(*p, "edit_service"));
    case opt::del_service: {
        auto s = service_of(*p);
        return s ? req(json{{"cmd", "del_service"}, {"service", *s}}) : std::unexpected(s.error());
    }
    case opt::clear:
        return req(json{{"cmd", "clear"}});
    case opt::add_server:
        return req(dest_request(*p, "add_dest", true));
    case opt::edit_server:
        return req(dest_request(*p, "edit_dest", true));
    case opt::del_server:
        return req(dest_request(*p, "del_dest", false));
    case opt::zero: {
        json r = {{"cmd", "zero"}};
        if (p->values.contains(opt::tcp) || p->values.contains(opt::udp)) {
            auto s = service_of(*p);
            if (!s)
                return std::unexpected(s.error());
            r["service"] = *s;
        }
        return req(r);
    }
    case opt::set: {
        if (p->positional.size() != 3)
            return std::unexpected("--set needs three values: tcp tcpfin udp");
        json r = {{"cmd", "set_timeouts"}};
        const char* keys[] = {"tcp", "tcpfin", "udp"};
        for (int k = 0; k < 3; ++k) {
            auto v = number(p->positional[k], INT32_MAX);
            if (!v)
                return std::unexpected("invalid timeout value `" + p->positional[k] +
                                       "' specified");
            r[keys[k]] = *v;
        }
        return req(r);
    }
    case opt::start_daemon:
    case opt::stop_daemon:
        return req(daemon_request(*p));
    case opt::restore:
        a.kind = cli_kind::restore;
        return a;
    case opt::help:
        a.kind = cli_kind::help;
        return a;
    case opt::version:
        a.kind = cli_kind::version;
        return a;
    case opt::save:
    case opt::list:
        break;
    default:
        return std::unexpected("unsupported command");
    }
    // Listings.
    a.kind = cli_kind::list;
    a.request = {{"cmd", "list"}};
    a.fmt.numeric = p->values.contains(opt::numeric);
    a.fmt.exact = p->values.contains(opt::exact);
    if (*p->command == opt::save) {
        // The configured servers and weights, not the health-adjusted view -L shows: -R of the
        // rules must give back the configuration (a down server too), not the moment's state.
        a.request["configured"] = true;
        a.fmt.view = list_view::rule;
        return a;
    }
    if (p->values.contains(opt::daemon)) {
        // ipvsadm: --daemon excludes -c, a service and --timeout (its '1' options, the first
        // named) and the statistics views.
        for (opt o : {opt::connection, opt::tcp, opt::udp, opt::timeout})
            if (p->values.contains(o))
                return std::unexpected("The option 'daemon' conflicts with the '" +
                                       ipvsadm_optname(o) + "' option in the 'list' command");
        for (opt o : {opt::stats, opt::rate, opt::thresholds, opt::persistent_conn})
            if (p->values.contains(o))
                return std::unexpected("options conflicts in the list command");
        a.kind = cli_kind::daemon;
        a.request = {{"cmd", "daemon"}};
        return a;
    }
    if (p->values.contains(opt::tcp) || p->values.contains(opt::udp)) {
        auto s = service_of(*p);
        if (!s)
            return std::unexpected(s.error());
        a.request["service"] = *s;
        a.fmt.headless = true;
    }
    if (p->values.contains(opt::connection)) {
        a.kind = cli_kind::conns;
        a.request = {{"cmd", "connections"}};
    } else if (p->values.contains(opt::timeout)) {
        a.kind = cli_kind::timeouts;
    } else if (p->values.contains(opt::stats)) {
        a.fmt.view = list_view::stats;
    } else if (p->values.contains(opt::rate)) {
        a.fmt.view = list_view::rate;
    } else if (p->values.contains(opt::thresholds)) {
        a.fmt.view = list_view::thresholds;
    } else if (p->values.contains(opt::persistent_conn)) {
        a.fmt.view = list_view::persistent_conn;
    }
    return a;
}

std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
            ++i;
        size_t j = i;
        while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j])))
            ++j;
        if (j > i)
            out.emplace_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

std::expected<json, std::string> parse_restore(std::string_view text) {
    json ops = json::array();
    int line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
        ++line_no;
        auto words = split_words(line);
        if (words.empty() || words[0].starts_with("#"))
            continue;
        auto a = parse_cli(words);
        if (!a || a->kind != cli_kind::request)
            return std::unexpected("line " + std::to_string(line_no) + ": " +
                                   (a ? "not a rule: " + std::string(line) : a.error()));
        ops.push_back(a->request);
    }
    return json{{"cmd", "batch"}, {"ops", ops}};
}

std::string usage_text() {
    // A manual page in plain text (scripts/install makes share/man/man8/ulvsadm.8 from it); the
    // SYNOPSIS is ipvsadm 1.31's, plus what ulvsd adds.
    return "NAME\n"
           "    ulvsadm - manage ulvsd, the userspace Linux Virtual Server, in ipvsadm's syntax\n"
           "\n"
           "SYNOPSIS\n"
           "    ulvsadm -A|E -t|u service-address [-s scheduler] [-b flags] [-p [timeout]] "
           "[-M netmask]\n"
           "    ulvsadm -D -t|u service-address\n"
           "    ulvsadm -C\n"
           "    ulvsadm -R\n"
           "    ulvsadm -S [-n]\n"
           "    ulvsadm -a|e -t|u service-address -r server-address [-g|-m|-i] [-w weight] "
           "[-x upper] [-y lower]\n"
           "    ulvsadm -d -t|u service-address -r server-address\n"
           "    ulvsadm -L|l [-n] [--stats|--rate|--thresholds|--persistent-conn|--timeout] [-c] "
           "[--exact]\n"
           "    ulvsadm -Z [-t|u service-address]\n"
           "    ulvsadm --set tcp tcpfin udp\n"
           "    ulvsadm --start-daemon master|backup [--mcast-interface PORT] [--syncid N] "
           "[--sync-maxlen N] [--mcast-group ADDR] [--mcast-port N] [--mcast-ttl N]\n"
           "    ulvsadm --stop-daemon master|backup\n"
           "    ulvsadm -L --daemon\n"
           "    ulvsadm status | health | vrrp | reload | save-yaml [--write]\n"
           "    ulvsadm drain [VIP] | undrain [VIP]\n"
           "    ulvsadm import-keepalived FILE [--base BASE.yaml] [--iptables RULES]\n"
           "    ulvsadm -h | --help | -v | --version\n"
           "\n"
           "DESCRIPTION\n"
           "    ulvsadm sends one request to ulvsd's management socket and prints the reply in\n"
           "    ipvsadm's layouts, so scripts written for ipvsadm work unchanged. Changes apply "
           "to\n"
           "    the running configuration (validated as a file would be, refused as a whole) and\n"
           "    are logged with the caller's uid. They last until ulvsd restarts or reloads its\n"
           "    file, unless written back with save-yaml --write.\n"
           "\n"
           "COMMANDS\n"
           "    -A, -E, -D       add, edit, delete a virtual service\n"
           "    -a, -e, -d       add, edit, delete a real server of a service\n"
           "    -C               clear the table;  -R  restore rules from stdin (-S's format)\n"
           "    -S               save rules in ipvsadm's format (ipvsadm-save)\n"
           "    -L, -l           list (-n numeric, -c connections, --stats, --rate, --timeout...)\n"
           "    -Z               zero counters;  --set tcp tcpfin udp  set the timeouts\n"
           "    --start-daemon master|backup, --stop-daemon master|backup\n"
           "                     start or stop a connection sync daemon (IPVS' sync\n"
           "                     protocol v1; README \"Connection sync\"); -L --daemon\n"
           "                     lists them\n"
           "    status, health, vrrp\n"
           "                     the daemon's state, health checks, VRRP instances\n"
           "    reload           reload the configuration file (as SIGHUP)\n"
           "    save-yaml        print the running configuration as YAML (the full backup)\n"
           "    save-yaml --write\n"
           "                     write it to ulvsd's -c file (atomically, mode kept, the\n"
           "                     previous file kept as FILE.bak): changes survive a restart,\n"
           "                     as `ipvsadm-save > /etc/sysconfig/ipvsadm` did\n"
           "    drain [VIP], undrain [VIP]\n"
           "                     withdraw the VIP's announcement (announce:) or announce it\n"
           "                     again; no VIP: every VIP. Connections go on\n"
           "    import-keepalived\n"
           "                     keepalived.conf to ulvs YAML on stdout (import-keepalived "
           "--help)\n"
           "\n"
           "OPTIONS\n"
           "    -t, -u service-address    TCP or UDP service, VIP:port\n"
           "    -s scheduler              rr wrr lc wlc lblc lblcr dh sh sed nq mh\n"
           "    -p [timeout], -M netmask  persistence\n"
           "    -r server-address         real server, address[:port]\n"
           "    -g, -m, -i                direct routing, masquerading (NAT), tunnelling (IPIP)\n"
           "    -w weight, -x upper, -y lower\n"
           "    --mcast-interface PORT    the port sync uses (needed with several ports)\n"
           "    --syncid N, --sync-maxlen N, --mcast-group ADDR, --mcast-port N, --mcast-ttl N\n"
           "                              sync daemon options (default 0, 1472, 224.0.0.81,\n"
           "                              8848, 1)\n"
           "    --socket PATH             ulvsd's management socket (or $ULVS_SOCKET); default:\n"
           "                              management.socket of /etc/ulvs/ulvs.yaml, else\n"
           "                              /run/ulvs/ulvsd.sock\n"
           "\n"
           "FILES\n"
           "    /run/ulvs/ulvsd.sock      the management socket (root and management.group)\n"
           "    /etc/ulvs/ulvs.yaml       ulvsd's configuration, written by save-yaml --write\n"
           "\n"
           "EXIT STATUS\n"
           "    0  done;  1  ulvsd unreachable, or it refused the request (the reason on "
           "stderr);\n"
           "    2  bad usage (as ipvsadm)\n"
           "\n"
           "SEE ALSO\n"
           "    ulvsd(8), ipvsadm(8)\n";
}

} // namespace ulvs::mgmt
