// Lazy expiry for a bounded set of entries (connections) without scanning the table.
//
// Each entry sits in at most one slot. The data path never touches the wheel when a connection is
// refreshed: it only moves the entry's deadline forward. When the entry's slot comes due, the
// callback compares the stored deadline with now and either expires the entry or gives a new
// deadline, and the entry is filed again. So a busy connection costs one wheel visit per timeout
// period, not one per packet. Deadlines beyond the wheel's horizon are filed in the farthest slot
// and simply re-filed when it comes due.
//
// A deadline that moves *earlier* (a TCP state change to a shorter timeout: ESTABLISHED 15 min ->
// FIN_WAIT 2 min) cannot wait for the old slot: advance_to() re-files the entry then. That is why
// the slot lists are doubly linked and each entry remembers its tick: unlinking is O(1), and it
// happens only on such state changes, never per packet.
//
// Memory: 12 bytes per entry (two links and the filed tick) plus one head per slot, all allocated
// in the constructor. Thread safety: single-threaded (the owning worker).
#pragma once

#include <cstdint>
#include <vector>

namespace ulvs::dp {

class timer_wheel {
public:
    static constexpr uint32_t nil = UINT32_MAX;
    static constexpr uint64_t bytes_per_entry = 3 * sizeof(uint32_t); // next, prev, tick

    // `n_entries` entry ids 0..n_entries-1; `n_slots` a power of two; `tick_ms` slot width.
    timer_wheel(uint32_t n_entries, uint32_t n_slots, uint32_t tick_ms, uint64_t now_ms);

    // File `entry` (not currently filed) to come due at `deadline_ms` (rounded up to a tick).
    void schedule(uint32_t entry, uint64_t deadline_ms) noexcept;

    // `entry` (filed) must come due no later than `deadline_ms`: re-file it if its slot is later.
    void advance_to(uint32_t entry, uint64_t deadline_ms) noexcept;

    // Take `entry` out of the wheel, e.g. when its connection ends before its deadline. A no-op
    // for an entry not filed: unlinking one would cut its slot's list at a stale position and
    // lose every entry after it (they would never expire).
    void cancel(uint32_t entry) noexcept {
        if (is_filed(entry))
            unlink(entry);
    }

    // Whether `entry` is in a slot. An entry is filed iff it has a predecessor or heads the slot
    // of the tick it was last filed at (unlink clears both links, and an unfiled entry cannot
    // head a slot: heads are only set by schedule and unlink).
    bool is_filed(uint32_t entry) const noexcept {
        return m_prev[entry] != nil || m_heads[m_tick[entry] & m_mask] == entry;
    }

    // Visit due slots up to `now_ms`, calling `on_due(entry)` for each filed entry, at most
    // `budget` entries per call (the rest stay for the next call, so a burst of expiries cannot
    // stall the worker). on_due returns 0 when the entry is finished, or the entry's next deadline
    // in ms to re-file it. Returns the number of entries visited.
    template <class F> uint32_t advance(uint64_t now_ms, uint32_t budget, F&& on_due) noexcept;

    uint32_t filed() const noexcept { return m_filed; }
    uint32_t tick_ms() const noexcept { return m_tick_ms; }
    uint64_t memory_bytes() const noexcept {
        return (m_next.size() + m_prev.size() + m_tick.size() + m_heads.size()) * sizeof(uint32_t);
    }

private:
    uint64_t tick_of(uint64_t ms) const noexcept { return (ms + m_tick_ms - 1) / m_tick_ms; }
    uint64_t clamp_tick(uint64_t tick) const noexcept;
    void unlink(uint32_t entry) noexcept;

    std::vector<uint32_t> m_next;  // per entry: next entry in the same slot
    std::vector<uint32_t> m_prev;  // per entry: previous entry, nil for a slot's head
    std::vector<uint32_t> m_tick;  // per entry: the tick it is filed at (low 32 bits)
    std::vector<uint32_t> m_heads; // per slot: first entry
    uint32_t m_mask;
    uint32_t m_tick_ms;
    uint64_t m_cur_tick; // next tick to process; all slots before it are empty
    uint32_t m_filed = 0;
};

template <class F>
uint32_t timer_wheel::advance(uint64_t now_ms, uint32_t budget, F&& on_due) noexcept {
    uint32_t visited = 0;
    const uint64_t now_tick = now_ms / m_tick_ms;
    while (m_cur_tick <= now_tick && visited < budget) {
        uint32_t& head = m_heads[m_cur_tick & m_mask];
        while (head != nil && visited < budget) {
            const uint32_t e = head;
            unlink(e);
            ++visited;
            const uint64_t again = on_due(e);
            if (again != 0)
                schedule(e, again > now_ms ? again : now_ms + 1);
        }
        if (head != nil)
            break; // budget exhausted inside this slot: resume here next call
        ++m_cur_tick;
    }
    return visited;
}

} // namespace ulvs::dp
