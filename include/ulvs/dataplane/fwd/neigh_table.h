// Next-hop MAC addresses, shared between the control lcore (the only writer) and the workers.
//
// Each slot is one 64-bit word: MAC in the low 48 bits, bit 48 = valid. A single atomic store
// publishes a complete MAC, so workers never see half an address and never lock. Slot numbers are
// handed out by the control plane (control/neigh) and stay fixed for the life of the process, so a
// connection can keep its slot even after its real server leaves the configuration.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

namespace ulvs::dp {

class neigh_table {
public:
    static constexpr uint64_t valid_bit = uint64_t{1} << 48;

    static constexpr uint32_t no_slot = UINT32_MAX;

    explicit neigh_table(uint32_t capacity)
        : m_slots(std::make_unique<std::atomic<uint64_t>[]>(capacity)), m_capacity(capacity) {
        m_index_size = 16;
        while (m_index_size < capacity * 2) // at most half full: short probes
            m_index_size *= 2;
        m_keys = std::make_unique<std::atomic<uint32_t>[]>(m_index_size);
        m_vals = std::make_unique<uint32_t[]>(m_index_size);
    }

    // Host index: next-hop IPv4 (network order, never 0) -> slot, for the hosts the data path
    // meets by routing. Single writer (control lcore), lock-free readers: the value is written
    // before the key is published with release, readers acquire the key. Never shrinks.
    uint32_t find(uint32_t ip) const noexcept {
        for (uint32_t i = mix(ip);; i = (i + 1) & (m_index_size - 1)) {
            const uint32_t k = m_keys[i].load(std::memory_order_acquire);
            if (k == ip)
                return m_vals[i];
            if (k == 0)
                return no_slot;
        }
    }
    void index(uint32_t ip, uint32_t slot) noexcept {
        for (uint32_t i = mix(ip);; i = (i + 1) & (m_index_size - 1)) {
            const uint32_t k = m_keys[i].load(std::memory_order_relaxed);
            if (k == ip)
                return;
            if (k == 0) {
                m_vals[i] = slot;
                m_keys[i].store(ip, std::memory_order_release);
                return;
            }
        }
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
    uint32_t mix(uint32_t ip) const noexcept { return (ip * 0x9e3779b1u) & (m_index_size - 1); }

    std::unique_ptr<std::atomic<uint64_t>[]> m_slots;
    uint32_t m_capacity;
    std::unique_ptr<std::atomic<uint32_t>[]> m_keys; // host index
    std::unique_ptr<uint32_t[]> m_vals;
    uint32_t m_index_size;
};

} // namespace ulvs::dp
