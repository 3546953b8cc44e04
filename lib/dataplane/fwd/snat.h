// Internal to lib/dataplane/fwd: the director as its real servers' gateway (issue 19, config
// `snat:` and `forwarding_rules:`; docs/architecture.md "A routed or SNAT packet's way").
//
// An SNAT connection is a NAT connection seen from the other side, so it lives in the same
// table, timer wheel and state machine (conn_flag::snat): its key is the outside host's packet
// as it arrives (remote -> SNAT address:port, the "client" side), its reply key the inside
// host's packet (inside:port -> remote), derived as a NAT reply key is (conn_table.h reply_key:
// dest_ip/dest_port hold the inside host's address and port). So inside -> remote packets take
// the burst path's `reply` way and remote -> SNAT address packets its `request` way, ICMP errors
// `icmp_reply` and `icmp_in` as for NAT. ICMP echo uses the identifier as the port on the
// inside (and translated) side and 0 on the remote side: inbound {remote, snat, 0, id'},
// outbound {inside, remote, id, 0}.
//
// Ownership: both ways of a connection are owned by snat_owner(remote address, remote port),
// which is what the burst path's owner rule gives both ways already (the remote end is the
// "client" end). An SNAT address:port is unique per (protocol, remote address, remote port), as
// Linux's NAT tuples are, so the worker that owns the remote end sees every connection that
// could collide and checks in its own table alone: no shared port pool, no lock.
#pragma once

#include "burst.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/parse.h"

namespace ulvs::dp::detail {

// The worker that owns the SNAT connections with this remote end (network order). Keep this the
// one place that says so: the steering of both ways (process_burst.cc owner_of_key) agrees.
// The owner is a function of the remote address alone (port/rss.h, issue 17): every remote port
// of that address is on the same worker, so the uniqueness check above still sees every
// connection that could collide.
inline uint32_t snat_owner(uint32_t remote_ip, uint16_t /*remote_port*/,
                           const owner_map& owners) noexcept {
    return owner_of(owners, remote_ip);
}

// ICMP echo's timeout (Linux conntrack's nf_ct_icmp_timeout).
constexpr uint32_t snat_icmp_ms = 30'000;

// The embedded packet of an ICMP error: its offset when it is TCP/UDP with ports, or (when
// `echo`) an ICMP echo request or reply with its identifier, else 0. `key` gets the connection's
// key as seen from the side that would have sent the embedded packet (its ends swapped), `proto`
// the embedded protocol.
uint16_t embedded_key(const uint8_t* f, const parsed_pkt& pp, bool echo, conn_key& key,
                      uint8_t& proto) noexcept;

// Classification of a packet to SNAT address (snapshot::snat_addrs gave rule `rule`): TCP/UDP
// to a port of the rule's range, an echo reply, or an ICMP error about such a packet becomes a
// `request`/`icmp_in` candidate with cd.snat set. False: not an SNAT packet (the burst path
// goes on as for any address of ours).
bool snat_inbound(const snapshot& s, uint32_t rule, const uint8_t* f, const parsed_pkt& pp,
                  bool icmp_error, candidate& cd, conn_key& key) noexcept;

// Classification of a packet not to us (no NAT reply: neither TCP, UDP nor an ICMP error with
// routing on): an echo request becomes a `reply` candidate (an SNAT connection, or routed by
// route_miss); anything else is routed by forwarding_rules or dropped here. True: a candidate.
bool routed_candidate(worker_ctx& w, const snapshot& s, const uint8_t* f, const parsed_pkt& pp,
                      candidate& cd, conn_key& key) noexcept;

// A `reply`/`icmp_reply` candidate no connection took, with routing on: a new SNAT connection
// (returned), or routed by forwarding_rules, redirected to the SNAT owner, or dropped (none).
uint32_t route_miss(worker_ctx& w, const snapshot& s, const candidate& cd, const conn_key& key,
                    uint64_t now_ms) noexcept;

// Translate and route a packet of SNAT connection `c`. False when it was dropped (counted).
bool snat_forward(worker_ctx& w, const conn& c, const candidate& cd) noexcept;

} // namespace ulvs::dp::detail
