// Worker behaviour over time and at the table's limits, with injected time: what a packet table
// of one pcap cannot show (expiry, a full table, unresolved next hops, counters).
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

using namespace ulvs;

namespace {

const std::string base_config = test::two_port_config(R"(neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
timeouts: {tcp: 900s, tcp_fin: 120s, udp: 300s}
connections: {max: 8}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.13, port: 53}
)");

config::config load(const std::string& yaml = base_config) {
    auto c = config::load_string(yaml, "worker_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

// Client 203.0.113.130:sport -> VIP 203.0.113.100:dport, from the router to wan's MAC.
test::frame packet(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcp_flags = 0) {
    return test::make_frame({"203.0.113.130", "203.0.113.100", sport, dport, proto},
                            {2, 0, 0, 0, 0, 1}, test::pcap_port_mac(0), tcp_flags);
}

constexpr uint8_t syn = 0x02, ack = 0x10, fin = 0x01;

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

TEST(worker, idle_connection_expires_at_its_state_timeout) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    const uint64_t t0 = 1000;
    // SYN: SYN_RECV (IPVS 60 s); the worker's clock only ever moves forward.
    ASSERT_EQ(r.burst(0, {packet(6, 40000, 80, syn)}, t0)[1].size(), 1u);
    EXPECT_EQ(r.worker().conns.size(), 1u);
    dp::expire_conns(r.worker(), t0 + 59'000, 1000);
    EXPECT_EQ(r.worker().conns.size(), 1u) << "expired before the SYN_RECV timeout";
    dp::expire_conns(r.worker(), t0 + 60'200, 1000);
    EXPECT_EQ(r.worker().conns.size(), 0u) << "still there after the SYN_RECV timeout";
    EXPECT_EQ(r.worker().ctr.conns_expired, 1u);
    // Gone means gone: a late ACK finds no connection.
    EXPECT_TRUE(r.burst(0, {packet(6, 40000, 80, ack)}, t0 + 61'000)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::no_conn), 1u);
}

TEST(worker, traffic_refreshes_and_established_uses_the_tcp_timeout) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    uint64_t t = 1000; // the worker's clock only moves forward
    r.burst(0, {packet(6, 40001, 80, syn)}, t);
    r.burst(0, {packet(6, 40001, 80, ack)}, t += 100); // ESTABLISHED: timeouts.tcp = 900 s
    dp::expire_conns(r.worker(), t += 899'000, 100000);
    EXPECT_EQ(r.worker().conns.size(), 1u);
    r.burst(0, {packet(6, 40001, 80, ack)}, t); // traffic moves the deadline to t + 900 s
    dp::expire_conns(r.worker(), t += 899'000, 100000);
    EXPECT_EQ(r.worker().conns.size(), 1u);
    dp::expire_conns(r.worker(), t += 1'200, 100000);
    EXPECT_EQ(r.worker().conns.size(), 0u);
}

TEST(worker, a_shorter_timeout_after_a_state_change_is_not_delayed) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    uint64_t t = 1000;
    r.burst(0, {packet(6, 40002, 80, syn)}, t);
    r.burst(0, {packet(6, 40002, 80, ack)}, t += 100); // ESTABLISHED: due in 900 s
    // Let the wheel visit the first slot (NONE, 2 s) and re-file the entry at its 900 s deadline.
    dp::expire_conns(r.worker(), t += 5'000, 100000);
    ASSERT_EQ(r.worker().conns.size(), 1u);
    r.burst(0, {packet(6, 40002, 80, fin | ack)}, t += 1000); // FIN_WAIT: due in 120 s
    dp::expire_conns(r.worker(), t + 119'000, 100000);
    EXPECT_EQ(r.worker().conns.size(), 1u);
    dp::expire_conns(r.worker(), t + 120'200, 100000);
    EXPECT_EQ(r.worker().conns.size(), 0u) << "FIN_WAIT connection kept for the ESTABLISHED time";
}

TEST(worker, udp_connection_uses_the_udp_timeout) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    // 198.51.100.13 has no static neighbour: first resolve it as ARP would.
    r.neigh().learn(*ip_addr::parse("198.51.100.13"), 1, *mac_addr::parse("02:00:00:00:00:13"), 0);
    ASSERT_EQ(r.burst(0, {packet(17, 5353, 53)}, 1000)[1].size(), 1u);
    dp::expire_conns(r.worker(), 1000 + 299'000, 1000);
    EXPECT_EQ(r.worker().conns.size(), 1u);
    dp::expire_conns(r.worker(), 1000 + 300'200, 1000);
    EXPECT_EQ(r.worker().conns.size(), 0u);
}

TEST(worker, full_table_refuses_new_connections_but_keeps_established_ones) {
    test::rig r(load()); // connections.max = 8
    ASSERT_TRUE(r.ok());
    std::vector<test::frame> syns, acks;
    for (uint16_t p = 0; p < 8; ++p) {
        syns.push_back(packet(6, static_cast<uint16_t>(41000 + p), 80, syn));
        acks.push_back(packet(6, static_cast<uint16_t>(41000 + p), 80, ack));
    }
    EXPECT_EQ(r.burst(0, syns, 1000)[1].size(), 8u);
    EXPECT_EQ(r.burst(0, acks, 1001)[1].size(), 8u); // all ESTABLISHED
    EXPECT_EQ(r.worker().conns.size(), 8u);
    // A ninth connection is refused and counted: established flows are never evicted...
    EXPECT_TRUE(r.burst(0, {packet(6, 42000, 80, syn)}, 1002)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::conn_table_full), 1u);
    EXPECT_EQ(r.worker().ctr.conns_reclaimed, 0u);
    // ...and every one keeps flowing.
    EXPECT_EQ(r.burst(0, acks, 1003)[1].size(), 8u);
    EXPECT_EQ(drops(r, dp::drop::conn_table_full), 1u);
}

TEST(worker, full_table_of_half_open_connections_admits_a_new_one_in_place_of_the_oldest) {
    test::rig r(load()); // connections.max = 8
    ASSERT_TRUE(r.ok());
    std::vector<test::frame> syns;
    for (uint16_t p = 0; p < 7; ++p) // seven handshakes that never complete (spoofed SYNs)
        syns.push_back(packet(6, static_cast<uint16_t>(41000 + p), 80, syn));
    EXPECT_EQ(r.burst(0, syns, 1000)[1].size(), 7u);
    EXPECT_EQ(r.burst(0, {packet(6, 41100, 80, syn)}, 1001)[1].size(), 1u);
    EXPECT_EQ(r.burst(0, {packet(6, 41100, 80, ack)}, 1002)[1].size(), 1u); // one established
    ASSERT_EQ(r.worker().conns.size(), 8u);
    // Two new clients: each takes a half-open entry's place, in the order they were made.
    EXPECT_EQ(r.burst(0, {packet(6, 42000, 80, syn), packet(6, 42001, 80, syn)}, 1003)[1].size(),
              2u);
    EXPECT_EQ(r.worker().ctr.conns_reclaimed, 2u);
    EXPECT_EQ(drops(r, dp::drop::conn_table_full), 0u);
    EXPECT_EQ(r.worker().conns.size(), 8u);
    // The new clients complete; the established flow was not touched.
    EXPECT_EQ(
        r.burst(0,
                {packet(6, 42000, 80, ack), packet(6, 42001, 80, ack), packet(6, 41100, 80, ack)},
                1004)[1]
            .size(),
        3u);
    EXPECT_EQ(drops(r, dp::drop::no_conn), 0u);
    // The two oldest half-open ones are gone: their late ACKs find nothing.
    EXPECT_TRUE(
        r.burst(0, {packet(6, 41000, 80, ack), packet(6, 41001, 80, ack)}, 1005)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::no_conn), 2u);
}

TEST(worker, handshakes_live_shorter_while_the_table_is_under_pressure) {
    test::rig r(load()); // connections.max = 8: under pressure with 8 entries (none of 8 free)
    ASSERT_TRUE(r.ok());
    std::vector<test::frame> syns;
    for (uint16_t p = 0; p < 8; ++p)
        syns.push_back(packet(6, static_cast<uint16_t>(43000 + p), 80, syn));
    r.burst(0, syns, 1000);
    ASSERT_EQ(r.worker().conns.size(), 8u);
    // The last SYN was handled with the table full: its SYN_RECV lasts 10 s, not IPVS' 60 s.
    dp::expire_conns(r.worker(), 1000 + 11'000, 1000);
    EXPECT_EQ(r.worker().conns.size(), 7u);
}

TEST(worker, unresolved_next_hop_drops_and_counts_until_arp_answers) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.burst(0, {packet(17, 6000, 53)}, 1000)[1].empty());
    EXPECT_EQ(drops(r, dp::drop::neigh_unresolved), 1u);
    // The neighbour manager wants to ARP for it, and does again after its retry interval.
    auto due = r.neigh().due(1000);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].target.to_string(), "198.51.100.13");
    EXPECT_EQ(due[0].port, 1);
    EXPECT_TRUE(r.neigh().due(1500).empty());
    EXPECT_EQ(r.neigh().due(2000).size(), 1u);
    r.neigh().learn(*ip_addr::parse("198.51.100.13"), 1, *mac_addr::parse("02:00:00:00:00:13"),
                    2000);
    auto out = r.burst(0, {packet(17, 6000, 53)}, 2001)[1];
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0][5], 0x13); // the learned MAC
}

TEST(worker, counters_per_virtual_and_real_server) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    // Two connections over rs1, rs2 (rr), three packets each way... DR sees only one way.
    r.burst(0, {packet(6, 43000, 80, syn), packet(6, 43001, 80, syn)}, 1000);
    r.burst(0, {packet(6, 43000, 80, ack), packet(6, 43000, 80, ack)}, 1001);
    const dp::service& web = r.snap().services_v[0];
    const dp::dest& rs1 = r.snap().dests[web.dest_first];
    const dp::dest& rs2 = r.snap().dests[web.dest_first + 1];
    const auto& w = r.worker();
    EXPECT_EQ(w.svc_ctr[web.stats_id].conns, 2u);
    EXPECT_EQ(w.svc_ctr[web.stats_id].in_pkts, 4u);
    EXPECT_EQ(w.svc_ctr[web.stats_id].in_bytes, 4u * 40); // IP bytes, as IPVS counts
    EXPECT_EQ(w.dest_ctr[rs1.stats_id].conns, 1u);
    EXPECT_EQ(w.dest_ctr[rs1.stats_id].in_pkts, 3u);
    EXPECT_EQ(w.dest_ctr[rs2.stats_id].in_pkts, 1u);
    // rs1's connection reached ESTABLISHED (active), rs2's is in SYN_RECV (active for IPVS too).
    EXPECT_EQ(w.dest_conns[rs1.stats_id].active, 1);
    EXPECT_EQ(w.dest_conns[rs2.stats_id].active, 1);
    EXPECT_EQ(w.dest_conns[rs1.stats_id].inactive, 0);
    r.burst(0, {packet(6, 43000, 80, fin | ack)}, 1002); // FIN_WAIT: inactive
    EXPECT_EQ(w.dest_conns[rs1.stats_id].active, 0);
    EXPECT_EQ(w.dest_conns[rs1.stats_id].inactive, 1);
    EXPECT_EQ(w.ctr.conns_created, 2u);
    EXPECT_EQ(w.ctr.rx_pkts, 5u);
}

// Found by fuzz_burst: an empty frame (a zero-length read) crashed the harness (memcpy from an
// empty vector's null data(), undefined behaviour); the worker must count it as truncated.
TEST(worker, an_empty_frame_is_dropped_as_truncated) {
    test::rig r(load());
    ASSERT_TRUE(r.ok());
    const auto out = r.burst(0, {test::frame{}}, 1000);
    EXPECT_TRUE(out[0].empty() && out[1].empty());
    EXPECT_EQ(drops(r, dp::drop::eth_truncated), 1u);
    EXPECT_EQ(r.worker().ctr.rx_pkts, 1u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("worker")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
