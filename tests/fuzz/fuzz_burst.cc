// libFuzzer target: arbitrary frames through the worker's real burst path (dp::process_burst,
// dp::process_redirected for what it steers to the other worker, dp::expire_conns) and the
// control lcore's exception path (responder), on tests/fuzz/burst.yaml: every forwarding mode
// and scheduler, persistence, match services, a table that fills, with time moving forward.
//
// Input: records, each
//     ctl(1) delta(1) len(2, big-endian) frame(len)
// ctl bit 0: the port it arrives on (0 wan, 1 lan); bit 1: the worker that reads it (0 or 1);
// bit 2: the burst ends after this frame; bit 3: the NIC says the IP checksum is good
// (RX offload); bit 4: recompute the IPv4 header checksum first (so mutated headers get past
// it). A burst also ends at 32 frames or when the port, worker or offload bit changes.
// delta: the clock moves by (delta & 63) << (5 * (delta >> 6)) ms before the frame (1 ms to
// 34 min steps: handshakes, timeouts and persistence all come due). After each burst every worker
// expires what is due (connections, fragments). A record cut short by the end of the input is not
// sent.
//
// Checks beyond ASan/UBSan, after each input, with time moved past every timeout: every mbuf is
// back in the pool (fragments in reassembly included), every connection and template has
// expired, the timer wheels are empty and every real server's active/inactive/persistent count
// is back to zero.
//
// Each input starts from the state the previous one left once drained (checked empty above),
// with the scheduler cursors rewound, the lblc/lblcr tables emptied and the clock on a whole
// second, so a crash depends on its input alone: fresh workers per input cost 7 MB of counters to
// zero, 6x the fuzzing itself.
// Neighbours the input resolved by ARP (198.51.100.13, .32) would outlive it: then the rig is
// built again.
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/sched/locality.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace ulvs;

namespace {

constexpr uint32_t n_workers = 2;
constexpr uint64_t start_ms = 1'000'000;
// IPVS' longest TCP state timeout is 120 s, burst.yaml's longest persistence 60 s (a template
// outlives its connections by at most that): four steps of 3 min leave nothing alive.
constexpr uint64_t drain_step_ms = 3 * 60 * 1000;
constexpr int drain_rounds = 4;
const char* const dynamic_neighbours[] = {"198.51.100.13", "198.51.100.32"};
// Frames fit one mbuf: the pool's data room (RTE_MBUF_DEFAULT_DATAROOM).
constexpr size_t max_frame = RTE_MBUF_DEFAULT_DATAROOM;

std::unique_ptr<config::config> g_cfg;
std::unique_ptr<test::rig> g_rig;
unsigned g_pool_free = 0;
uint64_t g_clock = start_ms; // the workers' clocks only move forward

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_burst: %s\n", what);
    std::abort();
}

void fix_ipv4_checksum(test::frame& f) {
    if (f.size() < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return;
    const size_t ihl = (f[14] & 0x0f) * 4u;
    if (ihl < 20 || f.size() < 14 + ihl)
        return;
    f[24] = f[25] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i < ihl; i += 2)
        sum += (uint32_t{f[14 + i]} << 8) | f[15 + i];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    const auto c = static_cast<uint16_t>(~sum);
    f[24] = static_cast<uint8_t>(c >> 8);
    f[25] = static_cast<uint8_t>(c);
}

// What the worker loop does between bursts: connections and fragments whose time has come.
void expire_all(uint64_t now_ms) {
    for (uint32_t w = 0; w < n_workers; ++w) {
        dp::expire_conns(g_rig->worker(w), now_ms, UINT32_MAX);
        dp::expire_fragments(g_rig->worker(w), now_ms);
    }
    // Packets the control lcore held for a neighbour that never answered time out too (3 s);
    // one that did answer would have gone out with a later burst's collection.
    g_rig->unres().service(g_rig->neigh(), g_rig->addrs(), now_ms,
                           [](uint8_t, rte_mbuf* m) { rte_pktmbuf_free(m); });
}

void new_rig() {
    g_rig.reset();
    g_rig = std::make_unique<test::rig>(*g_cfg, g_clock, n_workers);
    if (!g_rig->ok())
        fail(("rig: " + g_rig->error()).c_str());
}

// After the input: time passes until everything must have expired; the books must balance.
// Returns the clock then.
uint64_t check_drained(uint64_t now_ms) {
    for (int round = 0; round < drain_rounds; ++round) {
        now_ms += drain_step_ms;
        expire_all(now_ms);
    }
    // Fragments waiting for reassembly hold mbufs until they time out (2 s).
    if (rte_mempool_avail_count(test::test_pool()) != g_pool_free)
        fail("mbufs not returned to the pool");
    for (uint32_t w = 0; w < n_workers; ++w) {
        const dp::worker_ctx& wc = g_rig->worker(w);
        if (wc.conns.size() != 0)
            fail("connections left after every timeout passed");
        if (wc.wheel.filed() != 0)
            fail("timer wheel entries left with an empty table");
        for (const dp::dest& d : g_rig->snap().dests) {
            const dp::dest_conn_counts& c = wc.dest_conns[d.stats_id];
            if (c.active != 0 || c.inactive != 0 || c.persistent != 0)
                fail("a real server's connection counts do not return to zero");
        }
    }
    return now_ms;
}

// The next input's start: drained workers, cursors at the start, no learned neighbour.
void rewind(uint64_t now_ms) {
    g_clock = (now_ms / 1000 + 1) * 1000;
    for (const char* ip : dynamic_neighbours)
        if (g_rig->neigh().mac_of(*ip_addr::parse(ip))) {
            new_rig();
            return;
        }
    for (uint32_t w = 0; w < n_workers; ++w)
        for (dp::sched_cursor& c : g_rig->worker(w).cursors)
            c = dp::sched_cursor{};
    // lblc/lblcr remember destinations across connections: forget them too.
    for (const dp::service& svc : g_rig->snap().services_v)
        if (svc.locality != nullptr)
            svc.locality->clear();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (!test::init_eal("fuzz_burst"))
        fail("EAL init failed");
    auto cfg = config::load_file(ULVS_FUZZ_BURST_CONFIG);
    if (!cfg)
        fail(cfg.error().front().to_string().c_str());
    g_cfg = std::make_unique<config::config>(std::move(*cfg));
    new_rig();
    g_pool_free = rte_mempool_avail_count(test::test_pool());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    uint64_t now = g_clock;
    std::vector<test::frame> burst;
    uint8_t port = 0, worker = 0;
    uint64_t ol_flags = 0;

    const auto flush = [&] {
        if (burst.empty())
            return;
        g_rig->burst_on(worker, port, burst, now, ol_flags);
        burst.clear();
        expire_all(now);
    };

    size_t off = 0;
    while (size - off >= 4) {
        const uint8_t ctl = data[off], delta = data[off + 1];
        size_t len = (size_t{data[off + 2]} << 8) | data[off + 3];
        off += 4;
        if (len > size - off)
            break;
        const uint8_t* bytes = data + off;
        off += len;
        len = len < max_frame ? len : max_frame;

        const auto p = static_cast<uint8_t>(ctl & 1), w = static_cast<uint8_t>((ctl >> 1) & 1);
        const uint64_t flags = (ctl & 8) ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : 0;
        if (p != port || w != worker || flags != ol_flags || burst.size() == dp::max_burst)
            flush();
        port = p;
        worker = w;
        ol_flags = flags;
        const uint64_t step = uint64_t{delta & 63u} << (5 * (delta >> 6));
        if (step != 0) {
            flush(); // a burst is received at one instant
            now += step;
        }
        test::frame f(bytes, bytes + len);
        if (ctl & 16)
            fix_ipv4_checksum(f);
        burst.push_back(std::move(f));
        if (ctl & 4)
            flush();
    }
    flush();
    rewind(check_drained(now));
    return 0;
}
