#include "ipvsadm_options.h"

#include <charconv>

namespace ulvs::mgmt::detail {

namespace {
struct opt_def {
    opt o;
    char short_name; // 0: none
    const char* long_name;
    int arg; // 0 none, 1 required, 2 optional (-p)
};

constexpr opt_def defs[] = {
    {opt::add_service, 'A', "add-service", 0},
    {opt::edit_service, 'E', "edit-service", 0},
    {opt::del_service, 'D', "delete-service", 0},
    {opt::clear, 'C', "clear", 0},
    {opt::restore, 'R', "restore", 0},
    {opt::save, 'S', "save", 0},
    {opt::add_server, 'a', "add-server", 0},
    {opt::edit_server, 'e', "edit-server", 0},
    {opt::del_server, 'd', "delete-server", 0},
    {opt::list, 'L', "list", 0},
    {opt::list, 'l', nullptr, 0},
    {opt::zero, 'Z', "zero", 0},
    {opt::set, 0, "set", 0},
    {opt::help, 'h', "help", 0},
    {opt::version, 'v', "version", 0},
    {opt::tcp, 't', "tcp-service", 1},
    {opt::udp, 'u', "udp-service", 1},
    {opt::fwmark, 'f', "fwmark-service", 1},
    {opt::scheduler, 's', "scheduler", 1},
    {opt::persistent, 'p', "persistent", 2},
    {opt::netmask, 'M', "netmask", 1},
    {opt::real, 'r', "real-server", 1},
    {opt::gatewaying, 'g', "gatewaying", 0},
    {opt::ipip, 'i', "ipip", 0},
    {opt::masquerading, 'm', "masquerading", 0},
    {opt::weight, 'w', "weight", 1},
    {opt::upper, 'x', "u-threshold", 1},
    {opt::lower, 'y', "l-threshold", 1},
    {opt::connection, 'c', "connection", 0},
    {opt::timeout, 0, "timeout", 0},
    {opt::stats, 0, "stats", 0},
    {opt::rate, 0, "rate", 0},
    {opt::exact, 0, "exact", 0},
    {opt::thresholds, 0, "thresholds", 0},
    {opt::persistent_conn, 0, "persistent-conn", 0},
    {opt::numeric, 'n', "numeric", 0},
    {opt::sched_flags, 'b', "sched-flags", 1},
    {opt::nosort, 0, "nosort", 0},
    {opt::sort, 0, "sort", 0},
    {opt::ops, 'o', "ops", 0},
    {opt::ipv6, '6', "ipv6", 0},
    {opt::start_daemon, 0, "start-daemon", 1},
    {opt::stop_daemon, 0, "stop-daemon", 1},
    {opt::daemon, 0, "daemon", 0},
    {opt::mcast_interface, 0, "mcast-interface", 1},
    {opt::syncid, 0, "syncid", 1},
    {opt::sync_maxlen, 0, "sync-maxlen", 1},
    {opt::mcast_group, 0, "mcast-group", 1},
    {opt::mcast_port, 0, "mcast-port", 1},
    {opt::mcast_ttl, 0, "mcast-ttl", 1},
};

} // namespace

bool is_command(opt o) {
    return o <= opt::version || o == opt::start_daemon || o == opt::stop_daemon;
}

std::string_view long_name(opt o) {
    for (const opt_def& d : defs)
        if (d.o == o && d.long_name)
            return d.long_name;
    return "?";
}

bool is_daemon_option(opt o) {
    return o >= opt::mcast_interface && o <= opt::mcast_ttl;
}

std::optional<unsigned long> number(std::string_view s, unsigned long max) {
    unsigned long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v > max)
        return std::nullopt;
    return v;
}

std::expected<parsed, std::string> scan(std::span<const std::string> args) {
    parsed out;
    auto record = [&](const opt_def& d, std::string value) -> std::expected<void, std::string> {
        if (is_command(d.o)) {
            if (out.command)
                return std::unexpected("multiple commands specified");
            out.command = d.o;
            if (d.arg != 0)
                out.values[d.o] = std::move(value);
            return {};
        }
        if (out.values.contains(d.o) && d.o != opt::numeric)
            return std::unexpected(std::string("multiple '") + (d.long_name ? d.long_name : "") +
                                   "' options specified");
        out.values[d.o] = std::move(value);
        return {};
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        // -p takes the next word as its timeout only when it is a number (popt's optional arg).
        auto optional_value = [&]() -> std::string {
            if (i + 1 < args.size() && number(args[i + 1], UINT32_MAX))
                return args[++i];
            return {};
        };
        if (a.starts_with("--") && a.size() > 2) {
            std::string name = a.substr(2), value;
            bool inline_value = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name.resize(eq);
                inline_value = true;
            }
            const opt_def* d = nullptr;
            for (const opt_def& x : defs)
                if (x.long_name && name == x.long_name)
                    d = &x;
            if (!d)
                return std::unexpected("unknown option --" + name);
            if (d->arg == 1 && !inline_value) {
                if (i + 1 >= args.size())
                    return std::unexpected("option --" + name + " needs a value");
                value = args[++i];
            } else if (d->arg == 2 && !inline_value) {
                value = optional_value();
            }
            if (auto r = record(*d, value); !r)
                return std::unexpected(r.error());
            continue;
        }
        if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
            for (size_t k = 1; k < a.size(); ++k) {
                const opt_def* d = nullptr;
                for (const opt_def& x : defs)
                    if (x.short_name == a[k])
                        d = &x;
                if (!d)
                    return std::unexpected(std::string("unknown option -") + a[k]);
                std::string value;
                if (d->arg != 0) {
                    if (k + 1 < a.size()) {
                        value = a.substr(k + 1);
                    } else if (d->arg == 1) {
                        if (i + 1 >= args.size())
                            return std::unexpected(std::string("option -") + a[k] +
                                                   " needs a value");
                        value = args[++i];
                    } else {
                        value = optional_value();
                    }
                    k = a.size();
                }
                if (auto r = record(*d, value); !r)
                    return std::unexpected(r.error());
            }
            continue;
        }
        out.positional.push_back(a);
    }
    return out;
}

} // namespace ulvs::mgmt::detail
