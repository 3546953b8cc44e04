#include "ulvs/dataplane/conn/timer_wheel.h"

#include <cassert>

namespace ulvs::dp {

timer_wheel::timer_wheel(uint32_t n_entries, uint32_t n_slots, uint32_t tick_ms, uint64_t now_ms)
    : m_next(n_entries, nil), m_heads(n_slots, nil), m_mask(n_slots - 1),
      m_tick_ms(tick_ms ? tick_ms : 1), m_cur_tick(now_ms / m_tick_ms) {
    assert(n_slots != 0 && (n_slots & (n_slots - 1)) == 0);
}

void timer_wheel::schedule(uint32_t entry, uint64_t deadline_ms) noexcept {
    assert(entry < m_next.size()); // and not filed: the caller knows, a nil link cannot tell
    uint64_t tick = tick_of(deadline_ms);
    // A deadline already past goes into the next slot to be processed; one beyond the horizon
    // into the farthest slot, whose visit re-files it (the callback returns its real deadline).
    // The farthest slot is m_cur_tick + n_slots - 1, never m_cur_tick + n_slots: that one shares
    // its slot with m_cur_tick and would be visited a whole revolution early.
    const uint64_t last = m_cur_tick + m_mask;
    if (tick < m_cur_tick)
        tick = m_cur_tick;
    else if (tick > last)
        tick = last;
    uint32_t& head = m_heads[tick & m_mask];
    m_next[entry] = head;
    head = entry;
    ++m_filed;
}

} // namespace ulvs::dp
