#include "ulvs/control/neigh/neigh_manager.h"

#include <arpa/inet.h>

namespace ulvs::ctl {

std::optional<uint32_t> neigh_manager::slot_for(ip_addr ip, uint8_t port) {
    if (auto it = m_entries.find(ip.v4); it != m_entries.end())
        return it->second.slot;
    if (m_next_slot >= m_table.capacity())
        return std::nullopt;
    entry e{};
    e.slot = m_next_slot++;
    e.port = port;
    m_table.clear(e.slot);
    m_entries.emplace(ip.v4, e);
    m_table.index(htonl(ip.v4), e.slot); // workers find routed next hops by address
    return e.slot;
}

std::optional<uint32_t> neigh_manager::set_static(ip_addr ip, uint8_t port, const mac_addr& mac) {
    auto slot = slot_for(ip, port);
    if (!slot)
        return std::nullopt;
    entry& e = m_entries.at(ip.v4);
    e.is_static = true;
    e.resolved = true;
    e.port = port;
    e.mac = mac;
    m_table.set(e.slot, mac.b.data());
    return slot;
}

bool neigh_manager::learn(ip_addr ip, uint8_t port, const mac_addr& mac, uint64_t now_ms) {
    auto it = m_entries.find(ip.v4);
    if (it == m_entries.end() || it->second.is_static || it->second.port != port)
        return false;
    entry& e = it->second;
    const bool changed = !e.resolved || e.mac != mac;
    e.resolved = true;
    e.mac = mac;
    e.next_ms = now_ms + refresh_ms;
    if (changed)
        m_table.set(e.slot, mac.b.data());
    return changed;
}

std::vector<arp_request> neigh_manager::due(uint64_t now_ms) {
    std::vector<arp_request> out;
    for (auto& [ip, e] : m_entries) {
        if (e.is_static || now_ms < e.next_ms)
            continue;
        out.push_back({e.port, ip_addr::from_v4(ip)});
        // A resolved entry keeps its MAC while being refreshed: if the server stopped answering
        // ARP it is the health checks' job to take it out, not ours to blackhole it.
        e.next_ms = now_ms + (e.resolved ? refresh_ms : retry_ms);
    }
    return out;
}

std::optional<mac_addr> neigh_manager::mac_of(ip_addr ip) const {
    auto it = m_entries.find(ip.v4);
    if (it == m_entries.end() || !it->second.resolved)
        return std::nullopt;
    return it->second.mac;
}

} // namespace ulvs::ctl
