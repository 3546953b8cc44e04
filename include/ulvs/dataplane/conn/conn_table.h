// Per-worker connection table: an rte_hash from the 5-tuple to a position, and a preallocated array
// of connection entries indexed by that position (rte_hash hands out each key a unique slot in
// [0, capacity), so no separate free list is needed).
//
// Bounded on purpose: capacity is connections.max, allocated at start. An insert into a full table
// fails; the caller drops that new connection's first packet and counts it, so a SYN flood can
// never slow down or evict established flows. The table is created with extendable buckets so an
// insert fails only when the table is really full, not on a cuckoo-path dead end.
//
// Thread safety: owned by one worker; no locks, no concurrent readers.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/dataplane/conn/tcp_state.h"

#include <cstdint>

struct rte_hash;

namespace ulvs::dp {

// Hash key: client-side 5-tuple as seen on the wire (network byte order).
struct conn_key {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t proto;
    uint8_t pad[3]; // zeroed: hashed and compared as bytes
};
static_assert(sizeof(conn_key) == 16);

// One connection, one cache line.
struct alignas(64) conn {
    conn_key key;       // to erase the hash entry on expiry
    uint64_t expire_ms; // refreshed per packet; the timer wheel checks it lazily
    uint32_t dest_ip;   // real server (network order)
    uint16_t dest_port; // network order
    fwd_mode mode;
    uint8_t out_port;
    uint32_t neigh;         // next hop slot in the neighbour table
    uint32_t dest_stats_id; // counters of the real server
    uint32_t svc_stats_id;  // counters of the virtual server
    tcp_state state;
    uint8_t flags; // conn_flag::*
};

namespace conn_flag {
// Counted in its real server's ActiveConn (else InActConn): IPVS' !IP_VS_CONN_F_INACTIVE.
constexpr uint8_t active = 0x01;
} // namespace conn_flag
static_assert(sizeof(conn) == 64);

class conn_table {
public:
    static constexpr uint32_t lookup_bulk_max = 64; // RTE_HASH_LOOKUP_BULK_MAX

    // Creates the hash (`name` must be unique in the process) on `socket`. ok() tells success.
    conn_table(const char* name, uint32_t capacity, int socket) noexcept;
    ~conn_table();
    conn_table(const conn_table&) = delete;
    conn_table& operator=(const conn_table&) = delete;

    bool ok() const noexcept { return m_hash != nullptr && m_conns != nullptr; }
    uint32_t capacity() const noexcept { return m_capacity; }
    uint32_t size() const noexcept { return m_size; }

    // positions[i] = entry index for keys[i], or -1. n <= lookup_bulk_max.
    void lookup_bulk(const conn_key** keys, uint32_t n, int32_t* positions) const noexcept;
    int32_t lookup(const conn_key& key) const noexcept;

    // Adds `key` (not present) and returns its entry index, or -1 when the table is full.
    int32_t insert(const conn_key& key) noexcept;
    void erase(uint32_t index) noexcept;

    conn& at(uint32_t index) noexcept { return m_conns[index]; }
    const conn& at(uint32_t index) const noexcept { return m_conns[index]; }

    // For tests and benchmarks: bytes of memory per connection slot, everything included.
    static uint64_t bytes_per_entry_estimate() noexcept;

private:
    rte_hash* m_hash = nullptr;
    conn* m_conns = nullptr;
    uint32_t m_capacity = 0;
    uint32_t m_size = 0;
};

} // namespace ulvs::dp
