// Next-hop resolution on the control lcore: which addresses the data path needs MACs for, ARP
// requests with retries until they answer, learning from ARP traffic, static entries from the
// config. Publishes MACs into the shared dp::neigh_table; workers only read that table and drop
// (counting neigh_unresolved) while an entry is unresolved — they never wait.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/dataplane/fwd/neigh_table.h"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ulvs::ctl {

struct arp_request {
    uint8_t port;
    ip_addr target;
};

class neigh_manager {
public:
    // Retry an unresolved next hop this often; re-resolve a learned one this often so a server
    // whose MAC changed is followed even if it sends no gratuitous ARP.
    static constexpr uint64_t retry_ms = 1000;
    static constexpr uint64_t refresh_ms = 60000;

    explicit neigh_manager(dp::neigh_table& table) : m_table(table) {}

    // The slot for next hop `ip` on port index `port`, allocated on first use and tracked from
    // then on. nullopt when the table is full.
    std::optional<uint32_t> slot_for(ip_addr ip, uint8_t port);

    // A configured static neighbour: resolved now, never ARPed, never overwritten by learning.
    std::optional<uint32_t> set_static(ip_addr ip, uint8_t port, const mac_addr& mac);

    // ARP seen from `ip` with `mac` on `port`: updates a tracked, non-static entry. Returns true
    // when it changed something.
    bool learn(ip_addr ip, uint8_t port, const mac_addr& mac, uint64_t now_ms);

    // ARP requests to send now (unresolved entries past their retry time, resolved ones due for
    // refresh); marks them as sent.
    std::vector<arp_request> due(uint64_t now_ms);

    std::optional<mac_addr> mac_of(ip_addr ip) const;
    size_t tracked() const { return m_entries.size(); }

private:
    struct entry {
        uint32_t slot;
        uint8_t port;
        bool is_static = false;
        bool resolved = false;
        mac_addr mac;
        uint64_t next_ms = 0; // next request
    };

    dp::neigh_table& m_table;
    std::unordered_map<uint32_t, entry> m_entries; // by IPv4 (host order)
    uint32_t m_next_slot = 0;
};

} // namespace ulvs::ctl
