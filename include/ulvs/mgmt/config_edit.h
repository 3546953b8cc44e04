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
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ulvs::mgmt {

// What ipvsadm's rules cannot say about a service, remembered from every configuration this
// process ran (the file at start and at each reload, and each CLI change), by IPVS identity
// (protocol, VIP, port). When -A (and so -R) creates a service that was defined before, it gets
// back its name (the metrics' label), its service-level forwarding, its health settings (check,
// quorum, hysteresis, alpha, sorry server), mh_table_size and expire_quiescent_template; when -a
// adds a real server that service had, it gets back the server's health settings (check,
// inhibit_on_failure, notify). So `ulvsadm -S > rules; ulvsadm -C; ulvsadm -R < rules` restores
// exactly what ran (issue 16). Only real servers with health settings are kept: adding and
// removing 100k plain ones leaves nothing behind.
class service_history {
public:
    // The services of `c` (a committed config): their latest definition is what -A gets back.
    void remember(const config::config& c);
    // The remembered service (real_servers empty), or null.
    const config::virtual_server_cfg* find(l4_proto proto, ip_addr vip, uint16_t port) const;
    // The remembered health settings of a real server of that service, or null.
    const config::rs_health_cfg* find_rs(l4_proto proto, ip_addr vip, uint16_t port, ip_addr addr,
                                         uint16_t rport) const;

private:
    struct entry {
        config::virtual_server_cfg vs;
        std::map<std::pair<uint32_t, uint16_t>, config::rs_health_cfg> rs; // by (address, port)
    };
    std::map<std::tuple<uint8_t, uint32_t, uint16_t>, entry> m_services;
};

// One op ({"cmd":"add_service",...}); "batch" applies its "ops" in order, all or nothing (the
// caller discards the copy on error). "zero" is not a config change and is ignored here.
// `history`: what -A and -a re-attach (above); null: nothing.
std::expected<void, error> apply_op(config::config& c, const json& op,
                                    const service_history* history = nullptr);

// Round-trip through the validator. Source locations are meaningless for CLI changes, so the
// diagnostics' messages are returned without them. The result keeps `c.path`.
std::expected<config::config, error> revalidate(const config::config& c);

// What a reload from `running` to `next` would change that only a restart can apply (ports,
// lcores, dpdk, connections.max, management endpoints, removal of a static neighbour): one
// phrase per section, empty when the reload can be applied live.
std::vector<std::string> restart_only_changes(const config::config& running,
                                              const config::config& next);

// After a committed -a or -e (`op`): a line for the operator when the server is configured with
// a weight but not in service (its health check fails, so -L, which lists what the workers use,
// does not show it): the change is kept and applies when the server is up. Empty otherwise.
// `running` is the committed config, `effective` the same with the health overlay.
std::string dest_note(const json& op, const config::config& running,
                      const config::config& effective);

// True when `cmd` changes the configuration (and so needs revalidate + publish).
bool is_config_change(std::string_view cmd);

} // namespace ulvs::mgmt
