// `ulvsadm -c`, the connection listing, in pages (issue 13): no total limit, and no pass of the
// control lcore handles more than one page.
//
// Protocol: {"cmd":"connections"[,"cursor":[W,SLOT]][,"limit":N]} -> {"conns":[...], "more":B
// [,"cursor":[W,SLOT]]}: at most `limit` (default and bound page_entries) connections, starting
// at worker W's entry-pool slot SLOT (no cursor: the start); while "more" is true the client asks
// again with the reply's cursor. A page is gathered in chunks, one worker at a time, through the
// workers' dump channels (dataplane/fwd/conn_dump.h): this side posts a chunk and polls for it
// from the server's deferred reply, so neither the control loop nor a worker ever waits, and each
// chunk's entries are turned into the reply once, as it arrives, encode_per_pass at a time.
// One chunk is in flight at a time; pages of concurrent listings take turns.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/dataplane/fwd/conn_dump.h"
#include "ulvs/mgmt/server.h"
#include "ulvs/mgmt/traffic_stats.h"

#include <optional>
#include <vector>

namespace ulvs::mgmt {

class conn_listing {
public:
    // At most this many connections a page (about 160 KB on the wire), encoded at most
    // encode_per_pass a pass: about half a millisecond of the control lcore (measured about 2 us a
    // connection into JSON on this machine's 2.45 GHz cores). Fewer, larger pages list faster:
    // each costs ulvsadm a round trip and the loop a few passes.
    static constexpr uint32_t page_entries = 1000;
    static constexpr uint32_t encode_per_pass = 250;
    // How long a worker gets to answer a chunk (it scans a bounded step per loop iteration).
    static constexpr uint64_t wait_ms = 3000;

    // One channel per worker, served by the worker loop; empty: -c is not available.
    explicit conn_listing(std::vector<dp::conn_dump_channel*> channels)
        : m_channels(std::move(channels)), m_buf(page_entries) {}

    // `running` and `stats` must outlive the deferred reply (the manager's own members).
    handler_result start(const config::config& running, const traffic_stats& stats,
                         const json& request, uint64_t now);

private:
    struct page; // one request's progress (conn_listing.cc)
    std::optional<json> step(page& p, uint64_t now);
    // m_buf[from, to) onto the page's reply; returns how many.
    uint32_t append(page& p, uint32_t from, uint32_t to);

    std::vector<dp::conn_dump_channel*> m_channels;
    std::vector<dp::conn_dump_entry> m_buf; // the chunk in flight's entries
    struct inflight {
        uint32_t worker;
        uint32_t request;
        uint64_t since;
    };
    std::optional<inflight> m_inflight; // whoever posted it (its page may be gone)
};

} // namespace ulvs::mgmt
