// Helpers shared by the config tests.
#pragma once

#include "ulvs/config/load.h"

#include <string>
#include <string_view>
#include <vector>

namespace ulvs::config::test {

// Two ports, wan 203.0.113.10/24 and lan 198.51.100.1/24: the least a valid file needs. Seven
// lines, so text appended to it starts on line 8.
inline constexpr std::string_view two_ports = "ports:\n"
                                              "  - name: wan\n"
                                              "    device: dev0\n"
                                              "    addresses: [203.0.113.10/24]\n"
                                              "  - name: lan\n"
                                              "    device: dev1\n"
                                              "    addresses: [198.51.100.1/24]\n";

// "LINE:COL: MESSAGE" for each diagnostic; empty when the text loads.
inline std::vector<std::string> errors_of(std::string_view yaml) {
    auto r = load_string(yaml, "t.yaml");
    std::vector<std::string> out;
    if (r)
        return out;
    for (const diagnostic& d : r.error()) {
        out.push_back(std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message);
    }
    return out;
}

inline std::vector<std::string> errors_with_ports(std::string_view rest) {
    return errors_of(std::string(two_ports) + std::string(rest));
}

} // namespace ulvs::config::test
