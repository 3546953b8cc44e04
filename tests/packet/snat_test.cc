// SNAT through the worker's burst path (issue 19): port allocation spreads over the range and
// never hands one (address, port, protocol, remote) to two live connections, exhaustion and
// expiry, TCP states and timeouts, and both ways of a connection on its owner among several
// workers. The packet tables (tables_snat.py) check the bytes.
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <rte_mempool.h>

#include <array>
#include <map>
#include <set>

using namespace ulvs;
using test::flow;
using test::mac6;
using ulvs::ip_prefix;

namespace {

const mac6 router = {2, 0, 0, 0, 0, 1};
const mac6 rs1 = {2, 0, 0, 0, 0, 0x11};
const mac6 wan = test::pcap_port_mac(0), lan = test::pcap_port_mac(1);
constexpr uint8_t syn = 0x02, ack = 0x10, synack = 0x12;
constexpr const char* remote = "203.0.113.200";

config::config load(const std::string& ports = "20000-20999") {
    auto c =
        config::load_string(test::two_port_config(R"(routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
neighbors:
  - {address: 203.0.113.1, mac: "02:00:00:00:00:01", port: wan}
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 8192}
snat: [{sources: [198.51.100.0/24], out_port: wan, ports: )" +
                                                  ports + "}]\n"),
                            "snat_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

uint64_t drops(test::rig& r, dp::drop d, uint32_t w = 0) {
    return r.worker(w).ctr.drops[static_cast<size_t>(d)];
}

// rs1's UDP datagram from `sport` to remote:`dport`, received by worker `wi`: the translated
// source port it left with (0: it did not leave wan).
uint16_t out_udp(test::rig& r, uint16_t sport, uint16_t dport, uint64_t now, uint32_t wi = 0) {
    const flow f{"198.51.100.11", remote, sport, dport, 17};
    auto out = r.burst_on(wi, 1, {test::make_frame(f, rs1, lan, 0, 4)}, now);
    if (out[0].size() != 1)
        return 0;
    const auto v = test::read_frame(out[0][0]);
    EXPECT_EQ(v.src, "203.0.113.10");
    EXPECT_EQ(v.dst, remote);
    EXPECT_EQ(v.dport, dport);
    EXPECT_EQ(v.ttl, 63);
    EXPECT_EQ(v.eth_dst, router);
    EXPECT_TRUE(test::checksums_ok(out[0][0]));
    return v.sport;
}

// remote:`sport` answers 203.0.113.10:`port` (received by worker `wi`): the port it reached rs1
// on (0: it did not reach lan).
uint16_t in_udp(test::rig& r, uint16_t sport, uint16_t port, uint64_t now, uint32_t wi = 0) {
    const flow f{remote, "203.0.113.10", sport, port, 17};
    auto out = r.burst_on(wi, 0, {test::make_frame(f, router, wan, 0, 4)}, now);
    if (out[1].size() != 1)
        return 0;
    const auto v = test::read_frame(out[1][0]);
    EXPECT_EQ(v.dst, "198.51.100.11");
    EXPECT_EQ(v.src, remote);
    EXPECT_EQ(v.eth_dst, rs1);
    EXPECT_TRUE(test::checksums_ok(out[1][0]));
    return v.dport;
}

TEST(snat, ports_are_unique_per_remote_and_spread_over_the_range) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    std::map<uint16_t, uint16_t> inside_of; // translated port -> rs1's port
    std::array<int, 10> buckets{};          // 100 ports each
    for (uint16_t i = 0; i < 600; ++i) {
        const uint16_t sport = static_cast<uint16_t>(30000 + i);
        const uint16_t p = out_udp(r, sport, 53, 1000 + i);
        ASSERT_GE(p, 20000) << "flow " << i;
        ASSERT_LE(p, 20999) << "flow " << i;
        ASSERT_TRUE(inside_of.emplace(p, sport).second) << "port " << p << " handed out twice";
        ++buckets[(p - 20000) / 100];
        // The connection's next datagram keeps its port.
        ASSERT_EQ(out_udp(r, sport, 53, 1000 + i), p);
    }
    for (int n : buckets) // 60 per bucket on average
        EXPECT_GE(n, 30);
    // Every answer reaches rs1 on the port that asked.
    for (auto [p, sport] : inside_of)
        ASSERT_EQ(in_udp(r, 53, p, 2000), sport);
    // Another remote port may reuse a port: the tuple differs.
    EXPECT_NE(out_udp(r, 30000, 54, 3000), 0);
    EXPECT_EQ(r.worker().ctr.snat_created, 601u);
    EXPECT_EQ(drops(r, dp::drop::snat_exhausted), 0u);
}

TEST(snat, exhaustion_is_dropped_and_counted_until_connections_expire) {
    test::rig r(load("20000-20009"));
    ASSERT_TRUE(r.ok()) << r.error();
    std::set<uint16_t> used;
    for (uint16_t i = 0; i < 10; ++i)
        used.insert(out_udp(r, static_cast<uint16_t>(30000 + i), 53, 1000));
    EXPECT_EQ(used.size(), 10u);
    EXPECT_FALSE(used.contains(0));
    EXPECT_EQ(out_udp(r, 30010, 53, 1000), 0); // the 11th to remote:53
    EXPECT_EQ(drops(r, dp::drop::snat_exhausted), 1u);
    EXPECT_NE(out_udp(r, 30010, 54, 1000), 0); // remote:54 is another tuple
    // An answer to a port from a remote port with no connection is not forwarded to anyone.
    EXPECT_EQ(in_udp(r, 99, 20005, 1000), 0);
    // UDP's 300 s later every connection has expired and the range is free again.
    const uint64_t later = 1000 + 301'000;
    for (uint64_t t = 1000; t <= later; t += 100)
        dp::expire_conns(r.worker(), t, 1u << 20);
    EXPECT_EQ(r.worker().ctr.snat_expired, 11u);
    EXPECT_NE(out_udp(r, 30010, 53, later), 0);
}

TEST(snat, tcp_follows_ipvs_states_from_the_inside_host) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    const flow out{"198.51.100.11", remote, 34000, 443, 6};
    auto o = r.burst(1, {test::make_frame(out, rs1, lan, syn)}, 1000);
    ASSERT_EQ(o[0].size(), 1u);
    const uint16_t p = test::read_frame(o[0][0]).sport;
    // Find the connection by its inbound key.
    auto key = [&] {
        dp::conn_key k{};
        k.src_ip = htonl(0xcb0071c8u); // 203.0.113.200
        k.dst_ip = htonl(0xcb00710au); // 203.0.113.10
        k.src_port = htons(443);
        k.dst_port = htons(p);
        k.proto = 6;
        return k;
    }();
    auto ref = r.worker().conns.lookup(key);
    ASSERT_TRUE(ref.found());
    EXPECT_EQ(r.worker().conns.at(ref.index).state, dp::tcp_state::syn_sent);
    const flow back{remote, "203.0.113.10", 443, p, 6};
    o = r.burst(0, {test::make_frame(back, router, wan, synack)}, 1001);
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(test::read_frame(o[1][0]).dport, 34000);
    EXPECT_EQ(r.worker().conns.at(ref.index).state, dp::tcp_state::established);
    EXPECT_EQ(r.worker().conns.at(ref.index).expire_ms, 1001u + 900'000u);
    // A stray segment of no connection from inside: no_conn, never sent with our address.
    const flow stray{"198.51.100.11", remote, 34001, 443, 6};
    o = r.burst(1, {test::make_frame(stray, rs1, lan, ack)}, 1002);
    EXPECT_TRUE(o[0].empty());
    EXPECT_EQ(drops(r, dp::drop::no_conn), 1u);
}

TEST(snat, both_ways_meet_on_the_owner_among_four_workers) {
    test::rig r(load(), 1000, 4);
    ASSERT_TRUE(r.ok()) << r.error();
    std::set<uint16_t> ports;
    for (uint16_t i = 0; i < 200; ++i) {
        const uint16_t sport = static_cast<uint16_t>(31000 + i);
        // Received by any worker (as RSS spreads the inside host's flows)...
        const uint16_t p = out_udp(r, sport, 53, 1000 + i, i % 4);
        ASSERT_NE(p, 0) << "flow " << i;
        ASSERT_TRUE(ports.insert(p).second) << "port " << p << " handed out twice";
        // ...and the answer, received by another, reaches the same connection.
        ASSERT_EQ(in_udp(r, 53, p, 1000 + i, (i + 1) % 4), sport) << "flow " << i;
    }
    // Every connection to remote:53 lives on one worker: the owner of that remote end.
    uint32_t with_conns = 0;
    for (uint32_t w = 0; w < 4; ++w)
        with_conns += r.worker(w).ctr.snat_created != 0 ? 1 : 0;
    EXPECT_EQ(with_conns, 1u);
}

// Mangled SNAT traffic (headers cut, fields flipped, ICMP errors quoting anything) through two
// workers with SNAT and forwarding rules: nothing crashes, every mbuf comes back to the pool.
TEST(snat, mangled_traffic_returns_every_mbuf) {
    auto cfg = load("20000-20007");
    cfg.forwarding_rules.push_back(
        {{*ip_prefix::parse("198.51.100.0/24")}, {*ip_prefix::parse("0.0.0.0/0")}, "", ""});
    test::rig r(cfg, 1000, 2);
    ASSERT_TRUE(r.ok()) << r.error();
    const unsigned before = rte_mempool_in_use_count(test::test_pool());
    uint64_t x = 0x9e3779b97f4a7c15ull;
    auto rnd = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const uint8_t protos[] = {6, 17, 1};
    for (uint32_t i = 0; i < 4000; ++i) {
        const bool out = rnd() & 1;
        const uint8_t proto = protos[rnd() % 3];
        const auto port = static_cast<uint16_t>(20000 + rnd() % 12);
        const flow f =
            out ? flow{"198.51.100.11", remote, static_cast<uint16_t>(30000 + rnd() % 8), 53, proto}
                : flow{remote, "203.0.113.10", 53, port, proto};
        test::frame fr = out ? test::make_frame(f, rs1, lan, syn, rnd() % 64)
                             : test::make_frame(f, router, wan, synack, rnd() % 64);
        if (proto == 1 && !out)
            fr[34] = rnd() & 1 ? 0 : 3;          // an echo reply, or an error quoting what follows
        for (uint32_t k = rnd() % 4; k > 0; --k) // flip bytes past the Ethernet header
            fr[14 + rnd() % (fr.size() - 14)] ^= static_cast<uint8_t>(1u << (rnd() % 8));
        if (rnd() % 8 == 0)
            fr.resize(14 + rnd() % (fr.size() - 14));
        r.burst_on(static_cast<uint32_t>(rnd() & 1), out ? 1 : 0, {fr}, 1000 + i * 50);
    }
    // What may still be in flight: fragments waiting for the rest of their datagram (a flipped
    // flag made one), packets the control lcore holds for a host still resolving (a flipped
    // address on lan's subnet). Their timeouts free them.
    const uint64_t later = 1000 + 4000 * 50 + 400'000;
    for (uint32_t w = 0; w < 2; ++w) {
        dp::expire_conns(r.worker(w), later, 1u << 20);
        dp::expire_fragments(r.worker(w), later);
    }
    r.burst(0, {}, later);
    EXPECT_EQ(rte_mempool_in_use_count(test::test_pool()), before);
    uint64_t created = 0;
    for (uint32_t w = 0; w < 2; ++w)
        created += r.worker(w).ctr.snat_created;
    EXPECT_GT(created, 0u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("snat"))
        return 1;
    return RUN_ALL_TESTS();
}
