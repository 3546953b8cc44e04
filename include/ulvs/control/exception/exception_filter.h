// What the kernel behind the TAP interfaces (kernel_tap.h) may receive, issue 13: the kernel owns
// the appliance's addresses there, so whatever reaches it meets sshd, the metrics port and every
// other listener of the host, on interfaces no host firewall rule names. Only two kinds of IPv4
// packets for our addresses pass:
//
// - replies to the appliance's own health checks. Checks are tracked precisely as flows: a frame
//   the kernel sends on a TAP to a check's target (the real server's address and check port,
//   TCP or UDP as the check; any port and ICMP echo for a misc check, whose script makes its own
//   connections to the server) opens or refreshes the flow of its 5-tuple, and only packets with
//   the reversed 5-tuple pass, plus ICMP errors quoting a packet of such a flow (port
//   unreachable is how a UDP check fails). Why flows and not a reserved port range: the kernel
//   picks the probes' ephemeral ports from the host's ip_local_port_range, which any other
//   program shares; a reserved range would mean changing host sysctls and binding every probe,
//   and still let anyone reach whatever else listens in it. A flow is only opened by the
//   appliance itself and only accepts its one peer;
// - what the user allows in `exception_path.allow` (config/exception_cfg.h), and ICMP errors
//   about the replies of allowed traffic (path MTU discovery for an allowed ssh);
// - BGP and BFD from the routers of `announce.peers` (config/announce_cfg.h): TCP from or to
//   port 179 (the routing daemon connects to them, or they to it) and UDP to BFD's ports (3784
//   single hop, 3785 echo, 4784 multihop), from those addresses only.
//
// Everything else is refused and counted by the caller. ARP is the caller's (kernel_tap.cc).
//
// A flow passes packets until `flow_idle_ms` after its last one; that covers the longest probe
// (connect_timeout) plus its close. Memory: two generations of maps, the older dropped whole
// every flow_idle_ms (no per-flow timer, no scan), so a flow is forgotten within three periods.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/config/config.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ulvs::ctl {

// The filter's configuration, derived from a config (from_config): where checks connect, the
// user's rules by port index.
struct exception_policy {
    struct rule {
        int port = -1;     // port index; -1: every port
        uint8_t proto = 0; // IPPROTO_*; 0: any
        std::vector<uint16_t> ports;
        std::vector<ip_prefix> sources;
        bool operator==(const rule&) const = default;
    };
    std::vector<rule> allow;
    std::vector<uint64_t> checks; // target_key(): TCP/UDP checks' targets, sorted
    std::vector<uint32_t> misc;   // real servers (host order) with a misc check, sorted
    std::vector<uint32_t> peers;  // announce.peers (host order), sorted: BGP and BFD
    uint64_t flow_idle_ms = 10000;

    static exception_policy from_config(const config::config& c);
    static constexpr uint64_t target_key(uint8_t proto, uint32_t addr, uint16_t port) {
        return uint64_t{proto} << 48 | uint64_t{addr} << 16 | port;
    }
    bool operator==(const exception_policy&) const = default;
};

class exception_filter {
public:
    static constexpr size_t max_flows = size_t{1} << 18;

    enum class verdict : uint8_t { check_reply, allowed, refused };

    void set_policy(exception_policy p) { m_policy = std::move(p); }
    const exception_policy& policy() const { return m_policy; }

    // A frame the kernel sent on a TAP (to be transmitted): opens or refreshes a check's flow.
    void outbound(const uint8_t* frame, uint32_t len, uint64_t now_ms);
    // An IPv4 packet for one of our addresses (`pp` parsed from `frame`), received on port index
    // `in_port`: may the kernel have it?
    verdict inbound(const uint8_t* frame, const dp::parsed_pkt& pp, uint8_t in_port,
                    uint64_t now_ms);

    size_t flows() const { return m_cur.size() + m_old.size(); } // live and not yet forgotten
    uint64_t flows_full() const { return m_full; } // flows not opened: the table was full

private:
    struct flow_key {
        uint32_t local_ip = 0, remote_ip = 0; // host order
        uint16_t local_port = 0, remote_port = 0;
        uint8_t proto = 0;
        bool operator==(const flow_key&) const = default;
    };
    struct flow_hash {
        size_t operator()(const flow_key& k) const noexcept;
    };
    using flow_map = std::unordered_map<flow_key, uint64_t, flow_hash>; // -> last packet, ms

    bool is_target(uint8_t proto, uint32_t addr, uint16_t port) const;
    bool known(const flow_key& k, uint64_t now, bool refresh);
    bool allowed(uint8_t in_port, uint8_t proto, uint32_t src, uint16_t dport) const;
    bool routing_peer(uint8_t proto, uint32_t src, uint16_t sport, uint16_t dport) const;
    void rotate(uint64_t now);

    exception_policy m_policy;
    flow_map m_cur, m_old;
    uint64_t m_rotate_at = 0;
    uint64_t m_full = 0;
};

} // namespace ulvs::ctl
