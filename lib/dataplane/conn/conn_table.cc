#include "ulvs/dataplane/conn/conn_table.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

namespace ulvs::dp {

namespace {

// Hash data: entry index in the low 32 bits, bit 32 set for a reply key.
constexpr uint64_t reply_bit = uint64_t{1} << 32;

void* encode(uint32_t index, bool reply) {
    return reinterpret_cast<void*>(uint64_t{index} | (reply ? reply_bit : 0));
}

conn_ref decode(void* data) {
    const auto v = reinterpret_cast<uint64_t>(data);
    return conn_ref{static_cast<uint32_t>(v), (v & reply_bit) != 0};
}

} // namespace

conn_table::conn_table(const char* name, uint32_t capacity, int socket) noexcept
    : m_free(capacity), m_capacity(capacity) {
    rte_hash_parameters p{};
    p.name = name;
    p.entries = capacity * 2; // room for a reply key per connection (NAT)
    p.key_len = sizeof(conn_key);
    p.hash_func = rte_hash_crc; // SSE4.2 CRC32: a few cycles for 16 bytes
    p.hash_func_init_val = 0;
    p.socket_id = socket;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    m_hash = rte_hash_create(&p);
    m_conns = static_cast<conn*>(
        rte_zmalloc_socket(name, sizeof(conn) * size_t{capacity}, alignof(conn), socket));
    // Hand out low indices first: recently freed entries are reused while still cached.
    for (uint32_t i = 0; i < capacity; ++i)
        m_free[i] = capacity - 1 - i;
    m_free_top = capacity;
}

conn_table::~conn_table() {
    rte_hash_free(m_hash);
    rte_free(m_conns);
}

void conn_table::lookup_bulk(const conn_key** keys, uint32_t n, conn_ref* refs) const noexcept {
    void* data[lookup_bulk_max];
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(m_hash, reinterpret_cast<const void**>(keys), n, &hits, data);
    for (uint32_t i = 0; i < n; ++i)
        refs[i] = (hits >> i) & 1 ? decode(data[i]) : conn_ref{};
}

conn_ref conn_table::lookup(const conn_key& key) const noexcept {
    void* data = nullptr;
    return rte_hash_lookup_data(m_hash, &key, &data) < 0 ? conn_ref{} : decode(data);
}

uint32_t conn_table::insert(const conn_key& key, const conn& init, bool with_reply) noexcept {
    if (m_free_top == 0)
        return conn_ref::none;
    const uint32_t idx = m_free[m_free_top - 1];
    conn& c = m_conns[idx];
    c = init;
    c.key = key;
    if (rte_hash_add_key_data(m_hash, &key, encode(idx, false)) < 0)
        return conn_ref::none;
    if (with_reply) {
        const conn_key rk = reply_key(c);
        if (rte_hash_add_key_data(m_hash, &rk, encode(idx, true)) < 0) {
            rte_hash_del_key(m_hash, &key);
            return conn_ref::none;
        }
    }
    --m_free_top;
    return idx;
}

void conn_table::erase(uint32_t index) noexcept {
    const conn& c = m_conns[index];
    rte_hash_del_key(m_hash, &c.key);
    if (c.mode == fwd_mode::nat) {
        const conn_key rk = reply_key(c);
        rte_hash_del_key(m_hash, &rk);
    }
    m_free[m_free_top++] = index;
}

uint64_t conn_table::bytes_per_entry_estimate() noexcept {
    // Entry + two rte_hash key slots (key + data pointer) and their bucket share (8 entries per
    // 64 B bucket) + the free-list slot + the timer wheel's 12 bytes.
    return sizeof(conn) + 2 * (sizeof(conn_key) + sizeof(void*) + 64 / 8) + sizeof(uint32_t) + 12;
}

} // namespace ulvs::dp
