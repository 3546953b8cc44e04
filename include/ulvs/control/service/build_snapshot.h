// Turning the validated configuration into the read-only snapshot the workers use.
//
// Counter identities (stats ids) are kept by `stats_ids` across snapshots (stats_ids.h).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/service/stats_ids.h"
#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/sched/load.h"

#include <arpa/inet.h>

#include <expected>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace ulvs::ctl {

namespace vrrp {
class engine;
}

// Build a snapshot from `cfg`. Allocates neighbour slots for every next hop (the manager then
// resolves them). Fails only on exhausted fixed limits (services, stats ids, neighbour slots);
// then the ids and slots it allocated go back at once.
std::expected<std::unique_ptr<dp::snapshot>, std::string>
build_snapshot(const config::config& cfg, neigh_manager& neigh, stats_ids& ids);

} // namespace ulvs::ctl
