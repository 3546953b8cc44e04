// IPVS ip_vs_lblcr.c: destination address -> a set of servers (see
// ulvs/dataplane/sched/locality.h).
#include "locality_ways.h"
#include "weighted_least.h"

namespace ulvs::dp {

namespace {

// Members as indexes into the service's dests, in set order (the newest first). Members that
// left the service are dropped from the set here (IPVS keeps them, unavailable; see locality.h).
uint32_t resolve_members(lblcr_entry& en, const dest* dests, uint32_t n,
                         int32_t (&idx)[lblcr_set_max]) noexcept {
    uint32_t k = 0;
    for (uint32_t i = 0; i < en.size; ++i) {
        const int32_t d = detail::dest_index(dests, n, en.members[i]);
        if (d < 0)
            continue;
        en.members[k] = en.members[i];
        idx[k++] = d;
    }
    en.size = static_cast<uint8_t>(k);
    return k;
}

// IPVS ip_vs_dest_set_min(): the weighted least-connection member. The first one not OVERLOADED
// with weight > 0 starts; later ones not OVERLOADED replace it only when strictly less loaded
// per weight (so a weight-0 member never does). -1: none.
int32_t set_min(sched_args& a, const dest* dests, const int32_t* idx, uint32_t k) noexcept {
    uint32_t i = 0;
    for (; i < k; ++i)
        if (!a.load.overloaded(dests[idx[i]]) && dests[idx[i]].weight > 0)
            break;
    if (i == k)
        return -1;
    int32_t least = idx[i];
    int64_t loh = a.load.overhead(dests[least]);
    for (++i; i < k; ++i) {
        const dest& d = dests[idx[i]];
        if (a.load.overloaded(d))
            continue;
        const int64_t doh = a.load.overhead(d);
        if (loh * int64_t{d.weight} > doh * int64_t{dests[least].weight}) {
            least = idx[i];
            loh = doh;
        }
    }
    return least;
}

// IPVS ip_vs_dest_set_max(): the position in the set of the weighted most-connection member of
// weight > 0, OVERLOADED or not; the first one wins ties. -1: every member has weight 0.
int32_t set_max(const sched_args& a, const dest* dests, const int32_t* idx, uint32_t k) noexcept {
    int32_t most = -1;
    int64_t moh = 0;
    for (uint32_t i = 0; i < k; ++i) {
        const dest& d = dests[idx[i]];
        if (d.weight == 0)
            continue;
        const int64_t doh = a.load.overhead(d);
        if (most < 0 || moh * int64_t{d.weight} < doh * int64_t{dests[idx[most]].weight}) {
            most = static_cast<int32_t>(i);
            moh = doh;
        }
    }
    return most;
}

void erase_at(lblcr_entry& en, int32_t (&idx)[lblcr_set_max], uint32_t pos) noexcept {
    for (uint32_t i = pos; i + 1 < en.size; ++i) {
        en.members[i] = en.members[i + 1];
        idx[i] = idx[i + 1];
    }
    --en.size;
}

// IPVS ip_vs_dest_set_insert(.., check = true): a server not yet in the set joins it at the head
// and the set's modification time is now. A full set first loses the member the shrink would take
// (the weighted most-connection one, else the oldest), counted as an eviction.
void set_insert(sched_args& a, lblcr_entry& en, const dest* dests, int32_t (&idx)[lblcr_set_max],
                int32_t pick) noexcept {
    const auto id = static_cast<uint16_t>(dests[pick].stats_id);
    for (uint32_t i = 0; i < en.size; ++i)
        if (en.members[i] == id)
            return;
    if (en.size == lblcr_set_max) {
        const int32_t m = set_max(a, dests, idx, en.size);
        erase_at(en, idx, m >= 0 ? static_cast<uint32_t>(m) : en.size - 1u);
        if (a.locality_evicted != nullptr)
            ++*a.locality_evicted;
    }
    for (uint32_t i = en.size; i > 0; --i) {
        en.members[i] = en.members[i - 1];
        idx[i] = idx[i - 1];
    }
    en.members[0] = id;
    idx[0] = pick;
    ++en.size;
    en.lastmod = a.now_ms;
}

} // namespace

int32_t lblcr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                   sched_cursor&) noexcept {
    lblcr_entry* row = svc.locality != nullptr ? svc.locality->lblcr_row(a.worker) : nullptr;
    const uint64_t exp = row != nullptr ? svc.locality->expiration_ms() : 0;
    const uint32_t addr = a.in.dst_ip;
    const uint32_t bucket = detail::lblcr_bucket(addr);
    auto least_conn = [&] {
        return detail::weighted_least(a, dests, n,
                                      [&](const dest& d) { return a.load.overhead(d); });
    };
    lblcr_entry* en =
        row != nullptr ? detail::find_entry(row, bucket, addr, a.now_ms, exp) : nullptr;
    if (en == nullptr) {
        // No set yet: the weighted least-connection server starts one (IPVS ip_vs_lblcr_new).
        const int32_t pick = least_conn();
        if (pick < 0 || row == nullptr)
            return pick;
        en = detail::claim_entry(row, bucket, a.now_ms, exp, a.locality_evicted);
        en->addr = addr;
        en->used = true;
        en->size = 1;
        en->members[0] = static_cast<uint16_t>(dests[pick].stats_id);
        en->lastuse = en->lastmod = a.now_ms;
        return pick;
    }
    en->lastuse = a.now_ms;
    int32_t idx[lblcr_set_max];
    const uint32_t k = resolve_members(*en, dests, n, idx);
    const int32_t least = set_min(a, dests, idx, k);
    // A set of several servers unchanged for the expiration sheds its most loaded member, one per
    // new connection, each removal restarting the wait (it changes the set). As in IPVS the
    // member chosen above is still used for this connection even if it is the one removed.
    if (en->size > 1 && a.now_ms > en->lastmod + exp) {
        const int32_t m = set_max(a, dests, idx, en->size);
        if (m >= 0) {
            erase_at(*en, idx, static_cast<uint32_t>(m));
            en->lastmod = a.now_ms;
        }
    }
    if (least >= 0 && !detail::locality_overloaded(a, dests, n, dests[least]))
        return least;
    // Every member unavailable, or the least loaded one overloaded in lblcr's sense: the
    // service's weighted least-connection server, which joins the set.
    const int32_t pick = least_conn();
    if (pick < 0)
        return -1;
    set_insert(a, *en, dests, idx, pick);
    return pick;
}

} // namespace ulvs::dp
