// Running the appliance: EAL, ports, the three planes wired together, clean stop.
#pragma once

#include "options.h"
#include "ulvs/config/config.h"

namespace ulvs::app {

// Returns the process exit code: 0 clean stop, 1 runtime failure.
// `config_sha256`: of the file `cfg` was loaded from, for the metrics.
int run_daemon(const options& opts, const config::config& cfg, const std::string& config_sha256);

} // namespace ulvs::app
