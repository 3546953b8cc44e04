// The audit log of the management socket (issue 16): every change made through it is logged with
// the peer's uid and the command in ipvsadm's words, e.g.
//     audit: uid 0: -a -t 203.0.113.100:80 -r 198.51.100.11:80 -m -w 1
#pragma once

#include "ulvs/mgmt/protocol.h"

#include <string>
#include <vector>

namespace ulvs::mgmt {

// A request (parse_request checked) -> the changes it asks for, one line each in ipvsadm's
// syntax (a -R batch: one per command, prefixed "-R: "); empty when it changes nothing (listings,
// status). Never throws: a malformed field shows as "?".
std::vector<std::string> audit_text(const json& request);

} // namespace ulvs::mgmt
