// The VRRP state machine with injected time: timers, skew, preemption, ties, priority 0 and 255,
// tracking. Times in ms.
#include "ulvs/control/vrrp/instance.h"

#include <gtest/gtest.h>

namespace ulvs::ctl::vrrp {
namespace {

constexpr uint32_t us = 0xcb00710a;   // 203.0.113.10
constexpr uint32_t peer = 0xcb00710b; // 203.0.113.11: higher, wins ties
constexpr uint32_t low = 0xcb007109;  // 203.0.113.9

params v3(uint8_t prio) {
    params p;
    p.version = 3;
    p.priority = prio;
    p.advert_ms = 1000;
    p.primary_ip = us;
    return p;
}

TEST(vrrp_instance, timers_follow_the_rfcs) {
    instance a(v3(100));
    a.start(0);
    // v3: skew = (256 - 100) * 1000 / 256 = 609 ms; down = 3 s + skew.
    EXPECT_EQ(a.skew_ms(), 609u);
    EXPECT_EQ(a.master_down_ms(), 3609u);
    params p2 = v3(100);
    p2.version = 2;
    instance b(p2);
    b.start(0);
    EXPECT_EQ(b.skew_ms(), 609u); // (256 - 100) / 256 s
    // v3 learns the master's interval; v2 keeps its own.
    a.on_advert(200, peer, 50, 10);
    EXPECT_EQ(a.master_down_ms(), 1500u + 304u);
    b.on_advert(200, peer, 50, 10);
    EXPECT_EQ(b.master_down_ms(), 3609u);
    // Centisecond intervals.
    params f = v3(254);
    f.advert_ms = 100;
    instance c(f);
    c.start(0);
    EXPECT_EQ(c.master_down_ms(), 300u + 0u); // (2 * 100) / 256 = 0 ms of skew
}

TEST(vrrp_instance, backup_becomes_master_after_master_down_interval) {
    instance a(v3(100));
    EXPECT_FALSE(a.start(0).send);
    EXPECT_EQ(a.current(), state::backup);
    EXPECT_EQ(a.next_event(), 3609u);
    EXPECT_FALSE(a.tick(3608).changed);
    auto o = a.tick(3609);
    EXPECT_TRUE(o.changed);
    EXPECT_TRUE(o.send);
    EXPECT_EQ(o.send_priority, 100);
    EXPECT_EQ(a.current(), state::master);
    EXPECT_EQ(a.master_ip(), us);
    // Then one advertisement per interval.
    EXPECT_FALSE(a.tick(4608).send);
    EXPECT_TRUE(a.tick(4609).send);
}

TEST(vrrp_instance, adverts_from_a_higher_master_keep_a_backup) {
    instance a(v3(100));
    a.start(0);
    for (uint64_t t = 1000; t < 20000; t += 1000) {
        a.on_advert(150, peer, 100, t);
        EXPECT_FALSE(a.tick(t + 1).changed);
    }
    EXPECT_EQ(a.current(), state::backup);
    EXPECT_EQ(a.master_ip(), peer);
    // The master stops sending: master after Master_Down_Interval from its last advert.
    EXPECT_FALSE(a.tick(19000 + 3608).changed);
    EXPECT_TRUE(a.tick(19000 + 3609).changed);
}

TEST(vrrp_instance, priority_zero_means_take_over_after_skew) {
    instance a(v3(100));
    a.start(0);
    a.on_advert(150, peer, 100, 1000);
    a.on_advert(0, peer, 100, 2000); // the master stopped cleanly
    EXPECT_EQ(a.next_event(), 2000u + 609u);
    EXPECT_TRUE(a.tick(2609).changed);
    EXPECT_EQ(a.current(), state::master);
}

TEST(vrrp_instance, preempt_and_nopreempt) {
    instance a(v3(150)); // preempts a lower master
    a.start(0);
    a.on_advert(100, peer, 100, 1000);
    a.on_advert(100, peer, 100, 2000);  // ignored: the down timer keeps running from start
    EXPECT_FALSE(a.tick(3413).changed); // skew (256 - 150) * 1000 / 256 = 414
    EXPECT_TRUE(a.tick(3414).changed);
    EXPECT_EQ(a.current(), state::master);

    params np = v3(150);
    np.preempt = false;
    instance b(np);
    b.start(0);
    for (uint64_t t = 1000; t < 10000; t += 1000) {
        b.on_advert(100, peer, 100, t);
        EXPECT_FALSE(b.tick(t + 1).changed);
    }
    EXPECT_EQ(b.current(), state::backup);
}

TEST(vrrp_instance, preempt_delay_holds_back_preemption) {
    params p = v3(150);
    p.preempt_delay_ms = 10000;
    instance a(p);
    a.start(0);
    for (uint64_t t = 1000; t < 10000; t += 1000) {
        a.on_advert(100, peer, 100, t);
        EXPECT_FALSE(a.tick(t + 1).changed) << t;
    }
    // 10 s after the first lower advert (1 s) they are ignored: master Master_Down_Interval
    // after the last one accepted (10 s).
    a.on_advert(100, peer, 100, 10000);
    a.on_advert(100, peer, 100, 11000);
    EXPECT_FALSE(a.tick(10000 + 3413).changed);
    EXPECT_TRUE(a.tick(10000 + 3414).changed);
}

// keepalived.conf(5) preempt_delay: "Seconds of delay until preemption after ... seeing a lower
// priority master"; vrrp.c vrrp_state_backup() arms preempt_time at the first lower-priority
// advert it accepts, not at start-up. So a delay long over since start still holds back the
// preemption of a master whose priority drops later.
TEST(vrrp_instance, preempt_delay_counts_from_the_first_lower_advert_not_from_start) {
    params p = v3(150);
    p.preempt_delay_ms = 10000;
    instance a(p);
    a.start(0);
    for (uint64_t t = 1000; t < 60000; t += 1000) // a higher master for a minute
        a.on_advert(200, peer, 100, t);
    // Its priority drops to 100 at 60 s: lower adverts are accepted until 70 s.
    for (uint64_t t = 60000; t < 70000; t += 1000) {
        a.on_advert(100, peer, 100, t);
        EXPECT_FALSE(a.tick(t + 999).changed) << t;
    }
    a.on_advert(100, peer, 100, 70000); // the delay is over: ignored
    EXPECT_EQ(a.current(), state::backup);
    // Master Master_Down_Interval (3 s + skew 414 ms) after the last one accepted (69 s).
    EXPECT_FALSE(a.tick(69000 + 3413).changed);
    EXPECT_TRUE(a.tick(69000 + 3414).changed);
    EXPECT_EQ(a.current(), state::master);
}

// vrrp.c: a higher- or equal-priority advert stops a running delay ("stop preempt delay",
// preempt_time = 0), and so does entering BACKUP (vrrp_state_leave_master and
// vrrp_state_leave_fault clear preempt_time): the next lower advert starts a full delay again.
TEST(vrrp_instance, preempt_delay_restarts_after_a_higher_advert_and_on_entering_backup) {
    params p = v3(150);
    p.preempt_delay_ms = 10000;
    instance a(p);
    a.start(0);
    a.on_advert(100, peer, 100, 1000);            // delay from 1 s
    a.on_advert(200, peer, 100, 5000);            // stopped
    for (uint64_t t = 6000; t < 16000; t += 1000) // delay from 6 s: accepted until 16 s
        a.on_advert(100, peer, 100, t);
    a.on_advert(100, peer, 100, 16000);
    EXPECT_FALSE(a.tick(15000 + 3413).changed);
    EXPECT_TRUE(a.tick(15000 + 3414).changed);
    ASSERT_EQ(a.current(), state::master);

    // FAULT and back: BACKUP again, and the delay starts at the next lower advert (40 s).
    a.set_tracking(true, 0, 20000);
    a.set_tracking(false, 0, 30000);
    ASSERT_EQ(a.current(), state::backup);
    a.on_advert(200, peer, 100, 31000);
    for (uint64_t t = 40000; t < 50000; t += 1000)
        a.on_advert(100, peer, 100, t);
    a.on_advert(100, peer, 100, 50000);
    EXPECT_FALSE(a.tick(49000 + 3413).changed);
    EXPECT_TRUE(a.tick(49000 + 3414).changed);
}

TEST(vrrp_instance, master_yields_to_higher_and_to_ties_with_higher_address) {
    instance a(v3(255)); // owner: master at once
    auto o = a.start(0);
    EXPECT_TRUE(o.changed && o.send);
    EXPECT_EQ(a.current(), state::master);

    params p = v3(100);
    p.initial_master = false;
    instance b(p);
    b.start(0);
    b.tick(3609);
    ASSERT_EQ(b.current(), state::master);
    // Lower priority: stays master and answers at once.
    o = b.on_advert(50, peer, 100, 4000);
    EXPECT_TRUE(o.send);
    EXPECT_EQ(b.current(), state::master);
    // Equal priority from a lower address: stays.
    EXPECT_FALSE(b.on_advert(100, low, 100, 4100).changed);
    // Equal priority from a higher address: yields.
    EXPECT_TRUE(b.on_advert(100, peer, 100, 4200).changed);
    EXPECT_EQ(b.current(), state::backup);
    EXPECT_EQ(b.master_ip(), peer);
}

TEST(vrrp_instance, master_receiving_priority_zero_advertises_at_once) {
    instance a(v3(255));
    a.start(0);
    auto o = a.on_advert(0, peer, 100, 500);
    EXPECT_TRUE(o.send);
    EXPECT_EQ(o.send_priority, 255);
    EXPECT_EQ(a.next_event(), 1500u);
}

TEST(vrrp_instance, clean_stop_sends_priority_zero) {
    instance a(v3(255));
    a.start(0);
    auto o = a.stop(100);
    EXPECT_TRUE(o.send);
    EXPECT_EQ(o.send_priority, 0);
    EXPECT_EQ(a.current(), state::init);
    instance b(v3(100));
    b.start(0);
    EXPECT_FALSE(b.stop(100).send); // a backup has nothing to say
}

TEST(vrrp_instance, initial_master_takes_over_after_one_interval) {
    params p = v3(100);
    p.initial_master = true;
    instance a(p);
    a.start(0);
    EXPECT_EQ(a.current(), state::backup);
    EXPECT_TRUE(a.tick(1000).changed);
}

TEST(vrrp_instance, tracking_adjusts_priority_and_faults) {
    instance a(v3(100));
    a.start(0);
    a.tick(3609);
    ASSERT_EQ(a.current(), state::master);
    a.set_tracking(false, -20, 4000);
    EXPECT_EQ(a.priority(), 80);
    EXPECT_EQ(a.tick(4609).send_priority, 80);
    // A higher adjustment is clamped below the owner's 255.
    a.set_tracking(false, 200, 5000);
    EXPECT_EQ(a.priority(), 254);
    // Weight 0 failing (or a tracked port down): FAULT, telling the backups with priority 0.
    auto o = a.set_tracking(true, 0, 6000);
    EXPECT_TRUE(o.changed);
    EXPECT_TRUE(o.send);
    EXPECT_EQ(o.send_priority, 0);
    EXPECT_EQ(a.current(), state::fault);
    EXPECT_EQ(a.next_event(), UINT64_MAX);
    EXPECT_FALSE(a.on_advert(50, peer, 100, 6500).changed); // FAULT ignores adverts
    // Recovered: BACKUP, master again after Master_Down_Interval without adverts.
    o = a.set_tracking(false, 0, 7000);
    EXPECT_TRUE(o.changed);
    EXPECT_EQ(a.current(), state::backup);
    EXPECT_TRUE(a.tick(7000 + 3609).changed);
}

} // namespace
} // namespace ulvs::ctl::vrrp
