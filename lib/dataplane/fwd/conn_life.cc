// A connection's creation and end on the burst path (conn_life.h), and its expiry.
#include "conn_life.h"

#include "sync_out.h"
#include "ulvs/dataplane/sched/dispatch.h"
#include "xmit.h"

#include <cassert>

namespace ulvs::dp {

namespace detail {

namespace {

// The scheduler's pick for a new connection of `key` (sched/dispatch.h). Load counts: this
// worker's live ones plus the other workers' as last aggregated (sched/load.h).
int32_t pick_dest(worker_ctx& w, const snapshot& s, const service& svc,
                  const conn_key& key) noexcept {
    sched_cursor& cur = w.cursors[svc.stats_id];
    const dest* d = s.dests.data() + svc.dest_first;
    const bool shared = s.loads != nullptr && w.id < s.loads->workers();
    sched_args a{{key.src_ip, key.dst_ip, key.src_port, key.dst_port},
                 load_view(w.dest_conns.data(), shared ? s.loads->others(w.id) : nullptr,
                           shared ? s.loads->overload(w.id) : nullptr)};
    a.worker = w.id;
    a.now_ms = w.now_ms;
    a.locality_evicted = &w.ctr.locality_evicted;
    return sched_pick(a, d, svc.dest_count, svc, cur);
}

// Table pressure (SYN floods): which entries a new connection may take the place of. Never an
// established flow, a template, or UDP (whose flows have no handshake to tell a spoofed one):
// only TCP entries still in the handshake (SYN_RECV/SYN_SENT/NONE: a spoofed SYN never leaves
// it) or already closed (CLOSE, TIME_WAIT), as IPVS' drop_entry spares established ones.
inline bool evictable(const conn& c) noexcept {
    if (c.key.proto != proto_tcp)
        return false;
    switch (c.state) {
    case tcp_state::none:
    case tcp_state::syn_recv:
    case tcp_state::syn_sent:
    case tcp_state::synack:
    case tcp_state::close:
    case tcp_state::time_wait:
        return true;
    default:
        return false;
    }
}

// Entries find_evictable looks at for one insert: bounded so a table full of established flows
// costs a refused SYN at most this many entry reads (a flooded table is nearly all half-open, so
// the first one or two usually qualify).
constexpr uint32_t reclaim_probes = 16;

// Insert, and when the table is full end a half-open or closed entry to make room (issue 12:
// a legitimate client still connects during a spoofed SYN flood). The erase bumps erasures(),
// so the burst looks up again any entry index it held.
uint32_t insert_reclaiming(worker_ctx& w, const conn_key& key, const conn& init,
                           bool with_reply) noexcept {
    uint32_t idx = w.conns.insert(key, init, with_reply);
    if (idx != conn_ref::none || w.conns.size() < w.conns.capacity())
        return idx; // inserted, or no cuckoo path: freeing an entry would not help
    const uint32_t victim = w.conns.find_evictable(reclaim_probes, evictable);
    if (victim == conn_ref::none)
        return idx;
    w.wheel.cancel(victim);
    end_conn(w, victim);
    ++w.ctr.conns_reclaimed;
    return w.conns.insert(key, init, with_reply);
}

// The service's dest whose counters are `stats_id` (a template names its real server so, since
// dest indexes change with every snapshot), or nullptr when it is no longer in the service.
const dest* dest_by_stats_id(const snapshot& s, const service& svc, uint32_t stats_id) noexcept {
    const dest* d = s.dests.data() + svc.dest_first;
    for (uint32_t i = 0; i < svc.dest_count; ++i)
        if (d[i].stats_id == stats_id)
            return &d[i];
    return nullptr;
}

// IPVS' template key (ip_vs_sched_persist): the client address masked by the granularity, port
// 0, and the VIP:vport, or for a match service its id and port 0 (as fwmark templates).
conn_key template_key(const service& svc, const conn_key& k) noexcept {
    if (svc.is_match)
        return conn_key{k.src_ip & svc.persist_mask, svc.stats_id, 0, 0, k.proto,
                        key_kind::match_template,    {0, 0}};
    return conn_key{k.src_ip & svc.persist_mask, k.dst_ip, 0, k.dst_port, k.proto,
                    key_kind::addr_template,     {0, 0}};
}

// The persistence template for a new connection of `key`, found or created, with its real
// server: IPVS' ip_vs_sched_persist. Returns the template index, or none after dropping the
// packet (no server, or a full table).
uint32_t persist_template(worker_ctx& w, const snapshot& s, const candidate& c, const conn_key& key,
                          uint64_t now_ms, const dest*& d) noexcept {
    const service& svc = *c.svc;
    const conn_key tk = template_key(svc, key);
    const conn_ref ref = w.conns.lookup(tk);
    if (ref.found()) {
        conn& t = w.conns.at(ref.index);
        d = dest_by_stats_id(s, svc, t.dest_stats_id);
        // ip_vs_check_template: a server that left the service, or (with
        // expire_quiescent_template) one quiesced with weight 0, no longer holds the client.
        if (d != nullptr && !(svc.expire_quiescent && d->weight == 0)) {
            t.expire_ms = now_ms + t.persist_ms; // each new connection restarts the timer
            if (w.sync.send)
                sync_template(w, ref.index, now_ms);
            return ref.index;
        }
    }
    const int32_t pick = pick_dest(w, s, svc, key);
    if (pick < 0) {
        drop_pkt(w, c.m, drop::no_dest);
        return conn_ref::none;
    }
    d = &s.dests[svc.dest_first + static_cast<uint32_t>(pick)];
    if (ref.found()) {
        // IPVS expires the stale template and makes a new one; re-pointing it in place is the
        // same to every observer, and the connections it controls keep their link.
        conn& t = w.conns.at(ref.index);
        --w.dest_conns[t.dest_stats_id].persistent;
        ++w.dest_conns[d->stats_id].persistent;
        t.dest_ip = d->ip;
        t.dest_port = d->port;
        t.dest_stats_id = d->stats_id;
        t.mode = d->mode;
        t.persist_ms = svc.persist_ms;
        t.expire_ms = now_ms + svc.persist_ms;
        if (w.sync.send)
            sync_template(w, ref.index, now_ms);
        return ref.index;
    }
    conn init{};
    init.key = tk;
    init.dest_ip = d->ip;
    init.dest_port = d->port; // as configured: 0 keeps each connection's own port
    init.mode = d->mode;
    init.dest_stats_id = d->stats_id;
    init.svc_stats_id = svc.stats_id;
    init.state = tcp_state::none;
    init.flags = conn_flag::persist_template;
    init.tmpl = no_template;
    init.persist_ms = svc.persist_ms;
    init.expire_ms = now_ms + svc.persist_ms;
    const uint32_t idx = insert_reclaiming(w, tk, init, false);
    if (idx == conn_ref::none) {
        drop_pkt(w, c.m, drop::conn_table_full);
        return idx;
    }
    ++w.dest_conns[d->stats_id].persistent;
    ++w.ctr.templates_created;
    w.wheel.schedule(idx, init.expire_ms);
    if (w.sync.send)
        sync_template(w, idx, now_ms);
    return idx;
}

} // namespace

void end_conn(worker_ctx& w, uint32_t idx) noexcept {
    const conn& c = w.conns.at(idx);
    assert(w.conns.live(idx));
    dest_conn_counts& dc = w.dest_conns[c.dest_stats_id];
    if (c.flags & conn_flag::persist_template)
        --dc.persistent;
    else if (c.flags & conn_flag::active)
        --dc.active;
    else
        --dc.inactive;
    if (c.tmpl != no_template) // a template outlives the connections it created
        --w.conns.at(c.tmpl).n_control;
    w.conns.erase(idx);
}

// A new connection for a request: schedule, insert, initialise. Returns the entry or none
// (the packet was dropped and counted).
uint32_t new_conn(worker_ctx& w, const snapshot& s, const candidate& c, const conn_key& key,
                  uint64_t now_ms) noexcept {
    const service& svc = *c.svc;
    const dest* dp = nullptr;
    uint32_t tmpl = no_template;
    if (svc.persist_ms != 0) {
        tmpl = persist_template(w, s, c, key, now_ms, dp);
        if (tmpl == conn_ref::none)
            return conn_ref::none;
    } else {
        const int32_t pick = pick_dest(w, s, svc, key);
        if (pick < 0) {
            drop_pkt(w, c.m, drop::no_dest);
            return conn_ref::none;
        }
        dp = &s.dests[svc.dest_first + static_cast<uint32_t>(pick)];
    }
    const dest& d = *dp;
    conn init{};
    init.tmpl = tmpl;
    init.dest_ip = d.ip;
    init.dest_port = d.port == 0 ? key.dst_port : d.port;
    init.mode = d.mode;
    init.out_port = d.out_port;
    init.neigh = d.neigh;
    init.dest_stats_id = d.stats_id;
    init.svc_stats_id = svc.stats_id;
    init.tun_src = d.tun_src;
    init.state = tcp_state::none;
    init.expire_ms = now_ms + s.timeouts.of(tcp_state::none);
    init.key = key;
    const uint32_t idx = insert_reclaiming(w, key, init, d.mode == fwd_mode::nat);
    if (idx == conn_ref::none) {
        drop_pkt(w, c.m, drop::conn_table_full);
        return idx;
    }
    // IPVS binds every new connection as inactive; it becomes active with its state.
    ++w.dest_conns[d.stats_id].inactive;
    ++w.dest_ctr[d.stats_id].conns;
    ++w.svc_ctr[svc.stats_id].conns;
    ++w.ctr.conns_created;
    if (tmpl != no_template)
        ++w.conns.at(tmpl).n_control;
    w.wheel.schedule(idx, init.expire_ms);
    return idx;
}

} // namespace detail

uint32_t expire_conns(worker_ctx& w, uint64_t now_ms, uint32_t budget) noexcept {
    return w.wheel.advance(now_ms, budget, [&](uint32_t idx) -> uint64_t {
        conn& c = w.conns.at(idx);
        if (c.expire_ms > now_ms)
            return c.expire_ms; // refreshed since it was filed
        if (c.flags & conn_flag::persist_template) {
            // IPVS (ip_vs_conn_expire): a template that still controls connections waits
            // another full timeout.
            if (c.n_control > 0)
                return c.expire_ms = now_ms + c.persist_ms;
            detail::end_conn(w, idx);
            ++w.ctr.templates_expired;
            return 0;
        }
        detail::end_conn(w, idx);
        ++w.ctr.conns_expired;
        return 0;
    });
}

} // namespace ulvs::dp
