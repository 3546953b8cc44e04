// `exception_path:` (README, Configuration): what traffic for the appliance's own addresses the
// kernel behind the TAP interfaces may receive (control/exception/kernel_tap.h) beyond the replies
// to the appliance's own health checks, which always pass. Everything else is dropped and counted.
#pragma once

#include "ulvs/common/inet.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::config {

// The IP protocol numbers (IPPROTO_*); `any` matches every protocol.
enum class allow_proto : uint8_t { any = 0, icmp = 1, tcp = 6, udp = 17 };
std::string_view to_string(allow_proto p);

// One `allow` entry: packets of `protocol` arriving on `port` (a name in `ports`; empty: every
// port), to one of `ports` (TCP/UDP destination ports; empty: every one), from one of `sources`
// (empty: every source), for any of the appliance's addresses and, on what no virtual server
// takes, the VIPs this node owns (control/exception/tap_plan.h, the host view).
struct exception_allow_cfg {
    std::string port;
    allow_proto protocol = allow_proto::tcp;
    std::vector<uint16_t> ports;
    std::vector<ip_prefix> sources;
    bool operator==(const exception_allow_cfg&) const = default;
};

struct exception_path_cfg {
    std::vector<exception_allow_cfg> allow; // empty (the default): only check replies pass
    bool operator==(const exception_path_cfg&) const = default;
};

} // namespace ulvs::config
