// A worker's private state and its burst function (docs/architecture.md "A packet's way").
//
// process_burst() is pure with respect to I/O: it reads a burst of received mbufs and leaves every
// packet in exactly one place — staged for transmission on a port (`tx[port]`), staged for the
// control lcore (`to_ctrl_prio` for ARP, VRRP and next-hop resolution; `to_ctrl` for the rest,
// policed), or freed and counted as a drop. The worker loop (worker_loop.h) moves staged packets
// to the NICs and the control rings after each burst; tests read the stages directly. One
// worker_ctx per worker lcore, cache-aligned, touched by no other core except the counters, which
// the management plane reads.
#pragma once

#include "ulvs/dataplane/conn/conn_table.h"
#include "ulvs/dataplane/conn/timer_wheel.h"
#include "ulvs/dataplane/counters.h"
#include "ulvs/dataplane/fwd/frag_table.h"
#include "ulvs/dataplane/fwd/neigh_table.h"
#include "ulvs/dataplane/fwd/police.h"
#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/fwd/sync_msg.h"

#include <array>
#include <cstdint>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace ulvs::dp {

constexpr uint16_t max_burst = 32;
constexpr uint8_t max_ports = 16;
constexpr uint32_t max_workers = 32;
// A TX stage holds one burst's output for a port: four frames per input, e.g. a jumbo packet
// fragmented to a 1500-byte MTU (more pieces than that are counted as tx_full).
constexpr uint16_t tx_stage_size = 4 * max_burst;

// mbuf->port of a packet handed to the control lcore holds its port index; with this bit set it is
// a request to resolve the next hop in mbuf->hash.usr (network order) on port (port & 0xff), and
// the packet itself is only the carrier of that request.
constexpr uint16_t mbuf_port_resolve_request = 0x8000;
// With mbuf_port_resolve_request: the carrier is a whole frame for that host (IPv4, NAT or
// routing done, MACs left to write) that the control lcore may hold until the host resolves
// (control/neigh/unres_queue.h); it is not counted as a drop by the worker.
constexpr uint16_t mbuf_port_hold = 0x4000;

// The worker that owns a connection (docs/architecture.md "A packet's way", step 3): a function of
// the client's address and port only, so requests and replies of one connection meet in one table.
inline uint32_t owner_of(uint32_t client_ip, uint16_t client_port, uint32_t n_workers) noexcept {
    const uint32_t h = (client_ip ^ (uint32_t{client_port} * 0x9e3779b1u)) * 0x85ebca6bu;
    return (h >> 16) % n_workers;
}

// What a worker knows of a port: fixed from start to stop.
struct port_view {
    uint16_t dpdk_port = 0;
    uint16_t tx_queue = 0;
    std::array<uint8_t, 6> mac{};
    uint16_t mtu = 1500;
    // The device sends chained (multi-segment) mbufs; otherwise the worker copies a chain into one
    // mbuf before staging it (fragments, reassembled datagrams).
    bool multi_seg = true;
    // The device reads a Linux socket (af_packet, pcap): TCP/UDP segments from a local sender
    // with checksum offload arrive with partial checksums, which the worker completes (issue 16,
    // pkt/l4_csum.h). Off for NICs, whose frames come off the wire whole.
    bool partial_csum = false;
};

struct tx_stage {
    uint16_t n = 0;
    rte_mbuf* pkts[tx_stage_size];
};

struct redirect_stage {
    uint16_t n = 0;
    rte_mbuf* pkts[max_burst];
};

// Connection sync (fwd/sync_msg.h, docs/architecture.md "Connection sync"), fixed at start.
struct sync_params {
    bool send = false; // a sending role (master, both): connections emit records
    // IPVS' sync_threshold: a connection's n-th request packet is sent when n % period ==
    // threshold (period 0: n == threshold only), besides its creation and state changes.
    uint16_t threshold = 3;
    uint16_t period = 50;
    uint16_t rx_port = 0; // network order; 0: no receiving role, sync datagrams are not taken
    uint32_t group = 0;   // network order: the multicast group they arrive at
};

// Records staged by one burst (a new connection and its template per packet at most); flushed to
// the ring to the control lcore with the packets (worker_loop.h flush_stages).
constexpr uint16_t sync_stage_size = 2 * max_burst;
struct sync_stage {
    uint16_t n = 0;
    sync_msg recs[sync_stage_size];
};

struct worker_params {
    uint32_t id = 0;
    uint32_t conn_capacity = 65536;
    int socket = 0;
    std::vector<port_view> ports;
    const neigh_table* neigh = nullptr;
    uint32_t n_workers = 1;
    rte_mempool* pool = nullptr; // for packets the worker creates (ICMP errors, fragments)
    sync_params sync;
};

struct alignas(64) worker_ctx {
    explicit worker_ctx(const worker_params& p, uint64_t now_ms);

    uint32_t id;
    uint32_t n_workers;
    uint8_t n_ports;
    rte_mempool* pool;
    const snapshot* snap = nullptr; // fetched once per loop iteration
    const neigh_table* neigh;
    std::array<port_view, max_ports> ports{};
    uint16_t min_mtu = 0; // the smallest port MTU: packets up to it need no MTU check
    uint16_t next_ip_id;  // IP ID for headers we make fragmentable (fwd/mtu.h)

    conn_table conns;
    timer_wheel wheel;
    frag_table frags; // IPv4 reassembly (fwd/frag_table.h)

    std::array<tx_stage, max_ports> tx{};
    // To the control lcore: what a flood must not starve (ARP, VRRP, next-hop resolution
    // requests), and the policed rest (ICMP echo, traffic to our own addresses).
    tx_stage to_ctrl_prio{};
    tx_stage to_ctrl{};
    uint64_t now_ms = 0; // the clock of the burst being processed (process_burst's argument)
    token_bucket police_icmp_echo; // rates in snap->police_*
    token_bucket police_exception;
    token_bucket police_resolve; // fixed rate: resolution requests must not flood either
    std::array<redirect_stage, max_workers> redirect{}; // to the owner worker, by worker id

    worker_counters ctr;
    std::vector<traffic_counters> svc_ctr;    // by service stats_id
    std::vector<traffic_counters> dest_ctr;   // by dest stats_id
    std::vector<dest_conn_counts> dest_conns; // by dest stats_id
    // By service stats id: a service keeps its position when others are added or removed.
    std::vector<sched_cursor> cursors;

    // Connection sync (docs/architecture.md "Connection sync").
    sync_params sync;
    token_bucket police_sync; // received sync datagrams (xmit.h sync_police)
    sync_stage sync_out{};    // records for the control lcore (sync_out.h)
};

// Classify, look up or create connections, rewrite and stage a burst received on port index
// `in_port`. Packets of connections another worker owns are staged in `redirect`. `now_ms` is the
// worker's clock (injected by tests). Returns the number of packets staged for transmission.
// Worker lcore only.
uint16_t process_burst(worker_ctx& w, uint8_t in_port, rte_mbuf** pkts, uint16_t n,
                       uint64_t now_ms) noexcept;

// The same for packets another worker redirected here: each mbuf's `port` holds its port index,
// and ownership is not checked again.
uint16_t process_redirected(worker_ctx& w, rte_mbuf** pkts, uint16_t n, uint64_t now_ms) noexcept;

// Install or update the connections and templates of `n` received sync records (sync_msg.h): the
// service by virtual address, port and protocol, the real server by address and port, the
// remaining timeout; counted in worker_counters::sync_applied / sync_refused. No record is sent
// back. Worker lcore only (the control lcore routed them here with sync_owner).
void apply_sync(worker_ctx& w, const sync_msg* msgs, uint32_t n, uint64_t now_ms) noexcept;

// Expire idle connections whose time has come, at most `budget` wheel visits. Worker lcore only.
uint32_t expire_conns(worker_ctx& w, uint64_t now_ms, uint32_t budget) noexcept;

// Drop (frag_timeout) fragments of datagrams not completed in time (frag_table.h). Worker lcore
// only; the burst path calls it too whenever a fragment arrives.
void expire_fragments(worker_ctx& w, uint64_t now_ms) noexcept;

} // namespace ulvs::dp
