// lcores.idle: adaptive (config.h idle_mode). A worker that found nothing to do in spin_polls
// polls in a row starts sleeping between polls: min_sleep_us first, doubling after every poll
// that finds nothing, up to max_sleep_us, well under a millisecond so that the first packet after
// a quiet spell waits at most that long (plus the kernel's wake-up). Any work brings it back to
// polling without pause, so no syscall is made while packets flow. With lcores.idle: poll (the
// default) the worker never sleeps.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ulvs::dp {

class idle_backoff {
public:
    // ~1024 empty polls: about 100 us of spinning on a virtual device, far less on a NIC.
    static constexpr uint32_t spin_polls = 1024;
    static constexpr uint32_t min_sleep_us = 10;
    // 200 us gave 10.3% of a core for an idle ulvsd on a quiet 2-core machine (CI, issue 16
    // acceptance 3 asks under 10%): each wake-up costs tens of microseconds of polling.
    static constexpr uint32_t max_sleep_us = 500;

    // A poll that found work: spin again.
    void busy() noexcept {
        m_empty = 0;
        m_sleep_us = 0;
    }
    // A poll that found nothing: how long to sleep now, in microseconds (0: poll again at once).
    uint32_t idle() noexcept {
        if (m_empty < spin_polls) {
            ++m_empty;
            return 0;
        }
        m_sleep_us = m_sleep_us == 0 ? min_sleep_us : std::min(m_sleep_us * 2, max_sleep_us);
        return m_sleep_us;
    }

private:
    uint32_t m_empty = 0;
    uint32_t m_sleep_us = 0;
};

} // namespace ulvs::dp
