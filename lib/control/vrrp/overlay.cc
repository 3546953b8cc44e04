#include "ulvs/control/vrrp/overlay.h"

#include <arpa/inet.h>

namespace ulvs::ctl::vrrp {

void overlay_ownership(const engine& e, dp::vip_owners& owners, dp::snapshot& s) {
    // Slots follow engine::ownership()'s order, fixed for the engine's lifetime.
    const std::vector<owned_addr> own = e.ownership();
    for (size_t i = 0; i < own.size(); ++i) {
        const owned_addr& o = own[i];
        const uint32_t key = htonl(o.addr.v4);
        uint8_t kind = static_cast<uint8_t>(dp::addr_kind::vip);
        if (auto prev = s.addrs.find(key))
            kind |= static_cast<uint8_t>(dp::unpack_addr_info(*prev).kind);
        uint16_t slot = 0;
        // An appliance address (the owner's, priority 255) stays reachable whatever the state.
        if (!(kind & static_cast<uint8_t>(dp::addr_kind::local))) {
            if (i < dp::vip_owners::capacity) {
                kind |= static_cast<uint8_t>(dp::addr_kind::vrrp);
                slot = static_cast<uint16_t>(i);
                owners.set(slot, o.owned);
            } else if (!o.owned) {
                kind |= static_cast<uint8_t>(dp::addr_kind::unowned);
            }
        }
        // ARP for it is answered on its instance's port.
        s.addrs.insert(key, dp::pack_addr_info({static_cast<dp::addr_kind>(kind), o.port, slot}));
    }
    s.owners = &owners;
}

void publish_ownership(const engine& e, dp::vip_owners& owners) {
    const std::vector<owned_addr> own = e.ownership();
    for (size_t i = 0; i < own.size() && i < dp::vip_owners::capacity; ++i)
        owners.set(static_cast<uint32_t>(i), own[i].owned);
}

} // namespace ulvs::ctl::vrrp
