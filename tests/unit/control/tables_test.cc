#include "ulvs/control/sched/tables.h"

#include <gtest/gtest.h>

using namespace ulvs;
using dp::sched_kind;

TEST(sched_names, all_ipvsadm_names_round_trip) {
    const std::pair<const char*, sched_kind> want[] = {
        {"rr", sched_kind::rr},     {"wrr", sched_kind::wrr},    {"lc", sched_kind::lc},
        {"wlc", sched_kind::wlc},   {"sh", sched_kind::sh},      {"dh", sched_kind::dh},
        {"sed", sched_kind::sed},   {"nq", sched_kind::nq},      {"mh", sched_kind::mh},
        {"lblc", sched_kind::lblc}, {"lblcr", sched_kind::lblcr}};
    for (const auto& [name, kind] : want) {
        auto k = ctl::sched_from_name(name);
        ASSERT_TRUE(k) << name;
        EXPECT_EQ(*k, kind) << name;
        EXPECT_EQ(ctl::sched_name(kind), name);
    }
}

TEST(sched_names, unknown_names) {
    for (const char* s : {"", "RR", "LBLC", "lblcr ", "fo", "ovf", "twos", "wrr ", "w"})
        EXPECT_FALSE(ctl::sched_from_name(s)) << s;
}

namespace {

std::vector<dp::dest> dests(std::initializer_list<uint32_t> ws) {
    std::vector<dp::dest> v;
    for (uint32_t w : ws) {
        dp::dest d{};
        d.weight = w;
        v.push_back(d);
    }
    return v;
}

dp::wrr_params wrr_of(const std::vector<dp::dest>& v, uint32_t first, uint32_t count) {
    dp::service s{};
    s.dest_first = first;
    s.dest_count = count;
    s.wrr = {-5, -5}; // must be overwritten
    ctl::build_wrr(s, v);
    return s.wrr;
}

} // namespace

TEST(build_wrr, max_and_gcd_of_non_zero_weights) {
    auto v = dests({3, 2, 1});
    EXPECT_EQ(wrr_of(v, 0, 3).max_weight, 3);
    EXPECT_EQ(wrr_of(v, 0, 3).gcd, 1);
    v = dests({4, 0, 6, 2});
    EXPECT_EQ(wrr_of(v, 0, 4).max_weight, 6);
    EXPECT_EQ(wrr_of(v, 0, 4).gcd, 2);
    v = dests({15, 10, 0, 25});
    EXPECT_EQ(wrr_of(v, 0, 4).gcd, 5);
    v = dests({7});
    EXPECT_EQ(wrr_of(v, 0, 1).max_weight, 7);
    EXPECT_EQ(wrr_of(v, 0, 1).gcd, 7);
}

TEST(build_wrr, all_zero_or_empty) {
    auto v = dests({0, 0});
    EXPECT_EQ(wrr_of(v, 0, 2).max_weight, 0);
    EXPECT_EQ(wrr_of(v, 0, 2).gcd, 1);
    EXPECT_EQ(wrr_of(v, 0, 0).max_weight, 0);
    EXPECT_EQ(wrr_of(v, 0, 0).gcd, 1);
}

TEST(build_wrr, only_the_services_own_dests) {
    // Another service's dests around ours must not count.
    auto v = dests({100, 9, 6, 0, 35});
    EXPECT_EQ(wrr_of(v, 1, 3).max_weight, 9);
    EXPECT_EQ(wrr_of(v, 1, 3).gcd, 3);
    EXPECT_EQ(wrr_of(v, 4, 1).max_weight, 35);
}
