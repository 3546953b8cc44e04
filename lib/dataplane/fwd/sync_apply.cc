// Received connection sync records installed in the owner worker's table (worker.h apply_sync,
// docs/architecture.md "Connection sync"): what IPVS' backup daemon does in ip_vs_proc_conn, with
// this node's own services and real servers. A synced connection is an ordinary entry: a BACKUP
// holds it without forwarding (its VIPs are not owned: the workers drop their packets as
// vip_not_owned before any lookup), a new MASTER forwards its next packet, mid-stream, at once.
#include "conn_life.h"
#include "ulvs/dataplane/fwd/worker.h"

namespace ulvs::dp {

namespace {

using namespace detail;

constexpr const char* refusal_names[] = {
#define ULVS_SYNC_REFUSAL_NAME(name, text) #name,
    ULVS_FOREACH_SYNC_APPLY_REFUSAL(ULVS_SYNC_REFUSAL_NAME)
#undef ULVS_SYNC_REFUSAL_NAME
};
constexpr const char* refusal_texts[] = {
#define ULVS_SYNC_REFUSAL_TEXT(name, text) text,
    ULVS_FOREACH_SYNC_APPLY_REFUSAL(ULVS_SYNC_REFUSAL_TEXT)
#undef ULVS_SYNC_REFUSAL_TEXT
};
static_assert(std::size(refusal_names) == static_cast<size_t>(sync_refusal::count));
static_assert(std::size(worker_counters{}.sync_refused) ==
              static_cast<size_t>(sync_refusal::count));

// The service a record belongs to here: a connection's as a packet of it would find it (match
// services first), a template's by its virtual address and port.
const service* service_of(const snapshot& s, const sync_msg& m) noexcept {
    const auto info = s.addrs.find(m.vaddr);
    if (!info)
        return nullptr;
    const addr_info ai = unpack_addr_info(*info);
    if (!has(ai.kind, addr_kind::vip))
        return nullptr;
    if (m.kind == key_kind::addr_template) {
        const service* svc = s.find_service(m.vaddr, m.vport, m.proto);
        return svc != nullptr && svc->persist_ms != 0 ? svc : nullptr;
    }
    return s.lookup(ai.kind, m.proto, m.caddr, m.vaddr, m.vport);
}

// The service's real server at daddr:dport: a template names the configured port (0: the
// client's), a connection the port it was sent to.
const dest* dest_of(const snapshot& s, const service& svc, const sync_msg& m) noexcept {
    const dest* d = s.dests.data() + svc.dest_first;
    for (uint32_t i = 0; i < svc.dest_count; ++i) {
        if (d[i].ip != m.daddr)
            continue;
        if (m.kind == key_kind::addr_template ? d[i].port == m.dport
                                              : (d[i].port == m.dport || d[i].port == 0))
            return &d[i];
    }
    return nullptr;
}

// The template a connection of `svc` from `key` belongs to (conn_life.cc template_key).
conn_key template_key_of(const service& svc, const conn_key& k) noexcept {
    if (svc.is_match)
        return conn_key{k.src_ip & svc.persist_mask, svc.stats_id, 0, 0, k.proto,
                        key_kind::match_template,    {0, 0}};
    return conn_key{k.src_ip & svc.persist_mask, k.dst_ip, 0, k.dst_port, k.proto,
                    key_kind::addr_template,     {0, 0}};
}

bool counts_active(const sync_msg& m) noexcept {
    return m.kind == key_kind::packet && m.proto == proto_tcp && tcp_state_active(m.state);
}

// Move entry `c`'s place in its real server's counts from what it was to what `m` says.
void recount(worker_ctx& w, conn& c, const sync_msg& m) noexcept {
    if (c.flags & conn_flag::persist_template)
        return;
    const bool active = counts_active(m);
    if (active == ((c.flags & conn_flag::active) != 0))
        return;
    dest_conn_counts& dc = w.dest_conns[c.dest_stats_id];
    dc.active += active ? 1 : -1;
    dc.inactive += active ? -1 : 1;
    c.flags ^= conn_flag::active;
}

sync_refusal insert_new(worker_ctx& w, const service& svc, const dest& d, const conn_key& key,
                        const sync_msg& m, uint64_t expire) noexcept {
    const bool tmpl = m.kind == key_kind::addr_template;
    conn init{};
    init.key = key;
    init.dest_ip = d.ip;
    init.dest_port = tmpl ? d.port : (m.dport != 0 ? m.dport : m.vport);
    init.mode = m.mode;
    init.out_port = d.out_port;
    init.neigh = d.neigh;
    init.dest_stats_id = d.stats_id;
    init.svc_stats_id = svc.stats_id;
    init.tun_src = d.tun_src;
    init.state = tmpl ? tcp_state::none : m.state;
    init.expire_ms = expire;
    init.flags = tmpl ? conn_flag::persist_template : counts_active(m) ? conn_flag::active : 0;
    init.persist_ms = tmpl ? svc.persist_ms : 0;
    if (!tmpl && svc.persist_ms != 0) { // linked to its template when that is here already
        const conn_ref t = w.conns.lookup(template_key_of(svc, key));
        if (t.found() && !t.reply)
            init.tmpl = t.index;
    }
    const uint32_t idx =
        w.conns.insert(key, init, !tmpl && m.mode == fwd_mode::nat); // NAT: its reply key too
    if (idx == conn_ref::none)
        return sync_refusal::table_full;
    dest_conn_counts& dc = w.dest_conns[d.stats_id];
    if (tmpl)
        ++dc.persistent;
    else if (init.flags & conn_flag::active)
        ++dc.active;
    else
        ++dc.inactive;
    if (init.tmpl != no_template)
        ++w.conns.at(init.tmpl).n_control;
    w.wheel.schedule(idx, expire);
    return sync_refusal::count;
}

// sync_refusal::count: applied.
sync_refusal apply_one(worker_ctx& w, const snapshot& s, const sync_msg& m,
                       uint64_t now_ms) noexcept {
    if ((m.kind != key_kind::packet && m.kind != key_kind::addr_template) ||
        (m.proto != proto_tcp && m.proto != proto_udp) || m.mode > fwd_mode::tun ||
        m.state >= tcp_state::count)
        return sync_refusal::bad_record;
    const service* svc = service_of(s, m);
    if (svc == nullptr)
        return sync_refusal::no_service;
    const dest* d = dest_of(s, *svc, m);
    if (d == nullptr)
        return sync_refusal::no_dest;
    const bool tmpl = m.kind == key_kind::addr_template;
    const conn_key key = tmpl ? conn_key{m.caddr & svc->persist_mask, m.vaddr, 0, m.vport, m.proto,
                                         key_kind::addr_template,     {0, 0}}
                              : conn_key{m.caddr, m.vaddr, m.cport, m.vport, m.proto, 0, {0, 0}};
    // 0: the sender left it to us, as IPVS' backup then takes its protocol's timeout.
    const uint64_t life = m.timeout_ms != 0      ? m.timeout_ms
                          : tmpl                 ? svc->persist_ms
                          : m.proto == proto_udp ? s.timeouts.udp_ms
                                                 : s.timeouts.of(m.state);
    const uint64_t expire = now_ms + life;
    const conn_ref ref = w.conns.lookup(key);
    if (ref.found() && !ref.reply) {
        conn& c = w.conns.at(ref.index);
        const uint16_t dport = tmpl ? d->port : (m.dport != 0 ? m.dport : m.vport);
        if (c.dest_stats_id != d->stats_id || c.dest_port != dport || c.mode != m.mode) {
            if (!tmpl) { // another real server: its reply key changes too, so a new entry
                w.wheel.cancel(ref.index);
                end_conn(w, ref.index);
                return insert_new(w, *svc, *d, key, m, expire);
            }
            // A template re-pointed: the connections it controls keep their link.
            --w.dest_conns[c.dest_stats_id].persistent;
            ++w.dest_conns[d->stats_id].persistent;
            c.dest_ip = d->ip;
            c.dest_port = d->port;
            c.dest_stats_id = d->stats_id;
            c.mode = m.mode;
        }
        if (!tmpl) {
            recount(w, c, m);
            c.state = m.state;
        } else {
            c.persist_ms = svc->persist_ms;
        }
        // A shorter life than the one the wheel holds must not wait for the later slot.
        if (expire < c.expire_ms)
            w.wheel.advance_to(ref.index, expire);
        c.expire_ms = expire;
        return sync_refusal::count;
    }
    if (ref.found()) // the key is another connection's reply key: leave that one alone
        return sync_refusal::bad_record;
    return insert_new(w, *svc, *d, key, m, expire);
}

} // namespace

const char* sync_refusal_name(sync_refusal r) noexcept {
    const auto i = static_cast<size_t>(r);
    return i < std::size(refusal_names) ? refusal_names[i] : "none";
}

const char* sync_refusal_description(sync_refusal r) noexcept {
    const auto i = static_cast<size_t>(r);
    return i < std::size(refusal_texts) ? refusal_texts[i] : "applied";
}

uint32_t sync_owner(const snapshot& s, const sync_msg& m, uint32_t n_workers) noexcept {
    const service* svc = service_of(s, m);
    if (svc == nullptr)
        return UINT32_MAX;
    if (svc->persist_ms != 0)
        return owner_of(m.caddr & svc->persist_mask, 0, n_workers);
    return owner_of(m.caddr, m.cport, n_workers);
}

void apply_sync(worker_ctx& w, const sync_msg* msgs, uint32_t n, uint64_t now_ms) noexcept {
    const snapshot& s = *w.snap;
    for (uint32_t i = 0; i < n; ++i) {
        const sync_refusal r = apply_one(w, s, msgs[i], now_ms);
        if (r == sync_refusal::count)
            ++w.ctr.sync_applied;
        else
            ++w.ctr.sync_refused[static_cast<size_t>(r)];
    }
}

} // namespace ulvs::dp
