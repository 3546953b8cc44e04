// The `persistence:` and `match:` keys of a virtual server. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include "ulvs/config/config.h"

namespace ulvs::config::detail {

// `persistence: {timeout, granularity, expire_quiescent_template}` into out.persistence.
// Returns false (after reporting) when something in it was wrong.
bool parse_persistence(reader& r, const field& f, virtual_server_cfg& out);

// `match: {destinations, ports, sources, protocol}` into out.match (and out.protocol).
// Returns false (after reporting) when something in it was wrong.
bool parse_match(reader& r, const field& f, virtual_server_cfg& out);

struct draft;

// Checks across services (run by validate()): an identical later match is unreachable; NAT real
// servers shared by services must have one persistence granularity (see the .cc).
void check_persist_match(reader& r, const draft& d);

} // namespace ulvs::config::detail
