// Running the appliance: EAL, ports, the three planes wired together, clean stop.
#pragma once

#include "options.h"
#include "ulvs/config/config.h"

namespace ulvs::app {

// Returns the process exit code: 0 clean stop, 1 runtime failure.
int run_daemon(const options& opts, const config::config& cfg);

} // namespace ulvs::app
