// The health-check keys of virtual servers (quorum, hysteresis, alpha, sorry_server,
// health_check) and real servers (inhibit_on_failure, health_check, notify). Private to
// lib/config; the structs are in ulvs/config/health_cfg.h.
#pragma once

#include "draft.h"
#include "yaml_reader.h"

#include "ulvs/config/config.h"

namespace ulvs::config::detail {

void parse_vs_health(reader& r, const mapping& m, vs_health_cfg& out);
void parse_rs_health(reader& r, const mapping& m, rs_health_cfg& out);
// validate(): a sorry server must be reachable as the service's real servers are (DR: on a
// connected subnet; NAT/TUN: connected or routed), or its snapshot could not be built; a health
// check's `source` must be one of the ports' addresses.
void check_sorry_servers(reader& r, const draft& d, bool subnets_known);

} // namespace ulvs::config::detail
