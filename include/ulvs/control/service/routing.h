// The routing part of a snapshot: connected subnets of the ports and static routes in an rte_lpm,
// next hops with their neighbour slots. Control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <expected>
#include <string>

namespace ulvs::ctl {

// Fill s.lpm, s.hops and s.port_addr from the config; gateways get neighbour slots (and so are
// resolved). `serial` makes the LPM's name unique among live snapshots.
std::expected<void, std::string> build_routes(const config::config& cfg, neigh_manager& neigh,
                                              dp::snapshot& s, uint32_t serial);

struct resolved_hop {
    uint8_t port;
    uint32_t neigh;
};

// Where packets to `dst` leave and whose MAC they need: the gateway's slot, or for a connected
// destination its own (allocated here, so the neighbour manager resolves it).
std::expected<resolved_hop, std::string> resolve(const dp::snapshot& s, neigh_manager& neigh,
                                                 ip_addr dst);

} // namespace ulvs::ctl
