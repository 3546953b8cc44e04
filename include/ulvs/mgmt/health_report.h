// `ulvsadm health`: every real server's checks and state, quorum per virtual server, and how late
// probes started since the previous request.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/mgmt/protocol.h"

namespace ulvs::mgmt {

// `health`: null when the daemon runs no checks (every server counts as up).
json health_report(ctl::health::checker* health, const config::config& running);

} // namespace ulvs::mgmt
