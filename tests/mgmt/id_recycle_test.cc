// A removed real server's stats id through the management plane and a real worker (issue 12,
// control/service/stats_ids.h): while connections to it live, the id stays taken (a new server
// gets another one); once they expired, the id goes back to the pool and the next new server gets
// it, with counters that start from zero as users see them, although the workers' raw counters
// of that id still hold the old server's traffic. Needs the EAL (connection table, publisher).
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/mgmt/manager.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <arpa/inet.h>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
  - {address: 198.51.100.14, mac: "02:00:00:00:00:14", port: lan}
timeouts: {tcp: 900s, tcp_fin: 120s, udp: 300s}
connections: {max: 64}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
)";

constexpr uint8_t syn = 0x02, ack = 0x10;

test::frame packet(uint16_t sport, uint8_t flags) {
    return test::make_frame({"203.0.113.130", "203.0.113.100", sport, 80, 6}, {2, 0, 0, 0, 0, 1},
                            test::pcap_port_mac(0), flags);
}

mgmt::json dest_req(const char* cmd, const char* addr) {
    mgmt::json r = {{"cmd", cmd},
                    {"service", {{"proto", "tcp"}, {"vip", "203.0.113.100"}, {"port", 80}}},
                    {"dest", {{"addr", addr}, {"port", 80}}}};
    if (std::string(cmd) == "add_dest")
        r.update({{"fwd", "dr"}, {"weight", 1}, {"upper", 0}, {"lower", 0}});
    return r;
}

class id_recycle : public ::testing::Test {
protected:
    config::config cfg = *config::load_string(yaml, "id_recycle.yaml");
    test::rig r{cfg, 1000};
    dp::publisher pub{1};
    std::unique_ptr<mgmt::manager> mgr;
    uint64_t now = 1000;

    void SetUp() override {
        ASSERT_TRUE(r.ok()) << r.error();
        // As ulvsd starts: the first snapshot published, then the manager.
        pub.publish(std::move(*ctl::build_snapshot(cfg, r.neigh(), r.ids())));
        r.neigh().published(*pub.current());
        r.ids().published(*pub.current());
        mgmt::manager_deps deps;
        deps.neigh = &r.neigh();
        deps.neigh_table = &r.table();
        deps.ids = &r.ids();
        deps.pub = &pub;
        deps.workers = {&r.worker()}; // no id_checks: this thread is the worker
        mgr = std::make_unique<mgmt::manager>(cfg, deps, now);
        r.worker().snap = pub.current();
    }

    void change(const mgmt::json& req) {
        // A change completes in the manager's polls (its YAML work runs on a thread).
        auto reply = std::get<mgmt::deferred_reply>(mgr->handle(req, now));
        std::optional<mgmt::json> done;
        for (int i = 0; i < 10000 && !done; ++i) {
            mgr->poll(now);
            done = reply(now);
            if (!done)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_TRUE(done.has_value()) << "the change never completed";
        ASSERT_TRUE(done->value("ok", false)) << done->dump();
        r.worker().snap = pub.current(); // the worker's next loop iteration
    }
    // Time passes: the worker expires connections, the manager polls (id checks every 100 ms).
    void advance(uint64_t ms) {
        now += ms;
        dp::expire_conns(r.worker(), now, 1u << 20);
        mgr->poll(now);
        mgr->poll(now + 1); // a second pass answers a question the first one asked
    }
    std::optional<uint32_t> id_of(const char* addr) {
        auto sid = r.ids().find_service(cfg.virtual_servers[0]);
        return r.ids().find_dest({*sid, htonl(ip_addr::parse(addr)->v4), htons(80)});
    }
    mgmt::json dest_stats(const char* addr) {
        auto reply = std::get<mgmt::json>(mgr->handle({{"cmd", "list"}}, now));
        for (const auto& d : reply["services"][0]["dests"])
            if (d["addr"] == addr)
                return d["stats"];
        return {};
    }
};

} // namespace

TEST_F(id_recycle, a_removed_server_keeps_its_id_until_its_connections_expire) {
    // One established connection (ActiveConn) and some traffic on .11.
    r.burst(0, {packet(1000, syn)}, now);
    r.burst(0, {packet(1000, ack), packet(1000, ack), packet(1000, ack)}, now);
    const auto old_id = id_of("198.51.100.11");
    ASSERT_TRUE(old_id);
    EXPECT_EQ(r.worker().dest_conns[*old_id].active, 1);
    EXPECT_EQ(dest_stats("198.51.100.11")["inpkts"], 4);
    const uint32_t in_use = r.ids().in_use();

    change(dest_req("del_dest", "198.51.100.11"));
    advance(200);
    // The connection lives on (expire_nodest_conn=0) and still names the id.
    EXPECT_EQ(r.worker().conns.size(), 1u);
    EXPECT_EQ(id_of("198.51.100.11"), old_id);
    EXPECT_EQ(r.ids().in_use(), in_use);
    change(dest_req("add_dest", "198.51.100.12"));
    EXPECT_NE(id_of("198.51.100.12"), old_id);
    // Its packets are still forwarded to .11 and counted under the old id.
    r.burst(0, {packet(1000, ack)}, now);
    EXPECT_EQ(r.worker().dest_ctr[*old_id].in_pkts, 5u);

    // 900 s of idle: the connection expires; the next check gives the id back.
    advance(901 * 1000);
    EXPECT_EQ(r.worker().conns.size(), 0u);
    EXPECT_FALSE(id_of("198.51.100.11"));
    change(dest_req("add_dest", "198.51.100.13"));
    EXPECT_EQ(id_of("198.51.100.13"), old_id);
    // The workers' raw counters of the id hold .11's traffic; users see .13 start from zero.
    EXPECT_EQ(r.worker().dest_ctr[*old_id].in_pkts, 5u);
    const mgmt::json st = dest_stats("198.51.100.13");
    EXPECT_EQ(st["conns"], 0);
    EXPECT_EQ(st["inpkts"], 0);
    EXPECT_EQ(st["inbytes"], 0);
    EXPECT_EQ(r.worker().dest_conns[*old_id].active, 0);
    // And count from there: rr sends the next two new connections to .12 and .13.
    r.burst(0, {packet(2000, syn), packet(2001, syn)}, now);
    EXPECT_EQ(dest_stats("198.51.100.13")["conns"], 1);
    EXPECT_EQ(dest_stats("198.51.100.13")["inpkts"], 1);
}

TEST_F(id_recycle, a_server_readded_while_its_connections_live_gets_its_id_back) {
    r.burst(0, {packet(1000, syn)}, now);
    const auto old_id = id_of("198.51.100.11");
    change(dest_req("del_dest", "198.51.100.11"));
    advance(200);
    change(dest_req("add_dest", "198.51.100.11"));
    EXPECT_EQ(id_of("198.51.100.11"), old_id);
    advance(901 * 1000);
    EXPECT_EQ(id_of("198.51.100.11"), old_id); // in the config: never released
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!ulvs::test::init_eal("id_recycle_test", 1024))
        return 1;
    return RUN_ALL_TESTS();
}
