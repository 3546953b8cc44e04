// `sync:` (sync_cfg.h): parse and emit. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include <string>

namespace ulvs::config::detail {

struct draft;

// `sync: {role, interface, port, group, peer, syncid, threshold, period, maxlen, ttl}` into
// d.cfg.sync. The interface is checked against d.cfg.ports, so parse_document calls it after
// `ports`.
void parse_sync(reader& r, const field& f, draft& d);

// The `sync:` line of to_yaml; empty when sync is off.
std::string emit_sync(const config& c);

} // namespace ulvs::config::detail
