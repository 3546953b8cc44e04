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
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::mgmt {

// A counter kept outside the manager by the control plane (the exception path's), by name:
// `ulvsadm status` shows it, /metrics exports it as ulvs_<name>_total.
struct control_counter {
    std::string name;
    std::string help;
    uint64_t value = 0;
};

struct metrics_sources {
    const config::config& running;
    const traffic_stats& stats;
    const ctl::health::checker* health; // null: every server is up
    const std::vector<const dp::worker_ctx*>& workers;
    const std::function<std::array<uint64_t, 2>()>& mbufs; // {in use, size}; empty: not shown
    json vrrp_instances;                                   // `ulvsadm vrrp`'s instances
    uint64_t changes = 0;
    const std::map<std::string, uint64_t>& reload_outcomes; // by outcome: ok, invalid, ...
    const std::string& config_sha256;
    const std::string& config_path;
    std::optional<std::chrono::system_clock::time_point> last_reload_ok;
    std::vector<control_counter> control;
};

std::string metrics_page(const metrics_sources& s);

} // namespace ulvs::mgmt
