#include "pcap_file.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace ulvs::test {

namespace {

constexpr uint32_t magic_us = 0xa1b2c3d4, magic_ns = 0xa1b23c4d;
constexpr uint32_t linktype_ethernet = 1;
constexpr size_t file_hdr_len = 24, rec_hdr_len = 16;
// libpcap refuses records above 256 KiB; a bigger length means a corrupt file, not a frame.
constexpr uint32_t max_caplen = 262144;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error(path + ": " + what);
}

uint32_t load32(const uint8_t* p, bool swap) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return swap ? __builtin_bswap32(v) : v;
}

void put32(std::string& out, uint32_t v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v); // little-endian host (x86-64)
}

void put16(std::string& out, uint16_t v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

} // namespace

std::vector<frame> read_pcap(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path, "cannot open");
    const std::vector<uint8_t> data{std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>()};
    if (data.size() < file_hdr_len)
        fail(path, "too short for a pcap file header");
    const uint32_t magic = load32(data.data(), false);
    bool swap;
    if (magic == magic_us || magic == magic_ns)
        swap = false;
    else if (__builtin_bswap32(magic) == magic_us || __builtin_bswap32(magic) == magic_ns)
        swap = true;
    else
        fail(path, "not a classic pcap file (bad magic)");
    // The top bits of the link type field may carry FCS information (pcap-savefile(5)).
    const uint32_t linktype = load32(data.data() + 20, swap) & 0x0fffffff;
    if (linktype != linktype_ethernet)
        fail(path, "link type " + std::to_string(linktype) + " is not Ethernet");

    std::vector<frame> frames;
    size_t off = file_hdr_len;
    while (off < data.size()) {
        if (data.size() - off < rec_hdr_len)
            fail(path, "truncated record header at offset " + std::to_string(off));
        const uint32_t caplen = load32(data.data() + off + 8, swap);
        off += rec_hdr_len;
        if (caplen > max_caplen || data.size() - off < caplen)
            fail(path, "truncated record at offset " + std::to_string(off));
        frames.emplace_back(data.begin() + off, data.begin() + off + caplen);
        off += caplen;
    }
    return frames;
}

void write_pcap(const std::string& path, const std::vector<frame>& frames) {
    std::string out;
    put32(out, magic_us);
    put16(out, 2); // version 2.4
    put16(out, 4);
    put32(out, 0); // thiszone
    put32(out, 0); // sigfigs
    put32(out, 65535);
    put32(out, linktype_ethernet);
    uint32_t usec = 0;
    for (const frame& f : frames) {
        put32(out, 0);
        put32(out, usec++);
        put32(out, static_cast<uint32_t>(f.size()));
        put32(out, static_cast<uint32_t>(f.size()));
        out.append(f.begin(), f.end());
    }
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    if (!o.write(out.data(), static_cast<std::streamsize>(out.size())) || !o.flush())
        fail(path, "cannot write");
}

case_expect read_expect(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        fail(path, "cannot open");
    case_expect e;
    std::string line;
    for (int lineno = 1; std::getline(in, line); ++lineno) {
        const auto where = [&] { return "line " + std::to_string(lineno) + ": "; };
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key == "description") {
            const size_t start = line.find_first_not_of(' ', key.size());
            e.description = start == std::string::npos ? "" : line.substr(start);
        } else if (key == "order") {
            std::string port, how, extra;
            if (!(words >> port >> how) || (words >> extra) || (how != "exact" && how != "set"))
                fail(path, where() + "want: order <port> exact|set");
            e.order[port] = how;
        } else if (key == "drop") {
            std::string reason, count, extra;
            if (!(words >> reason >> count) || (words >> extra) ||
                count.find_first_not_of("0123456789") != std::string::npos)
                fail(path, where() + "want: drop <reason> <count>");
            e.drops[reason] = std::stoull(count);
        } else if (key == "workers") {
            std::string n, extra;
            if (!(words >> n) || (words >> extra) || n.empty() || n.size() > 4 ||
                n.find_first_not_of("0123456789") != std::string::npos || std::stoul(n) == 0)
                fail(path, where() + "want: workers <n>, n >= 1");
            e.workers = static_cast<unsigned>(std::stoul(n));
        } else if (key == "expect_counter") {
            std::string name, least, extra;
            if (!(words >> name >> least) || (words >> extra) ||
                least.find_first_not_of("0123456789") != std::string::npos)
                fail(path, where() + "want: expect_counter <name> <min>");
            e.min_counters[name] = std::stoull(least);
        } else {
            fail(path, where() + "unknown keyword '" + key + "'");
        }
    }
    return e;
}

} // namespace ulvs::test
