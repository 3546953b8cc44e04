// The way of a committed configuration to the workers: snapshot build, the wait for next hops,
// publication, and what becomes free once the workers moved on.
//
// A change (CLI op or reload) is first checked here (check(): the snapshot builds within the
// fixed limits of services, counter ids and neighbour slots), then committed by the manager, then
// published. What the workers see is the running config with the health overlay
// (control/health/checker.h).
//
// When to publish (issue 13: a dead real server and flapping health once kept every snapshot,
// and so a VRRP takeover, from the workers):
// - A committed change that brings a next hop the workers never had, not resolved yet (a CLI add
//   of a new server), waits for it: new connections to it would drop their first packets
//   (neigh_unresolved). The wait ends when it resolves, or publish_wait_ms after the FIRST change
//   still pending; later changes do not restart it. A next hop the workers already use holds
//   nothing (a dead server stays unresolved for ever; the data path drops for it and asks for
//   its resolution, as it does between two publications).
// - A health or VRRP change (republish) is published at once, with whatever is pending.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/dataplane/fwd/publisher.h"

#include <expected>
#include <string>

namespace ulvs::mgmt {

struct publication_deps {
    ctl::snapshot_inputs* inputs = nullptr; // neighbours, stats ids, VRRP, caches
    const dp::neigh_table* neigh_table = nullptr;
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
    // What the workers see changed without a commit (health, VRRP ownership): published now.
    void republish(const config::config& running, uint64_t now);
    // A pending publication. Returns work done.
    unsigned poll(const config::config& running, uint64_t now);

    bool pending() const { return m_dirty; }
    // The running config as the workers see it: with the health overlay (checker.h).
    config::config effective(const config::config& running) const;

private:
    void request(const config::config& running, uint64_t now, bool at_once);
    void try_publish(const config::config& running, uint64_t now);
    // Does `s` send new connections to a next hop that is unresolved and that the workers'
    // snapshot does not use yet?
    bool waits_for_new_hop(const dp::snapshot& s) const;

    publication_deps m_deps;
    bool m_dirty = false;       // committed but not published yet
    bool m_now = false;         // publish without waiting for next hops (a state change)
    uint64_t m_dirty_since = 0; // the first change still pending
    uint64_t m_next_try = 0;
};

} // namespace ulvs::mgmt
