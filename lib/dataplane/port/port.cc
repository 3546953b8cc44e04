#include "ulvs/dataplane/port/port.h"

#include "ulvs/dataplane/mbuf_budget.h"
#include "ulvs/dataplane/port/rss.h"

#include <rte_ethdev.h>

#include <cctype>
#include <cstring>
#include <vector>

namespace ulvs::dp {

namespace {

// The pool must cover every descriptor: the sizes live with the mbuf budget (mbuf_budget.h).
constexpr uint16_t rx_desc = port_rx_desc;
constexpr uint16_t tx_desc = port_tx_desc;

std::string err(const port_request& r, std::string_view what, int rc) {
    return "port " + r.name + " (" + r.device + "): " + std::string(what) + ": " +
           std::strerror(rc < 0 ? -rc : rc);
}

// The key and hash fields again (drivers that ignore them at configure take them here), then
// the RETA: entry j -> reta_queue(j, W), so RETA[hash mod size] is owner_of's queue. Read back
// where the driver can: a device that took something else does not steer. Returns why not, or "".
std::string program_steering(uint16_t pid, const rte_eth_dev_info& dev, const port_request& req,
                             std::array<uint8_t, rss_key.size()>& key) {
    rte_eth_rss_conf rc{key.data(), dev.hash_key_size, rss_hf_for(req.rss)};
    if (int rc_ = rte_eth_dev_rss_hash_update(pid, &rc); rc_ != 0)
        return "RSS hash update: " + std::string(std::strerror(-rc_));
    std::vector<rte_eth_rss_reta_entry64> reta(dev.reta_size / RTE_ETH_RETA_GROUP_SIZE);
    for (uint32_t j = 0; j < dev.reta_size; ++j) {
        auto& g = reta[j / RTE_ETH_RETA_GROUP_SIZE];
        g.mask = ~uint64_t{0};
        g.reta[j % RTE_ETH_RETA_GROUP_SIZE] = reta_queue(j, req.n_workers);
    }
    if (int rc_ = rte_eth_dev_rss_reta_update(pid, reta.data(), dev.reta_size); rc_ != 0)
        return "RSS RETA update: " + std::string(std::strerror(-rc_));
    std::vector<rte_eth_rss_reta_entry64> back(reta.size());
    for (auto& g : back)
        g.mask = ~uint64_t{0};
    if (rte_eth_dev_rss_reta_query(pid, back.data(), dev.reta_size) == 0)
        for (uint32_t j = 0; j < dev.reta_size; ++j)
            if (back[j / RTE_ETH_RETA_GROUP_SIZE].reta[j % RTE_ETH_RETA_GROUP_SIZE] !=
                reta_queue(j, req.n_workers))
                return "RSS RETA read back differs at entry " + std::to_string(j);
    std::array<uint8_t, rss_key.size()> kb{};
    rte_eth_rss_conf got{kb.data(), dev.hash_key_size, 0};
    if (rte_eth_dev_rss_hash_conf_get(pid, &got) == 0) {
        if ((got.rss_hf & rss_hf_for(req.rss)) != rss_hf_for(req.rss))
            return "RSS hash fields read back differ";
        if (std::memcmp(kb.data(), key.data(), dev.hash_key_size) != 0)
            return "RSS key read back differs";
    }
    return {};
}

} // namespace

std::string_view device_name(std::string_view device) {
    return device.substr(0, device.find(','));
}

bool is_pci_address(std::string_view d) {
    // [[[[domain]:]bus]:devid].function with hex digits: "0000:3b:00.1" or "3b:00.1"
    auto dot = d.rfind('.');
    if (dot == std::string_view::npos || d.find(',') != std::string_view::npos)
        return false;
    int colons = 0;
    for (char c : d.substr(0, dot)) {
        if (c == ':')
            ++colons;
        else if (!std::isxdigit(static_cast<unsigned char>(c)))
            return false;
    }
    return colons >= 1 && colons <= 2;
}

std::expected<port_info, std::string> port_open(const port_request& req) {
    port_info info;
    const std::string name(device_name(req.device));
    if (rte_eth_dev_get_port_by_name(name.c_str(), &info.dpdk_port) != 0)
        return std::unexpected("port " + req.name + ": no DPDK device named \"" + name +
                               "\" (check the device string and EAL arguments)");
    const uint16_t pid = info.dpdk_port;

    rte_eth_dev_info dev{};
    if (int rc = rte_eth_dev_info_get(pid, &dev); rc != 0)
        return std::unexpected(err(req, "device info", rc));
    info.driver = dev.driver_name != nullptr ? dev.driver_name : "";
    // These PMDs copy frames from a packet socket (pcap: on a live interface), where a local
    // sender's CHECKSUM_PARTIAL segments appear unfinished; the PMDs drop the kernel's
    // TP_STATUS_CSUMNOTREADY, so the worker recognises them by value (pkt/l4_csum.h).
    info.partial_csum = info.driver == "net_af_packet" || info.driver == "net_pcap";
    if (dev.max_rx_queues < req.n_workers || dev.max_tx_queues < req.n_workers)
        return std::unexpected(
            "port " + req.name + ": device has " + std::to_string(dev.max_rx_queues) + " RX / " +
            std::to_string(dev.max_tx_queues) + " TX queues, " + std::to_string(req.n_workers) +
            " workers need one each (vdevs: e.g. qpairs= for af_packet)");
    // The control lcore gets its own TX queue when the device has one more; otherwise its few
    // packets (ARP, ICMP replies) are handed to worker 0, which owns TX queue 0.
    info.ctrl_tx_queue = dev.max_tx_queues > req.n_workers;
    info.n_tx_queues = static_cast<uint16_t>(req.n_workers + (info.ctrl_tx_queue ? 1 : 0));

    rte_eth_conf conf{};
    // RSS delivers each packet to the worker owning its connection (port/rss.h): the same key and
    // RETA on every port, one field hashed: the source address where clients' requests arrive,
    // the destination where NAT replies do. That needs a device that hashes IPv4 with field
    // selection (RTE_ETH_RSS_L3_SRC_ONLY / DST_ONLY in flow_type_rss_offloads), a key of up to 52
    // bytes and a RETA of a multiple of 64 entries, and a port of one side (not one-arm NAT).
    // Otherwise, with several workers, RSS spreads flows (RTE_ETH_RSS_IP | TCP | UDP, as far as
    // the device offers them) and packets on another worker's queue take the redirect ring to
    // their owner: correct and counted (`redirected`), not free. port_info::rss_steers says which.
    // RTE_ETH_RSS_IPV4 alone, not the TCP/UDP flow types: with those, drivers hash the L4 ports
    // as well, and a reply's ports differ from its request's. This assumes the device hashes
    // TCP/UDP packets by their IPv4 header under RTE_ETH_RSS_IPV4 (not verified on hardware
    // here); one that does not spreads them by another rule or not at all, and the ring and
    // `redirected` show it.
    const uint64_t steer_hf = rss_hf_for(req.rss);
    const bool can_steer = req.n_workers > 1 && steer_hf != 0 &&
                           (dev.flow_type_rss_offloads & steer_hf) == steer_hf &&
                           dev.hash_key_size >= 8 && dev.hash_key_size <= rss_key.size() &&
                           dev.reta_size >= owner_reta_size && dev.reta_size % owner_reta_size == 0;
    const uint64_t rss_want = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
    std::array<uint8_t, rss_key.size()> key = rss_key; // rss_conf takes a non-const pointer
    if (can_steer) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf = {key.data(), dev.hash_key_size, steer_hf};
        info.rss = true;
    } else if (req.n_workers > 1 && (dev.flow_type_rss_offloads & rss_want) != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = dev.flow_type_rss_offloads & rss_want;
        info.rss = true;
    }
    if (req.n_workers > 1 && !can_steer)
        info.rss_note = req.rss == rss_side::none
                            ? "port receives both clients and NAT replies (one-arm)"
                            : "device has no RSS with IPv4 field selection, or an unusable "
                              "key or RETA size";
    if (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
        info.rx_ip_csum = true;
    }
    // Fragments (rte_ipv4_fragment_packet) and reassembled datagrams are chained mbufs. Devices
    // that can send chains are asked to; the others get each frame copied into one mbuf by the
    // worker (port_view::multi_seg).
    if (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
        info.tx_multi_seg = true;
    }
    if (int rc = rte_eth_dev_configure(pid, req.n_workers, info.n_tx_queues, &conf); rc != 0)
        return std::unexpected(err(req, "configure", rc));

    uint16_t nrx = rx_desc, ntx = tx_desc;
    rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
    const int socket = rte_eth_dev_socket_id(pid) < 0 ? 0 : rte_eth_dev_socket_id(pid);
    for (uint16_t q = 0; q < req.n_workers; ++q)
        if (int rc = rte_eth_rx_queue_setup(pid, q, nrx, socket, nullptr, req.pool); rc != 0)
            return std::unexpected(err(req, "RX queue setup", rc));
    for (uint16_t q = 0; q < info.n_tx_queues; ++q)
        if (int rc = rte_eth_tx_queue_setup(pid, q, ntx, socket, nullptr); rc != 0)
            return std::unexpected(err(req, "TX queue setup", rc));

    info.mtu_set = rte_eth_dev_set_mtu(pid, req.mtu) == 0;
    if (int rc = rte_eth_dev_start(pid); rc != 0)
        return std::unexpected(err(req, "start", rc));
    if (can_steer) {
        if (std::string why = program_steering(pid, dev, req, key); why.empty())
            info.rss_steers = true;
        else
            info.rss_note = why;
    }
    rte_ether_addr mac;
    rte_eth_macaddr_get(pid, &mac);
    std::memcpy(info.mac.data(), mac.addr_bytes, 6);
    return info;
}

void port_close(uint16_t dpdk_port) {
    rte_eth_dev_stop(dpdk_port);
    rte_eth_dev_close(dpdk_port);
}

} // namespace ulvs::dp
