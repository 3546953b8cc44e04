// /metrics: the Prometheus text exposition format (version 0.0.4), built from what the manager
// holds. Names follow Prometheus conventions: counters end in _total, labels name the object
// (virtual_server, vip, port, proto; real server address and port; worker; drop reason).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/mgmt/protocol.h"
#include "ulvs/mgmt/traffic_stats.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace ulvs::mgmt {

struct metrics_sources {
    const config::config& running;
    const traffic_stats& stats;
    const ctl::health::checker* health; // null: every server is up
    const std::vector<const dp::worker_ctx*>& workers;
    const std::function<std::array<uint64_t, 2>()>& mbufs; // {in use, size}; empty: not shown
    json vrrp_instances;                                   // `ulvsadm vrrp`'s instances
    uint64_t changes = 0, reloads = 0;
};

std::string metrics_page(const metrics_sources& s);

} // namespace ulvs::mgmt
