// Connection sync through the worker and the control lcore's engine (issue 18): which packets
// emit a record and with what, the threshold/period rule, a full ring, and a pair of nodes: the
// MASTER's records go out as IPVS sync v1 datagrams, the BACKUP's engine decodes them and hands
// them to the owner worker, and the next mid-stream packet (no SYN) on the BACKUP, now MASTER,
// uses the synced connection (DR, NAT with its reply), a synced template steers a new connection
// of the same client to the same real server, and lc counts follow.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/control/sync/sync_engine.h"
#include "ulvs/dataplane/fwd/worker_loop.h"

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>

using namespace ulvs;
using test::flow;
using test::mac6;

namespace {

constexpr const char* pair_config = R"(
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
virtual_servers:
  - name: dr
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
      - {address: 198.51.100.13, port: 80}
  - name: nat
    address: 203.0.113.101
    port: 80
    protocol: tcp
    scheduler: wlc
    forwarding: nat
    real_servers:
      - {address: 198.51.100.11, port: 8080}
      - {address: 198.51.100.12, port: 8080}
  - name: sticky
    address: 203.0.113.102
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    persistence: {timeout: 60s, granularity: 255.255.255.128}
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
      - {address: 198.51.100.13, port: 80}
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.13, port: 53}
)";

const mac6 router = {2, 0, 0, 0, 0, 1};
const mac6 wan = test::pcap_port_mac(0), lan = test::pcap_port_mac(1);
constexpr uint8_t syn = 0x02, ack = 0x10, synack = 0x12, psh_ack = 0x18, fin_ack = 0x11;

// `sync:` as the YAML says it (the workers read it from the snapshot).
std::string sync_yaml(const std::string& role, int threshold = 3, int period = 50) {
    return "sync: {role: " + role + ", interface: lan, threshold: " + std::to_string(threshold) +
           ", period: " + std::to_string(period) + "}\n";
}

config::config load(const std::string& extra = "") {
    auto c = config::load_string(std::string(pair_config) + extra, "sync_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

// What worker 0 staged for the control lcore since the last call.
std::vector<dp::sync_msg> take(test::rig& r) {
    dp::sync_stage& s = r.worker().sync_out;
    std::vector<dp::sync_msg> out(s.recs, s.recs + s.n);
    s.n = 0;
    return out;
}

test::frame client(const std::string& src, uint16_t sport, const std::string& vip, uint8_t flags,
                   size_t payload = 0) {
    return test::make_frame({src, vip, sport, 80, 6}, router, wan, flags, payload);
}

uint32_t ip(const char* s) {
    return inet_addr(s);
}

// The DR server a frame left for (by destination MAC): 1..3, or 0.
int dr_server(const std::vector<std::vector<test::frame>>& out) {
    if (out[1].size() != 1)
        return 0;
    return test::read_frame(out[1][0]).eth_dst[5] - 0x10;
}

TEST(sync_emit, a_new_connection_and_its_state_changes_emit_records_with_their_fields) {
    test::rig r(load(sync_yaml("master")));
    ASSERT_TRUE(r.ok()) << r.error();
    // A TCP connection in the handshake is not sent (as IPVS: a SYN flood stays here).
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", syn)}, 1000);
    EXPECT_TRUE(take(r).empty());
    // The ACK makes it ESTABLISHED: sent (its creation, for the peer).
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", ack)}, 1500);
    auto recs = take(r);
    ASSERT_EQ(recs.size(), 1u);
    const dp::sync_msg& m = recs[0];
    EXPECT_EQ(m.caddr, ip("203.0.113.130"));
    EXPECT_EQ(m.cport, htons(40000));
    EXPECT_EQ(m.vaddr, ip("203.0.113.100"));
    EXPECT_EQ(m.vport, htons(80));
    EXPECT_EQ(m.daddr, ip("198.51.100.11"));
    EXPECT_EQ(m.dport, htons(80));
    EXPECT_EQ(m.proto, 6);
    EXPECT_EQ(m.kind, dp::key_kind::packet);
    EXPECT_EQ(m.mode, fwd_mode::dr);
    EXPECT_EQ(m.state, dp::tcp_state::established);
    EXPECT_EQ(m.timeout_ms, r.snap().timeouts.of(dp::tcp_state::established));
    // Packet 3 is the threshold's (3 % 50 == 3): sent; packet 4, same state: nothing.
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", psh_ack, 10)}, 1600);
    EXPECT_EQ(take(r).size(), 1u);
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", psh_ack, 10)}, 1700);
    EXPECT_TRUE(take(r).empty());
    // FIN: FIN_WAIT, sent.
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", fin_ack)}, 1800);
    recs = take(r);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].state, dp::tcp_state::fin_wait);
    // A UDP flow is sent when it is created.
    r.burst(0, {test::make_frame({"203.0.113.131", "203.0.113.100", 5353, 53, 17}, router, wan)},
            1900);
    recs = take(r);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].proto, 17);
    EXPECT_EQ(recs[0].cport, htons(5353));
    EXPECT_EQ(recs[0].daddr, ip("198.51.100.13"));
    EXPECT_EQ(recs[0].dport, htons(53));
    EXPECT_EQ(recs[0].timeout_ms, r.snap().timeouts.udp_ms);
}

TEST(sync_emit, threshold_then_every_period_packets) {
    test::rig r(load(sync_yaml("master", 3, 5)));
    ASSERT_TRUE(r.ok()) << r.error();
    std::vector<int> sent_at;
    for (int n = 1; n <= 23; ++n) {
        const uint8_t flags = n == 1 ? syn : n == 2 ? ack : psh_ack;
        r.burst(0, {client("203.0.113.130", 40001, "203.0.113.100", flags, 10)},
                1000 + static_cast<uint64_t>(n));
        if (!take(r).empty())
            sent_at.push_back(n);
    }
    // 2 ESTABLISHED (1, SYN_RECV, is not sent), then n % 5 == 3.
    EXPECT_EQ(sent_at, (std::vector<int>{2, 3, 8, 13, 18, 23}));
    // period 0: only at the threshold.
    test::rig once(load(sync_yaml("both", 4, 0)));
    ASSERT_TRUE(once.ok()) << once.error();
    sent_at.clear();
    for (int n = 1; n <= 12; ++n) {
        once.burst(0, {client("203.0.113.131", 40002, "203.0.113.100", n == 1 ? syn : ack, 10)},
                   1000 + static_cast<uint64_t>(n));
        if (!take(once).empty())
            sent_at.push_back(n);
    }
    EXPECT_EQ(sent_at, (std::vector<int>{2, 4}));
}

TEST(sync_emit, nothing_without_a_sending_role) {
    test::rig r(load(sync_yaml("backup")));
    ASSERT_TRUE(r.ok()) << r.error();
    for (int n = 0; n < 5; ++n)
        r.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", n == 0 ? syn : ack)},
                1000 + static_cast<uint64_t>(n));
    EXPECT_TRUE(take(r).empty());
    EXPECT_EQ(r.worker().ctr.conns_created, 1u);
}

TEST(sync_emit, templates_are_sent_when_created_and_refreshed) {
    test::rig r(load(sync_yaml("master")));
    ASSERT_TRUE(r.ok()) << r.error();
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.102", syn)}, 1000);
    auto recs = take(r);
    ASSERT_EQ(recs.size(), 1u); // the template (its connection: at ESTABLISHED)
    EXPECT_EQ(recs[0].kind, dp::key_kind::addr_template);
    EXPECT_EQ(recs[0].caddr, ip("203.0.113.128")); // masked by the granularity
    EXPECT_EQ(recs[0].cport, 0);
    EXPECT_EQ(recs[0].vaddr, ip("203.0.113.102"));
    EXPECT_EQ(recs[0].timeout_ms, 60'000u);
    EXPECT_EQ(recs[0].timeout_ms, 60'000u);
    r.burst(0, {client("203.0.113.130", 40000, "203.0.113.102", ack)}, 1100);
    const auto conn = take(r);
    ASSERT_EQ(conn.size(), 1u);
    EXPECT_EQ(conn[0].kind, dp::key_kind::packet);
    EXPECT_EQ(conn[0].daddr, recs[0].daddr);
    r.burst(0, {client("203.0.113.131", 40001, "203.0.113.102", syn)}, 11'000);
    recs = take(r);
    ASSERT_EQ(recs.size(), 1u); // refreshed by a new connection of the same /25
    EXPECT_EQ(recs[0].kind, dp::key_kind::addr_template);
    EXPECT_EQ(recs[0].timeout_ms, 60'000u);
}

TEST(sync_emit, a_full_ring_drops_records_and_counts_them) {
    test::rig r(load(sync_yaml("master")));
    ASSERT_TRUE(r.ok()) << r.error();
    rte_ring* ring = rte_ring_create_elem("sync_test_full", sizeof(dp::sync_msg), 4, 0,
                                          RING_F_SP_ENQ | RING_F_SC_DEQ); // holds 3
    ASSERT_NE(ring, nullptr);
    dp::worker_runtime rt;
    rt.sync_out = ring;
    std::vector<test::frame> syns, acks;
    for (uint16_t i = 0; i < 5; ++i) {
        syns.push_back(
            client("203.0.113.130", static_cast<uint16_t>(41000 + i), "203.0.113.100", syn));
        acks.push_back(
            client("203.0.113.130", static_cast<uint16_t>(41000 + i), "203.0.113.100", ack));
    }
    r.burst(0, syns, 1000);
    r.burst(0, acks, 1001); // five ESTABLISHED: five records
    ASSERT_EQ(r.worker().sync_out.n, 5u);
    dp::flush_stages(r.worker(), rt);
    EXPECT_EQ(r.worker().ctr.sync_queued, 3u);
    EXPECT_EQ(r.worker().ctr.sync_dropped, 2u);
    EXPECT_EQ(r.worker().sync_out.n, 0u);
    // Records, not packets: every packet was forwarded, no packet drop counted.
    EXPECT_EQ(r.worker().ctr.forwarded, 10u);
    uint64_t drops = 0;
    for (uint64_t d : r.worker().ctr.drops)
        drops += d;
    EXPECT_EQ(drops, 0u);
    rte_ring_free(ring);
}

// A MASTER and a BACKUP: rigs with the same config, each with its engine (the MASTER's sends
// from another address: the BACKUP ignores its own datagrams).
struct pair {
    test::rig master{load(sync_yaml("master"))};
    test::rig backup{load(sync_yaml("backup"))};
    std::vector<std::vector<uint8_t>> wire; // datagrams (whole frames) the master sent
    std::unique_ptr<ctl::sync_engine> tx, rx;
    dp::worker_runtime tx_rt, rx_rt;

    static ctl::sync_engine::params params(const char* name, uint32_t lan_addr,
                                           std::function<const dp::snapshot*()> s) {
        ctl::sync_engine::params p;
        p.ports = {{"wan", test::pcap_port_mac(0), 0xcb00710a, 1500},
                   {"lan", test::pcap_port_mac(1), lan_addr, 1500}};
        p.n_workers = 1;
        p.name = name;
        p.snapshot = std::move(s);
        return p;
    }

    pair() {
        tx = std::make_unique<ctl::sync_engine>(
            params("tx", 0xc6336402, [this] { return &master.snap(); }), // 198.51.100.2
            ctl::sync_engine::io{[this](uint8_t port, std::span<const uint8_t> f) {
                                     EXPECT_EQ(port, 1); // lan
                                     wire.emplace_back(f.begin(), f.end());
                                 },
                                 nullptr});
        rx = std::make_unique<ctl::sync_engine>(
            params("rx", 0xc6336401, [this] { return &backup.snap(); }), ctl::sync_engine::io{});
        EXPECT_TRUE(tx->configure(load(sync_yaml("master")).sync).has_value());
        EXPECT_TRUE(rx->configure(load(sync_yaml("backup")).sync).has_value());
        tx_rt.sync_out = tx->connect_worker(0).value().first;
        rx_rt.sync_in = rx->connect_worker(0).value().second;
    }

    // The master's worker loop and control lcore, the wire, the backup's control lcore and
    // worker loop. Returns the records applied.
    uint64_t sync(uint64_t now) {
        dp::flush_stages(master.worker(), tx_rt);
        tx->poll(now, ctl::deadline::none());
        tx->flush();
        for (const auto& f : wire)
            EXPECT_TRUE(rx->on_frame(f.data(), f.size(), 1));
        wire.clear();
        rx->poll(now, ctl::deadline::none());
        const uint64_t before = backup.worker().ctr.sync_applied;
        while (dp::drain_sync_in(backup.worker(), rx_rt, now) != 0) {
        }
        return backup.worker().ctr.sync_applied - before;
    }
};

TEST(sync_pair, datagrams_are_ipvs_v1_to_the_group) {
    pair p;
    ASSERT_TRUE(p.master.ok() && p.backup.ok());
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", syn)}, 1000);
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", ack)}, 1000);
    dp::flush_stages(p.master.worker(), p.tx_rt);
    p.tx->poll(1000, ctl::deadline::none());
    EXPECT_TRUE(p.wire.empty()); // waits for more records, up to flush_ms
    p.tx->poll(1000 + ctl::sync_engine::flush_ms, ctl::deadline::none());
    ASSERT_EQ(p.wire.size(), 1u);
    const auto& f = p.wire[0];
    const uint8_t group_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x51};
    EXPECT_EQ(std::memcmp(f.data(), group_mac, 6), 0);
    EXPECT_EQ(f[14 + 8], 1); // TTL 1
    uint32_t dst = 0;
    std::memcpy(&dst, &f[30], 4);        // the frame's IP header is not 4-byte aligned
    EXPECT_EQ(ntohl(dst), 0xe0000051u);  // 224.0.0.81
    EXPECT_EQ(f[36] << 8 | f[37], 8848); // UDP dport
    std::vector<sync::conn_record> got;
    const auto res = sync::decode(std::span<const uint8_t>(f).subspan(42), 0,
                                  [&](const sync::conn_record& rec) { got.push_back(rec); });
    ASSERT_TRUE(res.ok());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].flags & sync::conn_flag::fwd_mask, sync::conn_flag::droute);
    EXPECT_FALSE(got[0].flags & sync::conn_flag::inactive); // ESTABLISHED: active
    EXPECT_EQ(got[0].state, sync::tcp_state::established);
    EXPECT_EQ(got[0].timeout, 900u);
    EXPECT_EQ(got[0].caddr, 0xcb007182u); // 203.0.113.130
    EXPECT_EQ(got[0].cport, 40000);
    EXPECT_EQ(got[0].vport, 80);
    EXPECT_EQ(got[0].daddr, 0xc633640bu); // 198.51.100.11
}

TEST(sync_pair, a_synced_dr_connection_carries_on_mid_stream_on_the_new_master) {
    pair p;
    ASSERT_TRUE(p.master.ok() && p.backup.ok());
    // Two connections on the master: the second goes to rs2 (rr).
    p.master.burst(0, {client("203.0.113.140", 39000, "203.0.113.100", syn)}, 1000);
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", syn)}, 1000);
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", ack)}, 1010);
    EXPECT_EQ(p.sync(1010), 1u); // the ESTABLISHED one (the other is still in its handshake)
    // The backup, now MASTER: a data segment of the second, no SYN, goes to rs2.
    auto out =
        p.backup.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", psh_ack, 100)}, 2000);
    EXPECT_EQ(dr_server(out), 2);
    EXPECT_EQ(p.backup.worker().ctr.drops[static_cast<size_t>(dp::drop::no_conn)], 0u);
    // It counts in rs2's ActiveConn (lc/wlc); nothing of the half-open one reached the backup.
    const auto& d = p.backup.snap().dests;
    EXPECT_EQ(p.backup.worker().dest_conns[d[1].stats_id].active, 1);
    EXPECT_EQ(p.backup.worker().dest_conns[d[0].stats_id].active, 0);
    EXPECT_EQ(p.backup.worker().dest_conns[d[2].stats_id].active, 0);
    // Without sync, the same segment has no connection (the control: the test can fail).
    test::rig fresh(load());
    out = fresh.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", psh_ack, 100)}, 2000);
    EXPECT_EQ(dr_server(out), 0);
    EXPECT_EQ(fresh.worker().ctr.drops[static_cast<size_t>(dp::drop::no_conn)], 1u);
}

TEST(sync_pair, a_synced_nat_connection_carries_on_both_ways) {
    pair p;
    ASSERT_TRUE(p.master.ok() && p.backup.ok());
    const flow req{"203.0.113.130", "203.0.113.101", 40000, 80, 6};
    auto out = p.master.burst(0, {test::make_frame(req, router, wan, syn)}, 1000);
    ASSERT_EQ(out[1].size(), 1u);
    const std::string rs = test::read_frame(out[1][0]).dst;
    const mac6 rs_mac = test::read_frame(out[1][0]).eth_dst;
    const flow rep{rs, "203.0.113.130", 8080, 40000, 6};
    p.master.burst(1, {test::make_frame(rep, rs_mac, lan, synack)}, 1001);
    p.master.burst(0, {test::make_frame(req, router, wan, ack)}, 1002);
    EXPECT_GE(p.sync(1002), 1u);
    // The new MASTER: the client's next segment is translated to the same server...
    out = p.backup.burst(0, {test::make_frame(req, router, wan, psh_ack, 20)}, 2000);
    ASSERT_EQ(out[1].size(), 1u);
    EXPECT_EQ(test::read_frame(out[1][0]).dst, rs);
    EXPECT_EQ(test::read_frame(out[1][0]).dport, 8080);
    EXPECT_TRUE(test::checksums_ok(out[1][0]));
    // ... and the server's reply goes back from the VIP.
    out = p.backup.burst(1, {test::make_frame(rep, rs_mac, lan, psh_ack, 30)}, 2001);
    ASSERT_EQ(out[0].size(), 1u);
    EXPECT_EQ(test::read_frame(out[0][0]).src, "203.0.113.101");
    EXPECT_EQ(test::read_frame(out[0][0]).sport, 80);
    EXPECT_TRUE(test::checksums_ok(out[0][0]));
    EXPECT_EQ(p.backup.worker().ctr.drops[static_cast<size_t>(dp::drop::no_conn)], 0u);
}

TEST(sync_pair, a_synced_template_sends_a_new_connection_to_the_same_server) {
    pair p;
    ASSERT_TRUE(p.master.ok() && p.backup.ok());
    // On the master rr gives the first /25 rs1 and 203.0.113.130's /25 rs2.
    p.master.burst(0, {client("203.0.113.5", 39000, "203.0.113.102", syn)}, 1000);
    auto out = p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.102", syn)}, 1000);
    ASSERT_EQ(dr_server(out), 2);
    EXPECT_EQ(p.sync(1000), 2u); // two templates (their connections are half-open)
    // The new MASTER: a new connection (SYN) of a client of the same /25 goes to rs2, where a
    // fresh scheduler would start at rs1.
    out = p.backup.burst(0, {client("203.0.113.131", 41000, "203.0.113.102", syn)}, 2000);
    EXPECT_EQ(dr_server(out), 2);
    test::rig fresh(load());
    out = fresh.burst(0, {client("203.0.113.131", 41000, "203.0.113.102", syn)}, 2000);
    EXPECT_EQ(dr_server(out), 1);
    // PersistConn: the synced template of 203.0.113.128/25 on rs2 (sticky's dests are 5..7).
    const auto& d = p.backup.snap().dests;
    EXPECT_EQ(p.backup.worker().dest_conns[d[6].stats_id].persistent, 1);
}

TEST(sync_pair, records_for_nothing_here_are_refused_and_counted) {
    pair p;
    ASSERT_TRUE(p.master.ok() && p.backup.ok());
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", syn)}, 1000);
    p.master.burst(0, {client("203.0.113.130", 40000, "203.0.113.100", ack)}, 1000);
    // The backup's config has no such real server: refused no_dest by its worker.
    dp::sync_msg m = p.master.worker().sync_out.recs[0];
    m.daddr = ip("198.51.100.99");
    dp::apply_sync(p.backup.worker(), &m, 1, 1000);
    EXPECT_EQ(p.backup.worker().ctr.sync_refused[static_cast<size_t>(dp::sync_refusal::no_dest)],
              1u);
    // ... and a malformed datagram is refused by the engine, counted by reason.
    p.sync(1000);
    std::vector<uint8_t> bad(42 + 8, 0);
    bad[12] = 0x08;
    bad[14] = 0x45;
    bad[14 + 9] = 17;
    bad[30] = 224, bad[33] = 0x51;
    bad[36] = 8848 >> 8, bad[37] = 8848 & 0xff;
    bad[26] = 198, bad[27] = 51, bad[28] = 100, bad[29] = 7;
    bad[38] = 0, bad[39] = 16;                           // UDP length: header + 8
    bad[42] = 0, bad[43] = 0, bad[44] = 0, bad[45] = 99; // size 99 != 8
    ASSERT_TRUE(p.rx->on_frame(bad.data(), bad.size(), 1));
    p.rx->poll(1000, ctl::deadline::none());
    EXPECT_EQ(p.rx->decode_stats().refused_total(), 1u);
}

TEST(sync_receive, datagrams_to_the_group_are_policed_apart) {
    test::rig r(load(sync_yaml("backup")));
    ASSERT_TRUE(r.ok()) << r.error();
    // 150 datagrams at one instant: the sync policer's depth (100) passes, the rest is dropped.
    for (int b = 0; b < 5; ++b) {
        std::vector<test::frame> in;
        for (int i = 0; i < 30; ++i)
            in.push_back(test::make_frame({"198.51.100.7", "224.0.0.81", 8848, 8848, 17},
                                          {2, 0, 0, 0, 0, 7}, {1, 0, 0x5e, 0, 0, 0x51}, 0, 16));
        r.burst(1, in, 1000);
    }
    EXPECT_EQ(r.worker().ctr.drops[static_cast<size_t>(dp::drop::police_sync)], 50u);
    EXPECT_EQ(r.worker().ctr.drops[static_cast<size_t>(dp::drop::police_exception)], 0u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("sync", 768)) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
