#include "pcap_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace ulvs::test {
namespace {

namespace fs = std::filesystem;

// wrpcap() of scapy 2.5: a TCP SYN (54 bytes) and an ARP request (42 bytes), little-endian µs.
const std::vector<uint8_t> scapy_pcap = {
    0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00,
    0x36, 0x00, 0x00, 0x00, 0x36, 0x00, 0x00, 0x00, 0x02, 0x70, 0x63, 0x61, 0x70, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06,
    0x01, 0xe8, 0xcb, 0x00, 0x71, 0x82, 0xcb, 0x00, 0x71, 0x64, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0x11, 0xd9, 0x00, 0x00, 0x01, 0xf1,
    0x53, 0x65, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
    0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xcb, 0x00, 0x71, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xcb, 0x00, 0x71, 0x64};

class pcap_file : public ::testing::Test {
protected:
    fs::path dir;

    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("ulvs_pcap_test_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string put(const std::string& name, const std::vector<uint8_t>& bytes) {
        const std::string path = dir / name;
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        return path;
    }
};

// The same file with every header field byte-swapped, as a big-endian host writes it.
std::vector<uint8_t> big_endian(std::vector<uint8_t> b) {
    const auto swap = [&](size_t off, size_t len) {
        std::reverse(b.begin() + off, b.begin() + off + len);
    };
    swap(0, 4), swap(4, 2), swap(6, 2), swap(8, 4), swap(12, 4), swap(16, 4), swap(20, 4);
    for (size_t off = 24; off < b.size();) {
        const uint32_t caplen =
            b[off + 8] | b[off + 9] << 8 | b[off + 10] << 16 | b[off + 11] << 24;
        for (size_t f = 0; f < 16; f += 4)
            swap(off + f, 4);
        off += 16 + caplen;
    }
    return b;
}

void expect_scapy_frames(const std::vector<frame>& frames) {
    ASSERT_EQ(frames.size(), 2u);
    ASSERT_EQ(frames[0].size(), 54u);
    ASSERT_EQ(frames[1].size(), 42u);
    EXPECT_EQ(frame(frames[0].begin(), frames[0].begin() + 6),
              (frame{0x02, 0x70, 0x63, 0x61, 0x70, 0x00}));
    EXPECT_EQ(frames[0][47], 0x02); // TCP flags: SYN
    EXPECT_EQ(frames[1][12], 0x08);
    EXPECT_EQ(frames[1][13], 0x06); // ARP
    EXPECT_EQ(frames[1][41], 0x64); // target 203.0.113.100
}

TEST_F(pcap_file, reads_scapy_little_endian) {
    expect_scapy_frames(read_pcap(put("le.pcap", scapy_pcap)));
}

TEST_F(pcap_file, reads_big_endian) {
    expect_scapy_frames(read_pcap(put("be.pcap", big_endian(scapy_pcap))));
}

TEST_F(pcap_file, reads_nanosecond_magic) {
    auto ns = scapy_pcap;
    ns[0] = 0x4d, ns[1] = 0x3c; // a1b23c4d, as DPDK's net_pcap writes tx_pcap
    expect_scapy_frames(read_pcap(put("ns.pcap", ns)));
}

TEST_F(pcap_file, write_then_read) {
    const std::vector<frame> frames = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {}, frame(1514, 0xab)};
    const std::string path = dir / "rt.pcap";
    write_pcap(path, frames);
    EXPECT_EQ(read_pcap(path), frames);
    write_pcap(path, {});
    EXPECT_TRUE(read_pcap(path).empty());
    EXPECT_EQ(fs::file_size(path), 24u);
}

TEST_F(pcap_file, rejects_bad_files) {
    EXPECT_THROW(read_pcap((dir / "missing.pcap").string()), std::runtime_error);
    EXPECT_THROW(read_pcap(put("short.pcap", {0xd4, 0xc3, 0xb2, 0xa1})), std::runtime_error);
    auto bad_magic = scapy_pcap;
    bad_magic[0] = 0;
    EXPECT_THROW(read_pcap(put("magic.pcap", bad_magic)), std::runtime_error);
    auto not_eth = scapy_pcap;
    not_eth[20] = 101; // LINKTYPE_RAW
    EXPECT_THROW(read_pcap(put("raw.pcap", not_eth)), std::runtime_error);
    const std::vector<uint8_t> cut_record(scapy_pcap.begin(), scapy_pcap.end() - 1);
    EXPECT_THROW(read_pcap(put("cut.pcap", cut_record)), std::runtime_error);
    const std::vector<uint8_t> cut_header(scapy_pcap.begin(), scapy_pcap.begin() + 30);
    EXPECT_THROW(read_pcap(put("cuthdr.pcap", cut_header)), std::runtime_error);
}

TEST_F(pcap_file, reads_expect) {
    const std::string text = "description ARP for the VIP: answered\n"
                             "order wan exact\norder lan set\n\n# comment\n"
                             "drop no_conn 4\ndrop ip_bad_ihl 2\n";
    const std::string path = put("expect.txt", {text.begin(), text.end()});
    const case_expect e = read_expect(path);
    EXPECT_EQ(e.description, "ARP for the VIP: answered");
    EXPECT_EQ(e.order, (std::map<std::string, std::string>{{"wan", "exact"}, {"lan", "set"}}));
    EXPECT_EQ(e.drops, (std::map<std::string, uint64_t>{{"no_conn", 4}, {"ip_bad_ihl", 2}}));
    EXPECT_EQ(e.workers, 1u);
    EXPECT_TRUE(e.min_counters.empty());

    const std::string multi = "description two workers\nworkers 2\norder wan set\n"
                              "expect_counter redirected 1\nexpect_counter tx_pkts 32\n";
    const case_expect m = read_expect(put("multi.txt", {multi.begin(), multi.end()}));
    EXPECT_EQ(m.workers, 2u);
    EXPECT_EQ(m.min_counters,
              (std::map<std::string, uint64_t>{{"redirected", 1}, {"tx_pkts", 32}}));

    for (const std::string bad :
         {"order wan sorted\n", "drop no_conn\n", "drop no_conn x\n", "drop no_conn 1 2\n",
          "verdict drop\n", "workers 0\n", "workers\n", "workers two\n", "workers 2 3\n",
          "expect_counter redirected\n", "expect_counter redirected -1\n",
          "expect_counter redirected 1 2\n"}) {
        const std::string p = put("bad.txt", {bad.begin(), bad.end()});
        EXPECT_THROW(read_expect(p), std::runtime_error) << bad;
    }
}

// The case folders gen.py wrote (meson passes their path): every case reads back, and the first
// one's input is what tables.py says (ARP who-has the VIP from the router, 42 bytes).
TEST(pcap_file_cases, reads_generated_cases) {
    const char* cases = std::getenv("ULVS_PACKET_CASES");
    if (cases == nullptr)
        GTEST_SKIP() << "ULVS_PACKET_CASES not set";
    std::ifstream index(fs::path(cases) / "cases.txt");
    ASSERT_TRUE(index) << cases << "/cases.txt";
    std::string name;
    size_t n = 0;
    while (index >> name) {
        const fs::path d = fs::path(cases) / name;
        const case_expect e = read_expect(d / "expect.txt");
        EXPECT_FALSE(e.description.empty()) << name;
        EXPECT_EQ(e.order.size(), 2u) << name;
        for (const auto& [port, how] : e.order) {
            if (e.workers == 1) {
                EXPECT_NO_THROW(read_pcap(d / ("in_" + port + ".pcap"))) << name;
            }
            for (unsigned q = 0; e.workers > 1 && q < e.workers; ++q) {
                const std::string in = "in_" + port + "_q" + std::to_string(q) + ".pcap";
                EXPECT_NO_THROW(read_pcap(d / in)) << name;
            }
            EXPECT_NO_THROW(read_pcap(d / ("expected_" + port + ".pcap"))) << name;
        }
        if (name == "arp_vip") {
            const auto in = read_pcap(d / "in_wan.pcap");
            ASSERT_EQ(in.size(), 1u);
            EXPECT_EQ(in[0].size(), 42u);
            EXPECT_EQ(in[0][41], 100); // target 203.0.113.100
        }
        ++n;
    }
    EXPECT_GE(n, 20u);
}

} // namespace
} // namespace ulvs::test
