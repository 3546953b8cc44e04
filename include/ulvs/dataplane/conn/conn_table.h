// Per-worker connection table: an rte_hash from a 5-tuple to (entry index, direction), and a
// preallocated pool of connection entries with a free list.
//
// A NAT connection is found from both sides, so it has two keys: the client's packet as it
// arrives (client -> VIP:vport) and the real server's reply as it arrives (RIP:rport -> client).
// DR and TUN connections never see replies and have one key. The hash is sized for two keys per
// entry so a table full of NAT connections still fits.
//
// Bounded on purpose: capacity is connections.max, allocated at start. An insert into a full table
// fails; the caller drops that new connection's first packet and counts it, so a SYN flood can
// never slow down or evict established flows. The hash has extendable buckets so an insert fails
// only when the table is really full, not on a cuckoo-path dead end.
//
// Thread safety: owned by one worker; no locks, no concurrent readers.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/dataplane/conn/tcp_state.h"

#include <cstdint>
#include <vector>

struct rte_hash;

namespace ulvs::dp {

// Hash key: a 5-tuple as seen on the wire (network byte order).
struct conn_key {
    uint32_t src_ip;
    uint32_t dst_ip;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t proto;
    uint8_t pad[3]; // zeroed: hashed and compared as bytes
};
static_assert(sizeof(conn_key) == 16);

namespace conn_flag {
// Counted in its real server's ActiveConn (else InActConn): IPVS' !IP_VS_CONN_F_INACTIVE.
constexpr uint8_t active = 0x01;
} // namespace conn_flag

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
    uint8_t flags;    // conn_flag::*
    uint32_t tun_src; // TUN outer source address (network order)
};
static_assert(sizeof(conn) == 64);

// The reply 5-tuple of a NAT connection: RIP:rport -> client.
inline conn_key reply_key(const conn& c) noexcept {
    return conn_key{c.dest_ip, c.key.src_ip, c.dest_port, c.key.src_port, c.key.proto, {0, 0, 0}};
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
    static constexpr uint32_t lookup_bulk_max = 64; // RTE_HASH_LOOKUP_BULK_MAX

    // Creates the hash (`name` must be unique in the process) on `socket`. ok() tells success.
    conn_table(const char* name, uint32_t capacity, int socket) noexcept;
    ~conn_table();
    conn_table(const conn_table&) = delete;
    conn_table& operator=(const conn_table&) = delete;

    bool ok() const noexcept { return m_hash != nullptr && m_conns != nullptr; }
    uint32_t capacity() const noexcept { return m_capacity; }
    uint32_t size() const noexcept { return m_capacity - m_free_top; }

    // refs[i] for keys[i]; n <= lookup_bulk_max.
    void lookup_bulk(const conn_key** keys, uint32_t n, conn_ref* refs) const noexcept;
    conn_ref lookup(const conn_key& key) const noexcept;

    // A new entry for `key` (not present), also reachable by its reply key when `with_reply`
    // (the caller fills dest_ip/dest_port first through `prepare`). Returns the entry index or
    // conn_ref::none when the table is full.
    uint32_t insert(const conn_key& key, const conn& init, bool with_reply) noexcept;
    // Remove entry `index` and its keys; the index returns to the pool.
    void erase(uint32_t index) noexcept;

    conn& at(uint32_t index) noexcept { return m_conns[index]; }
    const conn& at(uint32_t index) const noexcept { return m_conns[index]; }

    // Bytes of memory per connection slot, everything included (issue 4's budget).
    static uint64_t bytes_per_entry_estimate() noexcept;

private:
    rte_hash* m_hash = nullptr;
    conn* m_conns = nullptr;
    std::vector<uint32_t> m_free; // stack of free entry indices
    uint32_t m_free_top = 0;      // number of free indices on the stack
    uint32_t m_capacity = 0;
};

} // namespace ulvs::dp
