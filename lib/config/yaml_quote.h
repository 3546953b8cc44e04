// Quoting a string for the YAML ulvs writes (save-yaml): double-quoted with escapes, so a name or
// a path cannot break the line or change the document's structure.
#pragma once

#include <string>
#include <string_view>

namespace ulvs::config::detail {

std::string yaml_quote(std::string_view s);

} // namespace ulvs::config::detail
