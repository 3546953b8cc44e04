// Issue 20: per-service `sloppy: true` (IPVS' sloppy_tcp) through the worker as ulvsd wires it,
// and Maglev's property that makes it work under ECMP: two nodes built independently from the
// same config pick the same real server for the same flow, whatever happened on each before.
// - without sloppy, a mid-stream segment of an unknown connection is dropped (no_conn);
// - with it, the segment is scheduled as a new connection (counted conns_sloppy) that then
//   carries the rest of the flow; RST never opens one;
// - mh: node B, whose services and stats ids went through other configs first, sends every
//   flow's mid-stream segment to the server node A chose for its SYN.
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace ulvs;

namespace {

constexpr uint8_t syn = 0x02, ack = 0x10, rst = 0x04, psh = 0x08;
constexpr uint8_t wan = 0, lan = 1;

// Real servers 198.51.100.1<c> for each c of `order`, in that order (MACs ending in 0x1<c>).
std::string config_text(bool sloppy, const std::string& sched, const std::string& order,
                        const std::string& flags = "") {
    std::string rs, neigh;
    for (char c : order)
        rs += "      - {address: 198.51.100.1" + std::string(1, c) + ", port: 80}\n";
    // Every server's MAC, whichever are in the service: static neighbours are set at start.
    for (char c : std::string("12345"))
        neigh += "  - {address: 198.51.100.1" + std::string(1, c) + ", mac: \"02:00:00:00:00:1" +
                 std::string(1, c) + "\", port: lan}\n";
    return test::two_port_config("neighbors:\n" + neigh +
                                 "virtual_servers:\n"
                                 "  - name: web\n"
                                 "    address: 203.0.113.100\n"
                                 "    port: 80\n"
                                 "    protocol: tcp\n"
                                 "    scheduler: " +
                                 sched + "\n" + flags + "    forwarding: dr\n" +
                                 (sloppy ? "    sloppy: true\n" : "") + "    real_servers:\n" + rs);
}

config::config load(const std::string& yaml) {
    auto c = config::load_string(yaml, "sloppy_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

test::frame packet(const std::string& src, uint16_t sport, uint8_t flags) {
    return test::make_frame({src, "203.0.113.100", sport, 80, 6}, {2, 0, 0, 0, 0, 1},
                            test::pcap_port_mac(0), flags);
}

// The last byte of the MAC the DR packet went to (0x11 = 198.51.100.11, ...), -1: not sent.
int sent_to(const std::vector<std::vector<test::frame>>& out) {
    if (out[lan].size() != 1)
        return -1;
    return test::read_frame(out[lan][0]).eth_dst[5];
}

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

} // namespace

TEST(sloppy, off_a_mid_stream_segment_is_dropped) {
    test::rig r(load(config_text(false, "rr", "12")));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40000, ack | psh)}, 1000)), -1);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 1u);
    EXPECT_EQ(r.worker().ctr.conns_sloppy, 0u);
    EXPECT_EQ(r.worker().conns.size(), 0u);
}

TEST(sloppy, on_a_mid_stream_segment_opens_an_established_connection) {
    test::rig r(load(config_text(true, "rr", "12")));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40000, ack | psh)}, 1000)), 0x11);
    EXPECT_EQ(r.worker().ctr.conns_sloppy, 1u);
    EXPECT_EQ(r.worker().ctr.conns_created, 1u);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 0u);
    ASSERT_EQ(r.worker().conns.size(), 1u);
    // The rest of the flow follows the connection (rr would have moved on to .12).
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40000, ack)}, 1001)), 0x11);
    EXPECT_EQ(r.worker().ctr.conns_sloppy, 1u);
    EXPECT_EQ(r.worker().ctr.conns_created, 1u);
    // A SYN is an ordinary new connection, not a sloppy one.
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40001, syn)}, 1002)), 0x12);
    EXPECT_EQ(r.worker().ctr.conns_sloppy, 1u);
    EXPECT_EQ(r.worker().ctr.conns_created, 2u);
}

TEST(sloppy, a_reset_never_opens_a_connection) {
    test::rig r(load(config_text(true, "rr", "12")));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40000, rst)}, 1000)), -1);
    EXPECT_EQ(sent_to(r.burst(wan, {packet("203.0.113.130", 40000, rst | ack)}, 1001)), -1);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 2u);
    EXPECT_EQ(r.worker().ctr.conns_sloppy, 0u);
}

// ECMP moves a flow from node A to node B: B sends it to the server A chose. B's history
// differs: it started with another order of servers and with a server that left, so its stats
// ids, neighbour slots and scheduler generations are not A's; only the final config is the same.
TEST(sloppy, mh_two_nodes_pick_the_same_server_for_every_flow) {
    const std::string flags = "    scheduler_flags: [mh-port]\n";
    const config::config final_cfg = load(config_text(true, "mh", "12345", flags));
    test::rig a(final_cfg);
    ASSERT_TRUE(a.ok()) << a.error();
    test::rig b(load(config_text(true, "mh", "5314", flags)), 500);
    ASSERT_TRUE(b.ok()) << b.error();
    ASSERT_TRUE(b.reconfigure(load(config_text(true, "mh", "531", flags)))) << b.error();
    ASSERT_TRUE(b.reconfigure(final_cfg)) << b.error();
    // A node whose config lacks one server picks otherwise for that server's flows (give every
    // node the same virtual_servers); it also shows that the comparison below can fail.
    test::rig other(load(config_text(true, "mh", "1234", flags)), 500);
    ASSERT_TRUE(other.ok()) << other.error();
    int per_server[256] = {};
    int flows = 0, same = 0, same_other = 0;
    uint64_t now = 1000;
    for (int c = 0; c < 20; ++c) {
        const std::string client = "203.0.113." + std::to_string(130 + c);
        for (uint16_t port = 40000; port < 40010; ++port, ++now) {
            const int on_a = sent_to(a.burst(wan, {packet(client, port, syn)}, now));
            const int on_b = sent_to(b.burst(wan, {packet(client, port, ack | psh)}, now));
            ASSERT_GE(on_a, 0x11);
            ++per_server[on_a];
            ++flows;
            same += on_a == on_b ? 1 : 0;
            same_other +=
                on_a == sent_to(other.burst(wan, {packet(client, port, ack | psh)}, now)) ? 1 : 0;
        }
    }
    EXPECT_EQ(same, flows) << "flows that changed server when they changed node";
    EXPECT_LT(same_other, flows) << "a node without .15 picked as the others";
    EXPECT_EQ(b.worker().ctr.conns_sloppy, static_cast<uint64_t>(flows));
    for (int s = 0x11; s <= 0x15; ++s)
        EXPECT_GT(per_server[s], 0) << "server ." << s - 0x11 + 11 << " got no flow";
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("ecmp_sloppy")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
