#include "ulvs/mgmt/metrics.h"

#include <arpa/inet.h>

#include <cstdio>

namespace ulvs::mgmt {

namespace {

struct writer {
    std::string out;

    void help(const char* name, const char* type, const char* text) {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += text;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    }
    void sample(const char* name, const std::string& labels, int64_t v) {
        out += name;
        if (!labels.empty())
            out += "{" + labels + "}";
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    }
};

// Label values are quoted; names here are validated config names, but escape anyway.
std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\' || c == '"')
            o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o;
}

// Packets and bytes by direction, for virtual and real servers alike: rows with `labels` and
// traffic counters `t`.
template <class Rows>
void traffic_by_direction(writer& w, const std::string& prefix, const Rows& rows) {
    for (const bool bytes : {false, true}) {
        const std::string name = prefix + (bytes ? "_bytes_total" : "_packets_total");
        w.help(name.c_str(), "counter", bytes ? "Bytes, by direction." : "Packets, by direction.");
        for (const auto& r : rows) {
            w.sample(name.c_str(), r.labels + ",direction=\"in\"",
                     static_cast<int64_t>(bytes ? r.t.in_bytes : r.t.in_pkts));
            w.sample(name.c_str(), r.labels + ",direction=\"out\"",
                     static_cast<int64_t>(bytes ? r.t.out_bytes : r.t.out_pkts));
        }
    }
}

} // namespace

std::string metrics_page(const metrics_sources& s) {
    writer w;
    struct vs_row {
        std::string labels;
        dp::traffic_counters t;
        int64_t active = 0, inactive = 0;
    };
    struct rs_row {
        std::string labels;
        dp::traffic_counters t;
        dp::dest_conn_counts c;
        uint32_t weight;
        bool up = true;
        std::vector<ctl::health::check_report> checks{};
    };
    std::vector<vs_row> vss;
    std::vector<rs_row> rss;
    for (const auto& vs : s.running.virtual_servers) {
        const uint32_t sid = s.stats.service_id(vs);
        vs_row v;
        v.labels = "virtual_server=\"" + esc(vs.name) + "\",vip=\"" + vs.address.to_string() +
                   "\",port=\"" + std::to_string(vs.port) + "\",proto=\"" +
                   std::string(to_string(vs.protocol)) + "\"";
        v.t = s.stats.traffic(true, sid);
        for (const auto& rs : vs.real_servers) {
            const uint32_t did = s.stats.dest_id(sid, rs);
            rs_row r{v.labels + ",address=\"" + rs.address.to_string() + "\",rport=\"" +
                         std::to_string(rs.port) + "\"",
                     s.stats.traffic(false, did), s.stats.conns(did), rs.weight};
            if (s.health) {
                r.up = s.health->server_up(vs.name, rs.address, rs.port);
                r.checks = s.health->server_checks(vs.name, rs.address, rs.port);
            }
            v.active += r.c.active;
            v.inactive += r.c.inactive;
            rss.push_back(std::move(r));
        }
        vss.push_back(std::move(v));
    }
    auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };

    w.help("ulvs_virtual_server_connections_total", "counter",
           "Connections scheduled by the virtual server (ipvsadm Conns).");
    for (const auto& v : vss)
        w.sample("ulvs_virtual_server_connections_total", v.labels, i64(v.t.conns));
    w.help("ulvs_virtual_server_active_connections", "gauge",
           "Established connections of the virtual server's real servers.");
    for (const auto& v : vss)
        w.sample("ulvs_virtual_server_active_connections", v.labels, v.active);
    w.help("ulvs_virtual_server_inactive_connections", "gauge",
           "Other (non-established) connections of the virtual server's real servers.");
    for (const auto& v : vss)
        w.sample("ulvs_virtual_server_inactive_connections", v.labels, v.inactive);
    traffic_by_direction(w, "ulvs_virtual_server", vss);

    w.help("ulvs_real_server_connections_total", "counter",
           "Connections scheduled to the real server.");
    for (const auto& r : rss)
        w.sample("ulvs_real_server_connections_total", r.labels, i64(r.t.conns));
    w.help("ulvs_real_server_active_connections", "gauge", "ipvsadm ActiveConn.");
    for (const auto& r : rss)
        w.sample("ulvs_real_server_active_connections", r.labels, r.c.active);
    w.help("ulvs_real_server_inactive_connections", "gauge", "ipvsadm InActConn.");
    for (const auto& r : rss)
        w.sample("ulvs_real_server_inactive_connections", r.labels, r.c.inactive);
    traffic_by_direction(w, "ulvs_real_server", rss);
    w.help("ulvs_real_server_weight", "gauge", "Configured weight (0 = quiesced).");
    for (const auto& r : rss)
        w.sample("ulvs_real_server_weight", r.labels, r.weight);
    w.help("ulvs_real_server_up", "gauge",
           "Health state: 1 up, 0 down (servers without a health check are up).");
    for (const auto& r : rss)
        w.sample("ulvs_real_server_up", r.labels, r.up ? 1 : 0);
    w.help("ulvs_real_server_check_up", "gauge",
           "Each health checker of a real server: 1 up, 0 down (the server is up while all are).");
    for (const auto& r : rss)
        for (const auto& c : r.checks)
            w.sample("ulvs_real_server_check_up", r.labels + ",check=\"" + esc(c.check) + "\"",
                     c.up ? 1 : 0);

    struct per_worker {
        const char* name;
        const char* help;
        uint64_t dp::worker_counters::*field;
    };
    static constexpr per_worker fields[] = {
        {"ulvs_worker_rx_packets_total", "Packets received.", &dp::worker_counters::rx_pkts},
        {"ulvs_worker_rx_bytes_total", "Bytes received.", &dp::worker_counters::rx_bytes},
        {"ulvs_worker_tx_packets_total", "Packets transmitted.", &dp::worker_counters::tx_pkts},
        {"ulvs_worker_tx_bytes_total", "Bytes transmitted.", &dp::worker_counters::tx_bytes},
        {"ulvs_worker_forwarded_packets_total", "Packets sent on along their connection.",
         &dp::worker_counters::forwarded},
        {"ulvs_worker_to_control_packets_total", "Packets handed to the control lcore.",
         &dp::worker_counters::to_control},
        {"ulvs_worker_redirected_packets_total", "Packets handed to their owner worker.",
         &dp::worker_counters::redirected},
        {"ulvs_worker_fragments_received_total", "IPv4 fragments received for reassembly.",
         &dp::worker_counters::frags_in},
        {"ulvs_worker_datagrams_reassembled_total", "Datagrams reassembled from fragments.",
         &dp::worker_counters::reassembled},
        {"ulvs_worker_fragments_merged_total",
         "Fragments ended inside a reassembled datagram (k - 1 of a datagram's k).",
         &dp::worker_counters::frags_merged},
        {"ulvs_worker_checksums_completed_total",
         "Partial TCP/UDP checksums (a sender's checksum offload) completed before forwarding.",
         &dp::worker_counters::csum_completed},
        {"ulvs_worker_fragments_sent_total", "Fragments sent (packets over the egress MTU).",
         &dp::worker_counters::fragments},
        {"ulvs_worker_connections_created_total", "Connections created.",
         &dp::worker_counters::conns_created},
        {"ulvs_worker_connections_expired_total", "Connections expired.",
         &dp::worker_counters::conns_expired},
        {"ulvs_worker_connections_reclaimed_total",
         "Half-open or closed connections ended to admit a new one into a full table.",
         &dp::worker_counters::conns_reclaimed},
        {"ulvs_worker_connections_expired_nodest_total",
         "Connections ended at a packet because their real server left its service "
         "(connections.expire_nodest_conn).",
         &dp::worker_counters::conns_expired_nodest},
        {"ulvs_worker_locality_evictions_total",
         "lblc/lblcr destinations forgotten before their expiration for lack of room, and lblcr "
         "set members dropped from a full set.",
         &dp::worker_counters::locality_evicted},
        {"ulvs_worker_sync_records_queued_total",
         "Connection sync records put on the ring to the control lcore (sync: role master or "
         "both).",
         &dp::worker_counters::sync_queued},
        {"ulvs_worker_sync_records_dropped_total",
         "Connection sync records lost: the ring to the control lcore was full.",
         &dp::worker_counters::sync_dropped},
        {"ulvs_worker_sync_records_applied_total",
         "Received connection sync records installed or updated in the connection table.",
         &dp::worker_counters::sync_applied},
    };
    for (const per_worker& f : fields) {
        w.help(f.name, "counter", f.help);
        for (const dp::worker_ctx* wc : s.workers)
            w.sample(f.name, "worker=\"" + std::to_string(wc->id) + "\"", i64(wc->ctr.*f.field));
    }
    w.help("ulvs_worker_sync_records_refused_total", "counter",
           "Received connection sync records not applied, by reason.");
    for (const dp::worker_ctx* wc : s.workers)
        for (size_t i = 0; i < wc->ctr.sync_refused.size(); ++i)
            w.sample("ulvs_worker_sync_records_refused_total",
                     "worker=\"" + std::to_string(wc->id) + "\",reason=\"" +
                         dp::sync_refusal_name(static_cast<dp::sync_refusal>(i)) + "\"",
                     i64(wc->ctr.sync_refused[i]));
    w.help("ulvs_worker_drops_total", "counter", "Packets dropped, by reason.");
    for (const dp::worker_ctx* wc : s.workers)
        for (size_t i = 0; i < wc->ctr.drops.size(); ++i)
            w.sample("ulvs_worker_drops_total",
                     "worker=\"" + std::to_string(wc->id) + "\",reason=\"" +
                         std::string(dp::drop_name(static_cast<dp::drop>(i))) + "\"",
                     i64(wc->ctr.drops[i]));
    if (s.mbufs) {
        const auto [in_use, size] = s.mbufs();
        w.help("ulvs_mbufs_in_use", "gauge", "Packet buffers in use (lcore caches included).");
        w.sample("ulvs_mbufs_in_use", "", i64(in_use));
        w.help("ulvs_mbufs", "gauge", "Packet buffers in the pool (dpdk.mbufs).");
        w.sample("ulvs_mbufs", "", i64(size));
    }
    w.help("ulvs_worker_connection_table_entries", "gauge", "Connection table occupancy.");
    for (const dp::worker_ctx* wc : s.workers)
        w.sample("ulvs_worker_connection_table_entries",
                 "worker=\"" + std::to_string(wc->id) + "\"", wc->conns.size());
    w.help("ulvs_worker_connection_table_capacity", "gauge", "Connection table size.");
    for (const dp::worker_ctx* wc : s.workers)
        w.sample("ulvs_worker_connection_table_capacity",
                 "worker=\"" + std::to_string(wc->id) + "\"", wc->conns.capacity());
    // One family after the other: the text format wants each metric's samples together.
    const json& vrrp = s.vrrp_instances;
    auto label = [](const json& i) {
        return "instance=\"" + esc(i["name"].get<std::string>()) + "\"";
    };
    w.help("ulvs_vrrp_state", "gauge", "VRRP instance state (1 for the current state label).");
    for (const json& i : vrrp)
        for (const char* st : {"INIT", "BACKUP", "MASTER", "FAULT"})
            w.sample("ulvs_vrrp_state", label(i) + ",state=\"" + st + "\"",
                     i["state"].get<std::string>() == st ? 1 : 0);
    w.help("ulvs_vrrp_priority", "gauge", "VRRP instance effective priority.");
    for (const json& i : vrrp)
        w.sample("ulvs_vrrp_priority", label(i), i["priority"].get<int64_t>());
    // Absent from a status (a build without them): 0.
    auto count = [](const json& i, const char* k) { return i.value(k, int64_t{0}); };
    w.help("ulvs_vrrp_adverts_received_total", "counter", "VRRP advertisements accepted.");
    for (const json& i : vrrp)
        w.sample("ulvs_vrrp_adverts_received_total", label(i), count(i, "adverts_rx"));
    w.help("ulvs_vrrp_adverts_sent_total", "counter", "VRRP advertisements sent.");
    for (const json& i : vrrp)
        w.sample("ulvs_vrrp_adverts_sent_total", label(i), count(i, "adverts_tx"));
    w.help("ulvs_vrrp_transitions_total", "counter", "VRRP state changes since start.");
    for (const json& i : vrrp)
        w.sample("ulvs_vrrp_transitions_total", label(i), count(i, "transitions"));
    for (const control_counter& c : s.control) {
        const std::string name = "ulvs_" + c.name + "_total";
        w.help(name.c_str(), "counter", c.help.c_str());
        w.sample(name.c_str(), "", i64(c.value));
    }
    w.help("ulvs_config_changes_total", "counter", "Configuration changes applied.");
    w.sample("ulvs_config_changes_total", "", i64(s.changes));
    // Every outcome a reload can have is shown from the start, so a rate() over it works before
    // the first failure.
    w.help("ulvs_config_reloads_total", "counter",
           "Reloads (SIGHUP, ulvsadm reload) by outcome: ok, invalid (the file does not "
           "validate), needs_restart (it changes what only a restart applies).");
    std::map<std::string, uint64_t> outcomes = {{"ok", 0}, {"invalid", 0}, {"needs_restart", 0}};
    for (const auto& [o, n] : s.reload_outcomes)
        outcomes[o] = n;
    for (const auto& [o, n] : outcomes)
        w.sample("ulvs_config_reloads_total", "outcome=\"" + esc(o) + "\"", i64(n));
    w.help("ulvs_config_last_reload_success_timestamp_seconds", "gauge",
           "Unix time of the last successful reload (0: none since start).");
    w.sample("ulvs_config_last_reload_success_timestamp_seconds", "",
             s.last_reload_ok ? std::chrono::duration_cast<std::chrono::seconds>(
                                    s.last_reload_ok->time_since_epoch())
                                    .count()
                              : 0);
    w.help("ulvs_config_info", "gauge",
           "The configuration file in force: its path and the SHA-256 of its bytes at start or at "
           "the last successful reload (compare with `sha256sum FILE`).");
    w.sample("ulvs_config_info",
             "path=\"" + esc(s.config_path) + "\",sha256=\"" + esc(s.config_sha256) + "\"", 1);
    return std::move(w.out);
}

} // namespace ulvs::mgmt
