// `ulvsadm import-keepalived FILE [--base BASE.yaml] [--iptables RULES]` (README "Managing it").
#pragma once

#include <string>
#include <vector>

namespace ulvs::adm {

// args: the words after "import-keepalived". Returns the exit code.
int import_keepalived_cmd(const std::vector<std::string>& args);

std::string import_usage();

} // namespace ulvs::adm
