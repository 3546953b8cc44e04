// fwmark virtual servers -> `match:` services, from the iptables MARK rules (import_iptables.cc).
#pragma once

#include "import_common.h"

namespace ulvs::importer {

// Replaces each fwmark service of c.services by the match services its MARK rules make, in the
// order that gives iptables' "last matching rule wins"; errors where that cannot be exact.
void resolve_fwmarks(ctx& c, const std::optional<std::string>& rules_path);

} // namespace ulvs::importer
