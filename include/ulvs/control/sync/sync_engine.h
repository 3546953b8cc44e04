// The connection sync daemon on the control lcore (issue 18, docs/architecture.md "Connection
// sync"): IPVS' master and backup sync daemons in one object, with the workers on the other side
// of per-worker rings of dp::sync_msg (fwd/sync_msg.h).
//
// Sending (role master or both): poll() drains every worker's ring, turns each record into an
// IPVS sync v1 record (ulvs/sync/wire.h) and packs them into a datagram of at most the maxlen;
// a datagram leaves when the next record does not fit or when its first record has waited
// flush_ms (IPVS waits up to 1 s; less here, as a record still queued is lost with the node). It
// leaves as one UDP/IPv4 frame on the sync interface, by the control lcore's transmit (as the
// VRRP adverts): to the group (its multicast MAC, TTL `sync.ttl`) or to the unicast peer (its MAC
// from the neighbour manager, TTL 64; a peer not resolved yet loses the datagram, counted).
//
// Receiving (role backup or both): the workers hand UDP to the sync port at the group or at our
// address to the control lcore on their policed exception ring (fwd/xmit.h ctrl_class::sync), and
// on_frame() (the control loop's on_packet) copies the payload into a bounded queue (a full queue
// refuses and counts). poll() decodes them (syncid filter, malformed datagrams refused and
// counted by reason), turns each record into a dp::sync_msg and hands it to the worker that owns
// its flow (dp::sync_owner: worker.h owner_of, as the burst path) over that worker's ring.
//
// Control lcore only. The rings are created and freed here; destroy the engine after the
// workers stopped.
#pragma once

#include "ulvs/config/sync_cfg.h"
#include "ulvs/control/deadline.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/sync_msg.h"
#include "ulvs/sync/wire.h"

#include <array>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct rte_ring;

namespace ulvs::ctl {

// One named counter for /metrics (ulvs_<name>_total) and `ulvsadm status`.
struct sync_counter {
    std::string name;
    std::string help;
    uint64_t value;
};

class sync_engine {
public:
    // How long a record may wait for its datagram to fill.
    static constexpr uint64_t flush_ms = 100;
    // Received datagrams waiting for poll(); more are refused (datagrams_queue_full).
    static constexpr size_t rx_queue_slots = 64;
    static constexpr size_t rx_slot_bytes = 9216; // a jumbo frame's payload
    // Per poll(): at most this many records drained from each worker, datagrams decoded.
    static constexpr unsigned records_per_poll = 4096;
    static constexpr unsigned datagrams_per_poll = 32;

    struct io {
        // Transmit one whole frame (Ethernet header included) on the sync interface.
        std::function<void(std::span<const uint8_t> frame)> send;
        // The unicast peer's MAC (next hop), when known; asks the neighbour manager to resolve.
        std::function<std::optional<std::array<uint8_t, 6>>(uint32_t peer_host_order)> peer_mac;
    };

    struct params {
        config::sync_cfg cfg;
        uint8_t port = 0; // index of the sync interface
        std::array<uint8_t, 6> mac{};
        uint32_t src_ip = 0; // host order: our first address on that port
        uint16_t mtu = 1500;
        uint32_t n_workers = 1;
        // The snapshot that decides a received record's owner worker (the publisher's current).
        std::function<const dp::snapshot*()> snapshot;
    };

    struct counters {
        uint64_t records_sent = 0;
        uint64_t datagrams_sent = 0;
        uint64_t send_unresolved = 0; // datagrams not sent: the unicast peer's MAC unknown
        uint64_t datagrams_received = 0;
        uint64_t datagrams_queue_full = 0;
        uint64_t records_received = 0;
        uint64_t records_unusable = 0;   // fwmark templates, local/bypass forwarding
        uint64_t records_unroutable = 0; // no service here for it: no owner worker
        uint64_t records_ring_full = 0;  // the owner worker's ring was full
        uint64_t records_routed = 0;     // handed to their owner worker
    };

    sync_engine(params p, io o);
    ~sync_engine();
    sync_engine(const sync_engine&) = delete;
    sync_engine& operator=(const sync_engine&) = delete;

    // Create worker `id`'s rings (a sending role: its records out; a receiving role: records in)
    // and return them for dp::worker_runtime::sync_out / sync_in (null when the role has none).
    std::expected<std::pair<rte_ring*, rte_ring*>, std::string> connect_worker(uint32_t id);

    bool sends() const noexcept { return config::has_master(m_p.cfg.role); }
    bool receives() const noexcept { return config::has_backup(m_p.cfg.role); }

    // The control loop's exception hook: true when `f` is a sync datagram for us (consumed:
    // queued for poll(), or refused when the queue is full).
    bool on_frame(const uint8_t* f, size_t len, uint8_t port);

    // The best-effort task: send what the workers queued, flush an old datagram, decode and route
    // what was received. Returns the work done (records and datagrams).
    unsigned poll(uint64_t now_ms, const deadline& d);
    // Send the pending datagram now, if any (tests; the daemon's stop).
    void flush();

    const counters& stats() const noexcept { return m_c; }
    const sync::decode_counters& decode_stats() const noexcept { return m_dec; }
    // Everything above as named counters (sync_*).
    std::vector<sync_counter> named_counters() const;

    // The records of a dp::sync_msg on the wire, and back (nullopt: not for us). Pure.
    static sync::conn_record to_wire(const dp::sync_msg& m);
    static std::optional<dp::sync_msg> from_wire(const sync::conn_record& r);

private:
    void send_pending();
    void route(const dp::sync_msg& m);

    params m_p;
    io m_io;
    uint16_t m_maxlen;
    std::vector<uint8_t> m_frame; // Ethernet + IP + UDP + the message
    sync::message_builder m_msg;
    uint64_t m_first_ms = 0; // when the pending message got its first record
    uint16_t m_ip_id = 0;
    std::vector<rte_ring*> m_out;           // per worker: records from it
    std::vector<rte_ring*> m_in;            // per worker: records to it
    std::vector<std::vector<uint8_t>> m_rx; // the queue of received payloads
    std::vector<uint16_t> m_rx_len;
    size_t m_rx_head = 0, m_rx_n = 0;
    counters m_c;
    sync::decode_counters m_dec;
};

} // namespace ulvs::ctl
