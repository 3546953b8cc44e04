// `announce:` (README, "Scale-out with ECMP"): VIP routes for a routing daemon (BIRD, FRR) to
// announce over BGP. ulvsd keeps a /32 route per VIP in the kernel routing table `table`, through
// the TAP of `port`, only while this node can serve that VIP (control/announce/announcer.h); the
// daemon exports that table. `peers`: the routers the daemon talks BGP and BFD to through the
// exception path (TCP 179 either way, UDP 3784/3785/4784 from them), and nothing else.
#pragma once

#include "ulvs/common/inet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ulvs::config {

struct announce_cfg {
    bool enabled = false; // the key is in the file
    uint32_t table = 0;   // 1..2^31-1, not 253 (default), 254 (main) or 255 (local)
    std::string port;     // the port whose TAP the routes go through; empty: the first port
    // The routes' protocol (rtm_protocol, `ip route ... proto N`): what tells them apart from
    // others in the table. 5..255; the default is unassigned in iproute2's rt_protos.
    uint8_t protocol = 200;
    std::vector<ip_addr> peers;
    bool operator==(const announce_cfg&) const = default;
};

} // namespace ulvs::config
