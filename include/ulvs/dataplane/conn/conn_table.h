// Per-worker connection table: a hash index from a 5-tuple to (entry index, direction), and a
// preallocated pool of cache-line connection entries with a free list.
//
// A NAT connection is found from both sides, so it has two keys: the client's packet as it
// arrives (client -> VIP:vport) and the real server's reply as it arrives (RIP:rport -> client).
// DR and TUN connections never see replies and have one key. The index is sized for two keys per
// entry (at most 75% full) so a table full of NAT connections still fits.
//
// The index (issue 4: fewer bytes and fewer cache misses than rte_hash) is bucketized cuckoo
// hashing with partial keys, as rte_hash and MemC3: 64-byte buckets of 8 slots, each slot a 16-bit
// signature and a 32-bit reference (entry index and reply bit); a key lives in one of two buckets,
// the second derived from the first and the signature alone, so entries can be moved without
// reading their keys. Keys are not stored in the index: the entry holds the client key, the reply
// key is derived from it, and a lookup verifies the candidate there. So a lookup touches two
// bucket lines (prefetched together) and the entry the packet needs anyway; lookup_bulk pipelines
// that over the burst and leaves the found entries prefetched. 21.3 bytes of index per connection.
//
// Bounded on purpose: capacity is connections.max, allocated at start. An insert into a full table
// fails; the caller drops that new connection's first packet and counts it, so a SYN flood can
// never slow down or evict established flows. Below 75% load, a breadth-first search for a
// cuckoo path (bounded) finds room in practice always; if it does not, the insert fails the same
// way.
//
// Thread safety: owned by one worker; no locks, no concurrent readers.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/dataplane/conn/tcp_state.h"

#include <cstdint>
#include <vector>

namespace ulvs::dp {

// Hash key: a 5-tuple as seen on the wire (network byte order).
struct conn_key {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t proto;
    uint8_t kind;   // key_kind: 0 for packets, so a template key never equals a packet's
    uint8_t pad[2]; // zeroed: hashed and compared as bytes
};

// What a conn_key names. Persistence templates live in the same table as connections (IPVS keeps
// them in its connection table too); their keys are told apart here.
namespace key_kind {
constexpr uint8_t packet = 0;
// {client & granularity, VIP, 0, vport, proto}: a template of an address:port service.
constexpr uint8_t addr_template = 1;
// {client & granularity, service stats_id, 0, 0, proto}: a template of a match service (IPVS'
// fwmark templates, port 0: every destination and port of the service).
constexpr uint8_t match_template = 2;
} // namespace key_kind
static_assert(sizeof(conn_key) == 16);

namespace conn_flag {
// Counted in its real server's ActiveConn (else InActConn): IPVS' !IP_VS_CONN_F_INACTIVE.
constexpr uint8_t active = 0x01;
// A persistence template (IP_VS_CONN_F_TEMPLATE): counted in PersistConn, never forwarded.
constexpr uint8_t persist_template = 0x02;
// Set by insert, cleared by erase: an entry index taken from a lookup is only meaningful while
// its entry is live (debug builds assert it wherever an entry is ended).
constexpr uint8_t live = 0x80;
} // namespace conn_flag

constexpr uint32_t no_template = UINT32_MAX; // conn::tmpl of a connection without persistence

// One connection, one cache line. `key` is the client's side; the reply key of a NAT connection
// is derived from it and dest_ip/dest_port (reply_key()).
struct alignas(64) conn {
    conn_key key;       // client ip/port -> vip/vport, proto
    uint64_t expire_ms; // refreshed per packet; the timer wheel checks it lazily
    uint32_t dest_ip;   // real server (network order)
    uint16_t dest_port; // network order (already resolved: never 0)
    fwd_mode mode;
    uint8_t out_port;       // port index towards the real server
    uint32_t neigh;         // next hop slot towards the real server
    uint32_t dest_stats_id; // counters of the real server
    uint32_t svc_stats_id;  // counters of the virtual server
    tcp_state state;
    uint8_t flags; // conn_flag::*
    // Connection sync (fwd/sync_msg.h): this connection's request packets modulo sync.period,
    // so that "every period packets" needs no division (sync_out.h).
    uint16_t sync_pkts = 0;
    uint32_t tun_src; // TUN outer source address (network order)
    // Persistence. A connection: the index of the template it was created by (IPVS' control
    // link), or no_template. A template: how many live connections it created (n_control; it
    // does not expire while any live) and its timeout.
    uint32_t tmpl = no_template;
    uint32_t n_control = 0;
    uint32_t persist_ms = 0;
};
static_assert(sizeof(conn) == 64);

// The reply 5-tuple of a NAT connection: RIP:rport -> client.
inline conn_key reply_key(const conn& c) noexcept {
    return conn_key{c.dest_ip, c.key.src_ip, c.dest_port, c.key.src_port, c.key.proto, 0, {0, 0}};
}

// What a key lookup found.
struct conn_ref {
    static constexpr uint32_t none = UINT32_MAX;
    uint32_t index = none; // entry, or none
    bool reply = false;    // found by its reply key (server -> client)

    bool found() const noexcept { return index != none; }
};

class conn_table {
public:
    static constexpr uint32_t lookup_bulk_max = 64;

    // Allocates the index and entries (`name` labels the allocations) on `socket`. ok() tells
    // success.
    conn_table(const char* name, uint32_t capacity, int socket) noexcept;
    ~conn_table();
    conn_table(const conn_table&) = delete;
    conn_table& operator=(const conn_table&) = delete;

    bool ok() const noexcept { return m_buckets != nullptr && m_conns != nullptr; }
    uint32_t capacity() const noexcept { return m_capacity; }
    uint32_t size() const noexcept { return m_capacity - m_free_top; }
    // Fewer than 1/8 of the entries free: handshakes get a shorter life (the burst path's
    // refresh), so a table filled by spoofed SYNs drains quickly once the flood stops.
    bool under_pressure() const noexcept { return m_free_top < m_pressure_free; }

    // refs[i] for keys[i]; n <= lookup_bulk_max.
    void lookup_bulk(const conn_key** keys, uint32_t n, conn_ref* refs) const noexcept;
    conn_ref lookup(const conn_key& key) const noexcept;

    // A new entry for `key` (not present), also reachable by its reply key when `with_reply`
    // (the caller fills dest_ip/dest_port first through `prepare`). Returns the entry index or
    // conn_ref::none when the table is full.
    uint32_t insert(const conn_key& key, const conn& init, bool with_reply) noexcept;
    // Remove entry `index` (live) and its keys; the index returns to the pool, where the next
    // insert may hand it out again for another key. Every erase bumps erasures(): an entry index
    // found before it may since name nothing, or another connection, so whoever holds indices
    // across a possible erase (the burst path's bulk lookup) must look its key up again.
    void erase(uint32_t index) noexcept;
    uint64_t erasures() const noexcept { return m_erasures; }
    bool live(uint32_t index) const noexcept {
        return (m_conns[index].flags & conn_flag::live) != 0;
    }

    // Under pressure (an insert failed for want of an entry): a live entry, other than a
    // persistence template, for which `evictable(const conn&)` holds, visited in clock order
    // from where the last search stopped, at most `probes` entries; or conn_ref::none. Clock
    // order gives every entry a whole revolution of the table between two visits, so a
    // connection just created is the last to be chosen (see the burst path's reclaim).
    template <class F> uint32_t find_evictable(uint32_t probes, F&& evictable) noexcept;

    conn& at(uint32_t index) noexcept { return m_conns[index]; }
    const conn& at(uint32_t index) const noexcept { return m_conns[index]; }

    // Bytes of memory per connection slot of this table and of its timer wheel entry: index,
    // entry, free list (issue 4's budget). memory_bytes(): this table's, as allocated.
    static uint64_t bytes_per_entry_estimate() noexcept;
    uint64_t memory_bytes() const noexcept;

    struct bucket; // the index's (conn_table.cc)

private:
    struct hashed {
        uint32_t b[2]; // the key's two buckets
        uint16_t sig;  // never 0: 0 marks an empty slot
    };
    hashed hash_of(const conn_key& k) const noexcept;
    bool matches(uint32_t ref, const conn_key& k) const noexcept;
    conn_ref find(const conn_key& k, const hashed& h) const noexcept;
    bool add(const hashed& h, uint32_t ref) noexcept;
    bool make_room(const hashed& h, uint32_t& bucket, uint32_t& slot) noexcept;
    void remove(const conn_key& k, uint32_t ref) noexcept;
    uint32_t alt(uint32_t b, uint16_t sig) const noexcept;

    bucket* m_buckets = nullptr;
    uint32_t m_n_buckets = 0;
    conn* m_conns = nullptr;
    std::vector<uint32_t> m_free; // stack of free entry indices
    uint32_t m_free_top = 0;      // number of free indices on the stack
    uint32_t m_capacity = 0;
    uint32_t m_pressure_free = 0; // capacity / 8
    uint64_t m_erasures = 0;
    uint32_t m_clock = 0; // find_evictable's cursor
};

template <class F> uint32_t conn_table::find_evictable(uint32_t probes, F&& evictable) noexcept {
    for (uint32_t i = 0; i < probes && m_capacity != 0; ++i) {
        const uint32_t idx = m_clock;
        m_clock = m_clock + 1 == m_capacity ? 0 : m_clock + 1;
        const conn& c = m_conns[idx];
        if ((c.flags & conn_flag::live) && !(c.flags & conn_flag::persist_template) && evictable(c))
            return idx;
    }
    return conn_ref::none;
}

} // namespace ulvs::dp
