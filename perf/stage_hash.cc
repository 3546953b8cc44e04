// rte_hash beside our connection table (issue 17): the project was asked to use rte_hash and
// replaced it with its own bucketized cuckoo table (conn/conn_table.h); these rows keep that choice
// a measured one. The same keys (stage_tables.h), the same table sizes (1M and 10M connections),
// the same burst of 32 bulk lookups, on the same memory (see below):
//  - rte_hash sized as ours is: room for two keys per connection (a NAT connection is found from
//    both sides), a 16-byte key, CRC32 hash (SSE4.2, as ours), single writer;
//  - its data is the index of the connection's 64-byte entry in an array beside it, and each
//    lookup reads that entry (the burst path needs it next; our lookup_bulk verifies the key in
//    the entry, so it has read it already);
//  - BM_rte_hash_lookup_bulk: rte_hash_lookup_bulk_data (it hashes the keys itself, as ours does);
//    BM_rte_hash_lookup_with_hash_bulk: rte_hash_lookup_with_hash_bulk_data with signatures
//    computed before the timed loop (rte_hash's best case: a hash the NIC would have given).
// Counters: cyc_per_key (this thread's CPU time over the loop in TSC cycles: time the shared
// machine gave to others is not counted), index_B_per_conn (rte_hash's own allocation per
// connection: buckets, key store, free-slot ring), total_B_per_conn (with the entries).
//
// Memory: our table takes anonymous memory with transparent huge pages when EAL runs without
// hugepages (conn_table.cc); EAL's own memory under --no-huge is in 4 KiB pages. So that both see
// the same TLB, rte_hash is created on an external malloc heap (rte_malloc_heap_memory_add) over
// anonymous memory advised to huge pages, as our table's (the counter thp_MB says how much of the
// process is in huge pages after the build). With EAL hugepages, both use EAL's.
#include "stage_tables.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace {

using namespace ulvs;
using dp::conn_key;

constexpr size_t huge_page = 2u << 20;
constexpr size_t heap_bytes = size_t{3} << 29; // rte_hash of 10M connections takes 1.07 GB

// The socket id of the external heap (created once), or 0 with EAL hugepages; -1 on failure.
int hash_socket() {
    static int socket = -2;
    if (socket != -2)
        return socket;
    socket = 0;
    if (rte_eal_has_hugepages())
        return socket;
    socket = -1;
    void* raw = mmap(nullptr, heap_bytes + huge_page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return socket;
    auto* base = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + huge_page - 1) &
                                         ~(huge_page - 1));
    madvise(base, heap_bytes, MADV_HUGEPAGE); // before any page is touched
    if (rte_malloc_heap_create("stage_thp") != 0 ||
        rte_malloc_heap_memory_add("stage_thp", base, heap_bytes, nullptr, heap_bytes / huge_page,
                                   huge_page) != 0)
        return socket;
    socket = rte_malloc_heap_get_socket("stage_thp");
    return socket;
}

// AnonHugePages of this process, MB.
double thp_mb() {
    std::ifstream f("/proc/self/smaps_rollup");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("AnonHugePages:", 0) == 0)
            return std::stod(line.substr(14)) / 1024;
    return 0;
}

struct hash_table {
    rte_hash* h = nullptr;
    dp::conn* conns = nullptr; // the entries rte_hash's data indexes
    size_t conns_bytes = 0;
    uint32_t n = 0;
    double index_bytes = 0; // rte_hash's allocation

    ~hash_table() {
        rte_hash_free(h);
        if (conns != nullptr)
            munmap(conns, conns_bytes);
    }
};

std::unique_ptr<hash_table> g_hash;

size_t heap_used(int socket) {
    rte_malloc_socket_stats s{};
    rte_malloc_get_socket_stats(socket, &s);
    return s.heap_allocsz_bytes;
}

// One table alive at a time: ours is freed first.
hash_table* hash_of(uint32_t n, std::string& err) {
    if (g_hash && g_hash->n == n)
        return g_hash.get();
    g_hash.reset();
    perf::stage_free_conn_table();
    const int socket = hash_socket();
    if (socket < 0) {
        err = "external heap for rte_hash";
        return nullptr;
    }
    auto t = std::make_unique<hash_table>();
    t->n = n;
    const size_t before = heap_used(socket);
    rte_hash_parameters p{};
    p.name = "stage_rte_hash";
    p.entries = 2 * n; // two keys a connection, as conn_table's index
    p.key_len = sizeof(conn_key);
    p.hash_func = rte_hash_crc;
    p.socket_id = socket;
    t->h = rte_hash_create(&p);
    if (t->h == nullptr) {
        err = "rte_hash_create";
        return nullptr;
    }
    t->index_bytes = double(heap_used(socket) - before);
    t->conns_bytes = sizeof(dp::conn) * size_t{n};
    void* c =
        mmap(nullptr, t->conns_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) {
        err = "entries";
        return nullptr;
    }
    madvise(c, t->conns_bytes, MADV_HUGEPAGE);
    t->conns = static_cast<dp::conn*>(c);
    for (uint32_t i = 0; i < n; ++i) {
        const conn_key k = perf::stage_key(i);
        t->conns[i].key = k;
        if (rte_hash_add_key_data(t->h, &k, reinterpret_cast<void*>(uintptr_t{i})) != 0) {
            err = "rte_hash_add_key_data failed at " + std::to_string(i);
            return nullptr;
        }
    }
    g_hash = std::move(t);
    return g_hash.get();
}

void lookup_bench(benchmark::State& st, bool with_hash) {
    const auto n = static_cast<uint32_t>(st.range(0));
    std::string err;
    hash_table* t = hash_of(n, err);
    if (t == nullptr) {
        st.SkipWithError(err.c_str());
        return;
    }
    const std::vector<conn_key> keys = perf::stage_lookup_keys(n);
    std::vector<hash_sig_t> sigs(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
        sigs[i] = rte_hash_hash(t->h, &keys[i]);
    const void* ptrs[32];
    void* data[32];
    uint64_t found = 0, sum = 0;
    size_t at = 0;
    const uint64_t t0 = perf::stage_thread_cpu_ns();
    for (auto _ : st) {
        const size_t base = at & (keys.size() - 1); // 64k keys: bursts never wrap
        for (int i = 0; i < 32; ++i)
            ptrs[i] = &keys[base + i];
        at += 32;
        uint64_t hits = 0;
        if (with_hash)
            rte_hash_lookup_with_hash_bulk_data(t->h, ptrs, &sigs[base], 32, &hits, data);
        else
            rte_hash_lookup_bulk_data(t->h, ptrs, 32, &hits, data);
        found += static_cast<uint64_t>(__builtin_popcountll(hits));
        for (int i = 0; i < 32; ++i) // the entry the burst path reads next
            sum += t->conns[reinterpret_cast<uintptr_t>(data[i])].key.src_port;
    }
    const uint64_t t1 = perf::stage_thread_cpu_ns();
    benchmark::DoNotOptimize(sum);
    if (found != uint64_t(st.iterations()) * 32)
        st.SkipWithError("missing keys");
    st.SetItemsProcessed(int64_t(st.iterations()) * 32);
    st.counters["cyc_per_key"] =
        double(t1 - t0) * double(rte_get_tsc_hz()) / 1e9 / double(st.iterations() * 32);
    st.counters["index_B_per_conn"] = t->index_bytes / n;
    st.counters["total_B_per_conn"] = (t->index_bytes + double(t->conns_bytes)) / n;
    st.counters["thp_MB"] = thp_mb();
}

void BM_rte_hash_lookup_bulk(benchmark::State& st) {
    lookup_bench(st, false);
}
BENCHMARK(BM_rte_hash_lookup_bulk)->Arg(1 << 20)->Arg(10 << 20)->Unit(benchmark::kNanosecond);

void BM_rte_hash_lookup_with_hash_bulk(benchmark::State& st) {
    lookup_bench(st, true);
}
BENCHMARK(BM_rte_hash_lookup_with_hash_bulk)
    ->Arg(1 << 20)
    ->Arg(10 << 20)
    ->Unit(benchmark::kNanosecond);

} // namespace
