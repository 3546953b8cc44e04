// Connection sync (issue 18) wired into the daemon: the control lcore's sync engine
// (control/sync/sync_engine.h), each worker's rings, and its counters. The workers take their
// part of `sync:` from the snapshots (dataplane snapshot::sync).
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/control_loop.h"
#include "ulvs/control/sync/sync_engine.h"
#include "ulvs/mgmt/metrics.h"

#include <expected>
#include <memory>
#include <string>
#include <vector>

namespace ulvs::app {

struct sync_runtime {
    std::unique_ptr<ctl::sync_engine> engine;

    // The engine, configured from `cfg.sync` (stopped when unset), sending through `env` and
    // asking `neigh` for a unicast peer's MAC. Start-up, after the ports and the publisher.
    static std::expected<sync_runtime, std::string>
    make(const config::config& cfg, ctl::control_env& env, ctl::neigh_manager& neigh,
         rte_mempool* pool, const dp::publisher* pub, uint32_t n_workers);

    // Worker `id`'s rings (both directions, whatever the role: the role may change later).
    std::expected<void, std::string> connect(dp::worker_runtime& wrt, uint32_t id);
    // A committed config (manager_deps::committed): start, change or stop the engine.
    void committed(const config::config& cfg);
    // For `ulvsadm status` and /metrics (ulvs_sync_*_total).
    std::vector<mgmt::control_counter> counters() const;
};

} // namespace ulvs::app
