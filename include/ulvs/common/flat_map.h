// A read-mostly open-addressing hash map from a 64-bit key to a 32-bit value, built once by the
// control plane and then only read (by workers, inside a snapshot). Linear probing over a
// power-of-two array kept at most half full, so a lookup is one or two cache lines.
// Not thread-safe for writes; concurrent reads of a map nobody writes are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ulvs {

class flat_map {
public:
    explicit flat_map(size_t expected = 0) { rehash(expected); }

    void insert(uint64_t key, uint32_t value) {
        if ((m_size + 1) * 2 > m_slots.size())
            rehash(m_slots.size());
        slot& s = find_slot(key);
        if (!s.used) {
            ++m_size;
            s.used = true;
            s.key = key;
        }
        s.value = value;
    }

    std::optional<uint32_t> find(uint64_t key) const noexcept {
        const size_t mask = m_slots.size() - 1;
        for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
            const slot& s = m_slots[i];
            if (!s.used)
                return std::nullopt;
            if (s.key == key)
                return s.value;
        }
    }

    size_t size() const noexcept { return m_size; }

private:
    struct slot {
        uint64_t key = 0;
        uint32_t value = 0;
        bool used = false;
    };

    static uint64_t mix(uint64_t k) noexcept { // murmur3 finaliser: cheap and spreads all bits
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return k;
    }

    slot& find_slot(uint64_t key) {
        const size_t mask = m_slots.size() - 1;
        for (size_t i = mix(key) & mask;; i = (i + 1) & mask)
            if (!m_slots[i].used || m_slots[i].key == key)
                return m_slots[i];
    }

    void rehash(size_t want) {
        size_t n = 8;
        while (n < want * 2)
            n *= 2;
        std::vector<slot> old = std::move(m_slots);
        m_slots.assign(n, slot{});
        m_size = 0;
        for (const slot& s : old)
            if (s.used)
                insert(s.key, s.value);
    }

    std::vector<slot> m_slots;
    size_t m_size = 0;
};

} // namespace ulvs
