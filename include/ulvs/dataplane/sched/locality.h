// The locality-based schedulers (IPVS ip_vs_lblc.c and ip_vs_lblcr.c). Both remember, per
// destination address of the packet (IPVS' iph->daddr, the address the client connects to),
// where earlier connections to it went, and keep sending there while that is not overloaded:
//
// - lblc: destination address -> one server. A new connection goes to that server unless it is
//   gone (removed from the service), has weight 0, or is overloaded in lblc's sense: more active
//   connections than its weight while some server has fewer than half its weight (IPVS
//   is_overloaded()). Then, or when the address has no entry, the weighted least-connection
//   server (as wlc: overhead = active * 256 + inactive, over weight; OVERLOADED servers skipped)
//   gets it and becomes the address' server.
// - lblcr: destination address -> a set of servers. The set's weighted least-connection member
//   (OVERLOADED, weight-0 and removed members skipped) gets the connection unless it is
//   overloaded in the sense above; then the service's weighted least-connection server gets it
//   and joins the set. A set of more than one server that has not changed for the expiration
//   loses its weighted most-connection member (one per new connection), as IPVS shrinks it.
// - An entry not used for the expiration (IPVS' lblc_expiration / lblcr_expiration sysctls,
//   24 h by default) is forgotten.
//
// IPVS meant these for cache clusters where the client connects to the origin server's address
// (transparent proxying: the service is a fwmark or `match:` service over many destination
// addresses). With an ordinary single VIP every connection has the same destination address, so
// lblc sends all of them to one server until it is overloaded, as IPVS does.
//
// Where the table lives: per worker, per service. A worker schedules on its own live connection
// counts plus the other workers' as last aggregated (load.h), and keeps its own OVERLOAD states;
// a table shared by the workers would need a lock or atomic read-modify-writes on shared cache
// lines for each new connection, against the project's rule that a worker writes only its own
// state. Each worker's table is written by that worker only. The cost: one address may be mapped
// to up to one server per worker. Since the workers' load views differ only by what the others did
// in the last aggregation period (10 ms), their least-connection choices for a new address
// agree except when loads change within that window.
//
// Bounds: each worker's table has locality_buckets x locality_ways entries (IPVS' 1024 buckets;
// IPVS lets its table grow and, above 16 entries per bucket, collects entries idle for 6 minutes).
// Here a full bucket gives its least recently used entry to a new address; when that entry was
// not yet expired the worker's locality_evicted counter counts it. An lblcr set holds up to
// lblcr_set_max servers (IPVS: unbounded); a server joining a full set takes the place of the
// member the shrink would remove first (the weighted most-connection one), also counted. The
// tables are allocated by the control plane when a snapshot first names the service with that
// scheduler (lib/control/sched) and shared by the following snapshots, so they live across
// edits of the service as IPVS' table does; a pick never allocates, locks or waits.
//
// Entries name servers by stats id (stable across snapshots); a pick looks the id up among the
// service's current dests. A server that left the service is treated as IPVS treats one in its
// trash (not available): an lblc entry naming it is rescheduled; an lblcr set drops it at its next
// lookup (IPVS keeps it in the set, unavailable, until the shrink or the entry's expiry frees it).
#pragma once

#include "ulvs/dataplane/sched/load.h"

#include <memory>

namespace ulvs::dp {

constexpr uint32_t locality_bucket_bits = 10; // IPVS' IP_VS_LBLC_TAB_BITS / LBLCR_TAB_BITS
constexpr uint32_t locality_buckets = 1u << locality_bucket_bits;
constexpr uint32_t locality_ways = 8;
constexpr uint32_t locality_entries = locality_buckets * locality_ways; // per worker and service
constexpr uint32_t lblcr_set_max = 8;
// IPVS DEFAULT_EXPIRATION of both schedulers: 24 hours.
constexpr uint64_t locality_default_expiration_ms = 24ull * 60 * 60 * 1000;

// Server stats ids fit 16 bits (max_stats_ids = 65536).
static_assert(max_stats_ids <= 65536);

struct lblc_entry {
    uint32_t addr = 0; // destination address (network order)
    uint16_t dest_id = 0;
    bool used = false;
    uint64_t lastuse = 0; // ms, the worker clock
};

struct lblcr_entry {
    uint32_t addr = 0;
    bool used = false;
    uint8_t size = 0;
    uint16_t members[lblcr_set_max] = {}; // stats ids, the newest first (IPVS list_add order)
    uint64_t lastuse = 0;
    uint64_t lastmod = 0; // the set last grew or shrank
};

// Memory: 8192 x 16 B = 128 KiB (lblc) or 8192 x 40 B = 320 KiB (lblcr) per worker and service.
static_assert(sizeof(lblc_entry) == 16 && sizeof(lblcr_entry) == 40);

// One service's tables, one row per worker. Rows are written only by their worker.
class locality_table {
public:
    locality_table(sched_kind kind, uint32_t workers,
                   uint64_t expiration_ms = locality_default_expiration_ms);

    sched_kind kind() const noexcept { return m_kind; }
    uint32_t workers() const noexcept { return m_workers; }
    uint64_t expiration_ms() const noexcept { return m_expiration_ms; }
    // Worker `w`'s row (locality_entries entries), nullptr if `w` is out of range or the table
    // is of the other kind.
    lblc_entry* lblc_row(uint32_t w) noexcept {
        return m_kind == sched_kind::lblc && w < m_workers ? m_lblc[w].get() : nullptr;
    }
    lblcr_entry* lblcr_row(uint32_t w) noexcept {
        return m_kind == sched_kind::lblcr && w < m_workers ? m_lblcr[w].get() : nullptr;
    }

    // Forget every entry of every row. Not for a running worker (tests between inputs).
    void clear() noexcept;

private:
    sched_kind m_kind;
    uint32_t m_workers;
    uint64_t m_expiration_ms;
    // One allocation per worker: two workers' rows never share a cache line.
    std::unique_ptr<std::unique_ptr<lblc_entry[]>[]> m_lblc;
    std::unique_ptr<std::unique_ptr<lblcr_entry[]>[]> m_lblcr;
};

// The picks. Without a table (service::locality null, or the worker's id beyond its rows) they
// fall back to the weighted least-connection server, remembering nothing.
int32_t lblc_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                  sched_cursor& cur) noexcept;
int32_t lblcr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                   sched_cursor& cur) noexcept;

} // namespace ulvs::dp
