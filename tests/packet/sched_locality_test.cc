// lblc and lblcr through the worker's burst path: new TCP connections scheduled by destination
// address (issue 14 acceptance 3). A `match:` service over several destination addresses stands
// for IPVS' cache cluster (each address an origin server); a single VIP shows what IPVS documents
// for it: one entry, so one server, until that server is overloaded.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace ulvs;

namespace {

// Three DR real servers of weight 2; `service` is the virtual server's address or match keys.
config::config load(const std::string& sched, const std::string& service) {
    std::string y = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
virtual_servers:
  - name: cache
    )" + service + R"(
    scheduler: )" + sched +
                    R"(
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: 2}
      - {address: 198.51.100.12, port: 80, weight: 2}
      - {address: 198.51.100.13, port: 80, weight: 2}
)";
    auto c = config::load_string(y, "sched_locality.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

const std::string match_service =
    "match: {destinations: [203.0.113.100, 203.0.113.101, 203.0.113.102, 203.0.113.103], "
    "ports: [80], protocol: tcp}";
const std::string vip_service = "address: 203.0.113.100\n    port: 80\n    protocol: tcp";

test::frame tcp(const std::string& client, uint16_t sport, const std::string& dst, uint8_t flags) {
    return test::make_frame({client, dst, sport, 80, 6}, {2, 0, 0, 0, 0, 1}, test::pcap_port_mac(0),
                            flags);
}

constexpr uint8_t syn = 0x02, ack = 0x10;

// The real server (last MAC byte: 0x11..0x13) each frame of one burst went to, in order.
std::vector<uint8_t> send(test::rig& r, const std::vector<test::frame>& in, uint64_t t) {
    auto out = r.burst(0, in, t);
    std::vector<uint8_t> got;
    for (const auto& f : out[1])
        got.push_back(f[5]);
    EXPECT_EQ(got.size(), in.size());
    return got;
}

std::string client(uint32_t i) {
    return "192.0.2." + std::to_string(1 + i % 250);
}

// 400 SYNs from 400 client ports to the four destinations in turn; per destination the set of
// servers its connections went to.
std::map<std::string, std::set<uint8_t>> spread(test::rig& r) {
    std::map<std::string, std::set<uint8_t>> servers_of;
    uint64_t t = 1000;
    for (uint32_t b = 0; b < 400 / dp::max_burst + 1; ++b) {
        std::vector<test::frame> in;
        std::vector<std::string> dsts;
        for (uint32_t i = b * dp::max_burst; i < 400 && in.size() < dp::max_burst; ++i) {
            dsts.push_back("203.0.113." + std::to_string(100 + i % 4));
            in.push_back(tcp(client(i), static_cast<uint16_t>(20000 + i), dsts.back(), syn));
        }
        if (in.empty())
            break;
        auto got = send(r, in, t++);
        for (size_t i = 0; i < got.size() && i < dsts.size(); ++i)
            servers_of[dsts[i]].insert(got[i]);
    }
    return servers_of;
}

} // namespace

TEST(sched_locality, lblc_sends_each_destination_address_to_one_server) {
    test::rig r(load("lblc", match_service));
    ASSERT_TRUE(r.ok()) << r.error();
    auto servers_of = spread(r);
    ASSERT_EQ(servers_of.size(), 4u);
    std::set<uint8_t> used;
    for (const auto& [dst, s] : servers_of) {
        EXPECT_EQ(s.size(), 1u) << dst << " went to " << s.size() << " servers";
        used.insert(s.begin(), s.end());
    }
    // The destinations were spread by least connection: every server got one (the fourth went
    // to the least loaded).
    EXPECT_EQ(used.size(), 3u);
    EXPECT_EQ(r.worker().ctr.locality_evicted, 0u);
}

TEST(sched_locality, lblcr_sends_each_destination_address_to_its_set) {
    test::rig r(load("lblcr", match_service));
    ASSERT_TRUE(r.ok()) << r.error();
    for (const auto& [dst, s] : spread(r))
        EXPECT_EQ(s.size(), 1u) << dst
                                << ": half-open connections are not active ones, so no "
                                   "server is overloaded and no set grows";
}

TEST(sched_locality, wlc_spreads_the_same_destinations_over_every_server) {
    // The reference: without locality the connections to one address go everywhere.
    test::rig r(load("wlc", match_service));
    ASSERT_TRUE(r.ok()) << r.error();
    for (const auto& [dst, s] : spread(r))
        EXPECT_EQ(s.size(), 3u) << dst;
}

// Established connections (SYN, then the client's ACK: DR sees only the client's side) count as
// active. Servers of weight 2: a third active connection makes a server overloaded (3 > 2) while
// another has none (0 * 2 < 2). Seven connections, each established before the next.
std::vector<uint8_t> single_vip_sequence(const std::string& sched) {
    test::rig r(load(sched, vip_service));
    EXPECT_TRUE(r.ok()) << r.error();
    const std::string vip = "203.0.113.100";
    uint64_t t = 1000;
    std::vector<uint8_t> got;
    for (uint16_t i = 0; i < 7; ++i) {
        auto s = send(r, {tcp(client(i), 30000 + i, vip, syn)}, t++);
        got.push_back(s.empty() ? 0 : s[0]);
        send(r, {tcp(client(i), 30000 + i, vip, ack)}, t++);
    }
    return got;
}

TEST(sched_locality, single_vip_is_one_entry_until_its_server_is_overloaded) {
    // One VIP, one destination address: one server until overloaded, then the least-connection
    // server, remembered from then on (lblc's entry moves; lblcr's set grows by it and its least
    // loaded member serves).
    const std::vector<uint8_t> want{0x11, 0x11, 0x11, 0x12, 0x12, 0x12, 0x13};
    EXPECT_EQ(single_vip_sequence("lblc"), want);
    EXPECT_EQ(single_vip_sequence("lblcr"), want);
    // wlc, the reference, takes turns.
    EXPECT_EQ(single_vip_sequence("wlc"),
              (std::vector<uint8_t>{0x11, 0x12, 0x13, 0x11, 0x12, 0x13, 0x11}));
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("lblc_sched_locality")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
