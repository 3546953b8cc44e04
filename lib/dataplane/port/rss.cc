#include "ulvs/dataplane/port/rss.h"

#include <rte_ethdev.h>

namespace ulvs::dp {

static_assert(rss_hf_ipv4 == RTE_ETH_RSS_IPV4);
static_assert(rss_hf_l3_src_only == RTE_ETH_RSS_L3_SRC_ONLY);
static_assert(rss_hf_l3_dst_only == RTE_ETH_RSS_L3_DST_ONLY);
static_assert((owner_reta_size & (owner_reta_size - 1)) == 0 &&
              owner_reta_size % RTE_ETH_RETA_GROUP_SIZE == 0);

namespace {

// The 32 key bits starting at bit `pos` (bit 0: the first byte's most significant bit): what an
// input bit at `pos` XORs into the Toeplitz hash.
uint32_t key_window(std::span<const uint8_t> key, uint32_t pos) noexcept {
    uint64_t v = 0;
    for (uint32_t i = 0; i < 8; ++i) {
        const uint32_t b = pos / 8 + i;
        v = v << 8 | (b < key.size() ? key[b] : 0);
    }
    return static_cast<uint32_t>(v >> (32 - pos % 8));
}

} // namespace

void build_owner_map(owner_map& m, uint32_t n_workers, std::span<const uint8_t> key) noexcept {
    if (n_workers == 0)
        n_workers = 1;
    for (uint32_t octet = 0; octet < 4; ++octet)
        for (uint32_t v = 0; v < 256; ++v) {
            uint32_t h = 0;
            for (uint32_t bit = 0; bit < 8; ++bit) // bit 0: the octet's most significant
                if (v & (0x80u >> bit))
                    h ^= key_window(key, octet * 8 + bit);
            m.t[octet][v] = h;
        }
    for (uint32_t i = 0; i < owner_reta_size; ++i)
        m.reta[i] = static_cast<uint8_t>(reta_queue(i, n_workers));
}

} // namespace ulvs::dp
