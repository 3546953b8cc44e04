// The kernel exception path (docs/architecture.md "Threads and what runs where"): one TAP interface
// per port, named "ulvs-<port>", with the port's MAC, MTU and addresses, so the kernel owns the
// appliance's addresses for everything the responder does not answer itself. Health checkers
// then use ordinary non-blocking kernel sockets, and TCP to the appliance (ssh, ...) works.
//
// Packets the workers hand to the control lcore go to the kernel when they are IPv4 to one of
// our addresses and not an ICMP echo request (the responder answers those), or ARP replies (the
// kernel resolves its own next hops; the responder still answers every ARP request for our
// addresses, so the kernel never sees one and never answers twice). Every frame the kernel
// sends on a TAP is transmitted on that port.
//
// Routes: each address gives the kernel its connected subnet; config routes are added via the
// TAP of the port that reaches their gateway, the default route with a high metric so a host's
// own default route (management network) keeps precedence.
//
// Everything is non-blocking: the TAP fds are O_NONBLOCK; a full kernel queue or an empty mbuf
// pool drops the frame and counts it (TCP retransmits, ARP retries).
//
// Thread safety: control lcore only. open() runs `ip` (iproute2) at start-up, before the loop.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/exception/responder.h"
#include "ulvs/dataplane/fwd/snapshot.h"

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
    uint64_t to_kernel_dropped = 0;   // the TAP's queue was full
    uint64_t from_kernel_dropped = 0; // no mbuf, or a frame larger than one mbuf
};

class kernel_taps {
public:
    ~kernel_taps();
    kernel_taps(const kernel_taps&) = delete;
    kernel_taps& operator=(const kernel_taps&) = delete;

    static std::expected<std::unique_ptr<kernel_taps>, std::string>
    open(const config::config& cfg, const std::vector<port_addrs>& ports);

    // A packet the responder did not answer, received on port `in_port`: copied to that port's
    // TAP when the kernel should see it (see above). Returns true when it was.
    bool to_kernel(const dp::snapshot& snap, const rte_mbuf* m, uint8_t in_port);
    // Frames the kernel sent, each in a fresh mbuf from `pool`, given to `send(port, m)`, at most
    // `budget` per TAP. Returns the number moved.
    unsigned from_kernel(rte_mempool* pool, const std::function<void(uint8_t, rte_mbuf*)>& send,
                         unsigned budget = 32);

    const kernel_tap_counters& counters() const { return m_ctr; }
    const std::vector<std::string>& names() const { return m_names; }

private:
    kernel_taps() = default;
    std::vector<int> m_fds; // by port index
    std::vector<std::string> m_names;
    kernel_tap_counters m_ctr;
};

} // namespace ulvs::ctl
