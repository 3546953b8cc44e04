// Health checks and the kernel exception path, wired into the daemon's control loop.
#pragma once

#include "ulvs/control/control_loop.h"
#include "ulvs/control/exception/kernel_tap.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/mgmt/manager.h"

#include <memory>

namespace ulvs::app {

struct health_runtime {
    health_runtime(); // raises the fd limit for the probes' sockets
    ctl::health::checker checker;
    std::unique_ptr<ctl::kernel_taps> taps;
    bool taps_failed = false;

    // The control loop's priority work (control_loop.h on_timers): the kernel's frames to the
    // ports.
    unsigned poll_taps(ctl::control_env& env);
    // A best-effort task: open the TAPs when a health check first needs the kernel (a config
    // without checks leaves the host's interfaces alone, e.g. pcap-driven test runs), run the
    // probes, republish when health changed.
    unsigned poll_checks(ctl::control_env& env, mgmt::manager& mgr, uint64_t now_ms);
};

} // namespace ulvs::app
