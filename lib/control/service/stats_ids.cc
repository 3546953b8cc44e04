#include "ulvs/control/service/stats_ids.h"

#include "ulvs/dataplane/sched/load.h"

#include <arpa/inet.h>

namespace ulvs::ctl {

namespace {

stats_ids::service_key key_of(const config::virtual_server_cfg& vs) {
    return {htonl(vs.address.v4), htons(vs.port), static_cast<uint8_t>(vs.protocol)};
}

} // namespace

std::optional<uint32_t> stats_ids::allocate(kind k) {
    uint32_t id;
    if (!m_free.empty()) {
        id = m_free.back(); // the most recently released first
        m_free.pop_back();
    } else if (m_next < dp::max_stats_ids) {
        id = m_next++;
        m_rec.emplace_back();
    } else {
        return std::nullopt;
    }
    m_rec[id] = record{};
    m_rec[id].k = k;
    if (m_building)
        m_fresh.push_back(id);
    return id;
}

std::optional<uint32_t> stats_ids::service(const service_key& k) {
    if (auto it = m_services.find(k); it != m_services.end())
        return it->second;
    auto id = allocate(kind::service);
    if (id) {
        m_services.emplace(k, *id);
        m_rec[*id].skey = k;
    }
    return id;
}

std::optional<uint32_t> stats_ids::service(const config::virtual_server_cfg& vs) {
    if (!vs.match)
        return service(key_of(vs));
    if (auto it = m_match_services.find(vs.name); it != m_match_services.end())
        return it->second;
    auto id = allocate(kind::match_service);
    if (id) {
        m_match_services.emplace(vs.name, *id);
        m_rec[*id].name = vs.name;
    }
    return id;
}

std::optional<uint32_t> stats_ids::dest(const dest_key& k) {
    if (auto it = m_dests.find(k); it != m_dests.end())
        return it->second;
    const uint32_t svc = std::get<0>(k);
    if (svc >= m_rec.size() || m_rec[svc].k == kind::free || m_rec[svc].k == kind::dest)
        return std::nullopt; // only a live service's id names dests
    auto id = allocate(kind::dest);
    if (id) {
        m_dests.emplace(k, *id);
        m_rec[*id].dkey = k;
        m_rec[*id].svc = svc;
        ++m_rec[svc].dests;
    }
    return id;
}

std::optional<uint32_t> stats_ids::find_service(const config::virtual_server_cfg& vs) const {
    if (vs.match) {
        auto it = m_match_services.find(vs.name);
        return it == m_match_services.end() ? std::nullopt : std::optional(it->second);
    }
    auto it = m_services.find(key_of(vs));
    return it == m_services.end() ? std::nullopt : std::optional(it->second);
}

std::optional<uint32_t> stats_ids::find_dest(const dest_key& k) const {
    auto it = m_dests.find(k);
    return it == m_dests.end() ? std::nullopt : std::optional(it->second);
}

void stats_ids::begin_build() {
    m_building = true;
    m_fresh.clear();
}

void stats_ids::end_build(bool ok) {
    m_building = false;
    if (!ok) // dests first: a fresh service is only released once its dests are
        for (auto it = m_fresh.rbegin(); it != m_fresh.rend(); ++it)
            release(*it);
    m_fresh.clear();
}

void stats_ids::note_slot(uint32_t id, uint32_t slot) {
    record& r = m_rec[id];
    if (m_neigh == nullptr || std::find(r.slots.begin(), r.slots.end(), slot) != r.slots.end())
        return;
    r.slots.push_back(slot);
    m_neigh->hold(slot);
}

void stats_ids::release(uint32_t id) {
    record& r = m_rec[id];
    switch (r.k) {
    case kind::free:
        return;
    case kind::service:
        m_services.erase(r.skey);
        break;
    case kind::match_service:
        m_match_services.erase(r.name);
        break;
    case kind::dest:
        m_dests.erase(r.dkey);
        --m_rec[r.svc].dests;
        if (m_neigh != nullptr)
            for (uint32_t s : r.slots)
                m_neigh->unhold(s);
        if (m_loads != nullptr)
            for (uint32_t w = 0; w < m_loads->workers(); ++w) {
                m_loads->others(w)[id].active.store(0, std::memory_order_relaxed);
                m_loads->others(w)[id].inactive.store(0, std::memory_order_relaxed);
            }
        break;
    }
    r = record{};
    m_free.push_back(id);
}

void stats_ids::committed(const config::config& cfg) {
    for (record& r : m_rec)
        r.in_config = false;
    for (const config::virtual_server_cfg& vs : cfg.virtual_servers) {
        auto sid = find_service(vs);
        if (!sid)
            continue; // not built with these ids (cannot happen for a committed config)
        m_rec[*sid].in_config = true;
        for (const config::real_server_cfg& rs : vs.real_servers)
            if (auto did = find_dest({*sid, htonl(rs.address.v4), htons(rs.port)}))
                m_rec[*did].in_config = true;
    }
    collect();
}

void stats_ids::published(const dp::snapshot& s) {
    for (record& r : m_rec)
        r.published = false;
    auto mark = [&](uint32_t id) {
        if (id < m_rec.size() && m_rec[id].k != kind::free) {
            m_rec[id].published = m_rec[id].ever_published = true;
            ++m_rec[id].epoch; // answers to earlier questions about it are void
        }
    };
    for (const dp::service& svc : s.services_v)
        mark(svc.stats_id);
    for (const dp::dest& d : s.dests)
        mark(d.stats_id);
    collect();
}

void stats_ids::collect() {
    m_waiting.clear();
    for (uint32_t id = 0; id < m_rec.size(); ++id) {
        const record& r = m_rec[id];
        if (r.k != kind::dest || r.in_config || r.published)
            continue;
        if (r.ever_published)
            m_waiting.push_back(id);
        else
            release(id);
    }
    for (uint32_t id = 0; id < m_rec.size(); ++id) {
        const record& r = m_rec[id];
        if ((r.k == kind::service || r.k == kind::match_service) && !r.in_config && !r.published &&
            r.dests == 0)
            release(id);
    }
}

std::vector<uint32_t> stats_ids::to_check(size_t max) {
    std::vector<uint32_t> out;
    // Round robin over the waiting ids, so busy ones cannot starve the rest when there are more
    // than `max`.
    const size_t n = std::min(max, m_waiting.size());
    for (size_t i = 0; i < n; ++i) {
        const uint32_t id = m_waiting[(m_ask_from + i) % m_waiting.size()];
        m_rec[id].asked = m_rec[id].epoch;
        out.push_back(id);
    }
    m_ask_from += n;
    return out;
}

void stats_ids::release_unused(std::span<const uint32_t> ids) {
    for (uint32_t id : ids) {
        const record& r = m_rec[id];
        // Still out of the config and of the workers' snapshot, and not published since the
        // question was asked: a server re-added meanwhile keeps its id (and its connections
        // their link).
        if (r.k == kind::dest && !r.in_config && !r.published && r.asked == r.epoch)
            release(id);
    }
    collect();
}

} // namespace ulvs::ctl
