// How many mbufs a configuration can hold at one time, so that `dpdk.mbufs` can be checked at
// --check and at start (config validation) instead of running dry under load: an empty pool makes
// NIC RX rings stop refilling (silent loss), TUN fragmentation fail (frag_failed), ARP requests
// and VRRP adverts not go out.
//
// mbuf_consumers() lists every holder, each at its worst (all at once: the pool must not run out
// even then). Keep it complete: a new ring, queue, cache or table that keeps mbufs gets its line
// here, with its size constant shared with the code that creates it (defined below, used by
// dataplane/port, app/ulvsd and control_loop). Pure constants and arithmetic: no DPDK.
#pragma once

#include "ulvs/dataplane/fwd/worker.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::dp {

// Descriptors requested per RX and TX queue (port_open; a device may adjust them, never below
// what it can hold, so this is the amount the pool must cover).
constexpr uint16_t port_rx_desc = 1024;
constexpr uint16_t port_tx_desc = 1024;
// The pool's per-lcore cache (rte_pktmbuf_pool_create). A cache holds up to 1.5x its size
// before it flushes back to the pool (DPDK's flush threshold).
constexpr unsigned mbuf_cache_size = 256;
constexpr unsigned mbuf_cache_held = mbuf_cache_size * 3 / 2;
// The rings between lcores (worker -> worker, control -> worker 0's TX): rte_ring of this size
// holds size - 1 entries.
constexpr unsigned lcore_ring_size = 1024;
// Each worker's two rings to the control lcore (control_loop.cc connect_worker): the priority
// ring (ARP, VRRP, resolution), and the exception ring, which holds both policers' default
// bursts (config.h control_policing_cfg).
constexpr unsigned ctrl_prio_ring_size = 1024;
constexpr unsigned ctrl_exception_ring_size = 1024;
// The control lcore dequeues at most this many packets from a ring at once.
constexpr unsigned ctrl_ring_burst = 32;
// Packets the control lcore holds for next hops still resolving (control/neigh/unres_queue.h):
// per neighbour (Linux's unres_qlen) and in all.
constexpr unsigned neigh_hold_per_host = 3;
// 128: a few per host for the first packets of a burst of new clients, and a small line in the
// budget (a configuration that fitted the default dpdk.mbufs before still fits).
constexpr unsigned neigh_hold_total = 128;
// A staged packet may be a fragment: a header mbuf chained to the shared payload's.
constexpr unsigned mbufs_per_staged_packet = 2;

// A driver that keeps an mbuf in every RX descriptor (refilled as packets arrive) and keeps
// transmitted mbufs until their TX descriptor completes: NIC PMDs, af_xdp (its fill ring), tap
// (its iovecs). The copying vdevs (pcap, null, af_packet) allocate per received burst and free
// on transmit, holding nothing between bursts. Unknown devices count as holding (safe side).
inline bool device_holds_descriptors(std::string_view device) {
    const std::string_view name = device.substr(0, device.find(','));
    for (std::string_view copying :
         {"net_pcap", "eth_pcap", "net_null", "eth_null", "net_af_packet", "eth_af_packet"})
        if (name.starts_with(copying))
            return false;
    return true;
}

struct mbuf_consumer {
    std::string what; // "RX descriptors"
    uint64_t count;   // mbufs
    std::string how;  // "2 ports x 1 queue x 1024"
};

// Every holder of mbufs for `workers` worker lcores (plus the control lcore) and the ports whose
// devices are `devices`. The minimum pool is the sum.
inline std::vector<mbuf_consumer> mbuf_consumers(uint32_t workers,
                                                 std::span<const std::string> devices) {
    const uint64_t w = workers, lcores = w + 1, ring = lcore_ring_size - 1;
    uint64_t holding = 0;
    for (const std::string& d : devices)
        holding += device_holds_descriptors(d) ? 1 : 0;
    const auto n = [](uint64_t v) { return std::to_string(v); };
    std::vector<mbuf_consumer> out;
    // Ports (dataplane/port/port.cc): one RX queue per worker; one TX queue per worker and one
    // for the control lcore (when the device has it; assumed, it is not known before start).
    out.push_back(
        {"RX descriptors", holding * w * port_rx_desc,
         n(holding) + " ports holding descriptors x " + n(w) + " queues x " + n(port_rx_desc)});
    out.push_back({"TX descriptors", holding * lcores * port_tx_desc,
                   n(holding) + " ports holding descriptors x " + n(lcores) + " queues x " +
                       n(port_tx_desc)});
    // The pool's per-lcore caches (app/ulvsd/daemon.cc).
    out.push_back({"mempool caches", lcores * mbuf_cache_held,
                   n(lcores) + " lcores x " + n(mbuf_cache_held)});
    // Rings (app/ulvsd/daemon.cc, control_loop.cc): each worker's priority and exception rings
    // to the control lcore, one ring per ordered pair of workers (redirects to the owner), the
    // control lcore's TX through worker 0 (a port without a TX queue for it; assumed).
    const uint64_t to_ctrl = (ctrl_prio_ring_size - 1) + (ctrl_exception_ring_size - 1);
    out.push_back({"worker -> control rings", w * to_ctrl,
                   n(w) + " x (" + n(ctrl_prio_ring_size - 1) + " + " +
                       n(ctrl_exception_ring_size - 1) + ")"});
    out.push_back(
        {"worker -> worker rings", w * (w - 1) * ring, n(w) + " x " + n(w - 1) + " x " + n(ring)});
    out.push_back({"control TX ring", ring, "1 x " + n(ring)});
    // In flight inside a worker's loop iteration (dataplane/fwd/worker.h): a received burst, a
    // TX stage per port and two to the control lcore (fragments and ICMP errors included), a
    // redirect stage per worker.
    const uint64_t stages = uint64_t{max_burst} +
                            (devices.size() + 2) * tx_stage_size * mbufs_per_staged_packet +
                            w * max_burst;
    out.push_back({"worker bursts and stages", w * stages,
                   n(w) + " x (" + n(max_burst) + " received + " + n(devices.size() + 2) + " x " +
                       n(tx_stage_size) + " x " + n(mbufs_per_staged_packet) + " staged + " + n(w) +
                       " x " + n(max_burst) + " redirected)"});
    // Each worker's IPv4 reassembly table (dataplane/fwd/frag_table.h): datagrams waiting for
    // their last fragment hold all but one of theirs. Datagrams leaving a worker count as staged.
    const uint64_t held = uint64_t{frag_table::max_datagrams} * (frag_table::max_pieces - 1);
    out.push_back({"reassembly tables", w * held,
                   n(w) + " x " + n(frag_table::max_datagrams) + " datagrams x " +
                       n(frag_table::max_pieces - 1) + " fragments"});
    // The control lcore (control_loop.cc): one burst dequeued from a ring.
    out.push_back({"control lcore burst", ctrl_ring_burst, n(ctrl_ring_burst)});
    out.push_back(
        {"packets held for unresolved neighbours", neigh_hold_total, n(neigh_hold_total)});
    return out;
}

inline uint64_t mbufs_needed(std::span<const mbuf_consumer> c) {
    uint64_t sum = 0;
    for (const mbuf_consumer& x : c)
        sum += x.count;
    return sum;
}

} // namespace ulvs::dp
