// The way of a committed configuration to the workers: snapshot build, the wait for next hops,
// publication, and what becomes free once the workers moved on.
//
// A change (CLI op or reload) is first checked here (check(): the snapshot builds within the
// fixed limits of services, counter ids and neighbour slots), then committed by the manager, then
// published: a snapshot that sends new connections to a real server whose MAC is not resolved yet
// would drop their first packets (neigh_unresolved), so a committed change is published once every
// next hop it uses is resolved, or after publish_wait_ms at the latest; until then the workers
// keep the previous snapshot and the reply has already said "ok". What the workers see is the
// running config with the health overlay (control/health/checker.h).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/service/stats_ids.h"
#include "ulvs/dataplane/fwd/publisher.h"

#include <expected>
#include <string>

namespace ulvs::mgmt {

struct publication_deps {
    ctl::neigh_manager* neigh = nullptr;
    const dp::neigh_table* neigh_table = nullptr;
    ctl::stats_ids* ids = nullptr;
    dp::publisher* pub = nullptr;
    ctl::health::checker* health = nullptr; // null: every real server counts as up
};

class publication {
public:
    static constexpr uint64_t publish_wait_ms = 2000;

    explicit publication(publication_deps deps) : m_deps(deps) {}

    // Would `next` build? The only failures left after validation are fixed limits, and they must
    // refuse the change, not break the running one.
    std::expected<void, std::string> check(const config::config& next);
    // `running` was just committed: ids of removed servers no worker has seen go back, unchanged
    // servers keep their health state, and its snapshot is published as soon as it may be.
    void committed(const config::config& running, uint64_t now);
    // What the workers see changed without a commit (health, VRRP ownership).
    void republish(const config::config& running, uint64_t now);
    // A pending publication. Returns work done.
    unsigned poll(const config::config& running, uint64_t now);

    bool pending() const { return m_dirty; }
    // The running config as the workers see it: with the health overlay (checker.h).
    config::config effective(const config::config& running) const;

private:
    void try_publish(const config::config& running, uint64_t now);

    publication_deps m_deps;
    bool m_dirty = false; // committed but not published yet
    uint64_t m_dirty_since = 0;
    uint64_t m_next_try = 0;
};

} // namespace ulvs::mgmt
