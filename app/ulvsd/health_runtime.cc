#include "health_runtime.h"

#include <rte_cycles.h>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

namespace ulvs::app {

namespace {

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
    if (!taps && !taps_failed) {
        std::vector<std::array<uint8_t, 6>> macs;
        for (const ctl::port_addrs& p : env.addrs)
            macs.push_back(p.mac);
        auto t = ctl::kernel_taps::create(std::move(macs));
        if (t) {
            taps = std::move(*t);
            env.taps = taps.get();
        } else {
            taps_failed = true;
            spdlog::error("kernel exception path: {} (health checks will fail)", t.error());
        }
    }
    if (taps) {
        // Before the probes of this pass: a check of the new config finds its route in place.
        if (checker.generation() != taps_generation) {
            taps_generation = checker.generation();
            vrrp_changed(); // transitions before the TAPs existed
            taps->sync(mgr.running());
        }
        work += taps->poll(now); // netlink acks (rtnl.h)
    }
    work += checker.poll(clock_us());
    if (checker.take_changed())
        mgr.republish(now);
    return work;
}

std::vector<mgmt::control_counter> health_runtime::counters() const {
    if (!taps)
        return {};
    const ctl::kernel_tap_counters& c = taps->counters();
    return {
        {"exception_to_kernel_packets", "Packets given to the kernel through the TAPs.",
         c.to_kernel},
        {"exception_check_replies", "Of those: replies to the appliance's own health checks.",
         c.check_replies},
        {"exception_allowed_packets", "Of those: let in by exception_path.allow.", c.allowed},
        {"exception_refused_packets",
         "Packets for the appliance the exception path refused (not a check reply, not "
         "allowed): dropped.",
         c.refused},
        {"exception_to_kernel_dropped_packets",
         "Packets for the kernel dropped: TAP queue full, or no TAP on the port.",
         c.to_kernel_dropped},
        {"exception_from_kernel_packets", "Frames the kernel sent through the TAPs.",
         c.from_kernel},
        {"exception_from_kernel_dropped_packets", "Frames from the kernel dropped: no mbuf.",
         c.from_kernel_dropped},
        {"exception_flows_full", "Health-check flows not tracked: the flow table was full.",
         taps->filter().flows_full()},
        {"exception_netlink_failures", "TAP set-up requests the kernel refused.",
         taps->netlink_failures()},
    };
}

} // namespace ulvs::app
