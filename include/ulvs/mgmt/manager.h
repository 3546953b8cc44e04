// The daemon side of the management plane: the running configuration and every command of the
// socket protocol (protocol.h). This class dispatches; the work lives in homes of its own:
// - publication.h: a committed config's way to the workers (snapshot, next-hop wait, publish);
// - id_recycling.h: retired stats ids back to the pool once no worker names them;
// - traffic_stats.h: counters, -Z baselines and rate estimators of virtual and real servers;
// - conn_listing.h: `-c`; health_report.h: `health`; metrics.h: /metrics.
//
// Model: the control lcore owns one config::config, the configuration in force. A change (CLI op
// or reload) is made on a copy, validated as a file would be (config_edit.h revalidate), checked
// to build into a snapshot with the same neighbour manager and stats ids (so unchanged virtual
// and real servers keep their counters) and only then committed; a refused change leaves
// everything as it was. Connections keep a copy of their real server, so removed servers'
// connections go on (IPVS expire_nodest_conn=0).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/announce/announcer.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/dataplane/fwd/conn_dump.h"
#include "ulvs/dataplane/fwd/id_check.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/config_jobs.h"
#include "ulvs/mgmt/conn_listing.h"
#include "ulvs/mgmt/id_recycling.h"
#include "ulvs/mgmt/metrics.h"
#include "ulvs/mgmt/protocol.h"
#include "ulvs/mgmt/publication.h"
#include "ulvs/mgmt/server.h"
#include "ulvs/mgmt/traffic_stats.h"

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
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
    // SHA-256 of the config file's bytes as loaded at start (metrics: ulvs_config_info).
    std::string config_sha256;
    // The control plane's own counters (app/ulvsd/health_runtime.h); null: none.
    std::function<std::vector<control_counter>()> control_counters;
    // Called with every committed config (CLI change or reload), before its publication: the
    // VRRP engine follows it (control/vrrp/engine.h update). Null: nothing to tell.
    std::function<void(const config::config& running, uint64_t now_ms)> committed;
    // VIP announcements (control/announce/announcer.h): `drain`/`undrain`, their lines in status
    // and /metrics. Null: the commands are refused.
    ctl::announcer* announce = nullptr;
};

class manager {
public:
    manager(config::config running, manager_deps deps, uint64_t now_ms);

    // One request (already checked by parse_request) -> its reply (deferred for changes, reload
    // and -c: they complete in later poll()s).
    handler_result handle(const json& request, uint64_t now_ms);
    // SIGHUP: reload the file the running config came from; the outcome is logged, and given to
    // `done` (if any) once the reload is committed or refused (ulvsd's READY=1, sd_notify.h).
    void request_reload(std::function<void(const json& reply)> done = {});
    // Timers: config work, rate estimation every 2 s, pending publication, id recycling. Returns
    // work done.
    unsigned poll(uint64_t now_ms);
    // Rebuild and publish the running config's snapshot (health or VRRP ownership changed: the
    // overlays of build_snapshot.h differ).
    void republish(uint64_t now_ms);
    // Prometheus text exposition for /metrics (metrics.h).
    std::string metrics(uint64_t now_ms);

    const config::config& running() const { return m_cfg; }

private:
    // Config changes and reloads, in arrival order, one at a time: the YAML work runs off the
    // control lcore (config_jobs.h), the commit on it.
    struct config_work {
        uint64_t id;
        json op; // a change (config_edit.h is_config_change), {"cmd": "reload"} or a
                 // save-yaml --write ({"cmd": "save_yaml", "write": true})
        bool reply_wanted;
        std::function<void(const json&)> done = {}; // with the reply, when finished
    };
    handler_result enqueue(json op, bool reply_wanted);
    unsigned advance_config_work(uint64_t now);
    // Starts the head's job; false when it was answered at once (a change that does not apply).
    bool start_work(const config_work& w);
    json finish_change(const json& op, config_jobs::outcome o, uint64_t now);
    json finish_reload(config_jobs::outcome o, uint64_t now);
    void start_write(); // save-yaml --write: the running config to its file (config_write.h)
    json finish_write(config_jobs::outcome o);
    json reload_outcome(config_jobs::outcome o, uint64_t now);
    json commit(config::config next, uint64_t now);
    json list(const json& request);
    json zero(const json& request);
    json status(uint64_t now);
    json drain(const json& request); // drain, undrain

    config::config m_cfg;
    manager_deps m_deps;
    uint64_t m_started_ms;
    uint64_t m_reloads = 0;                            // requested
    std::map<std::string, uint64_t> m_reload_outcomes; // by reply: ok, or the error's code
    std::optional<std::chrono::system_clock::time_point> m_last_reload_ok;
    std::string m_config_sha256;  // of the file at start or at the last successful reload
                                  // or save-yaml --write
    std::string m_writing_sha256; // of what the running save-yaml --write writes
    uint64_t m_changes = 0;
    traffic_stats m_stats;
    publication m_pub;
    id_recycler m_ids;
    conn_listing m_listing;
    config_jobs m_jobs;
    service_history m_history; // what -A/-a give back to a service defined before (config_edit.h)
    std::deque<config_work> m_work;
    std::map<uint64_t, json> m_replies; // finished work whose client has not collected it yet
    uint64_t m_next_work = 1;
};

} // namespace ulvs::mgmt
