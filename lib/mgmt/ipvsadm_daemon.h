// ipvsadm's sync daemon commands on the command line: --start-daemon, --stop-daemon and their
// options, checked as ipvsadm checks them (its commands_v_options table). Private to lib/mgmt
// (ipvsadm_args.cc).
#pragma once

#include "ipvsadm_options.h"

#include "ulvs/mgmt/protocol.h"

#include <expected>
#include <string>

namespace ulvs::mgmt::detail {

// ipvsadm's name of an option in its messages ("service-address" for -t, "forwarding-method"
// for -g) and of a command ("flush" for -C).
std::string ipvsadm_optname(opt o);
std::string ipvsadm_cmdname(opt command);

// The daemon options given to a command that does not take them, as ipvsadm reports it
// ("Illegal 'syncid' option with the 'add-service' command"); empty when none.
std::string daemon_option_misuse(const parsed& p);

// --start-daemon / --stop-daemon -> {"cmd":"start_daemon","state":...,options}.
std::expected<json, std::string> daemon_request(const parsed& p);

} // namespace ulvs::mgmt::detail
