// Turning text into the one YAML document of a config file, with yaml-cpp 0.7's pitfalls handled.
// Private to lib/config.
#pragma once

#include "yaml_reader.h"

#include <optional>
#include <string_view>

namespace ulvs::config::detail {

// The file's single document (a null node for an empty file), or nullopt after reporting a YAML
// syntax error or a second document.
std::optional<YAML::Node> parse_document_text(reader& r, std::string_view text);

} // namespace ulvs::config::detail
