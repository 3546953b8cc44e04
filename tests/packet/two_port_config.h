// The two-port set-up the worker tests start from, as tests/packet/tables.py's: one worker, wan
// 203.0.113.10/25 on net_pcap0 and lan 198.51.100.1/24 on net_pcap1 (the MACs pcap_port_mac
// gives). A test appends the keys it is about: neighbours, routes, table size, services.
#pragma once

#include <string>
#include <string_view>

namespace ulvs::test {

inline std::string two_port_config(std::string_view rest) {
    return std::string(R"(lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
)") + std::string(rest);
}

} // namespace ulvs::test
