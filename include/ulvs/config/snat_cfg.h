// `snat:` and `forwarding_rules:` (README "Configuration", issue 19): the director as the real
// servers' gateway. Both are off by default: a load balancer is not an open router.
#pragma once

#include "ulvs/common/inet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ulvs::config {

// Source NAT for connections that `sources` open to hosts reached through `out_port` (Linux's
// `-s SOURCES -o OUT_PORT -j MASQUERADE`, or `-j SNAT --to-source TO:PORTS`). A rule also allows
// its sources to be forwarded out of `out_port` (translated): no forwarding rule is needed beside
// it, as ip_forward plus MASQUERADE on a director.
struct snat_rule_cfg {
    std::vector<ip_prefix> sources;
    std::string out_port;
    ip_addr to_first;            // the translated source addresses, to_first..to_last; default: the
    ip_addr to_last;             // out_port's first address (MASQUERADE)
    uint16_t ports_first = 1024; // the translated source ports (and ICMP echo identifiers)
    uint16_t ports_last = 65535;
    bool operator==(const snat_rule_cfg&) const = default;
};

// Plain routed forwarding, addresses unchanged: packets from `sources` to `destinations`,
// arriving on `in_port` (empty: any) and leaving by `out_port` (empty: any).
struct forwarding_rule_cfg {
    std::vector<ip_prefix> sources;
    std::vector<ip_prefix> destinations;
    std::string in_port;
    std::string out_port;
    bool operator==(const forwarding_rule_cfg&) const = default;
};

} // namespace ulvs::config
