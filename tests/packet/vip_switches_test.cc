// Issue 14's data-plane switches, through the worker as ulvsd wires it:
// - connections.expire_nodest_conn (IPVS' sysctl): a connection whose real server left its
//   service ends at its next packet, which is then handled as a new one; off, it goes on;
// - vips.answer_ping: false drops ICMP echo requests to virtual addresses (counted), while the
//   appliance's own addresses still answer.
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

using namespace ulvs;

namespace {

std::string config_text(const std::string& top, bool with_rs1) {
    return test::two_port_config(top + R"(neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
)" + (with_rs1 ? "      - {address: 198.51.100.11, port: 80}\n" : std::string()) +
                                 "      - {address: 198.51.100.12, port: 80}\n");
}

config::config load(const std::string& yaml) {
    auto c = config::load_string(yaml, "vip_switches_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

test::frame packet(uint16_t sport, uint8_t flags, const std::string& dst = "203.0.113.100",
                   uint8_t proto = 6) {
    return test::make_frame({"203.0.113.130", dst, sport, 80, proto}, {2, 0, 0, 0, 0, 1},
                            test::pcap_port_mac(0), flags);
}

constexpr uint8_t syn = 0x02, ack = 0x10;
constexpr uint8_t wan = 0, lan = 1;

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

// The last byte of the MAC the DR packet was sent to: 0x11 rs1, 0x12 rs2.
int sent_to(const std::vector<std::vector<test::frame>>& out) {
    if (out[lan].size() != 1)
        return -1;
    return test::read_frame(out[lan][0]).eth_dst[5];
}

// With the switch on: rs1 leaves the service (a change, or its health check: the snapshot is the
// same), and its connection's next packet ends it; an ACK cannot open one, so it is dropped as
// no_conn, and the client's next SYN is scheduled afresh, to rs2.
TEST(expire_nodest_conn, a_connection_to_a_removed_server_ends_at_its_next_packet) {
    const std::string on = "connections: {expire_nodest_conn: true}\n";
    test::rig r(load(config_text(on, true)));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40000, syn)}, 1000)), 0x11); // rr: rs1 first
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40000, ack)}, 1001)), 0x11);
    ASSERT_TRUE(r.reconfigure(load(config_text(on, false)))) << r.error();
    const auto out = r.burst(wan, {packet(40000, ack)}, 1002);
    EXPECT_TRUE(out[lan].empty()) << "the packet still went to the removed server";
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 1u);
    EXPECT_EQ(r.worker().ctr.conns_expired, 1u);
    EXPECT_EQ(r.worker().conns.size(), 0u);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 1u);
    // The same client port opening again goes to the server that is left.
    EXPECT_EQ(sent_to(r.burst(wan, {packet(40000, syn)}, 1003)), 0x12);
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 1u);
}

// A SYN that finds a connection to a removed server is scheduled at once (IPVS without
// conntrack: the entry expires and the packet goes on as a new connection).
TEST(expire_nodest_conn, an_opening_packet_is_scheduled_to_a_server_left) {
    const std::string on = "connections: {expire_nodest_conn: true}\n";
    test::rig r(load(config_text(on, true)));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40001, syn)}, 1000)), 0x11);
    ASSERT_TRUE(r.reconfigure(load(config_text(on, false)))) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet(40001, syn)}, 1001)), 0x12);
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 1u);
    EXPECT_EQ(r.worker().conns.size(), 1u);
}

// Off (the default, as IPVS'): the connection goes on to its server until it expires.
TEST(expire_nodest_conn, off_the_connection_goes_on) {
    test::rig r(load(config_text("", true)));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40002, syn)}, 1000)), 0x11);
    ASSERT_TRUE(r.reconfigure(load(config_text("", false)))) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet(40002, ack)}, 1001)), 0x11);
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 0u);
    EXPECT_EQ(r.worker().conns.size(), 1u);
}

// Servers that stay keep their connections with the switch on.
TEST(expire_nodest_conn, connections_of_servers_left_go_on) {
    const std::string on = "connections: {expire_nodest_conn: true}\n";
    test::rig r(load(config_text(on, true)));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40003, syn)}, 1000)), 0x11);
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40004, syn)}, 1001)), 0x12);
    ASSERT_TRUE(r.reconfigure(load(config_text(on, false)))) << r.error();
    EXPECT_EQ(sent_to(r.burst(wan, {packet(40004, ack)}, 1002)), 0x12);
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 0u);
}

// NAT: the real server's replies are not looked at (IPVS checks in ip_vs_in only): a reply of
// the removed server still reaches the client; the client's next packet ends the connection.
TEST(expire_nodest_conn, nat_replies_pass_the_client_s_next_packet_ends_it) {
    auto nat = [](bool with_rs1) {
        return test::two_port_config(
                   "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]\n"
                   "connections: {expire_nodest_conn: true}\n"
                   "neighbors:\n"
                   "  - {address: 203.0.113.1, mac: \"02:00:00:00:00:01\", port: wan}\n"
                   "  - {address: 198.51.100.11, mac: \"02:00:00:00:00:11\", port: lan}\n"
                   "  - {address: 198.51.100.12, mac: \"02:00:00:00:00:12\", port: lan}\n"
                   "virtual_servers:\n"
                   "  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp,\n"
                   "     scheduler: rr, forwarding: nat, real_servers: [\n") +
               (with_rs1 ? "       {address: 198.51.100.11, port: 8080},\n" : "") +
               "       {address: 198.51.100.12, port: 8080}]}\n";
    };
    test::rig r(load(nat(true)));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(sent_to(r.burst(wan, {packet(40005, syn)}, 1000)), 0x11);
    ASSERT_TRUE(r.reconfigure(load(nat(false)))) << r.error();
    const test::frame reply =
        test::make_frame({"198.51.100.11", "203.0.113.130", 8080, 40005, 6}, {2, 0, 0, 0, 0, 0x11},
                         test::pcap_port_mac(1), syn | ack);
    const auto out = r.burst(lan, {reply}, 1001);
    ASSERT_EQ(out[wan].size(), 1u) << "the removed server's reply did not reach the client";
    EXPECT_EQ(test::read_frame(out[wan][0]).src, "203.0.113.100");
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 0u);
    EXPECT_TRUE(r.burst(wan, {packet(40005, ack)}, 1002)[lan].empty());
    EXPECT_EQ(r.worker().ctr.conns_expired_nodest, 1u);
    EXPECT_EQ(r.worker().conns.size(), 0u);
}

// ICMP echo request (id = sport, sequence = dport) to the service's address and to our own.
test::frame ping(const std::string& dst) {
    return packet(7, 0, dst, 1);
}

TEST(answer_ping, on_by_default_virtual_addresses_answer) {
    test::rig r(load(config_text("", true)));
    ASSERT_TRUE(r.ok()) << r.error();
    const auto out = r.burst(wan, {ping("203.0.113.100")}, 1000);
    ASSERT_EQ(out[wan].size(), 1u);
    EXPECT_EQ(test::read_frame(out[wan][0]).src, "203.0.113.100");
    EXPECT_EQ(drops(r, dp::drop::vip_ping_refused), 0u);
}

TEST(answer_ping, off_echo_to_a_virtual_address_is_dropped_and_counted) {
    test::rig r(load(config_text("vips: {answer_ping: false}\n", true)));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_TRUE(r.burst(wan, {ping("203.0.113.100")}, 1000)[wan].empty());
    EXPECT_EQ(drops(r, dp::drop::vip_ping_refused), 1u);
    // The appliance's own address still answers.
    const auto out = r.burst(wan, {ping("203.0.113.10")}, 1001);
    ASSERT_EQ(out[wan].size(), 1u);
    EXPECT_EQ(test::read_frame(out[wan][0]).src, "203.0.113.10");
    EXPECT_EQ(drops(r, dp::drop::vip_ping_refused), 1u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("vip_switches")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
