#include "health_runtime.h"

#include <rte_cycles.h>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

namespace ulvs::app {

namespace {

bool has_checks(const config::config& c) {
    for (const auto& vs : c.virtual_servers) {
        if (vs.health.check)
            return true;
        for (const auto& rs : vs.real_servers)
            if (rs.health.check)
                return true;
    }
    return false;
}

uint64_t clock_us() {
    static const uint64_t cycles_per_us = rte_get_tsc_hz() / 1000000;
    return rte_get_tsc_cycles() / cycles_per_us;
}

} // namespace

health_runtime::health_runtime() {
    // A probe holds a socket while it runs: 1,000 servers whose checks all hang would hold
    // 1,000 fds at once, past the usual soft limit of 1024 with the daemon's own.
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        setrlimit(RLIMIT_NOFILE, &l);
    }
}

unsigned health_runtime::poll_taps(ctl::control_env& env) {
    if (!taps)
        return 0;
    return taps->from_kernel(
        env.pool, [&env](uint8_t port, rte_mbuf* m) { ctl::control_transmit(env, port, m); });
}

unsigned health_runtime::poll_checks(ctl::control_env& env, mgmt::manager& mgr, uint64_t now) {
    unsigned work = 0;
    if (!taps && !taps_failed && has_checks(mgr.running())) {
        // Start-up cost (a few `ip` runs, milliseconds), once per daemon.
        auto t = ctl::kernel_taps::open(mgr.running(), env.addrs);
        if (t) {
            taps = std::move(*t);
            env.taps = taps.get();
            std::string names;
            for (const auto& n : taps->names())
                names += " " + n;
            spdlog::info("kernel exception path: TAP interfaces{}", names);
        } else {
            taps_failed = true;
            spdlog::error("kernel exception path: {} (health checks will fail)", t.error());
        }
    }
    work += checker.poll(clock_us());
    if (checker.take_changed())
        mgr.republish(now);
    return work;
}

} // namespace ulvs::app
