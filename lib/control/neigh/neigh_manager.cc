#include "ulvs/control/neigh/neigh_manager.h"

#include <arpa/inet.h>

#include <algorithm>

namespace ulvs::ctl {

std::optional<uint32_t> neigh_manager::slot_for(ip_addr ip, uint8_t port, bool pin) {
    if (auto it = m_entries.find(ip.v4); it != m_entries.end()) {
        it->second.pinned |= pin;
        if (m_building)
            it->second.built = m_serial;
        return it->second.slot;
    }
    auto slot = take_slot();
    if (!slot)
        return std::nullopt;
    entry e{};
    e.slot = *slot;
    e.port = port;
    e.pinned = pin;
    if (m_building) {
        e.built = m_serial;
        m_created.push_back(ip.v4);
    }
    m_table.clear(e.slot);
    m_entries.emplace(ip.v4, e);
    m_table.index(htonl(ip.v4), e.slot); // workers find routed next hops by address
    return e.slot;
}

bool neigh_manager::held(const entry& e) const {
    return e.is_static || e.pinned || m_refs[e.slot] != 0 || m_published[e.slot] != 0 ||
           e.built >= m_kept || (m_building && e.built == m_serial);
}

std::optional<uint32_t> neigh_manager::take_slot() {
    if (m_free.empty() && m_next_slot < m_table.capacity())
        return m_next_slot++;
    if (m_free.empty() && reclaim() == 0)
        return std::nullopt;
    const uint32_t s = m_free.back();
    m_free.pop_back();
    return s;
}

size_t neigh_manager::reclaim(const std::vector<uint32_t>* only) {
    std::vector<uint32_t> gone;
    std::vector<std::pair<uint32_t, uint32_t>> keep;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        const bool candidate =
            only == nullptr || std::find(only->begin(), only->end(), it->first) != only->end();
        if (!candidate || held(it->second)) {
            keep.emplace_back(htonl(it->first), it->second.slot);
            ++it;
        } else {
            gone.push_back(it->second.slot);
            it = m_entries.erase(it);
        }
    }
    if (gone.empty())
        return 0;
    auto old_index = m_table.replace_index(keep);
    // After this, no worker probes the old index or uses a slot number it found there.
    if (m_synchronize)
        m_synchronize();
    old_index.reset();
    for (uint32_t s : gone) {
        m_table.clear(s);
        m_free.push_back(s);
    }
    return gone.size();
}

void neigh_manager::begin_build() {
    ++m_serial;
    m_building = true;
    m_created.clear();
}

void neigh_manager::end_build(bool kept) {
    m_building = false;
    if (kept) {
        m_kept = m_serial;
        return;
    }
    // A refused change: what it added goes back at once unless something else holds it (a
    // stats id, a static entry). No snapshot names these slots, but the host index may: they go
    // through reclaim's grace period.
    for (uint32_t ip : m_created)
        if (auto it = m_entries.find(ip); it != m_entries.end())
            it->second.built = 0;
    std::vector<uint32_t> created;
    created.swap(m_created);
    if (!created.empty())
        reclaim(&created);
}

void neigh_manager::published(const dp::snapshot& s) {
    std::fill(m_published.begin(), m_published.end(), 0);
    auto mark = [&](uint32_t slot) {
        if (slot < m_published.size())
            m_published[slot] = 1;
    };
    for (const dp::dest& d : s.dests)
        mark(d.neigh);
    if (s.routes)
        for (const dp::next_hop& h : s.routes->hops)
            if (h.gateway != 0)
                mark(h.neigh);
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
    ++m_changes;
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
    if (changed) {
        m_table.set(e.slot, mac.b.data());
        ++m_changes;
    }
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
