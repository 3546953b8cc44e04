// Opening and closing the appliance's ports (any DPDK ethdev: PCI or vdev). Start-up and shutdown
// only, on the main lcore; errors are returned with their whole message for the caller to log.
#pragma once

#include "ulvs/dataplane/port/rss.h"

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

struct rte_mempool;

namespace ulvs::dp {

struct port_request {
    std::string name;   // config name, for messages
    std::string device; // "0000:3b:00.1" or "net_af_packet0,iface=lbwan"
    uint16_t mtu = 1500;
    uint16_t n_workers = 1; // one RX and one TX queue per worker
    rte_mempool* pool = nullptr;
    // Which connection end its received packets carry in the field RSS hashes (port/rss.h;
    // control/service/rss_sides.h decides): with field selection, RSS steers to the owner.
    rss_side rss = rss_side::none;
};

struct port_info {
    uint16_t dpdk_port = 0;
    std::array<uint8_t, 6> mac{};
    uint16_t n_tx_queues = 0;
    bool ctrl_tx_queue = false; // queue n_workers belongs to the control lcore
    bool rss = false;           // RSS spreads flows over the workers' RX queues
    bool rss_steers = false;    // ... and puts each on its owner's (port/rss.h): no ring crossed
    std::string rss_note;       // with several workers and !rss_steers: why not
    bool mtu_set = false;       // false when the device does not support setting the MTU
    bool rx_ip_csum = false;    // NIC verifies IPv4 header checksums
    bool tx_multi_seg = false;  // TX takes chained mbufs (RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
    bool partial_csum = false;  // a Linux socket feeds it: partial checksums possible (worker.h)
    std::string driver;
};

// The ethdev name of a device string: the part before the first ',' ("net_pcap0").
std::string_view device_name(std::string_view device);
// PCI addresses ("0000:3b:00.1" or "3b:00.1") are allow-listed with -a; everything else is a vdev.
bool is_pci_address(std::string_view device);

// Configure queues, RSS, MTU and offloads, then start the port. The device must have been
// created by EAL (--vdev / -a, see app/ulvsd).
std::expected<port_info, std::string> port_open(const port_request& req);

// Stop and close: flushes pcap output files, releases the device.
void port_close(uint16_t dpdk_port);

} // namespace ulvs::dp
