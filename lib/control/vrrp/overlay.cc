#include "ulvs/control/vrrp/overlay.h"

#include <arpa/inet.h>

namespace ulvs::ctl::vrrp {

void overlay_ownership(const engine& e, dp::snapshot& s) {
    for (const owned_addr& o : e.ownership()) {
        const uint32_t key = htonl(o.addr.v4);
        uint8_t kind = static_cast<uint8_t>(dp::addr_kind::vip);
        uint8_t port = o.port; // ARP for it is answered on its instance's port
        if (auto prev = s.addrs.find(key)) {
            const dp::addr_info info = dp::unpack_addr_info(*prev);
            kind |= static_cast<uint8_t>(info.kind);
        }
        // An appliance address (the owner's, priority 255) stays reachable whatever the state.
        if (!o.owned && !(kind & static_cast<uint8_t>(dp::addr_kind::local)))
            kind |= static_cast<uint8_t>(dp::addr_kind::unowned);
        s.addrs.insert(key, dp::pack_addr_info({static_cast<dp::addr_kind>(kind), port}));
    }
}

} // namespace ulvs::ctl::vrrp
