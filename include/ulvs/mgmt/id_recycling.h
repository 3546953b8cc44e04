// Recycling of retired stats ids (control/service/stats_ids.h): a removed real server's id, and
// the neighbour slot it holds, may be reused only once no worker's connection names it. Every
// period_ms the retired ids are posted to every worker's id_check_channel
// (dataplane/fwd/id_check.h); a later pass reads the answers and releases the unused ones.
// Neither side ever waits for the other.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/control/service/stats_ids.h"
#include "ulvs/dataplane/fwd/id_check.h"
#include "ulvs/dataplane/fwd/worker.h"

#include <cstdint>
#include <vector>

namespace ulvs::mgmt {

class id_recycler {
public:
    // Retired ids are checked this often, at most this many a time.
    static constexpr uint64_t period_ms = 100;
    static constexpr size_t max_ids = 4096;

    // `checks`: one per worker, served by the worker loop. Empty: no worker runs concurrently
    // (tests), the workers' counts are read directly.
    id_recycler(ctl::stats_ids* ids, std::vector<const dp::worker_ctx*> workers,
                std::vector<dp::id_check_channel*> checks)
        : m_ids(ids), m_workers(std::move(workers)), m_checks(std::move(checks)) {}

    // Returns work done.
    unsigned poll(uint64_t now);

private:
    unsigned read_answers();
    unsigned check_directly();

    ctl::stats_ids* m_ids;
    std::vector<const dp::worker_ctx*> m_workers;
    std::vector<dp::id_check_channel*> m_checks;
    bool m_asking = false;
    uint64_t m_next_ms = 0;
    std::vector<uint32_t> m_question;
    std::vector<std::vector<uint8_t>> m_busy; // by worker, one byte per id asked about
};

} // namespace ulvs::mgmt
