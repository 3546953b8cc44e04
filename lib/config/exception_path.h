// `exception_path:` (exception_cfg.h): parse and emit. Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include <string>

namespace ulvs::config::detail {

struct draft;

// `exception_path: {allow: [...]}` into d.cfg.exception_path. Port names are checked against
// d.cfg.ports, so parse_document calls it after `ports`.
void parse_exception_path(reader& r, const field& f, draft& d);

// The `exception_path:` line of to_yaml.
std::string emit_exception_path(const exception_path_cfg& c);

} // namespace ulvs::config::detail
