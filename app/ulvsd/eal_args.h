// The EAL command line ulvsd passes to rte_eal_init, derived from the config.
#pragma once

#include "ulvs/config/config.h"

#include <string>
#include <vector>

namespace ulvs::app {

// `base` (dpdk.eal_args or the arguments after "--"), plus what the config implies unless the
// user already said it: the lcore list and main lcore from `lcores`, one --vdev per vdev port and
// one -a per PCI port, and a quieter EAL log level.
std::vector<std::string> build_eal_args(const config::config& cfg,
                                        const std::vector<std::string>& base);

} // namespace ulvs::app
