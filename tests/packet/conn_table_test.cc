// The connection table's cuckoo index against a reference map: random inserts (NAT entries with
// two keys, DR with one), erases and lookups up to the table's capacity, so cuckoo paths and
// both buckets are exercised; bulk and single lookups must agree with the model.
#include "harness.h"
#include "ulvs/dataplane/conn/conn_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

using namespace ulvs;
using dp::conn_key;

namespace {

auto tie_of(const conn_key& k) {
    return std::tuple(k.src_ip, k.dst_ip, k.src_port, k.dst_port, k.proto, k.kind);
}
struct key_less {
    bool operator()(const conn_key& a, const conn_key& b) const { return tie_of(a) < tie_of(b); }
};

conn_key random_key(std::mt19937& rng) {
    conn_key k{};
    k.src_ip = rng();
    k.dst_ip = rng() & 0xff; // few VIPs: keys differ mostly in the client part, as in traffic
    k.src_port = static_cast<uint16_t>(rng());
    k.dst_port = 80;
    k.proto = 6;
    return k;
}

struct model_entry {
    uint32_t index;
    bool reply;
};

void check_all(const dp::conn_table& t, const std::map<conn_key, model_entry, key_less>& model) {
    std::vector<const conn_key*> ptrs;
    for (const auto& [k, e] : model) {
        const dp::conn_ref r = t.lookup(k);
        ASSERT_TRUE(r.found());
        ASSERT_EQ(r.index, e.index);
        ASSERT_EQ(r.reply, e.reply);
        ptrs.push_back(&k);
    }
    for (size_t i = 0; i < ptrs.size(); i += 32) {
        const auto n = static_cast<uint32_t>(std::min<size_t>(32, ptrs.size() - i));
        dp::conn_ref refs[32];
        t.lookup_bulk(ptrs.data() + i, n, refs);
        for (uint32_t j = 0; j < n; ++j) {
            const model_entry& e = model.at(*ptrs[i + j]);
            ASSERT_EQ(refs[j].index, e.index);
            ASSERT_EQ(refs[j].reply, e.reply);
        }
    }
}

TEST(conn_table, matches_a_reference_map_under_churn_at_full_load) {
    constexpr uint32_t cap = 20000;
    dp::conn_table t("ct_test", cap, 0);
    ASSERT_TRUE(t.ok());
    std::mt19937 rng(7);
    std::map<conn_key, model_entry, key_less> model;
    std::vector<uint32_t> live;
    for (int round = 0; round < 4; ++round) {
        // Fill to capacity: every key finds room (at most 75% of the index's slots).
        while (t.size() < cap) {
            const conn_key k = random_key(rng);
            dp::conn init{};
            const bool nat = rng() & 1;
            init.mode = nat ? fwd_mode::nat : fwd_mode::dr;
            init.dest_ip = rng();
            init.dest_port = static_cast<uint16_t>(rng());
            if (model.count(k) || (nat && model.count(dp::reply_key([&] {
                    dp::conn c = init;
                    c.key = k;
                    return c;
                }()))))
                continue;
            const uint32_t idx = t.insert(k, init, nat);
            ASSERT_NE(idx, dp::conn_ref::none) << "insert failed at size " << t.size();
            model[k] = {idx, false};
            if (nat)
                model[dp::reply_key(t.at(idx))] = {idx, true};
            live.push_back(idx);
        }
        EXPECT_EQ(t.insert(random_key(rng), dp::conn{}, false), dp::conn_ref::none); // full
        check_all(t, model);
        // Erase a random half.
        std::shuffle(live.begin(), live.end(), rng);
        for (size_t i = live.size() / 2; i < live.size(); ++i) {
            const dp::conn& c = t.at(live[i]);
            model.erase(c.key);
            if (c.mode == fwd_mode::nat)
                model.erase(dp::reply_key(c));
            const conn_key gone = c.key;
            t.erase(live[i]);
            ASSERT_FALSE(t.lookup(gone).found());
        }
        live.resize(live.size() / 2);
        check_all(t, model);
    }
    // A key never inserted is not found, by either lookup.
    const conn_key absent = random_key(rng);
    if (!model.count(absent)) {
        EXPECT_FALSE(t.lookup(absent).found());
        const conn_key* p = &absent;
        dp::conn_ref r;
        t.lookup_bulk(&p, 1, &r);
        EXPECT_FALSE(r.found());
    }
    EXPECT_LE(dp::conn_table::bytes_per_entry_estimate(), 128u); // issue 4's budget
    EXPECT_LE(t.memory_bytes(), uint64_t{cap} * 128);
}

} // namespace

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("conn_table")) {
        std::fprintf(stderr, "EAL init failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
