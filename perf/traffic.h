// The forwarding benchmark's traffic: N concurrent TCP flows from clients in 198.18.0.0/15 (RFC
// 2544's benchmarking range) to one VIP, as a deterministic stream of 60-byte frames. Packet k of
// a stream is a pure function of k, so the real burst path and the baseline forwarder can be fed
// exactly the same packets in the same run, batch by batch, from reused mbufs. Flow i comes from
// client address 198.18.0.0 + i mod 2^17, port 1024 + i / 2^17: every flow of up to 128k has an
// address of its own (the owner of a connection, and the queue RSS picks, depend on the client's
// address alone: rss.h), and 10M flows share each address among 80 ports.
//
// Streams:
//  - handshake: burst 2m carries the SYNs of flows 32m..32m+31, burst 2m+1 their first ACKs (a
//    burst later, as an RTT would): N new connections, scheduler + insert, no drop.
//  - established: ACKs of flows chosen uniformly or by Zipf (s = 0.99) over the N flows; with
//    `replies`, odd bursts are the real servers' replies (NAT), received on the server port.
//  - mixed: established, except that packets 0 and 16 of each client burst take turns, in
//    cycles of six, through two connections' ends and their client ports' reuse: a FIN of flow A
//    (ESTABLISHED -> FIN_WAIT, DR's input-only states), a SYN of A (the port reused: with IPVS'
//    conn_reuse_mode 1 a FIN_WAIT connection goes on, SYN_RECV, same real server), A's ACK
//    (ESTABLISHED); an RST of flow B (-> CLOSE), a SYN of B (reused from CLOSE: the old
//    connection ends, the SYN is scheduled as a new one, conn_reuse), B's ACK (the new
//    connection ESTABLISHED). So 1 packet in 48 ends a connection, 1 in 48 reuses a port (half
//    of them as a new connection) and 1 in 48 completes that handshake; the table keeps N.
// Flow i's real server is rs[i % n_rs] (round robin over flows created in order, one worker), or
// rs_of[i] when given (several workers: each has its own round-robin cursor).
// With `snat` (issue 19) the same streams are SNAT connections the real server 198.51.100.11
// opens to flow i's end (198.18.0.0/15, port as a client's): requests come in on lan, replies
// (the remote end to 203.0.113.10:40000, a one-port range: every flow has its own remote end)
// on wan.
#pragma once

#include "pcap_file.h"

#include <cstdint>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace ulvs::perf {

enum class stream_kind : uint8_t { handshake, established, mixed };
enum class flow_dist : uint8_t { uniform, zipf };

struct traffic_params {
    uint32_t flows = 1 << 20;
    flow_dist dist = flow_dist::uniform;
    bool replies = false; // NAT: odd bursts come back from the real servers
    uint32_t n_rs = 4;
    const uint8_t* rs_of = nullptr; // flow -> real server index, when not flow % n_rs
    bool snat = false;              // SNAT connections from a real server (bench_snat_config)
};

class traffic {
public:
    static constexpr uint16_t burst = 32;
    // Addresses of the benchmark's configuration (perf_config.h).
    static constexpr const char* vip = "203.0.113.101";
    static constexpr uint16_t vport = 80;

    explicit traffic(const traffic_params& p);

    // Flow i's client address and port (network order).
    static uint32_t client_ip(uint32_t flow) noexcept;
    static uint16_t client_port(uint32_t flow) noexcept;

    // Number of packets in one pass of a handshake stream (two per flow).
    uint64_t handshake_len() const noexcept { return uint64_t{m_p.flows} * 2; }

    // True when packet k's burst arrives on the server-side port (a NAT reply burst).
    bool reply_burst(stream_kind s, uint64_t k) const noexcept {
        return s != stream_kind::handshake && m_p.replies && ((k / burst) & 1);
    }

    // The port index packet k's burst arrives on: 1 (lan) for NAT replies and SNAT requests.
    uint8_t port_of(stream_kind s, uint64_t k) const noexcept {
        return reply_burst(s, k) != m_p.snat ? 1 : 0;
    }

    // Write packets [k, k + n) of stream `s` into freshly allocated mbufs of `pool` (n <= burst,
    // one burst: k a multiple of burst). False when the pool is empty.
    bool fill(stream_kind s, uint64_t k, uint16_t n, rte_mempool* pool, rte_mbuf** out) const;

private:
    uint32_t flow_of(uint64_t k) const noexcept;
    // The flow and TCP flags of client packet k of the mixed stream.
    uint32_t mixed_flow(uint64_t k, uint8_t& flags) const noexcept;
    void write(rte_mbuf* m, const test::frame& tmpl, uint32_t flow, bool reply,
               uint8_t flags) const;

    traffic_params m_p;
    test::frame m_request;              // client -> VIP, ACK
    std::vector<test::frame> m_replies; // per real server: RS -> client, ACK
    double m_zipf_a = 0;                // N^(1-s) - 1, for the inverse CDF
};

} // namespace ulvs::perf
