// Next-hop MAC addresses, shared between the control lcore (the only writer) and the workers.
//
// Each slot is one 64-bit word: MAC in the low 48 bits, bit 48 = valid. A single atomic store
// publishes a complete MAC, so workers never see half an address and never lock. Slot numbers are
// handed out by the control plane (control/neigh/neigh_manager.h), which also decides when a slot
// may serve another address: only when nothing a worker can reach names it any more (its rules
// are in that header). A slot number read by a worker is used within the same loop iteration or
// kept in a connection, whose real server's stats id holds the slot (stats_ids.h).
//
// The host index (next-hop address -> slot, for hosts the data path reaches by routing) is an
// open-addressing table that is never edited in place except to add keys: forgetting an address
// replaces the whole index (replace_index), and the caller frees the old one after an RCU grace
// period (every worker passed a quiescent state), so a worker always probes one consistent index.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

namespace ulvs::dp {

class neigh_table {
public:
    static constexpr uint64_t valid_bit = uint64_t{1} << 48;

    static constexpr uint32_t no_slot = UINT32_MAX;

    // One generation of the host index: keys are IPv4 (network order, never 0), 0 = empty.
    struct host_index {
        explicit host_index(uint32_t capacity) {
            size = 16;
            while (size < capacity * 2) // at most half full: short probes
                size *= 2;
            keys = std::make_unique<std::atomic<uint32_t>[]>(size);
            vals = std::make_unique<uint32_t[]>(size);
        }
        uint32_t size;
        std::unique_ptr<std::atomic<uint32_t>[]> keys;
        std::unique_ptr<uint32_t[]> vals;
    };

    explicit neigh_table(uint32_t capacity)
        : m_slots(std::make_unique<std::atomic<uint64_t>[]>(capacity)), m_capacity(capacity),
          m_owned(std::make_unique<host_index>(capacity)) {
        m_index.store(m_owned.get(), std::memory_order_release);
    }

    // Host index lookup (workers): slot of next hop `ip` (network order), or no_slot.
    uint32_t find(uint32_t ip) const noexcept {
        const host_index& x = *m_index.load(std::memory_order_acquire);
        for (uint32_t i = mix(ip, x.size);; i = (i + 1) & (x.size - 1)) {
            const uint32_t k = x.keys[i].load(std::memory_order_acquire);
            if (k == ip)
                return x.vals[i];
            if (k == 0)
                return no_slot;
        }
    }
    // Control side: add `ip` -> `slot` (no-op when `ip` is indexed). The value is written before
    // the key is published with release; readers acquire the key. At most `capacity` addresses
    // are indexed at once (the caller's slots), so an empty position always remains.
    void index(uint32_t ip, uint32_t slot) noexcept { put(*m_owned, ip, slot); }
    // Control side: a fresh index holding exactly `entries` (ip, slot), published at once. The
    // previous one is returned: free it only after an RCU grace period.
    std::unique_ptr<host_index>
    replace_index(std::span<const std::pair<uint32_t, uint32_t>> entries) {
        auto next = std::make_unique<host_index>(m_capacity);
        for (const auto& [ip, slot] : entries)
            put(*next, ip, slot);
        m_index.store(next.get(), std::memory_order_release);
        std::swap(next, m_owned);
        return next;
    }

    uint32_t capacity() const noexcept { return m_capacity; }

    // Worker side: copies the MAC into `mac` (6 bytes) and returns true when resolved.
    bool get(uint32_t slot, uint8_t* mac) const noexcept {
        uint64_t v = m_slots[slot].load(std::memory_order_relaxed);
        if (!(v & valid_bit))
            return false;
        for (int i = 0; i < 6; ++i)
            mac[i] = static_cast<uint8_t>(v >> (8 * (5 - i)));
        return true;
    }

    // Control side.
    void set(uint32_t slot, const uint8_t* mac) noexcept {
        uint64_t v = valid_bit;
        for (int i = 0; i < 6; ++i)
            v |= uint64_t{mac[i]} << (8 * (5 - i));
        m_slots[slot].store(v, std::memory_order_relaxed);
    }
    void clear(uint32_t slot) noexcept { m_slots[slot].store(0, std::memory_order_relaxed); }
    bool valid(uint32_t slot) const noexcept {
        return m_slots[slot].load(std::memory_order_relaxed) & valid_bit;
    }

private:
    static uint32_t mix(uint32_t ip, uint32_t size) noexcept {
        return (ip * 0x9e3779b1u) & (size - 1);
    }
    static void put(host_index& x, uint32_t ip, uint32_t slot) noexcept {
        for (uint32_t i = mix(ip, x.size);; i = (i + 1) & (x.size - 1)) {
            const uint32_t k = x.keys[i].load(std::memory_order_relaxed);
            if (k == ip)
                return;
            if (k == 0) {
                x.vals[i] = slot;
                x.keys[i].store(ip, std::memory_order_release);
                return;
            }
        }
    }

    std::unique_ptr<std::atomic<uint64_t>[]> m_slots;
    uint32_t m_capacity;
    std::unique_ptr<host_index> m_owned;    // the index workers read now
    std::atomic<const host_index*> m_index; // == m_owned, for the workers
};

} // namespace ulvs::dp
