// Internal to lib/dataplane/fwd: when a connection or template is sent to the sync peer, and the
// record it becomes (docs/architecture.md "Connection sync"). Runs only when the worker has a
// sending role (sync_params::send): the burst path's one branch per packet otherwise.
//
// When (IPVS' sync_threshold/sync_period spirit, decided here):
// - a connection is sent when it is created, at every change of its TCP state (a new MASTER must
//   know ESTABLISHED from SYN_RECV and FIN_WAIT from ESTABLISHED), and when its n-th request
//   packet (client to server, counted from the first) gives n % period == threshold (period 0:
//   n == threshold only), so a busy connection is refreshed every `period` packets, not every
//   packet; replies are not counted (IPVS counts in_pkts);
// - a persistence template is sent when it is created, refreshed by a new connection of its
//   client or pointed to another real server; a match service's templates are not sent (their
//   key names the service by a local id the peer does not share).
// The count lives in conn::sync_pkts modulo period (no division on the packet path).
#pragma once

#include "burst.h"
#include "ulvs/dataplane/fwd/worker.h"

namespace ulvs::dp::detail {

// Stage connection or template `c`'s record; a full stage loses it (counted as sync_dropped).
inline void sync_emit(worker_ctx& w, const conn& c, uint64_t now_ms) noexcept {
    if (w.sync_out.n == sync_stage_size) {
        ++w.ctr.sync_dropped;
        return;
    }
    sync_msg& m = w.sync_out.recs[w.sync_out.n++];
    m.caddr = c.key.src_ip;
    m.vaddr = c.key.dst_ip;
    m.daddr = c.dest_ip;
    m.cport = c.key.src_port;
    m.vport = c.key.dst_port;
    m.dport = c.dest_port;
    m.proto = c.key.proto;
    m.kind = c.key.kind;
    m.mode = c.mode;
    m.state = c.state;
    m.pad[0] = m.pad[1] = 0;
    m.timeout_ms = c.expire_ms > now_ms ? static_cast<uint32_t>(c.expire_ms - now_ms) : 0;
    m.reserved = 0;
}

// After a packet of connection `idx` (refresh done): `force` when it was just created or its
// state changed, `counted` for a request packet.
inline void sync_after_packet(worker_ctx& w, uint32_t idx, bool force, bool counted,
                              uint64_t now_ms) noexcept {
    conn& c = w.conns.at(idx);
    bool due = force;
    if (counted) {
        const uint16_t period = w.sync.period;
        uint16_t n = static_cast<uint16_t>(c.sync_pkts + 1);
        if (period == 0) {
            if (c.sync_pkts > w.sync.threshold)
                n = c.sync_pkts; // past the threshold: stays there, never sent again by count
        } else if (n == period) {
            n = 0;
        }
        c.sync_pkts = n;
        due |= n == w.sync.threshold;
    }
    if (due)
        sync_emit(w, c, now_ms);
}

// A template created or refreshed (conn_life.cc persist_template).
inline void sync_template(worker_ctx& w, uint32_t idx, uint64_t now_ms) noexcept {
    const conn& t = w.conns.at(idx);
    if (t.key.kind == key_kind::addr_template)
        sync_emit(w, t, now_ms);
}

} // namespace ulvs::dp::detail
