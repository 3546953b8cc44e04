// VRRP through the worker and the control lcore's responder: a virtual address whose instance is
// not MASTER is dropped (vip_not_owned) and neither ARP nor ping is answered for it; once the
// engine is MASTER (injected time) the republished snapshot forwards and answers. The engine's
// frames on becoming master: one advertisement and the gratuitous ARP burst.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/control/vrrp/engine.h"
#include "ulvs/control/vrrp/overlay.h"

#include <gtest/gtest.h>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 4096}
vrrp_instances:
  - {name: VI_1, port: wan, vrid: 51, priority: 100, version: 3,
     virtual_addresses: [203.0.113.100/25]}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers: [{address: 198.51.100.11, port: 80}]
  - name: other
    address: 203.0.113.101
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers: [{address: 198.51.100.11, port: 80}]
)";

const test::mac6 client_mac{2, 0, 0, 0, 0, 0x30};

test::frame syn_to(const std::string& vip) {
    return test::make_frame({"203.0.113.30", vip, 40000, 80, 6}, client_mac, test::pcap_port_mac(0),
                            0x02);
}

// ARP request "who has `ip`? tell 203.0.113.30".
test::frame arp_who_has(uint8_t last) {
    test::frame f{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    f.insert(f.end(), client_mac.begin(), client_mac.end());
    const uint8_t rest[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
    f.insert(f.end(), std::begin(rest), std::end(rest));
    f.insert(f.end(), client_mac.begin(), client_mac.end());
    const uint8_t addrs[] = {203, 0, 113, 30, 0, 0, 0, 0, 0, 0, 203, 0, 113, last};
    f.insert(f.end(), std::begin(addrs), std::end(addrs));
    f.resize(60, 0);
    return f;
}

size_t total(const std::vector<std::vector<test::frame>>& out) {
    size_t n = 0;
    for (const auto& port : out)
        n += port.size();
    return n;
}

TEST(vrrp, only_the_master_forwards_and_answers_for_its_virtual_addresses) {
    auto cfg = config::load_string(yaml, "vrrp_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();

    std::vector<std::pair<uint8_t, test::frame>> sent;
    ctl::vrrp::engine_io io;
    io.port_macs = {test::pcap_port_mac(0), test::pcap_port_mac(1)};
    io.send = [&](uint8_t port, std::span<const uint8_t> f) {
        sent.emplace_back(port, test::frame(f.begin(), f.end()));
    };
    ctl::vrrp::engine e(*cfg, io);
    r.inputs().vrrp = &e;
    ASSERT_TRUE(r.reconfigure(*cfg));

    // BACKUP (INIT before start): the VRRP VIP is not ours, the other VIP still is.
    e.start(0);
    EXPECT_EQ(e.statuses()[0].st, ctl::vrrp::state::backup);
    EXPECT_TRUE(sent.empty()); // a backup is silent
    EXPECT_EQ(total(r.burst(0, {syn_to("203.0.113.100")}, 1)), 0u);
    EXPECT_EQ(r.worker().ctr.drops[size_t(dp::drop::vip_not_owned)], 1u);
    EXPECT_EQ(total(r.burst(0, {arp_who_has(100)}, 2)), 0u);
    EXPECT_EQ(total(r.burst(0, {arp_who_has(101)}, 3)), 1u);
    EXPECT_EQ(r.burst(0, {syn_to("203.0.113.101")}, 4)[1].size(), 1u);

    // No advertisement for Master_Down_Interval (3 s + 609 ms): MASTER, advert + 5 GARPs.
    e.poll(3608, r.snap());
    EXPECT_EQ(e.statuses()[0].st, ctl::vrrp::state::backup);
    e.poll(3609, r.snap());
    EXPECT_EQ(e.statuses()[0].st, ctl::vrrp::state::master);
    ASSERT_TRUE(e.take_ownership_change());
    ASSERT_EQ(sent.size(), 6u);
    EXPECT_EQ(e.statuses()[0].adverts_tx, 1u);  // and the GARPs are not adverts
    EXPECT_EQ(e.statuses()[0].transitions, 2u); // INIT -> BACKUP -> MASTER
    ctl::vrrp::advert a;
    ASSERT_EQ(ctl::vrrp::parse_advert(sent[0].second.data() + 14, sent[0].second.size() - 14, a),
              ctl::vrrp::rx_error::none);
    EXPECT_EQ(a.priority, 100);
    EXPECT_EQ(a.vrid, 51);
    for (size_t i = 1; i < 6; ++i) {
        EXPECT_EQ(sent[i].second.size(), 42u);
        EXPECT_EQ(sent[i].second[12], 0x08);
        EXPECT_EQ(sent[i].second[13], 0x06);
    }
    ASSERT_TRUE(r.reconfigure(*cfg)); // what ulvsd's manager does on an ownership change
    EXPECT_EQ(r.burst(0, {syn_to("203.0.113.100")}, 3700)[1].size(), 1u);
    EXPECT_EQ(total(r.burst(0, {arp_who_has(100)}, 3701)), 1u);
    // The gratuitous ARPs again 5 s later.
    sent.clear();
    e.poll(3609 + 5000, r.snap());
    EXPECT_EQ(sent.size(), 1u + 5u); // the advertisement due then, and the GARPs

    // A higher-priority master: back to BACKUP, the VIP is dropped again.
    test::frame adv(ctl::vrrp::max_frame);
    ctl::vrrp::advert other;
    other.vrid = 51;
    other.priority = 200;
    other.src_ip = 0xcb007114; // 203.0.113.20
    other.addrs = {0xcb007164};
    adv.resize(ctl::vrrp::build_advert(other, client_mac, ctl::vrrp::mcast_mac, 1, adv.data()));
    EXPECT_TRUE(e.on_frame(adv.data(), adv.size(), 0, 9000));
    EXPECT_EQ(e.statuses()[0].st, ctl::vrrp::state::backup);
    EXPECT_EQ(e.statuses()[0].master_ip, 0xcb007114u);
    EXPECT_EQ(e.statuses()[0].adverts_rx, 1u);
    EXPECT_EQ(e.statuses()[0].transitions, 3u);
    ASSERT_TRUE(e.take_ownership_change());
    ASSERT_TRUE(r.reconfigure(*cfg));
    EXPECT_EQ(total(r.burst(0, {syn_to("203.0.113.100")}, 9001)), 0u);
    EXPECT_EQ(r.worker().ctr.drops[size_t(dp::drop::vip_not_owned)], 2u);
}

// Issue 13: a takeover owns its virtual addresses at once. The transition writes the ownership
// table the snapshot points to (vrrp/overlay.h publish_ownership): the snapshot the worker holds,
// built while BACKUP, forwards and answers ARP as soon as the engine is MASTER, with no rebuild;
// and stops as soon as it is BACKUP again.
TEST(vrrp, a_takeover_needs_no_new_snapshot) {
    auto cfg = config::load_string(yaml, "vrrp_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    ctl::vrrp::engine_io io;
    io.port_macs = {test::pcap_port_mac(0), test::pcap_port_mac(1)};
    io.send = [](uint8_t, std::span<const uint8_t>) {};
    ctl::vrrp::engine e(*cfg, io);
    r.inputs().vrrp = &e;
    ASSERT_TRUE(r.reconfigure(*cfg)); // the last snapshot of this test
    const dp::snapshot* held = &r.snap();
    e.start(0);
    EXPECT_EQ(total(r.burst(0, {syn_to("203.0.113.100")}, 1)), 0u);
    EXPECT_EQ(total(r.burst(0, {arp_who_has(100)}, 2)), 0u);

    e.poll(3609, r.snap());
    ASSERT_EQ(e.statuses()[0].st, ctl::vrrp::state::master);
    ASSERT_TRUE(e.take_ownership_change());
    ctl::vrrp::publish_ownership(e, r.inputs().owners);
    EXPECT_EQ(&r.snap(), held);
    EXPECT_EQ(r.burst(0, {syn_to("203.0.113.100")}, 3700)[1].size(), 1u);
    EXPECT_EQ(total(r.burst(0, {arp_who_has(100)}, 3701)), 1u);

    e.stop(4000); // priority 0, INIT: not ours any more
    ASSERT_TRUE(e.take_ownership_change());
    ctl::vrrp::publish_ownership(e, r.inputs().owners);
    EXPECT_EQ(total(r.burst(0, {syn_to("203.0.113.100")}, 4001)), 0u);
    EXPECT_EQ(r.worker().ctr.drops[size_t(dp::drop::vip_not_owned)], 2u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Every snapshot keeps its 64 MB LPM for the rig's lifetime: room for the five built here.
    if (!test::init_eal("vrrp_test", 512))
        return 1;
    return RUN_ALL_TESTS();
}
