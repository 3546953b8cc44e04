// Packets to a next hop still resolving (issue 16): the first NAT reply to a new on-link client
// used to be dropped (neigh_unresolved) while ARP resolved it. Now the control lcore holds a few
// per host (control/neigh/unres_queue.h) and sends them once the host answers ARP; the bounds
// (per host, in all) and a host that never answers drop and count.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/worker_loop.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/24]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 4096}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers: [{address: 198.51.100.11, port: 8080}]
)";

constexpr uint8_t wan = 0, lan = 1, syn = 0x02, syn_ack = 0x12;
const test::mac6 client_mac{2, 0, 0, 0, 0, 0x30};
const test::mac6 rs_mac{2, 0, 0, 0, 0, 0x11};

test::rig make_rig() {
    auto cfg = config::load_string(yaml, "neigh_queue_test.yaml");
    EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().front().to_string());
    return test::rig(*cfg);
}

// The client's SYN to the VIP (forwarded to the real server) and the server's SYN-ACK, the
// packet that needs the client's MAC.
test::frame client_syn(const std::string& client, uint16_t sport) {
    return test::make_frame({client, "203.0.113.100", sport, 80, 6}, client_mac,
                            test::pcap_port_mac(wan), syn);
}
test::frame server_syn_ack(const std::string& client, uint16_t sport) {
    return test::make_frame({"198.51.100.11", client, 8080, sport, 6}, rs_mac,
                            test::pcap_port_mac(lan), syn_ack);
}

// The client's ARP reply to our who-has (sender 203.0.113.30 at client_mac).
test::frame arp_reply(uint8_t last) {
    const auto ours = test::pcap_port_mac(wan);
    test::frame f(ours.begin(), ours.end());
    f.insert(f.end(), client_mac.begin(), client_mac.end());
    const uint8_t head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2};
    f.insert(f.end(), std::begin(head), std::end(head));
    f.insert(f.end(), client_mac.begin(), client_mac.end());
    const uint8_t sip[] = {203, 0, 113, last};
    f.insert(f.end(), std::begin(sip), std::end(sip));
    f.insert(f.end(), ours.begin(), ours.end());
    const uint8_t tip[] = {203, 0, 113, 10};
    f.insert(f.end(), std::begin(tip), std::end(tip));
    f.resize(60, 0);
    return f;
}

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

uint16_t tcp_sport(const test::frame& f) {
    return static_cast<uint16_t>(f[34] << 8 | f[35]);
}

TEST(neigh_queue, first_reply_to_a_new_client_is_sent_after_its_arp_reply) {
    test::rig r = make_rig();
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r.burst(wan, {client_syn("203.0.113.30", 40000)}, 1000)[lan].size(), 1u);
    // The reply: the client is not resolved yet; nothing leaves, nothing is dropped.
    EXPECT_TRUE(r.burst(lan, {server_syn_ack("203.0.113.30", 40000)}, 1001)[wan].empty());
    EXPECT_EQ(drops(r, dp::drop::neigh_unresolved), 0u);
    EXPECT_EQ(r.unres().held(), 1u);
    // The neighbour manager asks for the client...
    auto due = r.neigh().due(1002);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].target.to_string(), "203.0.113.30");
    // ...and its answer releases the SYN-ACK, with the client's MAC, from wan's.
    auto out = r.burst(wan, {arp_reply(30)}, 1050)[wan];
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(std::equal(client_mac.begin(), client_mac.end(), out[0].begin()));
    const auto ours = test::pcap_port_mac(wan);
    EXPECT_TRUE(std::equal(ours.begin(), ours.end(), out[0].begin() + 6));
    EXPECT_EQ(out[0][47], syn_ack); // TCP flags: the server's reply, rewritten from the VIP
    EXPECT_EQ(tcp_sport(out[0]), 80);
    EXPECT_EQ(r.unres().held(), 0u);
    EXPECT_EQ(r.unres().stats().queued, 1u);
    EXPECT_EQ(r.unres().stats().sent, 1u);
    // From now on replies go straight out.
    ASSERT_EQ(r.burst(wan, {client_syn("203.0.113.30", 40001)}, 1060)[lan].size(), 1u);
    EXPECT_EQ(r.burst(lan, {server_syn_ack("203.0.113.30", 40001)}, 1061)[wan].size(), 1u);
}

TEST(neigh_queue, three_per_host_in_order_the_rest_dropped_and_counted) {
    test::rig r = make_rig();
    ASSERT_TRUE(r.ok()) << r.error();
    std::vector<test::frame> syns, replies;
    for (uint16_t p = 0; p < 5; ++p) {
        syns.push_back(client_syn("203.0.113.31", static_cast<uint16_t>(41000 + p)));
        replies.push_back(server_syn_ack("203.0.113.31", static_cast<uint16_t>(41000 + p)));
    }
    ASSERT_EQ(r.burst(wan, syns, 1000)[lan].size(), 5u);
    EXPECT_TRUE(r.burst(lan, replies, 1001)[wan].empty());
    EXPECT_EQ(r.unres().held(), 3u);
    EXPECT_EQ(r.unres().stats().dropped_full, 2u);
    auto out = r.burst(wan, {arp_reply(31)}, 1100)[wan];
    ASSERT_EQ(out.size(), 3u);
    // Which connection each one is: the clients' ports, in the order they came.
    for (uint16_t k = 0; k < 3; ++k)
        EXPECT_EQ(out[k][36] << 8 | out[k][37], 41000 + k);
    EXPECT_EQ(r.unres().stats().sent, 3u);
}

TEST(neigh_queue, a_host_that_never_answers_has_its_packets_dropped_after_3_s) {
    test::rig r = make_rig();
    ASSERT_TRUE(r.ok()) << r.error();
    const unsigned before = rte_mempool_in_use_count(test::test_pool());
    ASSERT_EQ(r.burst(wan, {client_syn("203.0.113.32", 42000)}, 1000)[lan].size(), 1u);
    EXPECT_TRUE(r.burst(lan, {server_syn_ack("203.0.113.32", 42000)}, 1000)[wan].empty());
    EXPECT_EQ(r.unres().held(), 1u);
    r.burst(wan, {}, 3999); // an empty burst: the control lcore's pass
    EXPECT_EQ(r.unres().held(), 1u);
    r.burst(wan, {}, 4000);
    EXPECT_EQ(r.unres().held(), 0u);
    EXPECT_EQ(r.unres().stats().dropped_failed, 1u);
    EXPECT_EQ(rte_mempool_in_use_count(test::test_pool()), before);
    // A late answer sends nothing.
    EXPECT_TRUE(r.burst(wan, {arp_reply(32)}, 4100)[wan].empty());
}

// The holding area's bounds, on its own: 128 packets in all, 3 per host; a carrier the worker
// did not mark holdable (a request only) is freed and not counted.
TEST(neigh_queue, at_most_128_held_in_all) {
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("neigh_queue_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    auto carrier = [](uint32_t host, bool hold) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        rte_pktmbuf_append(m, 60);
        m->port = dp::mbuf_port_resolve_request | (hold ? dp::mbuf_port_hold : 0) | wan;
        m->hash.usr = htonl(0x0a000000u + host);
        return m;
    };
    {
        ctl::unres_queue q;
        for (uint32_t h = 1; h <= 66; ++h) // two per host: 132 offered
            for (int k = 0; k < 2; ++k)
                q.take(carrier(h, true), 1000);
        EXPECT_EQ(q.held(), ctl::unres_queue::total);
        EXPECT_EQ(q.stats().queued, 128u);
        EXPECT_EQ(q.stats().dropped_full, 4u);
        q.take(carrier(500, false), 1000);
        EXPECT_EQ(q.stats().dropped_full, 4u);
        EXPECT_EQ(rte_mempool_in_use_count(pool), 128u);
        // Nothing resolves: after 3 s all of them go, counted.
        dp::neigh_table t(16);
        ctl::neigh_manager n(t);
        std::vector<ctl::port_addrs> ports(1);
        size_t sent = 0;
        q.service(n, ports, 3999, [&](uint8_t, rte_mbuf* m) { ++sent, rte_pktmbuf_free(m); });
        EXPECT_EQ(q.held(), 128u);
        q.service(n, ports, 4000, [&](uint8_t, rte_mbuf* m) { ++sent, rte_pktmbuf_free(m); });
        EXPECT_EQ(q.held(), 0u);
        EXPECT_EQ(sent, 0u);
        EXPECT_EQ(q.stats().dropped_failed, 128u);
    }
    EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

// A held carrier is handed over, not dropped: to_control when the ring takes it, one
// neigh_unresolved drop when it refuses it (every received packet counted once).
TEST(neigh_queue, a_holdable_carrier_is_counted_once) {
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("neigh_carrier_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    static rte_ring* ring =
        rte_ring_create("neigh_carrier_ring", 2, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(pool, nullptr);
    ASSERT_NE(ring, nullptr);
    test::rig r = make_rig();
    ASSERT_TRUE(r.ok()) << r.error();
    dp::worker_ctx& w = r.worker();
    for (int k = 0; k < 2; ++k) { // the ring holds one
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        m->port = dp::mbuf_port_resolve_request | dp::mbuf_port_hold;
        w.to_ctrl_prio.pkts[w.to_ctrl_prio.n++] = m;
    }
    dp::worker_runtime rt;
    rt.ctx = &w;
    rt.to_ctrl_prio = ring;
    rt.to_ctrl = ring;
    dp::flush_stages(w, rt);
    EXPECT_EQ(w.ctr.to_control, 1u);
    EXPECT_EQ(drops(r, dp::drop::neigh_unresolved), 1u);
    void* out[2];
    ASSERT_EQ(rte_ring_dequeue_burst(ring, out, 2, nullptr), 1u);
    rte_pktmbuf_free(static_cast<rte_mbuf*>(out[0]));
    EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("neigh_queue_test"))
        return 1;
    return RUN_ALL_TESTS();
}
