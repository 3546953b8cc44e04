// The sh, dh and Maglev tables, built as IPVS builds them (ip_vs_sh.c, ip_vs_dh.c, ip_vs_mh.c).
#include "ulvs/control/sched/tables.h"

#include "ulvs/common/prime.h"
#include "ulvs/dataplane/sched/hash.h"

#include <bit>
#include <numeric>

namespace ulvs::ctl {

std::vector<uint16_t> sh_table(std::span<const uint32_t> weights) {
    std::vector<uint16_t> t(dp::hash_tab_size, dp::no_slot);
    if (weights.empty())
        return t;
    size_t d = 0;
    uint64_t count = 0;
    for (uint32_t i = 0; i < dp::hash_tab_size; ++i) {
        t[i] = static_cast<uint16_t>(d);
        // Move on once the dest filled `weight` buckets; weight 0 still took this one.
        if (++count >= weights[d]) {
            d = d + 1 == weights.size() ? 0 : d + 1;
            count = 0;
        }
    }
    return t;
}

std::vector<uint16_t> dh_table(uint32_t n_dests) {
    std::vector<uint16_t> t(dp::hash_tab_size, dp::no_slot);
    for (uint32_t i = 0; n_dests > 0 && i < dp::hash_tab_size; ++i)
        t[i] = static_cast<uint16_t>(i % n_dests);
    return t;
}

std::vector<uint16_t> mh_table(std::span<const mh_dest> dests, uint32_t m) {
    namespace h = dp::sched_hash;
    uint32_t g = 0, max_w = 0;
    for (const mh_dest& d : dests) {
        if (d.last_weight > 0)
            g = std::gcd(g, d.last_weight);
        max_w = std::max(max_w, d.last_weight);
    }
    if (g == 0 || m < 2 || dests.size() > m)
        return {}; // IPVS resets the table: no server for anyone

    // IPVS caps weight/gcd to IP_VS_MH_TAB_BITS bits (half the table's bits) by shifting, so a
    // round of turns stays small against the table; its table of ~2^(2b) slots gives b bits.
    const int tab_bits = (static_cast<int>(std::bit_width(m - 1)) + 1) / 2;
    const int shift = std::max(0, static_cast<int>(std::bit_width(max_w / g)) - tab_bits);

    struct setup {
        uint32_t perm, skip, turns;
    };
    std::vector<setup> ds(dests.size());
    for (size_t i = 0; i < dests.size(); ++i) {
        const mh_dest& d = dests[i];
        const uint32_t offset = h::mh_key(h::mh_key1, d.ip, d.port, 0) % m;
        const uint32_t skip = h::mh_key(h::mh_key2, d.ip, d.port, 0) % (m - 1) + 1;
        const uint32_t t = (d.last_weight / g) >> shift;
        ds[i] = {offset, skip, t ? t : uint32_t{d.last_weight != 0}};
    }

    // Rounds over the dests; in each, a dest takes `turns` slots, each the next free position of
    // its own permutation offset, offset + skip, offset + 2 skip, ... (mod m).
    std::vector<uint16_t> t(m, dp::no_slot);
    std::vector<bool> taken(m, false);
    uint32_t filled = 0;
    while (filled < m) {
        for (size_t i = 0; i < ds.size() && filled < m; ++i) {
            for (uint32_t turn = 0; turn < ds[i].turns && filled < m; ++turn) {
                while (taken[ds[i].perm]) {
                    ds[i].perm += ds[i].skip;
                    if (ds[i].perm >= m)
                        ds[i].perm -= m;
                }
                taken[ds[i].perm] = true;
                t[ds[i].perm] = static_cast<uint16_t>(i);
                ++filled;
            }
        }
    }
    return t;
}

} // namespace ulvs::ctl
