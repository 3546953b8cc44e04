// The scheduler keys of a virtual server (scheduler, scheduler_flags, mh_table_size) and the
// thresholds of a real server. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include "ulvs/config/config.h"

namespace ulvs::config::detail {

// Reads `scheduler`, `scheduler_flags` and `mh_table_size` of the virtual server mapping `m`
// (field `vs`) into `out`. Call after its real servers were read (mh checks their number).
void parse_sched_keys(reader& r, const mapping& m, const field& vs, virtual_server_cfg& out);

// Reads `thresholds: {upper, lower}` of the real server mapping `m` into `out`.
void parse_thresholds(reader& r, const mapping& m, real_server_cfg& out);

} // namespace ulvs::config::detail
