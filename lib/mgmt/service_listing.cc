// manager: `ulvsadm -L` (with --stats, --rate, --thresholds) and -Z.
#include "ulvs/mgmt/manager.h"

#include "ulvs/config/emit.h"

#include <arpa/inet.h>

#include <optional>

namespace ulvs::mgmt {

namespace {

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

json manager::zero(const json& req) {
    const json key = req.value("service", json());
    bool found = key.is_null();
    for (const auto& vs : m_cfg.virtual_servers) {
        if (!key.is_null() && !matches(key, vs))
            continue;
        found = true;
        const uint32_t sid = m_stats.service_id(vs);
        m_stats.zero(true, sid);
        for (const auto& rs : vs.real_servers)
            m_stats.zero(false, m_stats.dest_id(sid, rs));
    }
    if (!found)
        return make_error({errc::not_found, "No such service", {}});
    return make_ok();
}

json manager::list(const json& req) {
    const json key = req.value("service", json());
    json services = json::array();
    // -L: as the workers see it (down servers removed or at weight 0, the sorry server:
    // checker.h). -S asks for "configured": the configured servers and weights, which -R must
    // give back whatever health said at the time.
    const bool configured = req.value("configured", false);
    std::optional<config::config> eff;
    if (!configured)
        eff = m_pub.effective(m_cfg);
    for (const auto& vs : (configured ? m_cfg : *eff).virtual_servers) {
        if (!key.is_null() && !matches(key, vs))
            continue;
        const uint32_t sid = m_stats.service_id(vs);
        json dests = json::array();
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = m_stats.dest_id(sid, rs);
            const auto c = m_stats.conns(did);
            dests.push_back({{"addr", rs.address.to_string()},
                             {"port", rs.port},
                             {"fwd", to_string(vs.mode_of(rs))},
                             {"weight", rs.weight},
                             {"upper", rs.thresholds.upper},
                             {"lower", rs.thresholds.lower},
                             {"active", c.active},
                             {"inactive", c.inactive},
                             {"persist", c.persistent},
                             {"stats", stats_json(m_stats.traffic(false, did))},
                             {"rate", rate_json(m_stats.rates(false, did))}});
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
                            {"stats", stats_json(m_stats.traffic(true, sid))},
                            {"rate", rate_json(m_stats.rates(true, sid))},
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
