// Listing a worker's connections for `ulvsadm -c` (management plane, issues 6 and 13) without any
// other core touching the worker's connection table.
//
// The control lcore owns one conn_dump_channel per worker. To list a chunk, it fills `buf`/`cap`
// and `start` (the first entry-pool slot to look at), then bumps `request` (release). The worker
// calls conn_dump_step() once per loop iteration: when it sees a new request it scans its entry
// pool from `start`, at most `scan_per_step` slots per call (so a 1M-entry table costs the data
// path microseconds per iteration, never a stall), copies the live connections into `buf` until
// it holds `cap` of them or the pool ends, and finally publishes `count`, `next` (the slot to start
// the following chunk at) and `end` (the pool is done), then sets `done` to the request it served
// (release). The control lcore polls `done` (acquire) and never waits. Chunks are how listings of
// any size are paged: the control lcore never holds more than one chunk, and entries keep their
// pool slot for life, so a cursor (worker, slot) stays meaningful between pages.
// A slot is live when its own key still finds it in the hash: erased slots keep stale bytes.
// The listing is a scan over time, not an atomic snapshot: connections created or expired while
// it runs may or may not appear, which is what ipvsadm -c over /proc shows as well.
//
// Header-only on purpose: the worker side is these few inline lines. Thread safety: as described
// per field. The control side must not post a request while the worker serves an earlier one.
//
// Worker-loop hook (dataplane owner): `worker_runtime::conn_dump` (a conn_dump_channel*, null by
// default) and, once per iteration of worker_main:
//     if (rt.conn_dump != nullptr) conn_dump_step(w.conns, *rt.conn_dump, now);
#pragma once

#include "ulvs/dataplane/conn/conn_table.h"

#include <atomic>
#include <cstdint>

namespace ulvs::dp {

struct conn_dump_entry {
    conn_key key; // client ip/port -> vip/vport, proto (network order)
    uint32_t dest_ip;
    uint16_t dest_port;
    tcp_state state;
    uint8_t flags;
    fwd_mode mode;
    uint32_t expire_in_ms; // 0 when already due
};

struct alignas(64) conn_dump_channel {
    // Control lcore writes before bumping `request`; the worker reads after seeing it.
    conn_dump_entry* buf = nullptr;
    uint32_t cap = 0;
    uint32_t start = 0;
    std::atomic<uint32_t> request{0};
    // Worker writes; control reads after `done == request`.
    alignas(64) std::atomic<uint32_t> done{0};
    uint32_t count = 0;
    uint32_t next = 0; // where the following chunk starts
    bool end = false;  // no slot left after this chunk
    // Worker-private progress.
    uint32_t serving = 0;
    uint32_t cursor = 0;
    uint32_t filled = 0;
};

constexpr uint32_t conn_dump_scan_per_step = 512;

// Worker lcore: advance the pending listing, if any, by a bounded step.
inline void conn_dump_step(const conn_table& t, conn_dump_channel& ch, uint64_t now_ms) noexcept {
    const uint32_t req = ch.request.load(std::memory_order_acquire);
    if (req == ch.done.load(std::memory_order_relaxed))
        return;
    if (req != ch.serving) { // a new request (or one that replaced an unfinished one)
        ch.serving = req;
        ch.cursor = ch.start;
        ch.filled = 0;
    }
    const uint32_t end = ch.cursor + conn_dump_scan_per_step < t.capacity()
                             ? ch.cursor + conn_dump_scan_per_step
                             : t.capacity();
    for (; ch.cursor < end && ch.filled < ch.cap; ++ch.cursor) {
        const conn& c = t.at(ch.cursor);
        const conn_ref r = t.lookup(c.key);
        if (!r.found() || r.index != ch.cursor || r.reply)
            continue;
        ch.buf[ch.filled++] = {c.key,
                               c.dest_ip,
                               c.dest_port,
                               c.state,
                               c.flags,
                               c.mode,
                               c.expire_ms > now_ms ? uint32_t(c.expire_ms - now_ms) : 0};
    }
    if (ch.cursor >= t.capacity() || ch.filled >= ch.cap) {
        ch.count = ch.filled;
        ch.next = ch.cursor;
        ch.end = ch.cursor >= t.capacity();
        ch.done.store(req, std::memory_order_release);
    }
}

} // namespace ulvs::dp
