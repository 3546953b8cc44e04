#include "ulvs/mgmt/stats.h"

namespace ulvs::mgmt {

dp::worker_counters sum_workers(std::span<const dp::worker_ctx* const> workers) {
    dp::worker_counters t;
    for (const dp::worker_ctx* w : workers) {
        const dp::worker_counters& c = w->ctr;
        t.rx_pkts += c.rx_pkts;
        t.rx_bytes += c.rx_bytes;
        t.tx_pkts += c.tx_pkts;
        t.tx_bytes += c.tx_bytes;
        t.forwarded += c.forwarded;
        t.to_control += c.to_control;
        t.conns_created += c.conns_created;
        t.conns_expired += c.conns_expired;
        t.conns_reclaimed += c.conns_reclaimed;
        t.conns_expired_nodest += c.conns_expired_nodest;
        t.conns_sloppy += c.conns_sloppy;
        t.redirected += c.redirected;
        t.fragments += c.fragments;
        t.frags_in += c.frags_in;
        t.reassembled += c.reassembled;
        t.frags_merged += c.frags_merged;
        t.icmp_sent += c.icmp_sent;
        t.csum_completed += c.csum_completed;
        t.locality_evicted += c.locality_evicted;
        t.routed += c.routed;
        t.snat_created += c.snat_created;
        t.snat_expired += c.snat_expired;
        for (size_t i = 0; i < t.drops.size(); ++i)
            t.drops[i] += c.drops[i];
    }
    return t;
}

std::string format_counters(const dp::worker_counters& c) {
    std::string s =
        "rx_pkts=" + std::to_string(c.rx_pkts) + " rx_bytes=" + std::to_string(c.rx_bytes) +
        " tx_pkts=" + std::to_string(c.tx_pkts) + " tx_bytes=" + std::to_string(c.tx_bytes) +
        " forwarded=" + std::to_string(c.forwarded) +
        " to_control=" + std::to_string(c.to_control) +
        " conns_created=" + std::to_string(c.conns_created) +
        " conns_expired=" + std::to_string(c.conns_expired) +
        " conns_reclaimed=" + std::to_string(c.conns_reclaimed) +
        " redirected=" + std::to_string(c.redirected) +
        " fragments=" + std::to_string(c.fragments) + " icmp_sent=" + std::to_string(c.icmp_sent) +
        " frags_in=" + std::to_string(c.frags_in) +
        " reassembled=" + std::to_string(c.reassembled) +
        " frags_merged=" + std::to_string(c.frags_merged) +
        " csum_completed=" + std::to_string(c.csum_completed) +
        " locality_evicted=" + std::to_string(c.locality_evicted);
    if (c.routed + c.snat_created != 0) // forwarding_rules and snat (issue 19)
        s += " routed=" + std::to_string(c.routed) +
             " snat_created=" + std::to_string(c.snat_created) +
             " snat_expired=" + std::to_string(c.snat_expired);
    if (c.conns_expired_nodest != 0) // connections.expire_nodest_conn
        s += " conns_expired_nodest=" + std::to_string(c.conns_expired_nodest);
    if (c.conns_sloppy != 0) // sloppy services
        s += " conns_sloppy=" + std::to_string(c.conns_sloppy);
    for (size_t i = 0; i < c.drops.size(); ++i)
        if (c.drops[i] != 0)
            s += " drop." + std::string(dp::drop_name(static_cast<dp::drop>(i))) + "=" +
                 std::to_string(c.drops[i]);
    return s;
}

} // namespace ulvs::mgmt
