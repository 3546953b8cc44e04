// Issue 20: which VIPs a node announces (health, drain, VRRP), the routes the announcer asks the
// kernel for (recorded here instead of netlink), the drain commands, and what `announce` does to
// the exception path (TAPs, and BGP/BFD from the peers only).
#include "ulvs/config/load.h"
#include "ulvs/control/announce/announcer.h"
#include "ulvs/control/exception/exception_filter.h"
#include "ulvs/control/exception/tap_plan.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <gtest/gtest.h>

#include <netinet/in.h>

#include <set>
#include <string>
#include <vector>

using namespace ulvs;
using ctl::announce_state;

namespace {

constexpr const char* base = R"(
ports:
  - {name: wan, device: d0, addresses: [203.0.113.10/25]}
  - {name: lan, device: d1, addresses: [198.51.100.1/24]}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    forwarding: dr
    real_servers: [{address: 198.51.100.11, port: 80}]
  - name: web-tls
    address: 203.0.113.100
    port: 443
    protocol: tcp
    forwarding: dr
    real_servers: [{address: 198.51.100.12, port: 443}]
  - name: dns
    address: 203.0.113.101
    port: 53
    protocol: udp
    forwarding: dr
    real_servers: [{address: 198.51.100.13, port: 53}]
  - name: marked
    match: {destinations: [203.0.113.102, 203.0.113.101], protocol: tcp}
    forwarding: dr
    real_servers: [{address: 198.51.100.13, port: 0}]
)";

config::config load(const std::string& extra = "announce: {table: 100, port: wan}\n") {
    auto c = config::load_string(std::string(base) + extra, "t.yaml");
    EXPECT_TRUE(c) << c.error().front().to_string();
    return c ? *c : config::config{};
}

ip_addr a(const char* s) {
    return *ip_addr::parse(s);
}

// Serving unless named in `down`.
ctl::announce_inputs healthy_but(std::set<std::string> down = {}) {
    ctl::announce_inputs in;
    in.serving = [down](const config::virtual_server_cfg& vs) { return !down.contains(vs.name); };
    return in;
}

announce_state state_of(const std::vector<ctl::vip_announcement>& v, const char* vip) {
    for (const auto& x : v)
        if (x.vip == a(vip))
            return x.state;
    ADD_FAILURE() << vip << " not decided";
    return announce_state::no_server;
}

// What the kernel would hold: the routes added and not deleted since, per (dev, table, proto).
struct recorder {
    std::set<std::string> routes;
    std::vector<std::string> log;
    uint64_t failures = 0;
    ctl::route_sink sink() {
        ctl::route_sink s;
        s.add = [this](const std::string& dev, ip_addr vip, uint32_t table, uint8_t proto) {
            const std::string r = text(dev, vip, table, proto);
            routes.insert(r);
            log.push_back("add " + r);
        };
        s.del = [this](const std::string& dev, ip_addr vip, uint32_t table, uint8_t proto) {
            const std::string r = text(dev, vip, table, proto);
            routes.erase(r);
            log.push_back("del " + r);
        };
        s.failures = [this] { return failures; };
        return s;
    }
    static std::string text(const std::string& dev, ip_addr vip, uint32_t table, uint8_t proto) {
        return vip.to_string() + " dev " + dev + " table " + std::to_string(table) + " proto " +
               std::to_string(proto);
    }
};

} // namespace

TEST(decide, every_vip_once_including_match_destinations) {
    const auto c = load();
    EXPECT_EQ(ctl::config_vips(c),
              (std::vector<ip_addr>{a("203.0.113.100"), a("203.0.113.101"), a("203.0.113.102")}));
    const auto v = ctl::decide(c, healthy_but(), {});
    ASSERT_EQ(v.size(), 3u);
    for (const auto& x : v)
        EXPECT_EQ(x.state, announce_state::announced) << x.vip.to_string();
}

TEST(decide, a_vip_needs_one_serving_virtual_server) {
    const auto c = load();
    // One of the two services on .100 is down: still announced.
    auto v = ctl::decide(c, healthy_but({"web"}), {});
    EXPECT_EQ(state_of(v, "203.0.113.100"), announce_state::announced);
    // Both: withdrawn.
    v = ctl::decide(c, healthy_but({"web", "web-tls"}), {});
    EXPECT_EQ(state_of(v, "203.0.113.100"), announce_state::no_server);
    // .101 has `dns` and the match service; .102 only the match service.
    v = ctl::decide(c, healthy_but({"marked"}), {});
    EXPECT_EQ(state_of(v, "203.0.113.101"), announce_state::announced);
    EXPECT_EQ(state_of(v, "203.0.113.102"), announce_state::no_server);
}

TEST(decide, drained_vips_are_withdrawn_and_health_comes_first) {
    const auto c = load();
    ctl::drain_set d;
    d.drain(a("203.0.113.101"));
    auto v = ctl::decide(c, healthy_but(), d);
    EXPECT_EQ(state_of(v, "203.0.113.100"), announce_state::announced);
    EXPECT_EQ(state_of(v, "203.0.113.101"), announce_state::draining);
    EXPECT_TRUE(v[1].drained);
    v = ctl::decide(c, healthy_but({"dns", "marked"}), d);
    EXPECT_EQ(state_of(v, "203.0.113.101"), announce_state::no_server);
    EXPECT_TRUE(v[1].drained) << "still drained, whatever holds it back first";
    d.drain_all();
    v = ctl::decide(c, healthy_but(), d);
    for (const auto& x : v)
        EXPECT_EQ(x.state, announce_state::draining);
}

TEST(decide, vrrp_backup_withdraws_master_announces) {
    const auto c = load();
    auto in = healthy_but();
    // .100 under VRRP, held by neither instance here; .101 held by one of two instances.
    in.vrrp = {{a("203.0.113.100"), 0, false},
               {a("203.0.113.101"), 0, false},
               {a("203.0.113.101"), 0, true}};
    auto v = ctl::decide(c, in, {});
    EXPECT_EQ(state_of(v, "203.0.113.100"), announce_state::backup);
    EXPECT_EQ(state_of(v, "203.0.113.101"), announce_state::announced);
    EXPECT_EQ(state_of(v, "203.0.113.102"), announce_state::announced) << "not under VRRP";
    in.vrrp[0].owned = true; // became MASTER
    v = ctl::decide(c, in, {});
    EXPECT_EQ(state_of(v, "203.0.113.100"), announce_state::announced);
}

TEST(announcer, routes_follow_health_drain_and_vrrp) {
    recorder k;
    ctl::announcer an(k.sink());
    const auto c = load();
    an.update(c, healthy_but(), 1000);
    EXPECT_EQ(k.routes, (std::set<std::string>{
                            "203.0.113.100 dev ulvs-wan table 100 proto 200",
                            "203.0.113.101 dev ulvs-wan table 100 proto 200",
                            "203.0.113.102 dev ulvs-wan table 100 proto 200",
                        }));
    // Nothing changed: nothing sent.
    k.log.clear();
    an.update(c, healthy_but(), 1010);
    EXPECT_TRUE(k.log.empty());
    // Health: .100's services down.
    an.update(c, healthy_but({"web", "web-tls"}), 1020);
    EXPECT_EQ(k.log,
              std::vector<std::string>{"del 203.0.113.100 dev ulvs-wan table 100 proto 200"});
    EXPECT_EQ(an.vips()[0].state, announce_state::no_server);
    an.update(c, healthy_but(), 1030);
    EXPECT_EQ(k.routes.size(), 3u);
    // Drain one, then all, then undrain.
    ASSERT_TRUE(an.drain(c, a("203.0.113.101")));
    an.update(c, healthy_but(), 1040);
    EXPECT_FALSE(k.routes.contains("203.0.113.101 dev ulvs-wan table 100 proto 200"));
    EXPECT_EQ(k.routes.size(), 2u);
    ASSERT_TRUE(an.drain(c, std::nullopt));
    an.update(c, healthy_but(), 1050);
    EXPECT_TRUE(k.routes.empty());
    ASSERT_TRUE(an.undrain(c, std::nullopt));
    an.update(c, healthy_but(), 1060);
    EXPECT_EQ(k.routes.size(), 3u);
    // VRRP backup for .102.
    auto in = healthy_but();
    in.vrrp = {{a("203.0.113.102"), 0, false}};
    an.update(c, in, 1070);
    EXPECT_FALSE(k.routes.contains("203.0.113.102 dev ulvs-wan table 100 proto 200"));
    EXPECT_EQ(an.changes(), 3u + 1 + 1 + 1 + 2 + 3 + 1) << "each announce or withdrawal";
}

TEST(announcer, drain_outlives_a_reload_and_covers_new_vips) {
    recorder k;
    ctl::announcer an(k.sink());
    auto c = load();
    ASSERT_TRUE(an.drain(c, std::nullopt));
    an.update(c, healthy_but(), 1000);
    EXPECT_TRUE(k.routes.empty());
    // A reload with one more service on a new VIP: drained too (drain all means all).
    auto next = load(R"(  - name: extra
    address: 203.0.113.103
    port: 80
    protocol: tcp
    forwarding: dr
    real_servers: [{address: 198.51.100.11, port: 80}]
announce: {table: 100, port: wan}
)");
    ASSERT_EQ(next.virtual_servers.size(), 5u);
    an.update(next, healthy_but(), 1010);
    EXPECT_TRUE(k.routes.empty());
    // Undrain one while all are drained: only that one comes back.
    ASSERT_TRUE(an.undrain(next, a("203.0.113.103")));
    an.update(next, healthy_but(), 1020);
    EXPECT_EQ(k.routes, std::set<std::string>{"203.0.113.103 dev ulvs-wan table 100 proto 200"});
}

TEST(announcer, drain_commands_refuse_what_they_cannot_do) {
    recorder k;
    ctl::announcer an(k.sink());
    const auto c = load();
    auto r = an.drain(c, a("192.0.2.1"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "192.0.2.1 is no VIP of the running config");
    r = an.undrain(c, a("203.0.113.100"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "203.0.113.100 is not drained");
    const auto off = load("");
    r = an.drain(off, std::nullopt);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "nothing to drain: the config has no `announce:`");
}

TEST(announcer, reasserts_after_a_failure_and_periodically) {
    recorder k;
    ctl::announcer an(k.sink());
    const auto c = load();
    an.update(c, healthy_but(), 1000);
    k.log.clear();
    k.failures = 1; // the kernel refused something (the TAP was not up yet)
    an.update(c, healthy_but(), 1010);
    EXPECT_TRUE(k.log.empty()) << "not at once: a second later";
    an.update(c, healthy_but(), 1010 + ctl::announcer::retry_ms);
    EXPECT_EQ(k.log.size(), 3u) << "every route asked for again";
    k.log.clear();
    an.update(c, healthy_but(), 1020 + ctl::announcer::retry_ms);
    EXPECT_TRUE(k.log.empty());
    an.update(c, healthy_but(), 1010 + ctl::announcer::retry_ms + ctl::announcer::reassert_ms);
    EXPECT_EQ(k.log.size(), 3u);
}

TEST(announcer, a_new_table_moves_the_routes_and_announce_off_removes_them) {
    recorder k;
    ctl::announcer an(k.sink());
    an.update(load(), healthy_but(), 1000);
    an.update(load("announce: {table: 7, port: lan, protocol: 99}\n"), healthy_but(), 1010);
    EXPECT_EQ(k.routes, (std::set<std::string>{
                            "203.0.113.100 dev ulvs-lan table 7 proto 99",
                            "203.0.113.101 dev ulvs-lan table 7 proto 99",
                            "203.0.113.102 dev ulvs-lan table 7 proto 99",
                        }));
    an.update(load(""), healthy_but(), 1020);
    EXPECT_TRUE(k.routes.empty());
    EXPECT_FALSE(an.enabled());
    EXPECT_EQ(an.status_text(), "");
}

TEST(announcer, status_and_metrics) {
    recorder k;
    ctl::announcer an(k.sink());
    const auto c = load();
    ASSERT_TRUE(an.drain(c, a("203.0.113.101")));
    an.update(c, healthy_but({"marked"}), 1000);
    EXPECT_EQ(an.status_text(), "announce: table 100 dev ulvs-wan proto 200\n"
                                "  203.0.113.100 announced\n"
                                "  203.0.113.101 withdrawn (draining), drained\n"
                                "  203.0.113.102 withdrawn (no_server)\n");
    const std::string m = an.metrics_text();
    EXPECT_NE(m.find("ulvs_vip_announced{vip=\"203.0.113.100\",state=\"announced\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("ulvs_vip_announced{vip=\"203.0.113.101\",state=\"draining\"} 0\n"),
              std::string::npos);
    EXPECT_NE(m.find("ulvs_vip_drained{vip=\"203.0.113.101\"} 1\n"), std::string::npos);
    EXPECT_NE(m.find("ulvs_vip_drained{vip=\"203.0.113.100\"} 0\n"), std::string::npos);
}

TEST(announce_exception_path, the_announce_port_and_the_peers_ports_get_a_tap) {
    EXPECT_EQ(ctl::tap_plan::from_config(load("")).needed, (std::vector<bool>{false, false}));
    EXPECT_EQ(ctl::tap_plan::from_config(load("announce: {table: 100}\n")).needed,
              (std::vector<bool>{true, false}))
        << "no port: the first";
    EXPECT_EQ(ctl::tap_plan::from_config(load("announce: {table: 100, port: lan}\n")).needed,
              (std::vector<bool>{false, true}));
    EXPECT_EQ(ctl::tap_plan::from_config(
                  load("announce: {table: 100, port: lan, peers: [203.0.113.1]}\n"))
                  .needed,
              (std::vector<bool>{true, true}));
}

namespace {

// Ethernet + IPv4 (no options) + 20 bytes of TCP or 8 of UDP, checksums left zero.
std::vector<uint8_t> frame(uint8_t proto, const char* src, const char* dst, uint16_t sport,
                           uint16_t dport) {
    const size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
    std::vector<uint8_t> f(14 + 20 + l4, 0);
    f[12] = 0x08;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    const size_t tot = 20 + l4;
    ip[2] = static_cast<uint8_t>(tot >> 8);
    ip[3] = static_cast<uint8_t>(tot);
    ip[8] = 64;
    ip[9] = proto;
    const uint32_t s = a(src).v4, d = a(dst).v4;
    for (int i = 0; i < 4; ++i) {
        ip[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
        ip[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
    }
    uint8_t* t = ip + 20;
    t[0] = static_cast<uint8_t>(sport >> 8);
    t[1] = static_cast<uint8_t>(sport);
    t[2] = static_cast<uint8_t>(dport >> 8);
    t[3] = static_cast<uint8_t>(dport);
    if (proto == IPPROTO_TCP)
        t[12] = 0x50;
    else
        t[5] = 8;
    return f;
}

ctl::exception_filter::verdict verdict(ctl::exception_filter& f, uint8_t proto, const char* src,
                                       uint16_t sport, uint16_t dport) {
    auto fr = frame(proto, src, "203.0.113.10", sport, dport);
    dp::parsed_pkt pp;
    EXPECT_EQ(dp::parse_frame(fr.data(), static_cast<uint32_t>(fr.size()), false, pp),
              dp::drop::none);
    return f.inbound(fr.data(), pp, 0, 1000);
}

} // namespace

TEST(announce_exception_path, bgp_and_bfd_from_the_peers_and_nothing_else) {
    using v = ctl::exception_filter::verdict;
    ctl::exception_filter f;
    f.set_policy(
        ctl::exception_policy::from_config(load("announce: {table: 100, peers: [203.0.113.1]}\n")));
    const uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP;
    EXPECT_EQ(verdict(f, tcp, "203.0.113.1", 40000, 179), v::allowed) << "the router connects";
    EXPECT_EQ(verdict(f, tcp, "203.0.113.1", 179, 40000), v::allowed) << "we connected";
    EXPECT_EQ(verdict(f, udp, "203.0.113.1", 49152, 3784), v::allowed) << "BFD control";
    EXPECT_EQ(verdict(f, udp, "203.0.113.1", 49152, 3785), v::allowed) << "BFD echo";
    EXPECT_EQ(verdict(f, udp, "203.0.113.1", 49152, 4784), v::allowed) << "BFD multihop";
    EXPECT_EQ(verdict(f, tcp, "203.0.113.1", 40000, 22), v::refused) << "ssh from the peer";
    EXPECT_EQ(verdict(f, udp, "203.0.113.1", 3784, 53), v::refused);
    EXPECT_EQ(verdict(f, tcp, "203.0.113.2", 40000, 179), v::refused) << "not a peer";
    EXPECT_EQ(verdict(f, udp, "203.0.113.2", 49152, 3784), v::refused) << "not a peer";
    // Without `announce`, the same packets are refused.
    f.set_policy(ctl::exception_policy::from_config(load("")));
    EXPECT_EQ(verdict(f, tcp, "203.0.113.1", 40000, 179), v::refused);
    EXPECT_EQ(verdict(f, udp, "203.0.113.1", 49152, 3784), v::refused);
}
