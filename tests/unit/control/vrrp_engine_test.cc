// The VRRP engine without EAL: tracking (ports, virtual servers, scripts with weights), notify
// scripts, unicast peers, VIP ownership. Timers are injected; scripts are real child processes,
// so the tests that run them wait for them (briefly).
#include "ulvs/config/load.h"
#include "ulvs/control/vrrp/engine.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include "split_fixture.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ulvs::ctl::vrrp {
namespace {

const std::string ports = "ports:\n"
                          "  - {name: wan, device: d0, addresses: [203.0.113.10/24]}\n"
                          "  - {name: lan, device: d1, addresses: [198.51.100.1/24]}\n"
                          "virtual_servers:\n"
                          "  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp,\n"
                          "     forwarding: dr, real_servers: []}\n"
                          "vrrp_instances:\n";

config::config load(const std::string& instance) {
    auto c = config::load_string(ports + instance, "t.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

struct harness {
    std::vector<std::pair<uint8_t, std::vector<uint8_t>>> sent;
    bool link = true;
    engine_io io() {
        engine_io io;
        io.port_macs = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
        io.send = [this](uint8_t p, std::span<const uint8_t> f) {
            sent.emplace_back(p, std::vector<uint8_t>(f.begin(), f.end()));
        };
        io.link_up = [this](uint8_t) { return link; };
        io.peer_mac = [](uint8_t, ip_addr) { return mac_addr{{2, 0, 0, 0, 0, 0x11}}; };
        return io;
    }
};

// A snapshot whose service web has one real server of weight `w`.
dp::snapshot snap_with_weight(uint32_t w) {
    dp::snapshot s;
    dp::service svc{};
    svc.vip = htonl(0xcb007164);
    svc.port = htons(80);
    svc.proto = l4_proto::tcp;
    svc.dest_count = 1;
    s.services.insert(dp::service_key(svc.vip, svc.port, 6), 0);
    s.services_v.push_back(svc);
    dp::dest d{};
    d.weight = w;
    s.dests.push_back(d);
    return s;
}

// Polls (real time for the scripts, injected time `t` for the machine) until `done`.
template <class F> bool poll_until(engine& e, const dp::snapshot& s, uint64_t& t, F done) {
    for (int i = 0; i < 200 && !done(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        t += engine::track_period_ms;
        e.poll(t, s);
    }
    return done();
}

TEST(vrrp_engine, tracked_port_down_is_fault_and_gives_the_address_up) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, priority: 255, virtual_addresses: "
                  "[203.0.113.100], track: {ports: [lan]}}\n"),
             h.io());
    auto s = snap_with_weight(1);
    e.start(0);
    EXPECT_EQ(e.statuses()[0].st, state::master); // the owner
    ASSERT_EQ(e.ownership().size(), 1u);
    EXPECT_TRUE(e.ownership()[0].owned);
    EXPECT_EQ(h.sent.size(), 1u + engine::garp_count);
    h.link = false;
    e.poll(100, s);
    EXPECT_EQ(e.statuses()[0].st, state::fault);
    EXPECT_FALSE(e.ownership()[0].owned);
    h.link = true;
    e.poll(200, s);
    EXPECT_EQ(e.statuses()[0].st, state::master);
}

TEST(vrrp_engine, tracked_virtual_server_without_weight_is_fault) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "track: {virtual_servers: [web]}}\n"),
             h.io());
    e.start(0);
    e.poll(100, snap_with_weight(0));
    EXPECT_EQ(e.statuses()[0].st, state::fault);
    e.poll(200, snap_with_weight(3));
    EXPECT_EQ(e.statuses()[0].st, state::backup);
}

TEST(vrrp_engine, track_scripts_adjust_the_priority_or_fault) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, priority: 100, virtual_addresses: "
                  "[203.0.113.100], track: {scripts: [{path: /bin/false, interval: 1s, weight: "
                  "-30}, {path: /bin/true, interval: 1s, weight: 5}]}}\n"),
             h.io());
    auto s = snap_with_weight(1);
    uint64_t t = 0;
    e.start(t);
    EXPECT_TRUE(poll_until(e, s, t, [&] { return e.statuses()[0].priority == 75; }))
        << unsigned(e.statuses()[0].priority);

    engine f(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "track: {scripts: [{path: /bin/false, interval: 1s}]}}\n"),
             h.io());
    t = 0;
    f.start(t);
    EXPECT_TRUE(poll_until(f, s, t, [&] { return f.statuses()[0].st == state::fault; }));

    // A script still running after its interval is killed and counts as failed.
    engine g(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "track: {scripts: [{path: sleep 5, interval: 100ms}]}}\n"),
             h.io());
    t = 0;
    g.start(t);
    EXPECT_EQ(g.statuses()[0].st, state::backup);
    EXPECT_TRUE(poll_until(g, s, t, [&] { return g.statuses()[0].st == state::fault; }));
}

TEST(vrrp_engine, notify_scripts_run_on_transitions) {
    const auto dir = std::filesystem::temp_directory_path() / "ulvs_vrrp_notify_test";
    std::filesystem::create_directories(dir);
    const auto file = dir / "state";
    std::filesystem::remove(file);
    const auto script = dir / "notify.sh";
    {
        std::ofstream o(script);
        o << "#!/bin/sh\necho \"$1\" >> " << file.string() << "\n";
    }
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "notify: {master: \"" +
                  script.string() + " MASTER\", backup: \"" + script.string() + " BACKUP\"}}\n"),
             h.io());
    auto s = snap_with_weight(1);
    uint64_t t = 0;
    e.start(t);
    e.poll(3609, s); // Master_Down_Interval without adverts
    auto read = [&] {
        std::ifstream in(file);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    // Both ran; they are not serialised (a transition does not wait for the previous script), so
    // the order in the file is not fixed.
    auto both = [&] {
        const std::string r = read();
        return r == "BACKUP\nMASTER\n" || r == "MASTER\nBACKUP\n";
    };
    t = 3609;
    EXPECT_TRUE(poll_until(e, s, t, both)) << read();
    std::filesystem::remove_all(dir);
}

// A track script's command line is split by keepalived's rule, the same as a misc check's
// (health_misc_test.cc): quotes group words, no shell.
TEST(vrrp_engine, track_script_command_line_split_as_keepalived_splits_it) {
    const auto dir = std::filesystem::temp_directory_path() / "ulvs_vrrp_split_test";
    std::filesystem::create_directories(dir);
    const auto out = dir / "args";
    std::filesystem::remove(out);
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "track: {scripts: [{path: " +
                  test::yaml_quoted(test::split_probe_command(out.string())) +
                  ", interval: 10s}]}}\n"),
             h.io());
    auto s = snap_with_weight(1);
    uint64_t t = 0;
    e.start(t);
    auto read = [&] {
        std::ifstream in(out);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_TRUE(poll_until(e, s, t, [&] { return read() == test::split_probe_expected; }))
        << read();
    std::filesystem::remove_all(dir);
}

TEST(vrrp_engine, unicast_peers) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, priority: 255, virtual_addresses: "
                  "[203.0.113.100], unicast_peers: [203.0.113.11]}\n"),
             h.io());
    e.start(0);
    ASSERT_FALSE(h.sent.empty());
    advert a;
    const auto& f = h.sent[0].second;
    ASSERT_EQ(parse_advert(f.data() + 14, f.size() - 14, a), rx_error::none);
    EXPECT_EQ(a.dst_ip, 0xcb00710bu);
    EXPECT_EQ(f[0], 2);
    EXPECT_EQ(f[5], 0x11); // the peer's MAC
    // A higher advert from someone who is not a peer is ignored; from the peer it counts.
    auto from = [&](uint32_t src) {
        advert o;
        o.version = 2; // the instance's (the default)
        o.vrid = 1;
        o.priority = 255;
        o.src_ip = src;
        o.dst_ip = 0xcb00710a;
        o.addrs = {0xcb007164};
        std::vector<uint8_t> b(max_frame);
        b.resize(build_advert(o, {2, 0, 0, 0, 0, 9}, {2, 0, 0, 0, 0, 1}, 1, b.data()));
        return b;
    };
    auto stranger = from(0xcb00710c);
    EXPECT_TRUE(e.on_frame(stranger.data(), stranger.size(), 0, 10));
    EXPECT_EQ(e.statuses()[0].st, state::master);
    auto peer = from(0xcb00710b); // same priority, higher address: it wins
    EXPECT_TRUE(e.on_frame(peer.data(), peer.size(), 0, 20));
    EXPECT_EQ(e.statuses()[0].st, state::backup);
    // Not VRRP: not consumed.
    std::vector<uint8_t> arp(42, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_FALSE(e.on_frame(arp.data(), arp.size(), 0, 30));
}

TEST(vrrp_engine, refused_adverts_are_counted) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100]}\n"),
             h.io());
    e.start(0);
    advert o;
    o.vrid = 1;
    o.priority = 200;
    o.src_ip = 0xcb00710b;
    o.addrs = {0xcb007165}; // another address list
    std::vector<uint8_t> b(max_frame);
    b.resize(build_advert(o, {2, 0, 0, 0, 0, 9}, mcast_mac, 1, b.data()));
    EXPECT_TRUE(e.on_frame(b.data(), b.size(), 0, 10));
    EXPECT_EQ(e.statuses()[0].rx_errors, 1u);
    EXPECT_EQ(e.statuses()[0].master_ip, 0u);
    EXPECT_NE(e.status_text().find("BACKUP"), std::string::npos);
}

// A config with the services web (:80) and, when `api`, api (:8080), then `instances`.
config::config load_services(bool api, const std::string& instances) {
    std::string y = "ports:\n"
                    "  - {name: wan, device: d0, addresses: [203.0.113.10/24]}\n"
                    "  - {name: lan, device: d1, addresses: [198.51.100.1/24]}\n"
                    "virtual_servers:\n"
                    "  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp,\n"
                    "     forwarding: dr, real_servers: []}\n";
    if (api)
        y += "  - {name: api, address: 203.0.113.100, port: 8080, protocol: tcp,\n"
             "     forwarding: dr, real_servers: []}\n";
    auto c = config::load_string(y + "vrrp_instances:\n" + instances, "t.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

// A snapshot with web (:80) at weight `web_w` and api (:8080) at weight `api_w`.
dp::snapshot snap_two(uint32_t web_w, uint32_t api_w) {
    dp::snapshot s;
    uint16_t i = 0;
    for (auto [port, w] : {std::pair<uint16_t, uint32_t>{80, web_w}, {8080, api_w}}) {
        dp::service svc{};
        svc.vip = htonl(0xcb007164);
        svc.port = htons(port);
        svc.proto = l4_proto::tcp;
        svc.dest_first = i;
        svc.dest_count = 1;
        s.services.insert(dp::service_key(svc.vip, svc.port, 6), i);
        s.services_v.push_back(svc);
        dp::dest d{};
        d.weight = w;
        s.dests.push_back(d);
        ++i;
    }
    return s;
}

const std::string inst_a = "  - {name: a, port: wan, vrid: 1, priority: 255, "
                           "virtual_addresses: [203.0.113.100]";

// The item of issue 13: a reload that adds a tracked virtual server whose servers are all down
// puts the instance in FAULT (tracking follows the reloaded config, not the one of start-up),
// and the master hands over with priority 0 as keepalived does on FAULT.
TEST(vrrp_engine_update, reload_adding_a_tracked_service_whose_servers_are_down_faults) {
    harness h;
    engine e(load_services(false, inst_a + "}\n"), h.io());
    const auto s = snap_two(1, 0); // api: its only server at weight 0 (down, inhibited)
    e.start(0);
    e.poll(100, s);
    ASSERT_EQ(e.statuses()[0].st, state::master);
    e.update(load_services(true, inst_a + ", track: {virtual_servers: [api]}}\n"), 200);
    EXPECT_EQ(e.statuses()[0].st, state::master); // reload itself is no transition
    h.sent.clear();
    e.poll(300, s);
    EXPECT_EQ(e.statuses()[0].st, state::fault);
    ASSERT_EQ(h.sent.size(), 1u);
    advert a;
    ASSERT_EQ(parse_advert(h.sent[0].second.data() + 14, h.sent[0].second.size() - 14, a),
              rx_error::none);
    EXPECT_EQ(a.priority, 0);
    EXPECT_FALSE(e.ownership()[0].owned);
    EXPECT_TRUE(e.take_ownership_change());
    // A reload that tracks web instead (up): out of FAULT again.
    e.update(load_services(true, inst_a + ", track: {virtual_servers: [web]}}\n"), 400);
    e.poll(500, s);
    EXPECT_EQ(e.statuses()[0].st, state::master);
}

// A tracked service is found by its name in the last config: a reload that moves web to another
// port is followed (the start-up config's address would no longer be in the snapshot).
TEST(vrrp_engine_update, tracked_service_follows_a_reload_that_moves_it) {
    harness h;
    const std::string tracked = inst_a + ", track: {virtual_servers: [web]}}\n";
    engine e(load_services(false, tracked), h.io());
    e.start(0);
    e.poll(100, snap_two(1, 0));
    ASSERT_EQ(e.statuses()[0].st, state::master);
    config::config moved = load_services(false, tracked);
    moved.virtual_servers[0].port = 8080;
    e.update(moved, 200);
    e.poll(300, snap_two(0, 1)); // :80 down, :8080 (web now) up
    EXPECT_EQ(e.statuses()[0].st, state::master);
    e.poll(400, snap_two(1, 0));
    EXPECT_EQ(e.statuses()[0].st, state::fault);
}

// With engine_io::vs_up (ulvsd: the health checker), that is asked instead of the snapshot.
TEST(vrrp_engine_update, vs_up_callback_is_the_tracking_source) {
    harness h;
    bool api_up = true;
    engine_io io = h.io();
    io.vs_up = [&](const config::virtual_server_cfg& vs) { return vs.name != "api" || api_up; };
    engine e(load_services(true, inst_a + ", track: {virtual_servers: [api]}}\n"), std::move(io));
    const auto s = snap_two(0, 0); // the snapshot says down: not asked
    e.start(0);
    e.poll(100, s);
    EXPECT_EQ(e.statuses()[0].st, state::master);
    api_up = false;
    e.poll(200, s);
    EXPECT_EQ(e.statuses()[0].st, state::fault);
}

// keepalived's reload (vrrp.c clear_diff_vrrp / restore_vrrp_state): an instance that is still
// configured keeps its state (a MASTER advertises at once with its new priority, no transition,
// no notify); a new one starts; a removed MASTER sends priority 0 and releases its addresses.
TEST(vrrp_engine_update, changed_instances_keep_state_new_start_removed_stop) {
    harness h;
    const std::string b = "  - {name: b, port: wan, vrid: 2, priority: 100, "
                          "virtual_addresses: [203.0.113.101]}\n";
    const std::string c = "  - {name: c, port: wan, vrid: 3, priority: 100, "
                          "virtual_addresses: [203.0.113.102]}\n";
    engine e(load_services(false, inst_a + "}\n" + b), h.io());
    const auto s = snap_two(1, 1);
    e.start(0);
    e.poll(3609, s); // b: Master_Down_Interval without adverts
    ASSERT_EQ(e.statuses()[0].st, state::master);
    ASSERT_EQ(e.statuses()[1].st, state::master);
    const uint64_t transitions_b = e.statuses()[1].transitions;
    e.take_ownership_change();
    h.sent.clear();
    // b's priority changes, a is removed, c is added (b is now the first instance).
    const std::string b2 = "  - {name: b, port: wan, vrid: 2, priority: 120, "
                           "virtual_addresses: [203.0.113.101]}\n";
    e.update(load_services(false, b2 + c), 4000);
    ASSERT_EQ(e.statuses().size(), 2u);
    EXPECT_EQ(e.statuses()[0].name, "b");
    EXPECT_EQ(e.statuses()[0].st, state::master);
    EXPECT_EQ(e.statuses()[0].priority, 120);
    EXPECT_EQ(e.statuses()[0].transitions, transitions_b); // no transition: no notify
    EXPECT_EQ(e.statuses()[1].name, "c");
    EXPECT_EQ(e.statuses()[1].st, state::backup);
    std::vector<std::pair<uint8_t, uint8_t>> adverts; // {vrid, priority} sent by the reload
    for (const auto& [port, f] : h.sent) {
        advert a;
        if (f.size() > 14 && parse_advert(f.data() + 14, f.size() - 14, a) == rx_error::none)
            adverts.emplace_back(a.vrid, a.priority);
    }
    EXPECT_EQ(adverts,
              (std::vector<std::pair<uint8_t, uint8_t>>{{2, 120}, {1, 0}})); // b at once, a: 0
    EXPECT_TRUE(e.take_ownership_change());
    bool a_addr = false;
    for (const owned_addr& o : e.ownership())
        a_addr |= o.addr.to_string() == "203.0.113.100";
    EXPECT_FALSE(a_addr); // a's address is no longer VRRP's
    // An unchanged config (a CLI change of virtual servers) changes nothing.
    h.sent.clear();
    e.update(load_services(true, b2 + c), 4100);
    EXPECT_TRUE(h.sent.empty());
    EXPECT_FALSE(e.take_ownership_change());
    EXPECT_EQ(e.statuses()[0].st, state::master);
    EXPECT_EQ(e.statuses()[1].st, state::backup);
}

// keepalived clear_diff_script: a track script still configured keeps its result across a
// reload, so a changed instance never shows a priority without the script's weight.
TEST(vrrp_engine_update, a_kept_track_script_keeps_its_verdict) {
    harness h;
    const std::string scr =
        ", track: {scripts: [{path: /bin/false, interval: 1s, weight: -30}]}}\n";
    auto inst = [&](int prio) {
        return "  - {name: a, port: wan, vrid: 1, priority: " + std::to_string(prio) +
               ", virtual_addresses: [203.0.113.100]" + scr;
    };
    engine e(load_services(false, inst(100)), h.io());
    const auto s = snap_two(1, 1);
    uint64_t t = 0;
    e.start(t);
    ASSERT_TRUE(poll_until(e, s, t, [&] { return e.statuses()[0].priority == 70; }));
    e.update(load_services(false, inst(120)), t);
    EXPECT_EQ(e.statuses()[0].priority, 90);
    t += engine::track_period_ms;
    e.poll(t, s);
    EXPECT_EQ(e.statuses()[0].priority, 90);
}

} // namespace
} // namespace ulvs::ctl::vrrp
