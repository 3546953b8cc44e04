// What the mapping files of the importer share: the diagnostics, the interfaces named so far (the
// ports the output needs), settings of global_defs that other sections default to, and small
// helpers to read keepalived values and write YAML scalars. Private to lib/importer.
#pragma once

#include "kc_parse.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::importer {

// A virtual server as text, before fwmark services get their `match:` from the iptables rules.
struct vs_text {
    std::string name;
    std::string keys; // name/address/port/protocol lines (address services)
    std::string body; // every other line, 4-space indented
    std::optional<uint32_t> fwmark;
    bool persistent = false;
    bool udp = false; // keepalived's `protocol` (fwmark services take it from the rules instead)
    std::string any_port_vip; // a port-0 service of this VIP (a match service)
    loc at;
};

struct ctx {
    explicit ctx(diags& diag) : d(diag) {}
    diags& d;
    std::vector<std::string> interfaces; // in order of first mention
    std::map<std::string, loc> interface_at;
    std::string router_id;
    std::string script_user, script_group;
    int vrrp_version = 2;     // global_defs vrrp_version; keepalived's default is 2
    bool vrrp_strict = false; // global_defs vrrp_strict: keepalived then ignores authentication
    std::optional<std::string> garp_delay, garp_refresh; // global_defs defaults, as YAML
    std::optional<std::string> timeouts;                 // lvs_timeouts, as a YAML line
    std::optional<std::string> lvs_sync;                 // lvs_sync_daemon, as a YAML line
    std::string vrrp_yaml, sync_yaml;
    std::vector<vs_text> services;

    void use_interface(const std::string& name, const loc& at);
};

// YAML: a plain scalar when it cannot be mistaken for anything else, else double-quoted.
std::string q(std::string_view s);
// Milliseconds as a ulvs duration ("5s", "1500ms").
std::string dur(int64_t ms);
// keepalived's timers: seconds, possibly with a fraction ("1.5"); nullopt when not a number.
std::optional<int64_t> seconds_ms(std::string_view s);
std::optional<uint64_t> to_uint(std::string_view s, uint64_t max);
std::optional<int64_t> to_int(std::string_view s, int64_t min, int64_t max);
// keepalived's true/false words (check_true_false): true on, false off, yes no; nullopt else.
std::optional<bool> to_bool(std::string_view s);
// All the words of a value block ({ a b \n c } -> a b c), in order, with their locations.
std::vector<token> block_words(const node& n);
// The command line of a quoted keyword (notify_*, script, misc_path): its first word; extra words
// (a user and group in keepalived) are warned about.
std::optional<std::string> command_arg(ctx& c, const node& n);
// "keyword needs a value" errors and friends.
bool need_args(ctx& c, const node& n, size_t count);
void unsupported(ctx& c, const node& n, const std::string& why);

void import_global_defs(ctx& c, const node& n);
void import_vrrp(ctx& c, const std::vector<node>& top);
void import_virtual_servers(ctx& c, const std::vector<node>& top);
// The body lines of a real server's checkers (health_check: or health_checks:), 8-space indent.
std::string import_checks(ctx& c, const node& vs, const node& rs);

} // namespace ulvs::importer
