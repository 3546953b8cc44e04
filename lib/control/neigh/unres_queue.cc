#include "ulvs/control/neigh/unres_queue.h"

#include "ulvs/dataplane/fwd/worker.h"

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <arpa/inet.h>

#include <cstring>

namespace ulvs::ctl {

void unres_queue::take(rte_mbuf* m, uint64_t now_ms) {
    if (!(m->port & dp::mbuf_port_hold)) { // a request only: the worker counted the drop
        rte_pktmbuf_free(m);
        return;
    }
    const uint32_t ip = ntohl(m->hash.usr);
    uint32_t same = 0;
    for (uint32_t i = 0; i < m_n; ++i)
        same += m_items[i].ip == ip ? 1 : 0;
    if (m_n == total || same >= per_host) {
        ++m_ctr.dropped_full;
        rte_pktmbuf_free(m);
        return;
    }
    m_items[m_n++] = {m, ip, static_cast<uint8_t>(m->port & 0xff), now_ms};
    ++m_ctr.queued;
    // The host may have resolved between the worker's look and now (its carrier was still in
    // the ring): the next service looks it up rather than wait for another change.
    m_recheck = true;
}

void unres_queue::service(const neigh_manager& neigh, std::span<const port_addrs> ports,
                          uint64_t now_ms, const sender& send) {
    if (m_n == 0) {
        m_seen_changes = neigh.changes();
        return;
    }
    const bool changed = m_recheck || neigh.changes() != m_seen_changes;
    // The oldest is first: nothing to expire before it is due.
    if (!changed && now_ms < m_items[0].since_ms + timeout_ms)
        return;
    m_seen_changes = neigh.changes();
    m_recheck = false;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m_n; ++i) {
        item it = m_items[i];
        const auto mac = changed ? neigh.mac_of(ip_addr::from_v4(it.ip)) : std::nullopt;
        if (mac && it.port < ports.size()) {
            auto* eth = rte_pktmbuf_mtod(it.m, rte_ether_hdr*);
            std::memcpy(eth->dst_addr.addr_bytes, mac->b.data(), 6);
            std::memcpy(eth->src_addr.addr_bytes, ports[it.port].mac.data(), 6);
            it.m->port = it.port;
            ++m_ctr.sent;
            send(it.port, it.m);
        } else if (now_ms >= it.since_ms + timeout_ms) {
            ++m_ctr.dropped_failed;
            rte_pktmbuf_free(it.m);
        } else {
            m_items[kept++] = it;
        }
    }
    m_n = kept;
}

void unres_queue::clear() {
    for (uint32_t i = 0; i < m_n; ++i)
        rte_pktmbuf_free(m_items[i].m);
    m_n = 0;
}

} // namespace ulvs::ctl
