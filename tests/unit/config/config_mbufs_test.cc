// dpdk.mbufs against what the configuration can hold at once (dataplane/mbuf_budget.h, issue 12):
// the minimum's terms from the real queue, ring, cache and stage sizes, which devices hold
// descriptors, the edge, and where the error points.
#include "test_util.h"
#include "ulvs/dataplane/mbuf_budget.h"

#include <gtest/gtest.h>

using namespace ulvs;
using namespace ulvs::config::test;

namespace {

std::string ports(const char* wan, const char* lan) {
    return std::string("ports:\n  - {name: wan, device: \"") + wan +
           "\", addresses: [203.0.113.10/24]}\n  - {name: lan, device: \"" + lan +
           "\", addresses: [198.51.100.1/24]}\n";
}

std::string file(uint32_t mbufs, const char* workers, const char* wan, const char* lan) {
    return "dpdk: {mbufs: " + std::to_string(mbufs) +
           "}\nlcores: {control: 0, workers: " + workers + "}\n" + ports(wan, lan);
}

uint64_t need(uint32_t workers, std::vector<std::string> devices) {
    return dp::mbufs_needed(dp::mbuf_consumers(workers, devices));
}

} // namespace

TEST(ConfigMbufs, WhichDevicesHoldDescriptors) {
    EXPECT_TRUE(dp::device_holds_descriptors("0000:3b:00.1"));
    EXPECT_TRUE(dp::device_holds_descriptors("net_af_xdp0,iface=lbwan"));
    EXPECT_TRUE(dp::device_holds_descriptors("net_tap0"));
    EXPECT_TRUE(dp::device_holds_descriptors("dev0")); // unknown: the safe side
    EXPECT_FALSE(dp::device_holds_descriptors("net_af_packet0,iface=lbwan"));
    EXPECT_FALSE(dp::device_holds_descriptors("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"));
    EXPECT_FALSE(dp::device_holds_descriptors("net_null1,no-rx=1"));
}

TEST(ConfigMbufs, EveryConsumerCounted) {
    // 1 worker, two copying vdevs: caches 2 x 384, priority ring 1023 and exception ring 1023
    // to the control lcore, control TX ring 1023, stages 32 + 4 x 128 x 2 + 32 (two ports, two
    // to the control lcore), reassembly 256 x 7, the control lcore's burst 32, 128 held for
    // unresolved neighbours.
    EXPECT_EQ(need(1, {"net_pcap0", "net_null0"}),
              768u + 1023 + 1023 + 1023 + 1088 + 1792 + 32 + 128);
    // Two NICs add RX 2 x 1 x 1024 and TX 2 x 2 x 1024.
    EXPECT_EQ(need(1, {"0000:3b:00.0", "0000:3b:00.1"}), 6877u + 2048 + 4096);
    // 4 workers on two NICs: RX 2x4x1024, TX 2x5x1024, caches 5x384, rings to the control lcore
    // 4 x (1023 + 1023), the others (12 + 1) x 1023, stages 4 x (32 + 4x128x2 + 4x32),
    // reassembly 4 x 1792, control 32, held 128.
    EXPECT_EQ(need(4, {"0000:3b:00.0", "0000:3b:00.1"}), 8192u + 10240 + 1920 + 4 * 2046 +
                                                             13 * 1023 + 4 * (32 + 1024 + 128) +
                                                             4 * 1792 + 32 + 128);
}

TEST(ConfigMbufs, BelowTheMinimumIsRefusedWithItsTerms) {
    const auto got = errors_of(file(2047, "[1]", "net_pcap0", "net_null0"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], "1:15: dpdk.mbufs 2047 is below the 6877 mbufs this configuration can hold "
                      "at once: mempool caches 768 (2 lcores x 384) + worker -> control rings "
                      "2046 (1 x (1023 + 1023)) + control TX ring 1023 (1 x 1023) + worker bursts "
                      "and stages 1088 (1 x (32 received + 4 x 128 x 2 staged + 1 x 32 "
                      "redirected)) + reassembly tables 1792 (1 x 256 datagrams x 7 fragments) + "
                      "control lcore burst 32 (32) + packets held for unresolved neighbours 128 "
                      "(128); set dpdk.mbufs to at least 6877");
}

TEST(ConfigMbufs, TheMinimumItselfIsAccepted) {
    EXPECT_TRUE(errors_of(file(6877, "[1]", "net_pcap0", "net_null0")).empty());
    EXPECT_EQ(errors_of(file(6876, "[1]", "net_pcap0", "net_null0")).size(), 1u);
    const uint32_t nics = static_cast<uint32_t>(need(2, {"0000:3b:00.0", "0000:3b:00.1"}));
    EXPECT_TRUE(errors_of(file(nics, "[1, 2]", "0000:3b:00.0", "0000:3b:00.1")).empty());
    EXPECT_EQ(errors_of(file(nics - 1, "[1, 2]", "0000:3b:00.0", "0000:3b:00.1")).size(), 1u);
}

TEST(ConfigMbufs, TheDefaultIsCheckedToo) {
    // Not given: the default 16383 is too few for 4 workers on two NICs; the error points at
    // the `dpdk` key, or at the file's start without one.
    auto got = errors_of("dpdk: {eal_args: []}\nlcores: {control: 0, workers: [1, 2, 3, 4]}\n" +
                         ports("0000:3b:00.0", "0000:3b:00.1"));
    ASSERT_EQ(got.size(), 1u);
    const std::string min = std::to_string(need(4, {"0000:3b:00.0", "0000:3b:00.1"}));
    EXPECT_EQ(got[0].rfind("1:1: dpdk.mbufs 16383 (the default) is below the " + min + " mbufs", 0),
              0u)
        << got[0];
    got = errors_of("lcores: {control: 0, workers: [1, 2, 3, 4]}\n" +
                    ports("0000:3b:00.0", "0000:3b:00.1"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].rfind("1:1: dpdk.mbufs 16383 (the default)", 0), 0u) << got[0];
}

TEST(ConfigMbufs, OtherErrorsFirst) {
    // The minimum follows from ports and lcores; with an error elsewhere it is not reported.
    auto got = errors_of(file(2047, "[1, 1]", "net_pcap0", "net_null0"));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("listed twice"), std::string::npos) << got[0];
}
