#include "ulvs/mgmt/publication.h"

#include "ulvs/control/service/build_snapshot.h"

#include <spdlog/spdlog.h>

namespace ulvs::mgmt {

namespace {

constexpr uint64_t publish_retry_ms = 10;

} // namespace

std::expected<void, std::string> publication::check(const config::config& next) {
    auto snap = ctl::build_snapshot(next, *m_deps.neigh, *m_deps.ids);
    if (!snap)
        return std::unexpected(snap.error());
    return {};
}

config::config publication::effective(const config::config& running) const {
    return m_deps.health ? m_deps.health->effective(running) : running;
}

void publication::committed(const config::config& running, uint64_t now) {
    m_deps.ids->committed(running);
    if (m_deps.health)
        m_deps.health->sync(running, now);
    republish(running, now);
}

void publication::republish(const config::config& running, uint64_t now) {
    m_dirty = true;
    m_dirty_since = now;
    m_next_try = 0;
    try_publish(running, now);
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
    auto snap = ctl::build_snapshot(effective(running), *m_deps.neigh, *m_deps.ids);
    if (!snap) {
        spdlog::error("management: cannot build the snapshot of a committed change: {}",
                      snap.error());
        m_dirty = false;
        return;
    }
    bool resolved = true;
    for (const dp::dest& d : (*snap)->dests)
        resolved = resolved && m_deps.neigh_table->valid(d.neigh);
    if (!resolved && now - m_dirty_since < publish_wait_ms)
        return; // the control loop is ARPing for them; try again shortly
    if (!resolved)
        spdlog::warn("management: publishing with unresolved next hops after {} ms",
                     publish_wait_ms);
    // Blocks until every worker passed a quiescent state: microseconds (publisher.h).
    m_deps.pub->publish(std::move(*snap));
    m_dirty = false;
    // The grace period is over: what only the previous snapshot named is out of the workers' reach.
    m_deps.neigh->published(*m_deps.pub->current());
    m_deps.ids->published(*m_deps.pub->current());
}

} // namespace ulvs::mgmt
