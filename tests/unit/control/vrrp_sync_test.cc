// The keepalived behaviours of issue 14 in the VRRP engine, timers injected: sync groups (members
// change state together), gratuitous ARP timing (garp.master_delay, garp.master_refresh),
// source_address, notify.any/stop and the track scripts' rise/fall.
#include "ulvs/config/load.h"
#include "ulvs/control/vrrp/engine.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ulvs::ctl::vrrp {
namespace {

const std::string ports = "ports:\n"
                          "  - {name: wan, device: d0, addresses: [203.0.113.10/24]}\n"
                          "  - {name: lan, device: d1, addresses: [198.51.100.1/24, "
                          "198.51.100.2/24]}\n"
                          "vrrp_instances:\n";

config::config load(const std::string& rest) {
    auto c = config::load_string(ports + rest, "t.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

// wan and lan instances of a NAT pair, in one sync group; wan tracks its own link.
const std::string nat_pair =
    "  - {name: wan, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
    "track: {ports: [wan]}}\n"
    "  - {name: lan, port: lan, vrid: 2, virtual_addresses: [198.51.100.254], "
    "track: {ports: [lan]}}\n"
    "vrrp_sync_groups:\n"
    "  - {name: g, instances: [wan, lan]}\n";

struct harness {
    std::vector<std::pair<uint8_t, std::vector<uint8_t>>> sent;
    bool link[2] = {true, true};
    engine_io io() {
        engine_io io;
        io.port_macs = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
        io.send = [this](uint8_t p, std::span<const uint8_t> f) {
            sent.emplace_back(p, std::vector<uint8_t>(f.begin(), f.end()));
        };
        io.link_up = [this](uint8_t p) { return link[p]; };
        return io;
    }
    // Advertisements sent on `port` since `from` (index in sent), by priority.
    std::vector<unsigned> adverts(uint8_t port, size_t from = 0) const {
        std::vector<unsigned> out;
        for (size_t i = from; i < sent.size(); ++i) {
            const auto& f = sent[i].second;
            advert a;
            if (sent[i].first == port && f.size() > 14 && f[12] == 0x08 && f[13] == 0 &&
                parse_advert(f.data() + 14, f.size() - 14, a) == rx_error::none)
                out.push_back(a.priority);
        }
        return out;
    }
    size_t garps(size_t from = 0) const {
        size_t n = 0;
        for (size_t i = from; i < sent.size(); ++i)
            n += sent[i].second[12] == 0x08 && sent[i].second[13] == 0x06;
        return n;
    }
};

const dp::snapshot empty_snap;

state st(const engine& e, size_t i) {
    return e.statuses()[i].st;
}

// A peer's advertisement for `vrid` with `prio`, as it arrives.
std::vector<uint8_t> peer_advert(uint8_t vrid, uint8_t prio, uint32_t addr) {
    advert o;
    o.version = 2;
    o.vrid = vrid;
    o.priority = prio;
    o.src_ip = vrid == 1 ? 0xcb007114 : 0xc6336414; // .20 on wan / lan
    o.addrs = {addr};
    std::vector<uint8_t> b(max_frame);
    b.resize(build_advert(o, {2, 0, 0, 0, 0, 9}, mcast_mac, 1, b.data()));
    return b;
}

TEST(vrrp_sync, members_become_master_together_and_fault_together) {
    harness h;
    engine e(load(nat_pair), h.io());
    e.start(0);
    EXPECT_EQ(st(e, 0), state::backup);
    EXPECT_EQ(st(e, 1), state::backup);
    // Both Master_Down_Timers (3 s + 609 ms) expire: the group goes MASTER, both members with it.
    e.poll(3700, empty_snap);
    EXPECT_EQ(st(e, 0), state::master);
    EXPECT_EQ(st(e, 1), state::master);
    EXPECT_EQ(e.group_states()[0].second, state::master);
    EXPECT_EQ(h.garps(), 2u * engine::garp_count);
    // wan's link goes down: wan FAULT, and lan with it, telling its backups (priority 0).
    const size_t before = h.sent.size();
    h.link[0] = false;
    e.poll(3800, empty_snap);
    EXPECT_EQ(st(e, 0), state::fault);
    EXPECT_EQ(st(e, 1), state::fault);
    EXPECT_EQ(e.group_states()[0].second, state::fault);
    EXPECT_EQ(h.adverts(1, before), std::vector<unsigned>{0});
    const auto owned = e.ownership();
    EXPECT_TRUE(
        std::none_of(owned.begin(), owned.end(), [](const owned_addr& a) { return a.owned; }));
    // wan's link is back: the group leaves FAULT, every member BACKUP.
    h.link[0] = true;
    e.poll(3900, empty_snap);
    EXPECT_EQ(st(e, 0), state::backup);
    EXPECT_EQ(st(e, 1), state::backup);
    EXPECT_EQ(e.group_states()[0].second, state::backup);
}

TEST(vrrp_sync, without_a_group_the_members_move_alone) {
    // The same instances without vrrp_sync_groups: lan stays MASTER when wan faults.
    harness h;
    engine e(load(nat_pair.substr(0, nat_pair.find("vrrp_sync_groups"))), h.io());
    e.start(0);
    e.poll(3700, empty_snap);
    h.link[0] = false;
    e.poll(3800, empty_snap);
    EXPECT_EQ(st(e, 0), state::fault);
    EXPECT_EQ(st(e, 1), state::master);
}

TEST(vrrp_sync, a_member_waits_for_the_others_before_master) {
    harness h;
    engine e(load(nat_pair), h.io());
    e.start(0);
    // lan hears a master (priority 200) every second; wan hears nobody.
    uint64_t t = 0;
    for (; t <= 6000; t += 500) {
        if (t % 1000 == 0) {
            auto a = peer_advert(2, 200, 0xc63364fe);
            e.on_frame(a.data(), a.size(), 1, t);
        }
        e.poll(t, empty_snap);
    }
    // wan's timer expired long ago: it wants MASTER but lan does not; both stay BACKUP.
    EXPECT_EQ(st(e, 0), state::backup);
    EXPECT_EQ(st(e, 1), state::backup);
    EXPECT_TRUE(h.adverts(0).empty()); // wan never advertised
    // lan's master falls silent: at lan's Master_Down_Interval both become MASTER.
    for (; t <= 11000 && st(e, 1) != state::master; t += 100)
        e.poll(t, empty_snap);
    EXPECT_EQ(st(e, 0), state::master);
    EXPECT_EQ(st(e, 1), state::master);
}

TEST(vrrp_sync, a_master_member_going_backup_takes_the_others) {
    harness h;
    engine e(load(nat_pair), h.io());
    e.start(0);
    e.poll(3700, empty_snap);
    ASSERT_EQ(st(e, 1), state::master);
    const size_t before = h.sent.size();
    // A higher-priority master on wan: wan BACKUP, lan BACKUP with it (no priority 0: the
    // peer's group takes over, as keepalived's vrrp_sync_backup).
    auto a = peer_advert(1, 200, 0xcb007164);
    e.on_frame(a.data(), a.size(), 0, 3800);
    EXPECT_EQ(st(e, 0), state::backup);
    EXPECT_EQ(st(e, 1), state::backup);
    EXPECT_EQ(e.group_states()[0].second, state::backup);
    EXPECT_TRUE(h.adverts(1, before).empty());
}

TEST(vrrp_sync, the_group_stays_fault_while_any_member_fails) {
    harness h;
    engine e(load(nat_pair), h.io());
    e.start(0);
    h.link[0] = h.link[1] = false;
    e.poll(100, empty_snap);
    ASSERT_EQ(st(e, 0), state::fault);
    ASSERT_EQ(st(e, 1), state::fault);
    h.link[0] = true; // wan recovers, lan still fails: wan stays FAULT
    e.poll(200, empty_snap);
    EXPECT_EQ(st(e, 0), state::fault);
    EXPECT_EQ(st(e, 1), state::fault);
    h.link[1] = true;
    e.poll(300, empty_snap);
    EXPECT_EQ(st(e, 0), state::backup);
    EXPECT_EQ(st(e, 1), state::backup);
}

TEST(vrrp_sync, a_reload_keeps_the_group_and_stop_moves_nobody) {
    harness h;
    engine e(load(nat_pair), h.io());
    e.start(0);
    e.poll(3700, empty_snap);
    ASSERT_EQ(e.group_states()[0].second, state::master);
    // The same file again, with a group notify added: members and group stay MASTER, and the
    // group still moves them together.
    std::string renotified = nat_pair;
    renotified.replace(renotified.find("[wan, lan]}"), 11,
                       "[wan, lan], notify: {master: /bin/true}}");
    e.update(load(renotified), 3800);
    EXPECT_EQ(st(e, 0), state::master);
    EXPECT_EQ(st(e, 1), state::master);
    EXPECT_EQ(e.group_states()[0].second, state::master);
    h.link[1] = false;
    e.poll(3900, empty_snap);
    EXPECT_EQ(st(e, 0), state::fault);
    EXPECT_EQ(st(e, 1), state::fault);
    // Stopping a FAULT group: every member stops (INIT), none is brought back up on the way.
    const size_t before = h.sent.size();
    e.stop(4000);
    EXPECT_EQ(st(e, 0), state::init);
    EXPECT_EQ(st(e, 1), state::init);
    EXPECT_TRUE(h.adverts(0, before).empty());
    EXPECT_EQ(e.group_states()[0].second, state::init);
}

TEST(vrrp_garp, master_delay_repeats_the_burst_and_refresh_sends_one) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, priority: 255, virtual_addresses: "
                  "[203.0.113.100], garp: {master_delay: 2s, master_refresh: 700ms}}\n"),
             h.io());
    e.start(0);
    EXPECT_EQ(h.garps(), engine::garp_count); // the burst on becoming MASTER
    e.poll(699, empty_snap);
    EXPECT_EQ(h.garps(), engine::garp_count);
    e.poll(700, empty_snap); // refresh: one
    EXPECT_EQ(h.garps(), engine::garp_count + 1);
    e.poll(1400, empty_snap);
    EXPECT_EQ(h.garps(), engine::garp_count + 2);
    e.poll(1999, empty_snap);
    EXPECT_EQ(h.garps(), engine::garp_count + 2);
    e.poll(2000, empty_snap); // master_delay: the burst again
    EXPECT_EQ(h.garps(), 2 * engine::garp_count + 2);
    e.poll(2100, empty_snap); // refresh (due at 2100)
    e.poll(4000, empty_snap); // refresh (due at 2800): no more bursts
    EXPECT_EQ(h.garps(), 2 * engine::garp_count + 4);
}

TEST(vrrp_garp, defaults_are_keepalived_s_and_zero_is_none) {
    harness h;
    engine e(load("  - {name: a, port: wan, vrid: 1, priority: 255, virtual_addresses: "
                  "[203.0.113.100]}\n"
                  "  - {name: b, port: lan, vrid: 2, priority: 255, virtual_addresses: "
                  "[198.51.100.254], garp: {master_delay: 0s}}\n"),
             h.io());
    e.start(0);
    EXPECT_EQ(h.garps(), 2 * engine::garp_count);
    e.poll(4999, empty_snap);
    EXPECT_EQ(h.garps(), 2 * engine::garp_count);
    e.poll(5000, empty_snap); // garp_master_delay 5: a again, b (0 = none) not
    EXPECT_EQ(h.garps(), 3 * engine::garp_count);
    e.poll(60000, empty_snap); // garp_master_refresh 0: none
    EXPECT_EQ(h.garps(), 3 * engine::garp_count);
}

TEST(vrrp_source_address, advertisements_come_from_it) {
    harness h;
    engine e(load("  - {name: a, port: lan, vrid: 2, priority: 255, source_address: "
                  "198.51.100.2, virtual_addresses: [198.51.100.254]}\n"),
             h.io());
    e.start(0);
    ASSERT_FALSE(h.sent.empty());
    advert a;
    const auto& f = h.sent[0].second;
    ASSERT_EQ(parse_advert(f.data() + 14, f.size() - 14, a), rx_error::none);
    EXPECT_EQ(a.src_ip, 0xc6336402u); // not the port's first address, .1
}

TEST(script_verdict, rise_and_fall_count_as_keepalived) {
    script_verdict v(2, 3);
    EXPECT_TRUE(v.ok()); // before any result
    v.add(true);         // the first result decides alone
    EXPECT_TRUE(v.ok());
    v.add(false);
    v.add(false);
    EXPECT_TRUE(v.ok()); // two failures of fall 3
    v.add(true);         // a success resets the count
    v.add(false);
    v.add(false);
    EXPECT_TRUE(v.ok());
    v.add(false);
    EXPECT_FALSE(v.ok()); // the third in a row
    v.add(true);
    EXPECT_FALSE(v.ok()); // one success of rise 2
    v.add(false);
    v.add(true);
    EXPECT_FALSE(v.ok()); // a failure reset it
    v.add(true);
    EXPECT_TRUE(v.ok());

    script_verdict first_fails(5, 5);
    first_fails.add(false);
    EXPECT_FALSE(first_fails.ok()); // the first result decides alone, whatever fall says
    script_verdict once(1, 1);
    once.add(true);
    once.add(false);
    EXPECT_FALSE(once.ok());
    once.add(true);
    EXPECT_TRUE(once.ok());
}

struct script_dir {
    std::filesystem::path dir;
    explicit script_dir(const char* name) : dir(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~script_dir() { std::filesystem::remove_all(dir); }
    std::string read(const char* f) const {
        std::ifstream in(dir / f);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
};

// Real scripts: an OK script with `fall: 3` needs three failed runs in a row before FAULT.
TEST(vrrp_engine_scripts, fall_needs_that_many_failures) {
    script_dir d("ulvs_vrrp_fall_test");
    const std::string runs = (d.dir / "runs").string(), flag = (d.dir / "ok").string();
    std::ofstream(d.dir / "ok") << "";
    harness h;
    // timeout: long in injected time (a loaded machine may take long to start sh).
    engine e(load("  - {name: a, port: wan, vrid: 1, virtual_addresses: [203.0.113.100], "
                  "track: {scripts: [{path: \"sh -c 'echo x >> " +
                  runs + "; test -e " + flag +
                  "'\", interval: 200ms, timeout: 100s, fall: 3}]}}\n"),
             h.io());
    uint64_t t = 0;
    e.start(t);
    auto count = [&] {
        const std::string r = d.read("runs");
        return size_t(std::count(r.begin(), r.end(), '\n'));
    };
    auto step = [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        t += 50;
        e.poll(t, empty_snap);
    };
    for (int i = 0; i < 400 && count() < 3; ++i)
        step();
    ASSERT_GE(count(), 3u);
    ASSERT_EQ(st(e, 0), state::backup);
    std::filesystem::remove(d.dir / "ok");
    const size_t at_removal = count();
    for (int i = 0; i < 800 && st(e, 0) != state::fault; ++i)
        step();
    ASSERT_EQ(st(e, 0), state::fault);
    // At least two runs started after the flag went (a third may have started just before and
    // tested just after); with fall 1 it would be FAULT after the first.
    EXPECT_GE(count() - at_removal, 2u);
}

// notify.any and a group's notify.any get keepalived's arguments.
TEST(vrrp_notify, any_gets_type_name_state_priority) {
    script_dir d("ulvs_vrrp_any_test");
    const std::string log = (d.dir / "any").string();
    const std::string script = "sh -c 'echo \\\"$*\\\" >> " + log + "' any";
    harness h;
    engine e(load("  - {name: wan, port: wan, vrid: 1, priority: 150, virtual_addresses: "
                  "[203.0.113.100], notify: {any: \"" +
                  script +
                  "\"}}\n"
                  "  - {name: lan, port: lan, vrid: 2, virtual_addresses: [198.51.100.254]}\n"
                  "vrrp_sync_groups:\n"
                  "  - {name: g, instances: [wan, lan], notify: {any: \"" +
                  script + "\"}}\n"),
             h.io());
    e.start(0);
    e.poll(3700, empty_snap);
    e.stop(3800);
    auto has = [&](const std::string& line) {
        return d.read("any").find(line + "\n") != std::string::npos;
    };
    for (int i = 0; i < 300 && !(has("INSTANCE wan BACKUP 150") && has("INSTANCE wan MASTER 150") &&
                                 has("GROUP g MASTER 0") && has("INSTANCE wan STOP 150") &&
                                 has("GROUP g STOP 0"));
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        proc::children().poll();
    }
    EXPECT_TRUE(has("INSTANCE wan BACKUP 150")) << d.read("any");
    EXPECT_TRUE(has("INSTANCE wan MASTER 150")) << d.read("any");
    EXPECT_TRUE(has("GROUP g MASTER 0")) << d.read("any");
    EXPECT_TRUE(has("INSTANCE wan STOP 150")) << d.read("any");
    EXPECT_TRUE(has("GROUP g STOP 0")) << d.read("any");
}

} // namespace
} // namespace ulvs::ctl::vrrp
