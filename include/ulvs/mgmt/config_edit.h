// ipvsadm-style changes (-A/-E/-D/-a/-e/-d/-C/--set) applied to a copy of the running
// configuration. Pure functions, no DPDK: the daemon (lib/mgmt/commands.cc) validates the result
// with revalidate() and then publishes it; tests call them directly.
//
// Why the config is the model: save-yaml must show every change, reload must diff against what
// runs, and one validator must judge files and CLI changes alike. revalidate() emits the edited
// config as YAML and loads it again through config::load_string, so a CLI change is accepted
// exactly when the same file would be.
//
// Identity, as IPVS: a virtual server is (protocol, VIP, port), a real server within it is
// (address, port). Services created from the CLI are named "<proto>-<vip>-<port>".
// Persistence (-p/-M) maps to the service's `persistence:`. `match:` services have no VIP:port
// and are managed in the YAML file only (ipvsadm's -f has no equivalent here).
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/mgmt/protocol.h"

#include <expected>
#include <string>
#include <vector>

namespace ulvs::mgmt {

// One op ({"cmd":"add_service",...}); "batch" applies its "ops" in order, all or nothing (the
// caller discards the copy on error). "zero" is not a config change and is ignored here.
std::expected<void, error> apply_op(config::config& c, const json& op);

// Round-trip through the validator. Source locations are meaningless for CLI changes, so the
// diagnostics' messages are returned without them. The result keeps `c.path`.
std::expected<config::config, error> revalidate(const config::config& c);

// What a reload from `running` to `next` would change that only a restart can apply (ports,
// lcores, dpdk, connections.max, management endpoints, removal of a static neighbour): one
// phrase per section, empty when the reload can be applied live.
std::vector<std::string> restart_only_changes(const config::config& running,
                                              const config::config& next);

// True when `cmd` changes the configuration (and so needs revalidate + publish).
bool is_config_change(std::string_view cmd);

} // namespace ulvs::mgmt
