// Classic pcap files and the expect.txt of a packet-table case (tests/packet/gen.py writes both).
// Test-only code: standalone (no DPDK), throws std::runtime_error with the path on any bad input.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ulvs::test {

using frame = std::vector<uint8_t>;

// Frames of a classic pcap file (magic a1b2c3d4 with µs or a1b23c4d with ns timestamps, either
// byte order), link type Ethernet. Throws on a missing, short, truncated or non-Ethernet file.
std::vector<frame> read_pcap(const std::string& path);

// Writes a little-endian µs pcap, LINKTYPE_ETHERNET, timestamps 0, 1, 2... µs.
// Throws on an I/O error.
void write_pcap(const std::string& path, const std::vector<frame>& frames);

// A case's expect.txt:
//   description <text>
//   order <port> exact|set     one line per port
//   drop <reason> <count>      one line per expected non-zero drop counter
//   workers <n>                worker lcores of the case (absent = 1; n >= 1)
//   expect_counter <name> <min> a counter of ulvsd's `counters:` line that must be >= min
// Blank lines and lines starting with '#' are skipped; anything else throws.
struct case_expect {
    std::string description;
    std::map<std::string, std::string> order;     // port name -> "exact" | "set"
    std::map<std::string, uint64_t> drops;        // drop reason name -> count; absent = 0
    unsigned workers = 1;                         // > 1: RX queue per worker (e2e only)
    std::map<std::string, uint64_t> min_counters; // counter name -> minimum
};

case_expect read_expect(const std::string& path);

} // namespace ulvs::test
