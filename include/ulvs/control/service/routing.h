// The routing part of a snapshot: connected subnets of the ports and static routes in an rte_lpm,
// next hops with their neighbour slots. Control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <expected>
#include <memory>
#include <string>
#include <vector>

namespace ulvs::ctl {

// Route tables of successive builds: a build whose route set (ports' addresses, static routes and
// their gateways' neighbour slots) equals the last one's gets the same dp::route_table, so
// republishing for a health or VRRP change creates no rte_lpm (64 MiB, and milliseconds to
// zero). A table lives as long as a snapshot holds it, and is freed with the last one (after its
// grace period, dataplane/fwd/publisher.h); the cache also keeps the latest table, so that a
// change's check build and its publication build share it.
class route_cache {
public:
    // The route table of `cfg`. Gateways get neighbour slots on every call, so that the build in
    // progress holds them (neigh_manager begin_build/end_build).
    std::expected<std::shared_ptr<const dp::route_table>, std::string>
    get(const config::config& cfg, neigh_manager& neigh);

    size_t builds() const { return m_builds; } // tables created so far
    size_t live();                             // tables some snapshot still holds

private:
    std::vector<uint64_t> m_key; // the route set of m_last
    std::shared_ptr<const dp::route_table> m_last;
    std::vector<std::weak_ptr<const dp::route_table>> m_made; // for live()
    size_t m_builds = 0;
};

struct resolved_hop {
    uint8_t port;
    uint32_t neigh;
};

// Where packets to `dst` leave and whose MAC they need: the gateway's slot, or for a connected
// destination its own (allocated here, so the neighbour manager resolves it).
std::expected<resolved_hop, std::string> resolve(const dp::snapshot& s, neigh_manager& neigh,
                                                 ip_addr dst);

} // namespace ulvs::ctl
