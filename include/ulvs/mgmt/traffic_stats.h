// Traffic and connection counts of virtual and real servers, as the management plane shows them:
// `ulvsadm -L --stats/--rate`, -Z, metrics.
//
// Counters are read from the workers' plain per-core counters by stats id (a value may be one
// update stale); -Z is a baseline subtracted when read, so workers never see a write from this
// core. A virtual or real server that (re)appears starts from zero, as in IPVS, even though its
// stable stats id (and so the workers' counter slot) is the one it had before. Rates are IPVS'
// 2-second estimators (estimator.h), sampled from poll().
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/service/stats_ids.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/mgmt/estimator.h"

#include <map>
#include <set>
#include <vector>

namespace ulvs::mgmt {

class traffic_stats {
public:
    traffic_stats(ctl::stats_ids* ids, std::vector<const dp::worker_ctx*> workers, uint64_t now);

    // Committed services were built, so their ids exist: these are lookups.
    uint32_t service_id(const config::virtual_server_cfg& vs) const;
    uint32_t dest_id(uint32_t svc_id, const config::real_server_cfg& rs) const;

    dp::traffic_counters traffic(bool service, uint32_t id) const; // minus the -Z baseline
    dp::dest_conn_counts conns(uint32_t dest_id) const;
    est_rates rates(bool service, uint32_t id);
    // -Z of one virtual or real server.
    void zero(bool service, uint32_t id);
    // After every commit: servers new to `running` start from zero.
    void track(const config::config& running);
    // The 2-second rate sample when due. Returns work done.
    unsigned poll(const config::config& running, uint64_t now);

private:
    est_totals totals(bool service, uint32_t id) const; // raw, for the estimator

    ctl::stats_ids* m_ids;
    std::vector<const dp::worker_ctx*> m_workers;
    uint64_t m_next_est;
    std::map<uint32_t, dp::traffic_counters> m_svc_base, m_dest_base; // -Z baselines
    std::map<uint32_t, estimator> m_svc_est, m_dest_est;              // by stats id
    std::set<uint32_t> m_live_svc, m_live_dest; // stats ids in the running config
};

} // namespace ulvs::mgmt
