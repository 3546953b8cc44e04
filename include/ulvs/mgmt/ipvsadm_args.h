// ipvsadm's command line (README "Managing it") turned into management requests. Shared by
// ulvsadm's argv and by -R, whose input lines are ipvsadm command lines without the program name.
//
// As ipvsadm: short options may be bundled ("-Ln", "-lcn"), an option's value may follow in
// the same word ("-w3") or the next one, -p's timeout is optional (300 s when left out),
// -r without a port takes the service's port, -a/-e default to -g -w 1 and -A/-E to -s wlc.
// -e and -E send every field (omitted ones at their defaults), exactly what ipvsadm does.
#pragma once

#include "ulvs/mgmt/ipvsadm_format.h"
#include "ulvs/mgmt/protocol.h"

#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::mgmt {

enum class cli_kind {
    request,  // send `request`, print nothing on success (-A, -a, -C, -Z, --set, ...)
    list,     // send {"cmd":"list"}, render with `fmt` (-L, -S, --timeout)
    timeouts, // --timeout listing
    conns,    // -c listing
    restore,  // -R: read rules from stdin
    text,     // status | health | vrrp | reload | save-yaml: print the reply's text
    help,     // -h
    version,  // -v / --version
    daemon,   // -L --daemon: send {"cmd":"daemon"}, render_daemons
};

struct cli_action {
    cli_kind kind = cli_kind::request;
    json request = json::object();
    list_format fmt;
};

// Default scheduler when -s is left out, as ipvsadm's DEF_SCHED.
inline constexpr std::string_view default_scheduler = "wlc";
// Default persistence timeout when -p has no value (IPVS_SVC_PERSISTENT_TIMEOUT).
inline constexpr unsigned default_persistent_timeout = 300;

// `args` are the words after the program name, --socket already removed. Errors are one line, in
// ipvsadm's wording where it has one.
std::expected<cli_action, std::string> parse_cli(std::span<const std::string> args);

// Split a -R line into words (whitespace-separated, as ipvsadm-restore does).
std::vector<std::string> split_words(std::string_view line);

// A -R input (ipvsadm -S output or a hand-written rule file) -> the ops of one batch request.
// Blank lines and '#' comments are skipped; a line that is not -A/-E/-D/-a/-e/-d/-C/--set/-Z is
// an error naming its line number.
std::expected<json, std::string> parse_restore(std::string_view text);

std::string usage_text();

} // namespace ulvs::mgmt
