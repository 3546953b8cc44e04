// `snat:` and `forwarding_rules:` (snat_cfg.h): parse and emit. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include <string>

namespace ulvs::config::detail {

struct draft;

// Into d.cfg.snat / d.cfg.forwarding_rules. Port names are checked against d.cfg.ports, so
// parse_document calls these after `ports`; `to` addresses against the VIPs, so after
// `virtual_servers`.
void parse_snat(reader& r, const field& f, draft& d);
void parse_forwarding_rules(reader& r, const field& f, draft& d);

// The `snat:` and `forwarding_rules:` lines of to_yaml ("" when there are none).
std::string emit_snat(const config& c);

} // namespace ulvs::config::detail
