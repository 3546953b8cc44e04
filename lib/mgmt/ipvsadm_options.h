// ipvsadm's option syntax: the option table and the scanner (bundled short options, values in
// the same or the next word, -p's optional value). Private to lib/mgmt: ipvsadm_args.cc turns
// what it finds into requests.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::mgmt::detail {

enum class opt {
    add_service,
    edit_service,
    del_service,
    clear,
    restore,
    save,
    add_server,
    edit_server,
    del_server,
    list,
    zero,
    set,
    help,
    version, // commands
    tcp,
    udp,
    fwmark,
    scheduler,
    persistent,
    netmask,
    real,
    gatewaying,
    ipip,
    masquerading,
    weight,
    upper,
    lower,
    connection,
    timeout,
    stats,
    rate,
    exact,
    thresholds,
    persistent_conn,
    numeric,
    sched_flags,
    nosort,
    sort,
    ops,
    ipv6,
    // The sync daemon (issue 18): two commands taking master|backup, then their options.
    start_daemon,
    stop_daemon,
    daemon, // -L --daemon
    mcast_interface,
    syncid,
    sync_maxlen,
    mcast_group,
    mcast_port,
    mcast_ttl,
};

bool is_command(opt o);
// ipvsadm's names in its messages: "--weight" is "weight", -C is "clear".
std::string_view long_name(opt o);
// The options ipvsadm allows with --start-daemon (and --stop-daemon: syncid only).
bool is_daemon_option(opt o);

struct parsed {
    std::optional<opt> command;
    std::map<opt, std::string> values; // option -> its value ("" when it has none); a command's
                                       // value too (--start-daemon master)
    std::vector<std::string> positional;
};

std::optional<unsigned long> number(std::string_view s, unsigned long max);

// Words after the program name -> the command, the options with their values, the rest.
std::expected<parsed, std::string> scan(std::span<const std::string> args);

} // namespace ulvs::mgmt::detail
