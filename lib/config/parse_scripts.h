// `scripts:` (whom scripts run as) and the check every script command line gets: it must split
// by common/command_line.h's rule (an unterminated quote is a --check error, not a script that
// fails at run time).
#pragma once

#include "draft.h"

namespace ulvs::config::detail {

void parse_scripts(reader& r, const field& f, scripts_cfg& out);
// Reports at `f` when `command` does not split (`f` holds it).
void check_command(reader& r, const field& f, const std::string& command);

} // namespace ulvs::config::detail
