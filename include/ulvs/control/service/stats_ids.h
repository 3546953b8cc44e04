// Counter identities (stats ids) of virtual and real servers, and when one may be reused.
//
// A stats id indexes the workers' per-server counters (worker_ctx::svc_ctr, dest_ctr,
// dest_conns) and the load board, and connections and persistence templates carry the ids of
// their virtual and real server (conn::svc_stats_id, dest_stats_id). A virtual server keeps its
// id as long as its VIP:port:protocol (or, for a `match:` service, its name) stays, a real server
// as long as its service and address:port stay, so counters survive reloads of unchanged servers
// (README "Managing it": changes keep unchanged servers' counters). The pool is fixed
// (dp::max_stats_ids) and recycled:
//
// A real server's id (dest id) returns to the pool once
//   1. the committed configuration no longer names it (committed()),
//   2. no published snapshot references it: published() is told the snapshot the workers use
//      after publisher::publish() returned, i.e. after the grace period that retired the previous
//      one, so no worker can pick this server for a new connection or re-point a template to it;
//      from then on its connections and templates only go away (each worker's count is
//      non-increasing), and
//   3. no connection or template in any worker names it: every worker's dest_conns[id]
//      active + inactive + persistent is 0. Those counts are plain fields a worker moves between
//      (active <-> inactive) in two stores, so another core can read a torn, falsely low sum.
//      The worker itself therefore answers (dp::id_check_channel, dataplane/fwd/id_check.h), at
//      the end of a loop iteration where its counts are exact. By 2, once 0 it stays 0.
//   Ids that were never in a published snapshot (a change removed again before it was
//   published) skip 3: no worker has seen them.
// A virtual server's id (service id) returns to the pool once 1 and 2 hold and no dest id naming
// it (dest_key's service id) is still allocated. That is enough: a connection is only created
// with a real server of its own service (dest key (S, ...)), a template is re-pointed only to a
// real server of the service that found it, and a match service's template key is its service
// id, under which only its own real servers are found. While an id is kept, re-adding the same
// server gets it back (its key still maps to it), so old connections and templates stay linked.
//
// Ids allocated by a build that fails (a refused change) go back at once (end_build(false)).
//
// A reused id starts from zero as users see it: the workers' counters are never written by
// another core; the management plane keeps a per-id baseline taken when a server (re)appears in
// the running configuration (mgmt::manager::track_new_servers) and subtracts it when reading.
// When an id is reused nothing writes its counters any more (3), so that baseline is exact. The
// load board's rows of the id (written by the control lcore only) are zeroed at release; a
// worker's OVERLOAD state of the id clears on its first evaluation, its counts being 0.
//
// Neighbour slots: a dest id holds every neighbour slot it was built with (its connections copy
// the slot) until it is released (neigh_manager::hold), see neigh_manager.h.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace ulvs::dp {
class load_board;
}

namespace ulvs::ctl {

namespace vrrp {
class engine;
}

class stats_ids {
public:
    using service_key = std::tuple<uint32_t, uint16_t, uint8_t>; // vip, port, proto
    using dest_key = std::tuple<uint32_t, uint32_t, uint16_t>;   // service id, rip, rport

    // The id of a server, allocated when new. nullopt: the pool is exhausted.
    std::optional<uint32_t> service(const service_key& k);
    // A virtual server's id: by VIP:port:protocol, or by name for a `match:` service (it has no
    // VIP:port; its name is its identity across reloads).
    std::optional<uint32_t> service(const config::virtual_server_cfg& vs);
    std::optional<uint32_t> dest(const dest_key& k);
    // The same without allocating.
    std::optional<uint32_t> find_service(const config::virtual_server_cfg& vs) const;
    std::optional<uint32_t> find_dest(const dest_key& k) const;

    // Service generations: a fresh one per built service restarts the workers' scheduler cursors.
    uint32_t next_gen() { return ++m_gen; }

    // A snapshot build (build_snapshot): ids allocated in between are taken back by
    // end_build(false). note_slot: dest `id` was built with neighbour slot `slot`.
    void begin_build();
    void end_build(bool ok);
    void note_slot(uint32_t id, uint32_t slot);

    // Recycling (see the top of this file). Neighbour holds go to `neigh` (null: none).
    void attach_neigh(neigh_manager* n) { m_neigh = n; }
    // The running configuration changed (committed, or at start).
    void committed(const config::config& cfg);
    // The snapshot the workers use, after publisher::publish() returned.
    void published(const dp::snapshot& s);
    // Dest ids that wait for condition 3: ask the workers about them (at most `max`).
    std::vector<uint32_t> to_check(size_t max);
    // The workers found no connection or template naming these (to_check's) ids, each worker
    // asked after to_check() returned them: release those still retired and not published since.
    void release_unused(std::span<const uint32_t> ids);
    // Allocated ids (tests, status).
    uint32_t in_use() const { return m_next - static_cast<uint32_t>(m_free.size()); }

    // The run's shared connection counts (dp::load_board), put into every snapshot built with
    // these ids, so that snapshots from reloads and live changes see it too. Null in single-rig
    // tests: workers then schedule on their own counts.
    void attach_loads(dp::load_board* board) { m_loads = board; }
    dp::load_board* loads() const { return m_loads; }

    // VRRP (vrrp/engine.h): which virtual addresses this appliance holds, overlaid on every
    // snapshot built with these ids (vrrp/overlay.h). Null: no VRRP, every VIP is ours.
    void attach_vrrp(const vrrp::engine* e) { m_vrrp = e; }
    const vrrp::engine* vrrp() const { return m_vrrp; }

private:
    enum class kind : uint8_t { free, service, match_service, dest };
    struct record {
        kind k = kind::free;
        bool in_config = false;      // named by the committed configuration
        bool published = false;      // in the snapshot the workers use
        bool ever_published = false; // workers may have connections or templates naming it
        uint32_t svc = 0;            // dest: its service's id
        uint32_t dests = 0;          // service: allocated dest ids naming it
        uint32_t epoch = 0;          // times it was in a published snapshot
        uint32_t asked = UINT32_MAX; // epoch when to_check() last returned it
        service_key skey{};
        std::string name; // match service
        dest_key dkey{};
        std::vector<uint32_t> slots; // dest: neighbour slots held
    };

    std::optional<uint32_t> allocate(kind k);
    void release(uint32_t id);
    // Release what needs no worker's answer: ids out of the config and every snapshot that were
    // never published, and services whose dests are all gone.
    void collect();

    std::map<service_key, uint32_t> m_services;
    std::map<std::string, uint32_t> m_match_services;
    std::map<dest_key, uint32_t> m_dests;
    std::vector<record> m_rec; // by id, [0, m_next)
    std::vector<uint32_t> m_free;
    uint32_t m_next = 0;
    bool m_building = false;
    std::vector<uint32_t> m_fresh;   // allocated by the build in progress
    std::vector<uint32_t> m_waiting; // dest ids waiting for condition 3 (collect() lists them)
    size_t m_ask_from = 0;
    uint32_t m_gen = 0;
    neigh_manager* m_neigh = nullptr;
    dp::load_board* m_loads = nullptr;
    const vrrp::engine* m_vrrp = nullptr;
};

} // namespace ulvs::ctl
