#include "ulvs/control/sched/tables.h"

#include "ulvs/common/prime.h"
#include "ulvs/dataplane/sched/hashing.h"

namespace ulvs::ctl {

namespace {

enum : uint8_t { tab_sh = 1, tab_dh, tab_mh };

std::shared_ptr<const dp::sched_table> make(std::vector<uint16_t> slots) {
    auto t = std::make_shared<dp::sched_table>();
    t->slots = std::move(slots);
    return t;
}

} // namespace

template <class F> std::shared_ptr<const dp::sched_table> table_cache::get(key k, F build) {
    std::lock_guard lock(m_mu);
    if (auto it = m_tables.find(k); it != m_tables.end())
        if (auto t = it->second.lock())
            return t;
    // Tables die with the last snapshot using them; forget them now and then.
    if (m_tables.size() > 64)
        std::erase_if(m_tables, [](const auto& e) { return e.second.expired(); });
    auto t = make(build());
    ++m_builds;
    m_tables[std::move(k)] = t;
    return t;
}

std::shared_ptr<const dp::sched_table> table_cache::sh(std::span<const uint32_t> weights) {
    return get(key{tab_sh, dp::hash_tab_size, {weights.begin(), weights.end()}},
               [&] { return sh_table(weights); });
}

std::shared_ptr<const dp::sched_table> table_cache::dh(uint32_t n_dests) {
    return get(key{tab_dh, n_dests, {}}, [&] { return dh_table(n_dests); });
}

std::shared_ptr<const dp::sched_table> table_cache::mh(std::span<const mh_dest> dests, uint32_t m) {
    std::vector<uint64_t> id;
    for (const mh_dest& d : dests) {
        id.push_back(uint64_t{d.ip} << 16 | d.port);
        id.push_back(d.last_weight);
    }
    return get(key{tab_mh, m, std::move(id)}, [&] { return mh_table(dests, m); });
}

std::shared_ptr<dp::locality_table> table_cache::locality(uint32_t svc_stats_id,
                                                          dp::sched_kind kind, uint32_t workers) {
    std::lock_guard lock(m_mu);
    std::weak_ptr<dp::locality_table>& slot = m_locality[svc_stats_id];
    if (auto t = slot.lock(); t && t->kind() == kind && t->workers() == workers)
        return t;
    // Allocated here, on a control thread: the workers only ever index it.
    auto t = std::make_shared<dp::locality_table>(kind, workers);
    ++m_builds;
    slot = t;
    if (m_locality.size() > 64)
        std::erase_if(m_locality, [](const auto& e) { return e.second.expired(); });
    return t;
}

uint32_t table_cache::last_weight(uint32_t stats_id, uint32_t weight) {
    std::lock_guard lock(m_mu);
    auto [it, added] = m_last_weight.try_emplace(stats_id, weight);
    if (!added && weight != 0)
        it->second = weight;
    return it->second;
}

table_cache& default_table_cache() {
    static table_cache c;
    return c;
}

std::expected<void, std::string> build_sched(dp::service& svc, dp::snapshot& s, uint32_t mh_size,
                                             table_cache& cache, uint32_t workers) {
    build_wrr(svc, s.dests);
    svc.slots = nullptr;
    svc.slot_count = 0;
    svc.locality = nullptr;
    const std::span<const dp::dest> ds(s.dests.data() + svc.dest_first, svc.dest_count);
    const bool hashing = svc.sched == dp::sched_kind::sh || svc.sched == dp::sched_kind::dh ||
                         svc.sched == dp::sched_kind::mh;
    if (hashing && svc.dest_count > dp::max_table_dests)
        return std::unexpected("more than " + std::to_string(dp::max_table_dests) +
                               " real servers for a hashing scheduler");
    std::shared_ptr<const dp::sched_table> t;
    switch (svc.sched) {
    case dp::sched_kind::sh: {
        std::vector<uint32_t> w;
        for (const dp::dest& d : ds)
            w.push_back(d.weight);
        t = cache.sh(w);
        break;
    }
    case dp::sched_kind::dh:
        t = cache.dh(svc.dest_count);
        break;
    case dp::sched_kind::mh: {
        if (!is_prime(mh_size) || mh_size <= svc.dest_count)
            return std::unexpected("mh table size " + std::to_string(mh_size) +
                                   " must be a prime above the number of real servers");
        std::vector<mh_dest> md;
        for (const dp::dest& d : ds)
            md.push_back(
                {dp::host32(d.ip), dp::host16(d.port), cache.last_weight(d.stats_id, d.weight)});
        t = cache.mh(md, mh_size);
        break;
    }
    case dp::sched_kind::lblc:
    case dp::sched_kind::lblcr: {
        auto lt = cache.locality(svc.stats_id, svc.sched, std::max(workers, 1u));
        svc.locality = lt.get();
        s.locality_tables.push_back(std::move(lt));
        return {};
    }
    default:
        return {};
    }
    if (!t->slots.empty()) {
        svc.slots = t->slots.data();
        svc.slot_count = static_cast<uint32_t>(t->slots.size());
    }
    s.sched_tables.push_back(std::move(t));
    return {};
}

} // namespace ulvs::ctl
