#include "ulvs/dataplane/pkt/l4_csum.h"

namespace ulvs::dp {

void l4_csum_complete(uint8_t* frame, const parsed_pkt& pp) noexcept {
    const uint16_t off = l4_csum_offset(pp.ip_proto);
    if (off == 0)
        return;
    const uint16_t len = l4_csum_len(frame, pp);
    uint8_t* l4 = frame + pp.l4_off;
    const uint16_t zero = 0;
    std::memcpy(l4 + off, &zero, 2);
    // inet_checksum gives the complement of the segment's folded sum; add the pseudo-header's.
    const uint16_t data = static_cast<uint16_t>(~inet_checksum(l4, len));
    uint16_t sum = static_cast<uint16_t>(
        ~csum_fold(uint32_t{data} + pseudo_header_sum(pp.src_ip, pp.dst_ip, pp.ip_proto, len)));
    if (sum == 0 && pp.ip_proto == 17)
        sum = 0xffff;
    std::memcpy(l4 + off, &sum, 2);
}

} // namespace ulvs::dp
