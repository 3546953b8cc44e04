// Scheduler generations across builds (control/service/service_gens.h): one per scheduler input
// of a service, so that a rebuild that leaves a service alone keeps the workers' cursors.
#include "ulvs/control/service/service_gens.h"

#include <gtest/gtest.h>

using namespace ulvs;

namespace {

struct built {
    dp::service svc{};
    std::vector<dp::dest> dests;
};

// Service `id` with dests (stats id, weight).
built service(uint32_t id, std::initializer_list<std::pair<uint32_t, uint32_t>> ds,
              dp::sched_kind k = dp::sched_kind::rr) {
    built b;
    b.svc.stats_id = id;
    b.svc.sched = k;
    for (auto [sid, w] : ds) {
        dp::dest d{};
        d.stats_id = sid;
        d.weight = w;
        b.dests.push_back(d);
    }
    b.svc.dest_first = 0;
    b.svc.dest_count = static_cast<uint32_t>(b.dests.size());
    return b;
}

uint32_t gen(ctl::service_gens& g, const built& b) {
    return g.of(b.svc, b.dests);
}

} // namespace

TEST(service_gens, the_same_input_keeps_its_generation) {
    ctl::service_gens g;
    const uint32_t a = gen(g, service(1, {{10, 1}, {11, 1}}));
    EXPECT_NE(a, 0u); // a fresh cursor (generation 0) always sees a change
    EXPECT_EQ(gen(g, service(1, {{10, 1}, {11, 1}})), a);
    // Another service with the same dests has its own.
    EXPECT_NE(gen(g, service(2, {{10, 1}, {11, 1}})), a);
}

TEST(service_gens, any_change_of_scheduler_flags_dests_or_weights_is_a_new_one) {
    ctl::service_gens g;
    const uint32_t a = gen(g, service(1, {{10, 1}, {11, 1}}));
    EXPECT_NE(gen(g, service(1, {{10, 1}, {11, 2}})), a);                      // weight
    EXPECT_NE(gen(g, service(1, {{10, 1}})), a);                               // removed
    EXPECT_NE(gen(g, service(1, {{11, 1}, {10, 1}})), a);                      // order
    EXPECT_NE(gen(g, service(1, {{10, 1}, {11, 1}}, dp::sched_kind::wrr)), a); // scheduler
    built f = service(1, {{10, 1}, {11, 1}});
    f.svc.sched_flags = dp::sched_flag::port;
    EXPECT_NE(gen(g, f), a);
}

// The check build sees the configuration, the publication its health overlay: alternating
// inputs keep their generations.
TEST(service_gens, alternating_inputs_keep_theirs) {
    ctl::service_gens g;
    const uint32_t all = gen(g, service(1, {{10, 1}, {11, 1}, {12, 1}}));
    const uint32_t up = gen(g, service(1, {{10, 1}, {11, 1}}));
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(gen(g, service(1, {{10, 1}, {11, 1}, {12, 1}})), all);
        EXPECT_EQ(gen(g, service(1, {{10, 1}, {11, 1}})), up);
    }
    // Only the last few are remembered: an old one comes back with a new generation.
    for (uint32_t w = 2; w < 2 + ctl::service_gens::history; ++w)
        gen(g, service(1, {{10, w}}));
    EXPECT_NE(gen(g, service(1, {{10, 1}, {11, 1}, {12, 1}})), all);
}

TEST(service_gens, services_gone_from_a_build_are_forgotten) {
    ctl::service_gens g;
    const uint32_t a = gen(g, service(1, {{10, 1}}));
    dp::snapshot s; // a build without service 1
    g.retain(s);
    EXPECT_NE(gen(g, service(1, {{10, 1}})), a);
}
