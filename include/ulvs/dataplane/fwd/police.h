// Policing of the traffic workers hand to the control lcore (issue 12): one token bucket per
// class and worker, refilled from the worker's own clock (the `now_ms` of its burst, injected by
// tests), so no state is shared between cores and no packet pays more than a compare, a multiply
// and a subtraction. The configured rate and depth (config `control_policing`) are split evenly
// across the workers by the snapshot builder: RSS spreads the sources, and the sum over the
// workers never exceeds what the control lcore was sized for.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ulvs::dp {

// One worker's share of a policer: `rate` packets/s, `burst` packets of depth. rate 0: unlimited.
struct police_rate {
    uint32_t rate = 0;
    uint32_t burst = 0;
};

// Tokens are kept in thousandths of a packet: a rate of r packets/s is then exactly r
// thousandths per millisecond, with no division on the packet path.
class token_bucket {
public:
    // True when a packet may pass at `now_ms` (and takes its token). A bucket starts full.
    bool take(uint64_t now_ms, const police_rate& p) noexcept {
        if (p.rate == 0)
            return true;
        const uint64_t cap = uint64_t{p.burst} * 1000;
        m_milli = std::min(m_milli, cap); // full at first use; a reload may lower the depth
        if (now_ms > m_last_ms) {
            const uint64_t dt = now_ms - m_last_ms;
            // A long idle time fills the bucket; bounding dt keeps the product far from overflow.
            m_milli = dt >= cap ? cap : std::min(cap, m_milli + dt * p.rate);
            m_last_ms = now_ms;
        }
        if (m_milli < 1000)
            return false;
        m_milli -= 1000;
        return true;
    }

private:
    uint64_t m_milli = UINT64_MAX;
    uint64_t m_last_ms = 0;
};

} // namespace ulvs::dp
