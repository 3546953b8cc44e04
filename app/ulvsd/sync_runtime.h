// Connection sync (issue 18) wired into the daemon: the control lcore's sync engine
// (control/sync/sync_engine.h), each worker's part of it, and its counters.
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
    std::unique_ptr<ctl::sync_engine> engine; // null: no `sync:` in the config

    // The engine for `cfg.sync` (none when unset), sending through `env` on its interface and
    // asking `neigh` for a unicast peer's MAC. Start-up, after the ports and the publisher.
    static std::expected<sync_runtime, std::string>
    make(const config::config& cfg, ctl::control_env& env, ctl::neigh_manager& neigh,
         rte_mempool* pool, const dp::publisher* pub, uint32_t n_workers);

    // What every worker needs to know (none: sync off, one branch per packet).
    dp::sync_params worker_params(const config::config& cfg) const;
    // Worker `id`'s rings.
    std::expected<void, std::string> connect(dp::worker_runtime& wrt, uint32_t id);
    // For `ulvsadm status` and /metrics (ulvs_sync_*_total).
    std::vector<mgmt::control_counter> counters() const;
};

} // namespace ulvs::app
