// The daemon side of the management plane: the running configuration and every command of the
// socket protocol (protocol.h), reload, counters, rates and metrics.
//
// Model: the control lcore owns one config::config, the configuration in force. A change (CLI op
// or reload) is made on a copy, validated as a file would be (config_edit.h revalidate), turned
// into a snapshot with the same neighbour manager and stats ids (so unchanged virtual and real
// servers keep their counters) and only then committed; a refused change leaves everything as it
// was. Connections keep a copy of their real server, so removed servers' connections go on
// (IPVS expire_nodest_conn=0); the removed server's stats id and neighbour slot are recycled only
// once no connection names them (stats_ids.h), which poll() finds out from the workers.
//
// Publication waits for neighbours: a snapshot that sends new connections to a real server whose
// MAC is not resolved yet would drop their first packets (neigh_unresolved). So a committed change
// is published once every next hop it uses is resolved, or after publish_wait_ms at the latest;
// until then the workers keep the previous snapshot and the reply has already said "ok".
//
// Counters are read from the workers' plain per-core counters (a value may be one update stale);
// -Z is a baseline subtracted when read, so workers never see a write from this core.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/dataplane/fwd/conn_dump.h"
#include "ulvs/dataplane/fwd/id_check.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/mgmt/estimator.h"
#include "ulvs/mgmt/protocol.h"
#include "ulvs/mgmt/server.h"

#include <array>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ulvs::mgmt {

struct manager_deps {
    ctl::neigh_manager* neigh = nullptr;
    const dp::neigh_table* neigh_table = nullptr;
    ctl::stats_ids* ids = nullptr;
    ctl::snapshot_inputs* inputs = nullptr; // what snapshots are built from (build_snapshot.h)
    dp::publisher* pub = nullptr;
    std::vector<const dp::worker_ctx*> workers;
    // One per worker, served by the worker loop (conn_dump.h); empty: -c is not available.
    std::vector<dp::conn_dump_channel*> conn_dumps;
    // `ulvsadm vrrp`: the reply's fields (text, instances); null: no VRRP in this daemon.
    std::function<json()> vrrp_status;
    // Health checks (control/health/checker.h): synced with every committed config, overlaid on
    // it for snapshots and listings; null: every real server counts as up.
    ctl::health::checker* health = nullptr;
    // One per worker, served by the worker loop (dataplane/fwd/id_check.h): may a retired real
    // server's stats id be reused? Empty: no worker runs concurrently with this manager (tests),
    // the workers' counts are read directly.
    std::vector<dp::id_check_channel*> id_checks;
    // The packet buffer pool's {in use, size} (in use includes the lcores' caches); null: not
    // reported. For the metrics, and so scripts/soak can see a leak.
    std::function<std::array<uint64_t, 2>()> mbufs;
};

class manager {
public:
    static constexpr uint64_t publish_wait_ms = 2000;
    // Retired real servers' stats ids are checked for reuse this often, at most this many a time.
    static constexpr uint64_t id_check_period_ms = 100;
    static constexpr size_t id_check_max = 4096;

    manager(config::config running, manager_deps deps, uint64_t now_ms);

    // At most this many connections in one -c listing (all workers together).
    static constexpr uint32_t max_listed_conns = 100000;
    // How long the workers get to answer a -c listing.
    static constexpr uint64_t conn_dump_wait_ms = 3000;

    // One request (already checked by parse_request) -> its reply (deferred for -c).
    handler_result handle(const json& request, uint64_t now_ms);
    // Reload the file the running config came from (SIGHUP and `ulvsadm reload`).
    json reload(uint64_t now_ms);
    // Timers: rate estimation every 2 s, pending publication. Returns work done.
    unsigned poll(uint64_t now_ms);
    // Rebuild and publish the running config's snapshot (VRRP ownership changed: the overlay of
    // build_snapshot.h differs). Same path and neighbour wait as a committed change.
    void republish(uint64_t now_ms);
    // Prometheus text exposition for /metrics.
    std::string metrics(uint64_t now_ms);

    const config::config& running() const { return m_cfg; }

private:
    json change(const json& op, uint64_t now);
    json commit(config::config next, uint64_t now);
    void try_publish(uint64_t now);
    json list(const json& request);
    json zero(const json& request);
    json status(uint64_t now);
    json health();
    // The running config as the workers see it: with the health overlay (checker.h).
    config::config effective() const;
    handler_result connections(uint64_t now);
    json conns_reply(bool truncated);

    uint32_t service_id(const config::virtual_server_cfg& vs);
    uint32_t dest_id(uint32_t svc_id, const config::real_server_cfg& rs);
    dp::traffic_counters traffic(bool service, uint32_t id) const; // minus the -Z baseline
    dp::dest_conn_counts conns(uint32_t dest_id) const;
    est_totals totals(bool service, uint32_t id) const; // raw, for the estimator
    void zero_one(bool service, uint32_t id);
    // A virtual or real server that (re)appears starts from zero counters, as in IPVS, even though
    // its stable stats id (and so the workers' counter slot) is the one it had before.
    void track_new_servers();
    // Stats id recycling (control/service/stats_ids.h): ask the workers about retired ids.
    unsigned recycle_ids(uint64_t now);

    config::config m_cfg;
    manager_deps m_deps;
    uint64_t m_started_ms;
    bool m_dirty = false; // committed but not published yet
    uint64_t m_dirty_since = 0;
    uint64_t m_next_try = 0;
    uint64_t m_next_est = 0;
    uint64_t m_reloads = 0;
    uint64_t m_changes = 0;
    std::map<uint32_t, dp::traffic_counters> m_svc_base, m_dest_base; // -Z baselines
    std::map<uint32_t, estimator> m_svc_est, m_dest_est;              // by stats id
    std::vector<std::vector<dp::conn_dump_entry>> m_dump_bufs;        // by worker
    bool m_dump_busy = false;
    std::set<uint32_t> m_live_svc, m_live_dest; // stats ids in the running config
    struct id_question {
        bool asking = false;
        uint64_t next_ms = 0;
        std::vector<uint32_t> ids;
        std::vector<std::vector<uint8_t>> busy; // by worker
    } m_idq;
};

} // namespace ulvs::mgmt
