// to_yaml's part for the health keys (emit.cc calls these). Private to lib/config.
#pragma once

#include "ulvs/config/config.h"

#include <string>
#include <string_view>

namespace ulvs::config::detail {

using quote_fn = std::string (*)(std::string_view);

// Block lines ("    quorum: 1\n" ...) of a virtual server, at 4 spaces.
std::string vs_health_yaml(const vs_health_cfg& h, quote_fn quote);
// Flow-mapping entries (", inhibit_on_failure: true, ...") of a real server; "" when default.
std::string rs_health_yaml(const rs_health_cfg& h, quote_fn quote);

} // namespace ulvs::config::detail
