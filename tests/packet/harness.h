// A worker wired exactly as ulvsd wires it (config file -> snapshot builder, static neighbours,
// ARP/ICMP responder), minus the NICs: tests feed frames in and read the frames that would leave
// each port. Needs the EAL (init_eal) for mbufs and the connection table's memory.
#pragma once

#include "pcap_file.h"
#include "ulvs/config/config.h"
#include "ulvs/control/exception/responder.h"
#include "ulvs/control/neigh/unres_queue.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/dataplane/fwd/worker.h"

#include <memory>
#include <string>
#include <vector>

namespace ulvs::test {

// EAL without hugepages or devices, with `mem_mb` of memory (the benchmarks' 10M-connection tables
// need gigabytes), and an mbuf pool. `lcores` is EAL's --lcores list (the benchmark's two
// workers: "0@1,1@0"). False on failure.
bool init_eal(const char* prog, unsigned mem_mb = 256, const std::string& lcores = "0");

// The mbuf pool init_eal made (tests check that every mbuf came back).
rte_mempool* test_pool();

// The MAC net_pcap gives the n-th pcap vdev: e2e runs and burst runs must agree.
std::array<uint8_t, 6> pcap_port_mac(size_t i);

class rig {
public:
    explicit rig(const config::config& cfg, uint64_t now_ms = 1000, uint32_t n_workers = 1);

    bool ok() const;
    const std::string& error() const { return m_error; }
    dp::worker_ctx& worker(uint32_t i = 0) { return *m_workers[i]; }
    const dp::snapshot& snap() const { return *m_snap; }
    ctl::neigh_manager& neigh() { return m_neigh; }
    // Packets the control lcore holds for hosts still resolving (sent by a later burst's
    // collection once the host answered ARP).
    ctl::unres_queue& unres() { return m_unres; }
    // The ports' MACs and addresses, as the control lcore's responder gets them.
    const std::vector<ctl::port_addrs>& addrs() const { return m_addrs; }
    dp::neigh_table& table() { return m_table; }
    // The counter ids every snapshot is built with.
    ctl::stats_ids& ids() { return m_ids; }
    // What every snapshot is built from (a test attaches a VRRP engine to it).
    ctl::snapshot_inputs& inputs() { return m_inputs; }

    // Rebuild the snapshot from `cfg` (same counter ids, as a reload does) and hand it to every
    // worker; the previous snapshots stay alive for the rig's lifetime.
    bool reconfigure(const config::config& cfg);

    // One burst (at most dp::max_burst frames) received by worker 0 on port index `port` at
    // `now_ms`; returns what leaves each port (index), worker output first, then control replies.
    std::vector<std::vector<frame>> burst(uint8_t port, const std::vector<frame>& in,
                                          uint64_t now_ms) {
        return burst_on(0, port, in, now_ms);
    }
    // The same, received by worker `wi`; packets it redirects are delivered to their owners (as
    // the rings would) and what those send is included. `ol_flags` are the RX offload flags each
    // mbuf gets (e.g. RTE_MBUF_F_RX_IP_CKSUM_GOOD: the NIC checked the IP checksum).
    std::vector<std::vector<frame>> burst_on(uint32_t wi, uint8_t port,
                                             const std::vector<frame>& in, uint64_t now_ms,
                                             uint64_t ol_flags = 0);

private:
    void collect(dp::worker_ctx& w, std::vector<std::vector<frame>>& out, uint64_t now_ms);

    config::config m_cfg;
    dp::neigh_table m_table{256};
    ctl::neigh_manager m_neigh{m_table};
    ctl::unres_queue m_unres;
    ctl::stats_ids m_ids;
    ctl::snapshot_inputs m_inputs{m_neigh, m_ids};
    std::unique_ptr<dp::snapshot> m_snap;
    std::vector<std::unique_ptr<dp::snapshot>> m_old_snaps;
    std::vector<ctl::port_addrs> m_addrs;
    std::vector<std::unique_ptr<dp::worker_ctx>> m_workers;
    std::string m_error;
};

} // namespace ulvs::test
