#include "ulvs/mgmt/traffic_stats.h"

#include <arpa/inet.h>

#include <algorithm>

namespace ulvs::mgmt {

namespace {

void add(dp::traffic_counters& t, const dp::traffic_counters& c) {
    t.conns += c.conns;
    t.in_pkts += c.in_pkts;
    t.in_bytes += c.in_bytes;
    t.out_pkts += c.out_pkts;
    t.out_bytes += c.out_bytes;
}

// A counter minus its baseline; a baseline newer than a (one update stale) read gives 0.
uint64_t minus(uint64_t v, uint64_t base) {
    return v > base ? v - base : 0;
}

} // namespace

traffic_stats::traffic_stats(ctl::stats_ids* ids, std::vector<const dp::worker_ctx*> workers,
                             uint64_t now)
    : m_ids(ids), m_workers(std::move(workers)), m_next_est(now + estimator::interval_ms) {}

uint32_t traffic_stats::service_id(const config::virtual_server_cfg& vs) const {
    return m_ids->find_service(vs).value_or(0);
}

uint32_t traffic_stats::dest_id(uint32_t svc_id, const config::real_server_cfg& rs) const {
    return m_ids->find_dest({svc_id, htonl(rs.address.v4), htons(rs.port)}).value_or(0);
}

dp::traffic_counters traffic_stats::traffic(bool service, uint32_t id) const {
    dp::traffic_counters t;
    for (const dp::worker_ctx* w : m_workers)
        add(t, service ? w->svc_ctr[id] : w->dest_ctr[id]);
    const auto& bases = service ? m_svc_base : m_dest_base;
    if (auto b = bases.find(id); b != bases.end()) {
        t.conns = minus(t.conns, b->second.conns);
        t.in_pkts = minus(t.in_pkts, b->second.in_pkts);
        t.in_bytes = minus(t.in_bytes, b->second.in_bytes);
        t.out_pkts = minus(t.out_pkts, b->second.out_pkts);
        t.out_bytes = minus(t.out_bytes, b->second.out_bytes);
    }
    return t;
}

dp::dest_conn_counts traffic_stats::conns(uint32_t id) const {
    dp::dest_conn_counts c;
    for (const dp::worker_ctx* w : m_workers) {
        c.active += w->dest_conns[id].active;
        c.inactive += w->dest_conns[id].inactive;
        c.persistent += w->dest_conns[id].persistent;
    }
    // Per-worker parts may be momentarily negative (dest_conn_counts); the sum is not, once read
    // consistently: clamp what a torn-in-time read shows.
    c.active = std::max<int64_t>(c.active, 0);
    c.inactive = std::max<int64_t>(c.inactive, 0);
    c.persistent = std::max<int64_t>(c.persistent, 0);
    return c;
}

est_rates traffic_stats::rates(bool service, uint32_t id) {
    return (service ? m_svc_est : m_dest_est)[id].rates();
}

est_totals traffic_stats::totals(bool service, uint32_t id) const {
    dp::traffic_counters t;
    for (const dp::worker_ctx* w : m_workers)
        add(t, service ? w->svc_ctr[id] : w->dest_ctr[id]);
    return {t.conns, t.in_pkts, t.out_pkts, t.in_bytes, t.out_bytes};
}

void traffic_stats::zero(bool service, uint32_t id) {
    dp::traffic_counters raw;
    for (const dp::worker_ctx* w : m_workers)
        add(raw, service ? w->svc_ctr[id] : w->dest_ctr[id]);
    (service ? m_svc_base : m_dest_base)[id] = raw;
    (service ? m_svc_est : m_dest_est)[id].reset(totals(service, id));
}

void traffic_stats::track(const config::config& running) {
    std::set<uint32_t> svcs, dests;
    for (const auto& vs : running.virtual_servers) {
        const uint32_t sid = service_id(vs);
        svcs.insert(sid);
        if (!m_live_svc.contains(sid))
            zero(true, sid);
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = dest_id(sid, rs);
            dests.insert(did);
            if (!m_live_dest.contains(did))
                zero(false, did);
        }
    }
    m_live_svc = std::move(svcs);
    m_live_dest = std::move(dests);
}

unsigned traffic_stats::poll(const config::config& running, uint64_t now) {
    if (now < m_next_est)
        return 0;
    // As the kernel's timer: one sample per tick, a late tick is still one interval.
    m_next_est = std::max(m_next_est + estimator::interval_ms, now);
    for (const auto& vs : running.virtual_servers) {
        const uint32_t sid = service_id(vs);
        m_svc_est[sid].sample(totals(true, sid));
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = dest_id(sid, rs);
            m_dest_est[did].sample(totals(false, did));
        }
    }
    return 1;
}

} // namespace ulvs::mgmt
