// Control-plane side of the schedulers: everything a pick needs that can be computed when the
// service changes rather than per new connection: wrr's max/gcd, the sh/dh 256-bucket tables,
// the Maglev table, and the aggregation of the workers' connection counts (load.h).
//
// Thread safety: control lcore only (build_sched's cache takes a lock, so the management thread
// may build snapshots too).
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/sched/load.h"
#include "ulvs/dataplane/sched/locality.h"

#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace ulvs::ctl {

// ipvsadm name -> kind; nullopt for unknown names.
std::optional<dp::sched_kind> sched_from_name(std::string_view name);
std::string_view sched_name(dp::sched_kind k);

// ipvsadm -b names (sh-port, sh-fallback, mh-port, mh-fallback) -> sched_flag bits; nullopt for
// an unknown name. Which scheduler may take which flag is the config validator's business.
std::optional<uint8_t> sched_flag_from_name(std::string_view name);

// Fill svc.wrr from the weights of dests[svc.dest_first .. +dest_count).
void build_wrr(dp::service& svc, const std::vector<dp::dest>& dests);

// IPVS ip_vs_sh_reassign(): bucket i gets the dests in order, each for `weight` consecutive
// buckets (a dest of weight 0 still takes one, where it is unavailable). Empty list: no_slot.
std::vector<uint16_t> sh_table(std::span<const uint32_t> weights);
// IPVS ip_vs_dh_assign(): bucket i gets dest i mod n; weights play no part.
std::vector<uint16_t> dh_table(uint32_t n_dests);

// A dest as Maglev sees it: its identity (host order) and IPVS' last_weight, the latest non-zero
// weight (a quiesced server keeps its slots; one added with weight 0 has none).
struct mh_dest {
    uint32_t ip;
    uint16_t port;
    uint32_t last_weight;
};
// IPVS ip_vs_mh_permutate() + ip_vs_mh_populate() on a table of prime size `m` > dests.size():
// every slot filled, unless no dest has a last_weight (then the result is empty: no server).
std::vector<uint16_t> mh_table(std::span<const mh_dest> dests, uint32_t m);

// Tables shared between snapshots while their input does not change (the Maglev table costs
// milliseconds), plus what IPVS remembers about dests between updates (last_weight). One per
// ulvsd run; default_table_cache() is the process's.
class table_cache {
public:
    std::shared_ptr<const dp::sched_table> sh(std::span<const uint32_t> weights);
    std::shared_ptr<const dp::sched_table> dh(uint32_t n_dests);
    std::shared_ptr<const dp::sched_table> mh(std::span<const mh_dest> dests, uint32_t m);
    // lblc/lblcr (sched/locality.h): the service's table, the same object for as long as some
    // snapshot holds it, so that its entries outlive edits of the service as IPVS' do. A table of
    // another kind or worker count is replaced by an empty one. Keyed by the service's stats id.
    std::shared_ptr<dp::locality_table> locality(uint32_t svc_stats_id, dp::sched_kind kind,
                                                 uint32_t workers);
    // IPVS __ip_vs_update_dest(): last_weight follows every non-zero weight; a dest first seen
    // with weight 0 starts at 0. Keyed by the dest's stats id.
    uint32_t last_weight(uint32_t stats_id, uint32_t weight);
    size_t builds() const { return m_builds; } // tables built, not found (for tests)

private:
    using key = std::tuple<uint8_t, uint32_t, std::vector<uint64_t>>; // kind, size, dests
    template <class F> std::shared_ptr<const dp::sched_table> get(key k, F build);

    std::mutex m_mu;
    std::map<key, std::weak_ptr<const dp::sched_table>> m_tables;
    std::map<uint32_t, uint32_t> m_last_weight;
    std::map<uint32_t, std::weak_ptr<dp::locality_table>> m_locality;
    size_t m_builds = 0;
};
table_cache& default_table_cache();

// Everything the pick of svc's scheduler needs besides weights: wrr parameters and, for sh/dh/mh,
// the table (added to s.sched_tables, svc.slots pointing into it); for lblc/lblcr the workers'
// table (added to s.locality_tables, svc.locality; one row per worker of the run, `workers`).
// `mh_size` is the Maglev table size (prime). svc.dest_first/dest_count must already describe svc's
// dests in s.dests.
std::expected<void, std::string> build_sched(dp::service& svc, dp::snapshot& s, uint32_t mh_size,
                                             table_cache& cache = default_table_cache(),
                                             uint32_t workers = 1);

// The aggregation step (sched/load.h): sum the workers' live counts of every dest of `s` and give
// each worker i, in board row i, the sum of the others'. `counts[i]` is worker i's
// worker_ctx::dest_conns.data(). Read while the workers write (plain per-worker counters, as the
// management plane reads them): each value is at worst one update old. Control lcore, every
// aggregation period (10 ms); costs O(workers x dests of s).
void aggregate_loads(dp::load_board& board, const dp::snapshot& s,
                     std::span<const dp::dest_conn_counts* const> counts);

} // namespace ulvs::ctl
