// `announce:` (announce_cfg.h): parse and emit. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include <string>

namespace ulvs::config::detail {

struct draft;

// `announce: {table, port, protocol, peers}` into d.cfg.announce. The port name is checked
// against d.cfg.ports, so parse_document calls it after `ports`.
void parse_announce(reader& r, const field& f, draft& d);

// The `announce:` line of to_yaml; empty when the key was not given.
std::string emit_announce(const announce_cfg& c);

} // namespace ulvs::config::detail
