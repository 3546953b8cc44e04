// `ulvsadm -c`, the connection listing. Each worker copies its own connections on request
// (dataplane/fwd/conn_dump.h); this side posts the requests and polls for completion from the
// server's deferred reply, so neither the control loop nor a worker ever waits.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/dataplane/fwd/conn_dump.h"
#include "ulvs/mgmt/server.h"
#include "ulvs/mgmt/traffic_stats.h"

#include <vector>

namespace ulvs::mgmt {

class conn_listing {
public:
    // At most this many connections in one listing (all workers together).
    static constexpr uint32_t max_listed_conns = 100000;
    // How long the workers get to answer.
    static constexpr uint64_t wait_ms = 3000;

    // One channel per worker, served by the worker loop; empty: -c is not available.
    explicit conn_listing(std::vector<dp::conn_dump_channel*> channels)
        : m_channels(std::move(channels)) {}

    // `running` and `stats` must outlive the deferred reply (the manager's own members).
    handler_result start(const config::config& running, const traffic_stats& stats, uint64_t now);

private:
    json reply(const config::config& running, const traffic_stats& stats, bool truncated);

    std::vector<dp::conn_dump_channel*> m_channels;
    std::vector<std::vector<dp::conn_dump_entry>> m_bufs; // by worker
    bool m_busy = false;
};

} // namespace ulvs::mgmt
