// The connection table at 1M and 10M entries: bulk lookup of 32 random present keys, and an
// erase + insert pair (a connection ending and another starting).
#include "ulvs/dataplane/conn/conn_table.h"

#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <memory>
#include <random>
#include <vector>

namespace {

using namespace ulvs;
using dp::conn_key;

// As traffic.h's flow i.
conn_key key_of(uint32_t i) {
    conn_key k{};
    k.src_ip = htonl(0xc6120000u + (i & 0x1ffff));
    k.dst_ip = htonl(0xcb007165u);
    k.src_port = htons(static_cast<uint16_t>(1024 + (i >> 17)));
    k.dst_port = htons(80);
    k.proto = 6;
    return k;
}

// One filled table at a time (10M entries take gigabytes): rebuilt when the size changes.
dp::conn_table& table_of(uint32_t n) {
    static std::unique_ptr<dp::conn_table> t;
    static uint32_t filled = 0;
    if (!t || filled != n) {
        t.reset();
        t = std::make_unique<dp::conn_table>("perf_ct", n, 0);
        dp::conn init{};
        init.mode = fwd_mode::dr;
        for (uint32_t i = 0; i < n; ++i)
            t->insert(key_of(i), init, false);
        filled = n;
    }
    return *t;
}

void BM_conn_lookup_bulk(benchmark::State& st) {
    const auto n = static_cast<uint32_t>(st.range(0));
    dp::conn_table& t = table_of(n);
    // Random keys made beforehand (64k bursts' worth would not fit a cache either).
    std::mt19937 rng(1);
    std::vector<conn_key> keys(1 << 16);
    for (auto& k : keys)
        k = key_of(rng() % n);
    const conn_key* ptrs[32];
    dp::conn_ref refs[32];
    uint64_t found = 0;
    size_t at = 0;
    for (auto _ : st) {
        for (int i = 0; i < 32; ++i)
            ptrs[i] = &keys[(at + i) & (keys.size() - 1)];
        at += 32;
        t.lookup_bulk(ptrs, 32, refs);
        for (const auto& r : refs)
            found += r.found();
    }
    if (found != uint64_t(st.iterations()) * 32)
        st.SkipWithError("missing keys");
    st.SetItemsProcessed(int64_t(st.iterations()) * 32);
}
BENCHMARK(BM_conn_lookup_bulk)->Arg(1 << 20)->Arg(10 << 20)->Unit(benchmark::kNanosecond);

// A lookup (to find the entry), its erase and the insert of the same key again.
void BM_conn_erase_insert(benchmark::State& st) {
    const auto n = static_cast<uint32_t>(st.range(0));
    dp::conn_table& t = table_of(n);
    std::mt19937 rng(2);
    dp::conn init{};
    init.mode = fwd_mode::dr;
    for (auto _ : st) {
        const conn_key k = key_of(rng() % n);
        const dp::conn_ref r = t.lookup(k);
        t.erase(r.index);
        benchmark::DoNotOptimize(t.insert(k, init, false));
    }
    st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_conn_erase_insert)->Arg(1 << 20)->Arg(10 << 20);

} // namespace
