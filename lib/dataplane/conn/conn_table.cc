#include "ulvs/dataplane/conn/conn_table.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

namespace ulvs::dp {

conn_table::conn_table(const char* name, uint32_t capacity, int socket) noexcept
    : m_capacity(capacity) {
    rte_hash_parameters p{};
    p.name = name;
    p.entries = capacity;
    p.key_len = sizeof(conn_key);
    p.hash_func = rte_hash_crc; // SSE4.2 CRC32: a few cycles for 16 bytes
    p.hash_func_init_val = 0;
    p.socket_id = socket;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    m_hash = rte_hash_create(&p);
    // rte_hash positions run to capacity - 1; allocate one entry per position.
    m_conns = static_cast<conn*>(
        rte_zmalloc_socket(name, sizeof(conn) * size_t{capacity}, alignof(conn), socket));
}

conn_table::~conn_table() {
    rte_hash_free(m_hash);
    rte_free(m_conns);
}

void conn_table::lookup_bulk(const conn_key** keys, uint32_t n, int32_t* positions) const noexcept {
    rte_hash_lookup_bulk(m_hash, reinterpret_cast<const void**>(keys), n, positions);
    for (uint32_t i = 0; i < n; ++i)
        if (positions[i] < 0)
            positions[i] = -1;
}

int32_t conn_table::lookup(const conn_key& key) const noexcept {
    int32_t r = rte_hash_lookup(m_hash, &key);
    return r < 0 ? -1 : r;
}

int32_t conn_table::insert(const conn_key& key) noexcept {
    int32_t r = rte_hash_add_key(m_hash, &key);
    if (r < 0 || static_cast<uint32_t>(r) >= m_capacity)
        return -1;
    ++m_size;
    m_conns[r].key = key;
    return r;
}

void conn_table::erase(uint32_t index) noexcept {
    if (rte_hash_del_key(m_hash, &m_conns[index].key) >= 0)
        --m_size;
}

uint64_t conn_table::bytes_per_entry_estimate() noexcept {
    // Entry + rte_hash key slot (key + data pointer) + bucket share (8 signatures/keys per 64 B
    // bucket, primary table sized to the next power of two) + the timer-wheel link.
    return sizeof(conn) + sizeof(conn_key) + sizeof(void*) + 64 / 8 + sizeof(uint32_t);
}

} // namespace ulvs::dp
