// Next-hop resolution on the control lcore: which addresses the data path needs MACs for, ARP
// requests with retries until they answer, learning from ARP traffic, static entries from the
// config. Publishes MACs into the shared dp::neigh_table; workers only read that table and drop
// (counting neigh_unresolved) while an entry is unresolved — they never wait.
//
// Slots are a fixed pool (dp::neigh_table's capacity). A slot may serve another address only
// when nothing a worker can reach names it: an entry is *held* while it is
//   - static (config `neighbors`) or pinned (VRRP unicast peers),
//   - in the snapshot the workers use (published()),
//   - handed out by the snapshot build in progress or by the last successful one (begin_build /
//     end_build): the committed configuration's next hops, resolved before it is published,
//   - held by a real server's stats id (hold/unhold, see control/service/stats_ids.h): a
//     connection copies its real server's slot (conn::neigh) and lives on after the server
//     left (IPVS expire_nodest_conn=0); its stats id, and so the slot, is kept until no
//     connection or template in any worker names that server.
// Other entries (hosts the workers asked us to resolve for routed traffic, next hops of servers
// that are gone) stay cached and are reclaimed only when the pool runs out: they leave the host
// index (a new index is published), and their slots are reused after an RCU grace period
// (`synchronize`), by when no worker still holds a slot number it looked up in the old index.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/dataplane/fwd/neigh_table.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <cstdint>
#include <functional>
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

    explicit neigh_manager(dp::neigh_table& table)
        : m_table(table), m_refs(table.capacity()), m_published(table.capacity()) {}

    // The slot for next hop `ip` on port index `port`, allocated on first use and tracked from
    // then on. nullopt when every slot is held. `pin`: held for the rest of the run.
    std::optional<uint32_t> slot_for(ip_addr ip, uint8_t port, bool pin = false);

    // An RCU grace period: returns once every worker passed a quiescent state (the daemon gives
    // the publisher's). Unset (tests without concurrent workers): slots are reused at once.
    void set_synchronize(std::function<void()> f) { m_synchronize = std::move(f); }

    // A snapshot build: slots handed out between begin_build and end_build are held by it.
    // end_build(true): the build succeeded and its slots replace the previous build's holds;
    // end_build(false): entries it created and nothing else holds are forgotten at once.
    void begin_build();
    void end_build(bool kept);
    // The snapshot the workers use now (call after publication): its slots are held until the
    // next call.
    void published(const dp::snapshot& s);
    // References from real servers' stats ids (stats_ids.h).
    void hold(uint32_t slot) { ++m_refs[slot]; }
    void unhold(uint32_t slot) { --m_refs[slot]; }
    // Slots that could be handed out now without reclaiming anything.
    uint32_t unused_slots() const {
        return m_table.capacity() - m_next_slot + static_cast<uint32_t>(m_free.size());
    }

    // A configured static neighbour: resolved now, never ARPed, never overwritten by learning.
    std::optional<uint32_t> set_static(ip_addr ip, uint8_t port, const mac_addr& mac);

    // ARP seen from `ip` with `mac` on `port`: updates a tracked, non-static entry. Returns true
    // when it changed something.
    bool learn(ip_addr ip, uint8_t port, const mac_addr& mac, uint64_t now_ms);

    // ARP requests to send now (unresolved entries past their retry time, resolved ones due for
    // refresh); marks them as sent.
    std::vector<arp_request> due(uint64_t now_ms);

    std::optional<mac_addr> mac_of(ip_addr ip) const;
    // Counts the entries that became resolved or changed MAC (learn, set_static): a holder of
    // packets for unresolved hosts (unres_queue.h) looks again only when it moved.
    uint64_t changes() const { return m_changes; }
    size_t tracked() const { return m_entries.size(); }

private:
    struct entry {
        uint32_t slot;
        uint8_t port;
        bool is_static = false;
        bool resolved = false;
        mac_addr mac;
        uint64_t next_ms = 0; // next request
        bool pinned = false;
        uint64_t built = 0; // serial of the last build that used it (0: none)
    };

    bool held(const entry& e) const;
    std::optional<uint32_t> take_slot();
    // Forget every entry nothing holds (of addresses `only`, when given); returns how many slots
    // became free.
    size_t reclaim(const std::vector<uint32_t>* only = nullptr);

    dp::neigh_table& m_table;
    std::unordered_map<uint32_t, entry> m_entries; // by IPv4 (host order)
    uint32_t m_next_slot = 0;
    std::vector<uint32_t> m_free;     // reclaimed slots, past their grace period
    std::vector<uint32_t> m_refs;     // by slot: stats ids holding it
    std::vector<uint8_t> m_published; // by slot: in the workers' snapshot
    std::function<void()> m_synchronize;
    uint64_t m_serial = 0;        // of the build in progress or the last one
    uint64_t m_kept = UINT64_MAX; // serial of the last successful build
    bool m_building = false;
    std::vector<uint32_t> m_created; // addresses (host order) the build in progress added
    uint64_t m_changes = 0;
};

} // namespace ulvs::ctl
