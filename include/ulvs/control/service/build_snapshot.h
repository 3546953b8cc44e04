// Turning the validated configuration into the read-only snapshot the workers use.
//
// A build reads, besides the configuration, the inputs below (snapshot_inputs), and keeps from
// one build to the next what lets a new snapshot share with the previous ones: the route table
// while the routes are unchanged (routing.h), the scheduler tables while a service's dests are
// (sched/tables.h table_cache), and the scheduler generations that keep the workers' rr/wrr
// positions (service_gens.h). Counter identities (stats ids) are kept by `stats_ids`
// (stats_ids.h).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/service/routing.h"
#include "ulvs/control/service/service_gens.h"
#include "ulvs/control/service/stats_ids.h"
#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/fwd/vip_owners.h"

#include <expected>
#include <memory>
#include <string>

namespace ulvs::dp {
class load_board;
}

namespace ulvs::ctl {

namespace vrrp {
class engine;
}

// What every snapshot of one run is built from besides the configuration, and what builds keep
// for the next one. One per ulvsd run (the daemon's, a test rig's).
struct snapshot_inputs {
    snapshot_inputs(neigh_manager& n, stats_ids& i) : neigh(n), ids(i) {}

    neigh_manager& neigh; // next hops get their slots here (and so are resolved)
    stats_ids& ids;       // counter identities of virtual and real servers
    // The run's shared connection counts (sched/load.h), put into every snapshot so that
    // snapshots from reloads and live changes see them too. Null (single-worker tests): workers
    // schedule on their own counts.
    dp::load_board* loads = nullptr;
    // VRRP (vrrp/engine.h): which virtual addresses this appliance holds, overlaid on every
    // snapshot (vrrp/overlay.h) through `owners`, which a transition updates without a new
    // snapshot. Null: no VRRP, every VIP is ours.
    const vrrp::engine* vrrp = nullptr;
    dp::vip_owners owners;

    // Kept between builds.
    route_cache routes;
    service_gens gens;
};

// Build a snapshot from `cfg`. Allocates neighbour slots for every next hop (the neighbour
// manager then resolves them). Fails only on exhausted fixed limits (services, stats ids,
// neighbour slots); then the ids and slots it allocated go back at once.
std::expected<std::unique_ptr<dp::snapshot>, std::string> build_snapshot(const config::config& cfg,
                                                                         snapshot_inputs& in);

} // namespace ulvs::ctl
