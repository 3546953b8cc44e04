#include "ulvs/dataplane/conn/timer_wheel.h"

#include <cassert>

namespace ulvs::dp {

timer_wheel::timer_wheel(uint32_t n_entries, uint32_t n_slots, uint32_t tick_ms, uint64_t now_ms)
    : m_next(n_entries, nil), m_prev(n_entries, nil), m_tick(n_entries, 0), m_heads(n_slots, nil),
      m_mask(n_slots - 1), m_tick_ms(tick_ms ? tick_ms : 1), m_cur_tick(now_ms / m_tick_ms) {
    assert(n_slots != 0 && (n_slots & (n_slots - 1)) == 0);
}

uint64_t timer_wheel::clamp_tick(uint64_t tick) const noexcept {
    // A deadline already past goes into the next slot to be processed; one beyond the horizon
    // into the farthest slot, whose visit re-files it (the callback returns its real deadline).
    // The farthest slot is m_cur_tick + n_slots - 1, never m_cur_tick + n_slots: that one shares
    // its slot with m_cur_tick and would be visited a whole revolution early.
    const uint64_t last = m_cur_tick + m_mask;
    return tick < m_cur_tick ? m_cur_tick : tick > last ? last : tick;
}

void timer_wheel::schedule(uint32_t entry, uint64_t deadline_ms) noexcept {
    assert(entry < m_next.size() && !is_filed(entry));
    const uint64_t tick = clamp_tick(tick_of(deadline_ms));
    uint32_t& head = m_heads[tick & m_mask];
    m_prev[entry] = nil;
    m_next[entry] = head;
    if (head != nil)
        m_prev[head] = entry;
    head = entry;
    m_tick[entry] = static_cast<uint32_t>(tick);
    ++m_filed;
}

void timer_wheel::advance_to(uint32_t entry, uint64_t deadline_ms) noexcept {
    const uint64_t tick = clamp_tick(tick_of(deadline_ms));
    // Ticks within one horizon of m_cur_tick compare correctly on their low 32 bits.
    if (static_cast<uint32_t>(tick - m_cur_tick) >=
        static_cast<uint32_t>(m_tick[entry] - static_cast<uint32_t>(m_cur_tick)))
        return; // already due no later than that
    unlink(entry);
    schedule(entry, deadline_ms);
}

void timer_wheel::unlink(uint32_t entry) noexcept {
    assert(is_filed(entry));
    const uint32_t next = m_next[entry], prev = m_prev[entry];
    if (prev == nil)
        m_heads[m_tick[entry] & m_mask] = next;
    else
        m_next[prev] = next;
    if (next != nil)
        m_prev[next] = prev;
    m_next[entry] = m_prev[entry] = nil;
    --m_filed;
}

} // namespace ulvs::dp
