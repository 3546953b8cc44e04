// Internal to lib/dataplane/fwd: a connection's life on the burst path. Creation (scheduling,
// persistence templates, room made under table pressure) and its end live in conn_life.cc; the
// per-packet state and timeout update is inline here, as the burst loop runs it for every packet.
#pragma once

#include "burst.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/parse.h" // tcp_flag

namespace ulvs::dp::detail {

// End connection or template `idx` (live): its real server's counts, its template's link, its
// entry. The caller has taken it out of the timer wheel or is the wheel's own visit.
void end_conn(worker_ctx& w, uint32_t idx) noexcept;

// A new connection for a request: schedule, insert, initialise. Returns the entry or none
// (the packet was dropped and counted).
uint32_t new_conn(worker_ctx& w, const snapshot& s, const candidate& c, const conn_key& key,
                  uint64_t now_ms) noexcept;

// SYN_RECV's life while the table is under pressure (instead of IPVS' 60 s): long enough for a
// client's SYN retransmissions (1 s, 3 s) and its ACK, short enough to drain a flood's entries.
constexpr uint32_t handshake_pressure_ms = 10'000;

// Advance the IPVS state and idle timeout of connection `idx` for one packet. True when its TCP
// state changed (connection sync sends it then: sync_out.h).
inline bool refresh(worker_ctx& w, const snapshot& s, uint32_t idx, const candidate& c,
                    uint64_t now_ms) noexcept {
    conn& cn = w.conns.at(idx);
    uint64_t expire;
    bool changed = false;
    if (c.proto == proto_udp || c.way == path::icmp_in || c.way == path::icmp_reply) {
        // ICMP errors keep a connection alive but do not move its TCP state.
        expire = now_ms + (c.proto == proto_udp ? s.timeouts.udp_ms : s.timeouts.of(cn.state));
    } else {
        // NAT sees both directions (IPVS' input and output tables); DR and TUN only the client's.
        const tcp_dir dir = c.way == path::reply       ? tcp_dir::output
                            : cn.mode == fwd_mode::nat ? tcp_dir::input
                                                       : tcp_dir::input_only;
        const tcp_state next = tcp_next_state(cn.state, c.tcp_flags, dir);
        changed = next != cn.state;
        cn.state = next;
        // Which states count as ActiveConn is tcp_state_active (ESTABLISHED and the handshake).
        const bool active = tcp_state_active(cn.state);
        if (active != ((cn.flags & conn_flag::active) != 0)) {
            dest_conn_counts& dc = w.dest_conns[cn.dest_stats_id];
            dc.active += active ? 1 : -1;
            dc.inactive += active ? -1 : 1;
            cn.flags ^= conn_flag::active;
        }
        uint32_t timeout = s.timeouts.of(cn.state);
        // Under table pressure a handshake lives at most handshake_pressure_ms (IPVS'
        // secure_tcp spirit): spoofed SYNs never complete, so they leave room sooner.
        if (cn.state == tcp_state::syn_recv && timeout > handshake_pressure_ms &&
            w.conns.under_pressure())
            timeout = handshake_pressure_ms;
        expire = now_ms + timeout;
    }
    // A shorter timeout than the one the wheel holds (e.g. FIN after ESTABLISHED) must not wait
    // for the old, later slot. Only state changes shorten it, so only they pay for the check.
    if (changed && expire < cn.expire_ms)
        w.wheel.advance_to(idx, expire);
    cn.expire_ms = expire;
    return changed;
}

// conn_reuse_mode=1: a fresh SYN for a connection that has ended is a new connection.
inline bool reuse_as_new(const conn& c, const candidate& cd) noexcept {
    constexpr uint8_t pure_syn_mask = tcp_flag::syn | tcp_flag::ack | tcp_flag::rst | tcp_flag::fin;
    return cd.way == path::request && cd.proto == proto_tcp &&
           (cd.tcp_flags & pure_syn_mask) == tcp_flag::syn &&
           (c.state == tcp_state::time_wait || c.state == tcp_state::close);
}

} // namespace ulvs::dp::detail
