// Health checks and the kernel exception path, wired into the daemon's control loop.
#pragma once

#include "ulvs/control/control_loop.h"
#include "ulvs/control/exception/kernel_tap.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/mgmt/manager.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ulvs::app {

struct health_runtime {
    health_runtime(); // raises the fd limit for the probes' sockets
    ctl::health::checker checker;
    std::unique_ptr<ctl::kernel_taps> taps;
    bool taps_failed = false;
    uint64_t taps_generation = 0; // the checker's generation the TAPs follow (checker.h)

    // The VRRP instances MASTER now (names): the host view's VIPs follow them (kernel_tap.h).
    std::function<std::vector<std::string>()> vrrp_masters;
    // A VRRP transition: the TAPs' VIPs follow (netlink requests queued, never waited for).
    void vrrp_changed() {
        if (taps && vrrp_masters)
            taps->set_vrrp_masters(vrrp_masters());
    }

    // The control loop's priority work (control_loop.h on_timers): the kernel's frames to the
    // ports.
    unsigned poll_taps(ctl::control_env& env);
    // A best-effort task: bring the exception path to the running config when a new one was
    // committed (the checker's generation moved: TAPs of ports that now need one, addresses,
    // routes, filter; kernel_tap.h), read netlink's answers, run the probes, republish when
    // health changed.
    unsigned poll_checks(ctl::control_env& env, mgmt::manager& mgr, uint64_t now_ms);
    // The exception path's counters for `ulvsadm status` and /metrics.
    std::vector<mgmt::control_counter> counters() const;
};

} // namespace ulvs::app
