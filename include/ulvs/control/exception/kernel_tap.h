// The kernel exception path (docs/architecture.md "Threads and what runs where"): a TAP interface
// per port that needs one (tap_plan.h), named "ulvs-<port>", with the port's MAC, MTU and addresses
// and the config's routes through it, so the kernel owns the appliance's addresses for the
// appliance's own health checks (ordinary non-blocking kernel sockets) and for what the user
// allows.
//
// Packets the workers hand to the control lcore reach the kernel only when the filter
// (exception_filter.h) passes them: replies to our health checks, what `exception_path.allow`
// lets in; and ARP replies (the kernel resolves its own next hops; the responder answers every
// ARP request for our addresses, so the kernel never sees one and never answers twice).
// Everything else is dropped and counted (`refused`). Every frame the kernel sends on a TAP is
// transmitted on that port (and seen by the filter first: that is how check flows open).
//
// Follows the running config: sync() is called with every committed config; it opens the TAPs
// of ports that gained a need (a TAP, once open, stays), and brings addresses and routes to the
// config's through rtnetlink (rtnl.h), never waiting for the kernel. The host view (tap_plan.h):
// the VIPs this node owns are addresses of the TAPs too; set_vrrp_masters() follows VRRP
// transitions. Packets to an owned VIP that no virtual server takes (the workers hand them over
// only when `exception_path.allow` has a rule: dp::addr_kind::host) meet the same filter as
// those to our own addresses; a VIP port a virtual server uses never reaches the kernel.
//
// The kernel never answers ARP on a TAP (it never gets a request) and never announces a VIP:
// each TAP has arp_announce 2 (its ARP requests name the port's own address, the best local
// address for the target, not a VIP; the VRRP engine's gratuitous ARPs announce VIPs), and
// promote_secondaries 1 (a VIP that leaves never takes the port's addresses with it).
//
// Everything is non-blocking: the TAP fds and the netlink socket are O_NONBLOCK; a full kernel
// queue or an empty mbuf pool drops the frame and counts it (TCP retransmits, ARP retries).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/exception/exception_filter.h"
#include "ulvs/control/exception/rtnl.h"
#include "ulvs/control/exception/tap_plan.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <array>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace ulvs::ctl {

struct kernel_tap_counters {
    uint64_t to_kernel = 0, from_kernel = 0;
    uint64_t check_replies = 0;       // of to_kernel: replies to our health checks
    uint64_t allowed = 0;             // of to_kernel: let in by exception_path.allow
    uint64_t refused = 0;             // offered to the kernel, not for it: dropped
    uint64_t to_kernel_dropped = 0;   // the TAP's queue was full, or the port has no TAP
    uint64_t from_kernel_dropped = 0; // no mbuf, or a frame larger than one mbuf
};

class kernel_taps {
public:
    ~kernel_taps();
    kernel_taps(const kernel_taps&) = delete;
    kernel_taps& operator=(const kernel_taps&) = delete;

    // For ports with these MACs (by port index). Opens the netlink socket, no TAP yet.
    static std::expected<std::unique_ptr<kernel_taps>, std::string>
    create(std::vector<std::array<uint8_t, 6>> macs);
    // Tests: `fds[i]` (-1: none) stands for port i's TAP (a socketpair end); no netlink.
    static std::unique_ptr<kernel_taps> over_fds(std::vector<int> fds);

    // A config was committed (or the first one): TAPs, addresses, routes and the filter as it
    // says. Never waits; a TAP that cannot be opened is logged and tried again at the next sync.
    void sync(const config::config& cfg);

    // The VRRP instances that are MASTER here (by name): their virtual addresses join their
    // port's TAP, the others' leave it. Queues the netlink requests (sent by poll(), in the same
    // control-loop pass): a VRRP transition never waits for the kernel.
    void set_vrrp_masters(std::vector<std::string> masters);
    // What the TAP of port index `port` holds now (asked for): the host view's addresses.
    std::vector<ip_prefix> addresses(size_t port) const {
        return port < m_taps.size() ? m_taps[port].addresses : std::vector<ip_prefix>{};
    }

    // A packet the responder did not answer, received on port `in_port`: copied to that port's
    // TAP when the filter passes it (see above). Returns true when it was.
    bool to_kernel(const dp::snapshot& snap, const rte_mbuf* m, uint8_t in_port);
    // Frames the kernel sent, each in a fresh mbuf from `pool`, given to `send(port, m)`, at most
    // `budget` per TAP. Returns the number moved.
    unsigned from_kernel(rte_mempool* pool, const std::function<void(uint8_t, rte_mbuf*)>& send,
                         unsigned budget = 32);
    // Once per control-loop pass: netlink acknowledgements, the filter's clock. Returns work.
    unsigned poll(uint64_t now_ms);

    const kernel_tap_counters& counters() const { return m_ctr; }
    const exception_filter& filter() const { return m_filter; }
    uint64_t netlink_failures() const { return m_rtnl ? m_rtnl->failures() : 0; }
    // The TAPs open now ("ulvs-lan"), in port order.
    std::vector<std::string> names() const;
    // Their descriptors, appended to `out`: the control loop sleeps on them (control_loop.h).
    void fds(std::vector<int>& out) const {
        for (const tap& t : m_taps)
            if (t.fd >= 0)
                out.push_back(t.fd);
    }

private:
    struct tap {
        int fd = -1;
        int ifindex = 0;
        std::string name;
        uint16_t mtu = 0;
        std::vector<ip_prefix> addresses; // installed (asked for), sorted
    };

    kernel_taps() = default;
    bool open_tap(size_t port, const config::config& cfg);

    std::vector<tap> m_taps; // by port index
    std::vector<std::array<uint8_t, 6>> m_macs;
    std::vector<tap_plan::route> m_routes; // installed (asked for), sorted
    tap_plan m_plan;                       // of the last config synced
    std::vector<std::string> m_masters;    // VRRP instances MASTER here, sorted
    std::unique_ptr<rtnl> m_rtnl;
    exception_filter m_filter;
    uint64_t m_now = 0;
    kernel_tap_counters m_ctr;
};

} // namespace ulvs::ctl
