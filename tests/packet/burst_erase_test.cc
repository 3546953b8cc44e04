// An entry is never used after its erase within one burst (issue 12, found by review).
//
// The burst path looks the whole burst up at once and then works through it. A SYN that reuses a
// connection in CLOSE or TIME_WAIT (conn_reuse_mode=1) ends that connection half-way through;
// before the fix, later packets of the same burst still held the ended entry's index. When the new
// connection then failed (no available server), a duplicate SYN ended the freed entry again (its
// index pushed twice on the free list, a wheel slot cut, counters below zero), and in NAT a late
// reply of the old connection was translated onto the new one that took over the index.
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <string>

using namespace ulvs;

namespace {

constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10, synack = 0x12;
const test::mac6 router = {2, 0, 0, 0, 0, 1};
const test::mac6 wan = test::pcap_port_mac(0);

// DR, two real servers of weight `w`; a table of 8.
std::string dr_config(int w) {
    return test::two_port_config(R"(neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
connections: {max: 8}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: )" +
                                 std::to_string(w) + R"(}
      - {address: 198.51.100.12, port: 80, weight: )" +
                                 std::to_string(w) + "}\n");
}

config::config load(const std::string& yaml) {
    auto c = config::load_string(yaml, "burst_erase_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

test::frame client(uint16_t sport, uint8_t flags, const char* vip = "203.0.113.100",
                   uint16_t dport = 80) {
    return test::make_frame({"203.0.113.130", vip, sport, dport, 6}, router, wan, flags);
}

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

// Every count of the worker's real servers, summed: IPVS' counters never go below zero.
void expect_no_live_counts(test::rig& r) {
    for (const dp::dest& d : r.snap().dests) {
        const dp::dest_conn_counts& c = r.worker().dest_conns[d.stats_id];
        EXPECT_EQ(c.active, 0) << "stats id " << d.stats_id;
        EXPECT_EQ(c.inactive, 0) << "stats id " << d.stats_id;
    }
}

// How a connection reaches a state a fresh SYN reuses (DR sees the client's side only).
struct ended_state {
    const char* name;
    std::vector<uint8_t> flags;
};

class reuse_then_no_server : public ::testing::TestWithParam<ended_state> {};

TEST_P(reuse_then_no_server, duplicate_syns_end_the_old_connection_once) {
    test::rig r(load(dr_config(1)));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    std::vector<test::frame> open;
    for (uint8_t f : GetParam().flags)
        open.push_back(client(40000, f));
    ASSERT_EQ(r.burst(0, open, t)[1].size(), open.size());
    ASSERT_EQ(r.worker().conns.size(), 1u);
    ASSERT_EQ(r.worker().wheel.filed(), 1u);

    // Every server quiesced: the SYN ends the old connection and no new one can be made.
    ASSERT_TRUE(r.reconfigure(load(dr_config(0)))) << r.error();
    EXPECT_TRUE(r.burst(0, {client(40000, syn), client(40000, syn)}, t += 10)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::no_dest), 2u);
    EXPECT_EQ(r.worker().ctr.conns_expired, 1u) << "the old connection ended more than once";
    EXPECT_EQ(r.worker().conns.size(), 0u);
    EXPECT_EQ(r.worker().wheel.filed(), 0u);
    expect_no_live_counts(r);

    // The table is whole: it takes exactly its capacity of new connections again, each in its
    // own entry, and every one of them expires.
    ASSERT_TRUE(r.reconfigure(load(dr_config(1)))) << r.error();
    std::vector<test::frame> syns, acks;
    for (uint16_t p = 0; p < 8; ++p) {
        syns.push_back(client(static_cast<uint16_t>(41000 + p), syn));
        acks.push_back(client(static_cast<uint16_t>(41000 + p), ack));
    }
    EXPECT_EQ(r.burst(0, syns, t += 10)[1].size(), 8u);
    EXPECT_EQ(r.burst(0, acks, t += 10)[1].size(), 8u); // ESTABLISHED: not reclaimable
    EXPECT_EQ(r.worker().conns.size(), 8u);
    EXPECT_TRUE(r.burst(0, {client(42000, syn)}, t += 10)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::conn_table_full), 1u);
    dp::expire_conns(r.worker(), t + 1000 * 1000, 1u << 20);
    EXPECT_EQ(r.worker().conns.size(), 0u) << "connections left that never expire";
    EXPECT_EQ(r.worker().wheel.filed(), 0u);
    expect_no_live_counts(r);
}

INSTANTIATE_TEST_SUITE_P(states, reuse_then_no_server,
                         ::testing::Values(ended_state{"close_after_rst", {syn, ack, rst}},
                                           ended_state{"time_wait_after_fin", {syn, fin}}),
                         [](const ::testing::TestParamInfo<ended_state>& i) {
                             return std::string(i.param.name);
                         });

// NAT with the real servers on the clients' port (a one-armed director): requests and replies
// arrive in the same bursts.
const std::string one_arm_nat =
    test::two_port_config(R"(routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
neighbors:
  - {address: 203.0.113.1, mac: "02:00:00:00:00:01", port: wan}
  - {address: 203.0.113.20, mac: "02:00:00:00:00:20", port: wan}
  - {address: 203.0.113.21, mac: "02:00:00:00:00:21", port: wan}
connections: {max: 64}
virtual_servers:
  - name: web
    address: 203.0.113.101
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 203.0.113.20, port: 8080}
      - {address: 203.0.113.21, port: 8080}
)");

test::frame from_rs(const char* rs, uint8_t rs_mac_low, uint16_t cport, uint8_t flags) {
    return test::make_frame({rs, "203.0.113.130", 8080, cport, 6}, {2, 0, 0, 0, 0, rs_mac_low}, wan,
                            flags);
}

TEST(burst_erase, nat_late_reply_of_an_ended_connection_is_not_given_to_its_successor) {
    test::rig r(load(one_arm_nat));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    const char* vip = "203.0.113.101";
    ASSERT_EQ(r.burst(0, {client(40100, syn, vip)}, t)[0].size(), 1u); // rr: 203.0.113.20
    ASSERT_EQ(r.burst(0, {from_rs("203.0.113.20", 0x20, 40100, synack)}, t += 1)[0].size(), 1u);
    ASSERT_EQ(r.burst(0, {client(40100, ack, vip)}, t += 1)[0].size(), 1u); // ESTABLISHED
    ASSERT_EQ(r.burst(0, {client(40100, rst, vip)}, t += 1)[0].size(), 1u); // CLOSE

    // One burst: the client's new SYN (a new connection, to .21), then a late segment of .20 for
    // the connection that SYN ended. It belongs to no connection any more.
    auto out =
        r.burst(0, {client(40100, syn, vip), from_rs("203.0.113.20", 0x20, 40100, ack)}, t += 1)[0];
    ASSERT_EQ(out.size(), 1u) << "the ended connection's reply was forwarded";
    const test::view v = test::read_frame(out[0]);
    EXPECT_EQ(v.dst, "203.0.113.21");
    EXPECT_EQ(v.dport, 8080);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 1u);
    EXPECT_EQ(r.worker().conns.size(), 1u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("burst_erase")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
