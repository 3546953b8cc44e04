#include "ulvs/mgmt/publication.h"

#include "ulvs/control/service/build_snapshot.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ulvs::mgmt {

namespace {

constexpr uint64_t publish_retry_ms = 10;

} // namespace

std::expected<void, std::string> publication::check(const config::config& next) {
    auto snap = ctl::build_snapshot(next, *m_deps.inputs);
    if (!snap)
        return std::unexpected(snap.error());
    return {};
}

config::config publication::effective(const config::config& running) const {
    return m_deps.health ? m_deps.health->effective(running) : running;
}

void publication::committed(const config::config& running, uint64_t now) {
    m_deps.inputs->ids.committed(running);
    if (m_deps.health)
        m_deps.health->sync(running, now);
    request(running, now, false);
}

void publication::republish(const config::config& running, uint64_t now) {
    request(running, now, true);
}

void publication::request(const config::config& running, uint64_t now, bool at_once) {
    if (!m_dirty) // the wait counts from the first change still pending
        m_dirty_since = now;
    m_dirty = true;
    m_now = m_now || at_once;
    m_next_try = 0;
    try_publish(running, now);
}

bool publication::waits_for_new_hop(const dp::snapshot& s) const {
    std::vector<uint32_t> unresolved; // neighbour slots
    for (const dp::dest& d : s.dests)
        if (!m_deps.neigh_table->valid(d.neigh))
            unresolved.push_back(d.neigh);
    std::sort(unresolved.begin(), unresolved.end());
    unresolved.erase(std::unique(unresolved.begin(), unresolved.end()), unresolved.end());
    // Those the workers' snapshot already sends to hold nothing: waiting would not spare them a
    // packet.
    auto known = [&](uint32_t slot) {
        auto it = std::lower_bound(unresolved.begin(), unresolved.end(), slot);
        if (it != unresolved.end() && *it == slot)
            unresolved.erase(it);
    };
    if (const dp::snapshot* cur = m_deps.pub->current()) {
        for (const dp::dest& d : cur->dests)
            known(d.neigh);
        if (cur->routes) // a routed real server's next hop is its gateway's
            for (const dp::next_hop& h : cur->routes->hops)
                if (h.gateway != 0)
                    known(h.neigh);
    }
    return !unresolved.empty();
}

unsigned publication::poll(const config::config& running, uint64_t now) {
    if (!m_dirty)
        return 0;
    try_publish(running, now);
    return 1;
}

void publication::try_publish(const config::config& running, uint64_t now) {
    if (!m_dirty || now < m_next_try)
        return;
    m_next_try = now + publish_retry_ms;
    auto snap = ctl::build_snapshot(effective(running), *m_deps.inputs);
    if (!snap) {
        spdlog::error("management: cannot build the snapshot of a committed change: {}",
                      snap.error());
        m_dirty = m_now = false;
        return;
    }
    if (!m_now && waits_for_new_hop(**snap)) {
        if (now - m_dirty_since < publish_wait_ms)
            return; // the control loop is ARPing for them; try again shortly
        spdlog::warn("management: publishing with unresolved next hops after {} ms",
                     publish_wait_ms);
    }
    // Blocks until every worker passed a quiescent state: microseconds (publisher.h).
    m_deps.pub->publish(std::move(*snap));
    m_dirty = m_now = false;
    // The grace period is over: what only the previous snapshot named is out of the workers' reach.
    m_deps.inputs->neigh.published(*m_deps.pub->current());
    m_deps.inputs->ids.published(*m_deps.pub->current());
}

} // namespace ulvs::mgmt
