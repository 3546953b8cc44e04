#include "ulvs/control/health/state.h"

#include <algorithm>

namespace ulvs::ctl::health {

namespace {
uint64_t ms(std::chrono::milliseconds d) {
    return static_cast<uint64_t>(d.count());
}
} // namespace

check_fsm::check_fsm(const config::health_check_cfg& c, bool start_up, uint64_t now,
                     uint64_t first_in)
    : m_delay_loop(ms(c.delay_loop)), m_delay_before_retry(ms(c.delay_before_retry)),
      m_retry(c.retry), m_up(start_up), m_due(now + first_in) {}

bool check_fsm::on_result(bool ok, uint64_t now) {
    if (ok) {
        const bool changed = !m_up;
        m_up = true;
        m_retries_done = 0;
        m_failures = 0;
        // Fixed rate from the previous due time, not from when the answer came: probes that a
        // stall of the loop made start together would otherwise stay together every round
        // after, and 1,000 servers would collapse into a few bursts.
        m_due = std::max(m_due + m_delay_loop, now);
        return changed;
    }
    ++m_failures;
    // Only an up checker is retried (keepalived: "retry ... only when RS is up"): a down one
    // is just probed again next round.
    if (m_up && m_retries_done < m_retry) {
        ++m_retries_done;
        m_due = now + m_delay_before_retry;
        return false;
    }
    const bool changed = m_up;
    m_up = false;
    m_retries_done = 0;
    m_due = now + m_delay_loop;
    return changed;
}

bool quorum_state::update(uint64_t sum, const config::vs_health_cfg& h) {
    const uint64_t q = h.quorum, hy = h.hysteresis;
    if (up && (sum == 0 || sum + hy < q)) { // sum < quorum - hysteresis, without underflow
        up = false;
        return true;
    }
    if (!up && sum != 0 && sum >= q + hy) {
        up = true;
        return true;
    }
    return false;
}

} // namespace ulvs::ctl::health
