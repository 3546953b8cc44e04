// Duration values of the configuration (README "Configuration"): "500ms", "6s", "2m", "1h", or a
// bare integer of seconds, as keepalived users write them.
#pragma once

#include "ulvs/config/config.h"

#include <expected>
#include <string>
#include <string_view>

namespace ulvs::config {

// On failure the error is a phrase that completes "<key> ...", e.g. "must not be negative".
std::expected<duration, std::string> parse_duration(std::string_view text);

} // namespace ulvs::config
