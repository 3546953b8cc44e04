// `ulvsadm import-keepalived`: a keepalived.conf (with its includes, and the iptables MARK rules of
// its fwmark services) read and turned into a ulvs YAML configuration (issue 14). The pieces live
// in lib/importer: kc_parse (tokens and blocks as keepalived reads them), import_vrrp,
// import_vs, import_checks, import_iptables (the mapping) and import (the driver).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ulvs::importer {

struct import_options {
    std::string file;                    // keepalived.conf
    std::optional<std::string> base;     // a ulvs YAML with dpdk, lcores, ports, routes, ...
    std::optional<std::string> iptables; // iptables-save output or `iptables -t mangle` lines
};

struct import_result {
    std::string yaml;                  // empty when exit_code == 2
    std::vector<std::string> warnings; // "FILE:LINE:COL: warning: ..."
    std::vector<std::string> errors;   // "FILE:LINE:COL: error: ..."
    // 0: `yaml` is complete and passes the config loader (what `ulvsd --check` runs);
    // 1: `yaml` was produced but the loader refuses it (e.g. placeholders left without --base);
    // 2: nothing produced: unreadable input, or keepalived settings that cannot be imported safely.
    int exit_code = 2;
};

import_result import_keepalived(const import_options& opts);

} // namespace ulvs::importer
