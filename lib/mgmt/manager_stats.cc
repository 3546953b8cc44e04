// manager: counters, -L listings, -Z, Prometheus metrics.
#include "ulvs/mgmt/manager.h"

#include "ulvs/config/emit.h"

#include <arpa/inet.h>

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

json stats_json(const dp::traffic_counters& t) {
    return {{"conns", t.conns},
            {"inpkts", t.in_pkts},
            {"outpkts", t.out_pkts},
            {"inbytes", t.in_bytes},
            {"outbytes", t.out_bytes}};
}

json rate_json(const est_rates& r) {
    return {{"cps", r.cps},
            {"inpps", r.inpps},
            {"outpps", r.outpps},
            {"inbps", r.inbps},
            {"outbps", r.outbps}};
}

bool matches(const json& key, const config::virtual_server_cfg& vs) {
    return key.is_object() && !vs.match && key.value("proto", "") == to_string(vs.protocol) &&
           key.value("vip", "") == vs.address.to_string() &&
           key.value("port", -1) == static_cast<int>(vs.port);
}

uint64_t seconds(config::duration d) {
    return static_cast<uint64_t>(d.count() / 1000);
}

} // namespace

uint32_t manager::service_id(const config::virtual_server_cfg& vs) {
    // Committed services were built, so their ids exist; this is a lookup.
    return m_deps.ids->find_service(vs).value_or(0);
}

uint32_t manager::dest_id(uint32_t svc_id, const config::real_server_cfg& rs) {
    return m_deps.ids->find_dest({svc_id, htonl(rs.address.v4), htons(rs.port)}).value_or(0);
}

dp::traffic_counters manager::traffic(bool service, uint32_t id) const {
    dp::traffic_counters t;
    for (const dp::worker_ctx* w : m_deps.workers)
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

dp::dest_conn_counts manager::conns(uint32_t id) const {
    dp::dest_conn_counts c;
    for (const dp::worker_ctx* w : m_deps.workers) {
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

est_totals manager::totals(bool service, uint32_t id) const {
    dp::traffic_counters t;
    for (const dp::worker_ctx* w : m_deps.workers)
        add(t, service ? w->svc_ctr[id] : w->dest_ctr[id]);
    return {t.conns, t.in_pkts, t.out_pkts, t.in_bytes, t.out_bytes};
}

void manager::zero_one(bool service, uint32_t id) {
    dp::traffic_counters raw;
    for (const dp::worker_ctx* w : m_deps.workers)
        add(raw, service ? w->svc_ctr[id] : w->dest_ctr[id]);
    (service ? m_svc_base : m_dest_base)[id] = raw;
    (service ? m_svc_est : m_dest_est)[id].reset(totals(service, id));
}

void manager::track_new_servers() {
    std::set<uint32_t> svcs, dests;
    for (const auto& vs : m_cfg.virtual_servers) {
        const uint32_t sid = service_id(vs);
        svcs.insert(sid);
        if (!m_live_svc.contains(sid))
            zero_one(true, sid);
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = dest_id(sid, rs);
            dests.insert(did);
            if (!m_live_dest.contains(did))
                zero_one(false, did);
        }
    }
    m_live_svc = std::move(svcs);
    m_live_dest = std::move(dests);
}

json manager::zero(const json& req) {
    const json key = req.value("service", json());
    bool found = key.is_null();
    for (const auto& vs : m_cfg.virtual_servers) {
        if (!key.is_null() && !matches(key, vs))
            continue;
        found = true;
        const uint32_t sid = service_id(vs);
        zero_one(true, sid);
        for (const auto& rs : vs.real_servers)
            zero_one(false, dest_id(sid, rs));
    }
    if (!found)
        return make_error({errc::not_found, "No such service", {}});
    return make_ok();
}

json manager::list(const json& req) {
    const json key = req.value("service", json());
    json services = json::array();
    // As the workers see it: down servers removed or at weight 0, the sorry server (checker.h).
    const config::config eff = effective();
    for (const auto& vs : eff.virtual_servers) {
        if (!key.is_null() && !matches(key, vs))
            continue;
        const uint32_t sid = service_id(vs);
        json dests = json::array();
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = dest_id(sid, rs);
            const auto c = conns(did);
            dests.push_back({{"addr", rs.address.to_string()},
                             {"port", rs.port},
                             {"fwd", to_string(vs.mode_of(rs))},
                             {"weight", rs.weight},
                             {"upper", rs.thresholds.upper},
                             {"lower", rs.thresholds.lower},
                             {"active", c.active},
                             {"inactive", c.inactive},
                             {"persist", c.persistent},
                             {"stats", stats_json(traffic(false, did))},
                             {"rate", rate_json(m_dest_est[did].rates())}});
        }
        json persistent = nullptr; // ipvsadm: seconds when persistent
        std::string netmask = "255.255.255.255";
        if (vs.persistence) {
            persistent = seconds(vs.persistence->timeout);
            netmask = vs.persistence->granularity.to_string();
        }
        services.push_back({{"name", vs.name},
                            {"proto", to_string(vs.protocol)},
                            {"vip", vs.address.to_string()},
                            {"port", vs.port},
                            {"match", vs.match.has_value()},
                            {"scheduler", vs.scheduler},
                            {"flags", vs.scheduler_flags},
                            {"persistent", persistent},
                            {"netmask", netmask},
                            {"forwarding", to_string(vs.forwarding)},
                            {"stats", stats_json(traffic(true, sid))},
                            {"rate", rate_json(m_svc_est[sid].rates())},
                            {"dests", dests}});
    }
    if (!key.is_null() && services.empty())
        return make_error({errc::not_found, "No such service", {}});
    return make_ok({{"size", 4096},
                    {"services", services},
                    {"timeouts",
                     {{"tcp", seconds(m_cfg.timeouts.tcp)},
                      {"tcpfin", seconds(m_cfg.timeouts.tcp_fin)},
                      {"udp", seconds(m_cfg.timeouts.udp)}}}});
}

} // namespace ulvs::mgmt
