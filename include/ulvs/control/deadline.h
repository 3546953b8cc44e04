// A slice of the control lcore's time. The control loop (control_loop.h) serves its priority
// work (ARP, VRRP adverts and timers, the exception path) before and after every best-effort
// task (management, metrics, health checks, snapshot builds, neighbour rounds), and gives each
// task a deadline: a task that checks it and stops there, leaving the rest for its next turn,
// delays the priority work by at most one slice. Monotonic clock (vDSO, no EAL needed, so unit
// tests use it as the daemon does).
#pragma once

#include <cstdint>
#include <ctime>
#include <limits>

namespace ulvs::ctl {

// Nanoseconds of CLOCK_MONOTONIC.
inline uint64_t mono_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class deadline {
public:
    // `us` microseconds from now.
    static deadline after_us(uint64_t us) noexcept { return deadline{mono_ns() + us * 1000}; }
    // Never passes (tests, and callers outside the control loop).
    static deadline none() noexcept { return deadline{std::numeric_limits<uint64_t>::max()}; }

    bool passed() const noexcept { return mono_ns() >= m_end_ns; }
    // Microseconds left, 0 once passed.
    uint64_t left_us() const noexcept {
        const uint64_t now = mono_ns();
        return now >= m_end_ns ? 0 : (m_end_ns - now) / 1000;
    }

private:
    explicit deadline(uint64_t end_ns) noexcept : m_end_ns(end_ns) {}
    uint64_t m_end_ns;
};

} // namespace ulvs::ctl
