#include "ulvs/config/config.h"

namespace ulvs::config {

// Longest prefix wins, as in the kernel's connected routes; the first port on a tie.
std::optional<size_t> config::port_for(ip_addr a) const {
    std::optional<size_t> best;
    int best_len = -1;
    for (size_t i = 0; i < ports.size(); ++i) {
        for (const ip_prefix& p : ports[i].addresses) {
            if (p.contains(a) && int(p.len) > best_len) {
                best = i;
                best_len = p.len;
            }
        }
    }
    return best;
}

} // namespace ulvs::config
