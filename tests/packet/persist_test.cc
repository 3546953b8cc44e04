// Persistence templates and match services over time, with injected time (issue 5, acceptance 3):
// what one packet table cannot show — template timeouts, templates held by live connections,
// PersistConn counts, real servers removed or quiesced under a template, and persistent NAT
// over two workers, replies included.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <map>

using namespace ulvs;

namespace {

constexpr const char* ports_yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
neighbors:
  - {address: 203.0.113.1, mac: "02:00:00:00:00:01", port: wan}
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
connections: {max: 4096}
)";

// rr over three DR servers, persistent for 60 s per /25 of clients (the lab's address ranges
// hold four /25s: 203.0.113.0/25 and .128/25, 198.51.100.0/25 and .128/25).
std::string dr_persistent(const std::string& extra = "", const std::string& w3 = "1",
                          bool third = true) {
    return std::string(ports_yaml) + R"(
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    persistence: {timeout: 60s, granularity: 255.255.255.128)" +
           extra + R"(}
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
)" + (third ? "      - {address: 198.51.100.13, port: 80, weight: " + w3 + "}\n" : "");
}

config::config load(const std::string& yaml) {
    auto c = config::load_string(yaml, "persist_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

constexpr uint8_t syn = 0x02, ack = 0x10, rst = 0x04;
const test::mac6 router{2, 0, 0, 0, 0, 1};

test::frame from_client(const std::string& client, uint16_t sport, uint16_t dport, uint8_t flags,
                        const std::string& vip = "203.0.113.100") {
    return test::make_frame({client, vip, sport, dport, 6}, router, test::pcap_port_mac(0), flags);
}

// The DR real server a frame left for on lan (by its destination MAC), or "none".
std::string dr_server_of(const std::vector<std::vector<test::frame>>& out) {
    if (out.size() < 2 || out[1].size() != 1)
        return "none";
    return "rs" + std::to_string(test::read_frame(out[1][0]).eth_dst[5] - 0x10);
}

int64_t persist_count(test::rig& r, uint32_t dest_index, uint32_t workers = 1) {
    int64_t n = 0;
    const uint32_t id = r.snap().dests[dest_index].stats_id;
    for (uint32_t w = 0; w < workers; ++w)
        n += r.worker(w).dest_conns[id].persistent;
    return n;
}

TEST(persistence, one_client_network_sticks_to_one_server_across_ports_and_connections) {
    test::rig r(load(dr_persistent()));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    // rr would spread these over rs1, rs2, rs3: persistence keeps the /25 on its first server.
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 41000, 80, syn)}, t)), "rs1");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 41001, 80, syn)}, t)), "rs1");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.131", 41002, 80, syn)}, t)), "rs1");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.250", 41003, 80, syn)}, t)), "rs1");
    // Another /25 gets its own template: rr moves on once per template, not per connection.
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.200", 41004, 80, syn)}, t)), "rs2");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.201", 41005, 80, syn)}, t)), "rs2");
    // 6 connections, 2 templates: PersistConn counts templates, Active/InAct only connections.
    EXPECT_EQ(r.worker().ctr.conns_created, 6u);
    EXPECT_EQ(r.worker().ctr.templates_created, 2u);
    EXPECT_EQ(persist_count(r, 0), 1);
    EXPECT_EQ(persist_count(r, 1), 1);
    EXPECT_EQ(persist_count(r, 2), 0);
    const uint32_t rs1 = r.snap().dests[0].stats_id;
    EXPECT_EQ(r.worker().dest_conns[rs1].inactive + r.worker().dest_conns[rs1].active, 4);
}

TEST(persistence, rescheduled_after_the_timeout_but_not_while_its_connections_live) {
    test::rig r(load(dr_persistent()));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 42000, 80, syn)}, t)), "rs1");
    r.burst(0, {from_client("203.0.113.130", 42000, 80, ack)}, t += 10); // ESTABLISHED (900 s)
    // The template's 60 s pass, but it controls a live connection: IPVS keeps it.
    dp::expire_conns(r.worker(), t += 61'000, 100000);
    EXPECT_EQ(r.worker().ctr.templates_expired, 0u);
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 42001, 80, syn)}, t)), "rs1");
    r.burst(0, {from_client("203.0.113.130", 42001, 80, ack)}, t);
    // Both connections end (RST on ESTABLISHED: CLOSE, 10 s; IPVS' input-only table ignores a
    // client's RST in SYN_RECV); then the template runs out its own 60 s.
    r.burst(0, {from_client("203.0.113.130", 42000, 80, rst)}, t += 10);
    r.burst(0, {from_client("203.0.113.130", 42001, 80, rst)}, t);
    dp::expire_conns(r.worker(), t += 11'000, 100000);
    EXPECT_EQ(r.worker().ctr.conns_expired, 2u);
    EXPECT_EQ(r.worker().ctr.templates_expired, 0u) << "template gone before its timeout";
    dp::expire_conns(r.worker(), t += 130'000, 100000);
    EXPECT_EQ(r.worker().ctr.templates_expired, 1u);
    EXPECT_EQ(r.worker().conns.size(), 0u);
    EXPECT_EQ(persist_count(r, 0), 0);
    // The next connection of that network is scheduled afresh: rr's next server.
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 42002, 80, syn)}, t)), "rs2");
}

TEST(persistence, a_new_connection_restarts_the_template_timer) {
    test::rig r(load(dr_persistent()));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    // Each connection: SYN, ACK, RST, so it lives 10 s (CLOSE) and controls the template only
    // that long; a new one every 40 s keeps the 60 s template alive far past its first deadline.
    for (uint16_t i = 0; i < 5; ++i) {
        const auto port = static_cast<uint16_t>(43000 + i);
        EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", port, 80, syn)}, t)), "rs1")
            << "connection " << i;
        r.burst(0, {from_client("203.0.113.130", port, 80, ack)}, t + 1);
        r.burst(0, {from_client("203.0.113.130", port, 80, rst)}, t + 1);
        dp::expire_conns(r.worker(), t += 40'000, 100000);
    }
    EXPECT_EQ(r.worker().ctr.templates_created, 1u);
    EXPECT_EQ(r.worker().ctr.templates_expired, 0u);
    EXPECT_EQ(r.worker().ctr.conns_expired, 5u); // the connections did end in between
}

TEST(persistence, a_removed_server_loses_its_clients_a_quiesced_one_keeps_them) {
    test::rig r(load(dr_persistent()));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 44000, 80, syn)}, t)), "rs1");
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.200", 44001, 80, syn)}, t)), "rs2");
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.100", 44002, 80, syn)}, t)), "rs3");
    // Weight 0 (quiesced): IPVS' default expire_quiescent_template=0 keeps the template.
    ASSERT_TRUE(r.reconfigure(load(dr_persistent("", "0"))));
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.101", 44003, 80, syn)}, t)), "rs3");
    // Removed: the template no longer holds; the client is scheduled among rs1, rs2.
    ASSERT_TRUE(r.reconfigure(load(dr_persistent("", "1", false))));
    const std::string again =
        dr_server_of(r.burst(0, {from_client("198.51.100.102", 44004, 80, syn)}, t));
    EXPECT_TRUE(again == "rs1" || again == "rs2") << again;
    // ... and stays there (the template was re-pointed, not dropped).
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.103", 44005, 80, syn)}, t)), again);
    EXPECT_EQ(r.worker().ctr.templates_created, 3u);
}

TEST(persistence, expire_quiescent_template_moves_clients_off_a_weight_0_server) {
    test::rig r(load(dr_persistent(", expire_quiescent_template: true")));
    ASSERT_TRUE(r.ok()) << r.error();
    uint64_t t = 1000;
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 45000, 80, syn)}, t)), "rs1");
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.200", 45001, 80, syn)}, t)), "rs2");
    ASSERT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.100", 45002, 80, syn)}, t)), "rs3");
    ASSERT_TRUE(r.reconfigure(load(dr_persistent(", expire_quiescent_template: true", "0"))));
    const std::string moved =
        dr_server_of(r.burst(0, {from_client("198.51.100.101", 45003, 80, syn)}, t));
    EXPECT_TRUE(moved == "rs1" || moved == "rs2") << moved;
    EXPECT_EQ(persist_count(r, 2), 0);
    // The established connection to rs3 is untouched (only new connections follow templates).
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("198.51.100.100", 45002, 80, ack)}, t)), "rs3");
}

// NAT, persistent per /24, two workers: every connection of the network, whatever its port and
// whichever worker receives it, is owned by one worker; replies (received anywhere) find it.
TEST(persistence, nat_over_two_workers_keeps_a_network_on_one_worker_and_server) {
    const std::string yaml = std::string(ports_yaml) + R"(
virtual_servers:
  - name: web
    address: 203.0.113.101
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    persistence: {timeout: 300s, granularity: 255.255.255.0}
    real_servers:
      - {address: 198.51.100.11, port: 8080}
      - {address: 198.51.100.12, port: 8080}
      - {address: 198.51.100.13, port: 8080}
)";
    test::rig r(load(yaml), 1000, 2);
    ASSERT_TRUE(r.ok()) << r.error();
    const uint64_t t = 1000;
    std::map<std::string, std::string> server_of_client;
    for (uint16_t i = 0; i < 40; ++i) {
        const std::string client = i % 2 ? "203.0.113.130" : "203.0.113.140";
        const uint16_t port = static_cast<uint16_t>(46000 + i);
        auto out = r.burst_on(i % 2, 0, {from_client(client, port, 80, syn, "203.0.113.101")}, t);
        ASSERT_EQ(out[1].size(), 1u) << "request " << i;
        const test::view v = test::read_frame(out[1][0]);
        EXPECT_EQ(v.dport, 8080);
        EXPECT_TRUE(test::checksums_ok(out[1][0]));
        server_of_client[client + ":" + std::to_string(port)] = v.dst;
        // The reply, received by the other worker.
        const test::frame reply = test::make_frame(
            {v.dst, client, 8080, port, 6}, {2, 0, 0, 0, 0, uint8_t(v.dst.back() - '0' + 0x10)},
            test::pcap_port_mac(1), syn | ack);
        auto back = r.burst_on((i + 1) % 2, 1, {reply}, t);
        ASSERT_EQ(back[0].size(), 1u) << "reply " << i;
        const test::view bv = test::read_frame(back[0][0]);
        EXPECT_EQ(bv.src, "203.0.113.101");
        EXPECT_EQ(bv.sport, 80);
        EXPECT_TRUE(test::checksums_ok(back[0][0]));
    }
    // One /24, one template, one server for all 40 connections.
    for (const auto& [k, s] : server_of_client)
        EXPECT_EQ(s, server_of_client.begin()->second) << k;
    const uint64_t templates =
        r.worker(0).ctr.templates_created + r.worker(1).ctr.templates_created;
    EXPECT_EQ(templates, 1u);
    // All connections live in the template's worker's table.
    const uint32_t owner = r.worker(0).conns.size() > 0 ? 0 : 1;
    EXPECT_EQ(r.worker(owner).conns.size(), 41u); // 40 connections + 1 template
    EXPECT_EQ(r.worker(1 - owner).conns.size(), 0u);
    EXPECT_GT(r.worker(0).ctr.redirected + r.worker(1).ctr.redirected, 0u);
    for (uint32_t w = 0; w < 2; ++w)
        for (uint64_t d : r.worker(w).ctr.drops)
            EXPECT_EQ(d, 0u) << "worker " << w;
}

// A match service over ports 80 and 443, persistent: port 0 templates, so one client network
// gets one server for both ports (what iptables-marked LVS setups use fwmark services for).
TEST(match, a_persistent_match_service_keeps_a_client_on_one_server_across_service_ports) {
    const std::string yaml = std::string(ports_yaml) + R"(
virtual_servers:
  - name: multi
    match: {destinations: [203.0.113.100, 203.0.113.103], ports: [80, 443], protocol: tcp}
    scheduler: rr
    forwarding: dr
    persistence: {timeout: 60s}
    real_servers:
      - {address: 198.51.100.11, port: 0}
      - {address: 198.51.100.12, port: 0}
)";
    test::rig r(load(yaml));
    ASSERT_TRUE(r.ok()) << r.error();
    const uint64_t t = 1000;
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 47000, 80, syn)}, t)), "rs1");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 47001, 443, syn)}, t)), "rs1");
    EXPECT_EQ(dr_server_of(
                  r.burst(0, {from_client("203.0.113.130", 47002, 443, syn, "203.0.113.103")}, t)),
              "rs1");
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.131", 47003, 80, syn)}, t)), "rs2");
    EXPECT_EQ(r.worker().ctr.templates_created, 2u);
    // A port the match does not list: no service there.
    EXPECT_EQ(dr_server_of(r.burst(0, {from_client("203.0.113.130", 47004, 8080, syn)}, t)),
              "none");
    EXPECT_EQ(r.worker().ctr.drops[static_cast<size_t>(dp::drop::no_service)], 1u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("persist_test"))
        return 1;
    return RUN_ALL_TESTS();
}
