// Which VRRP virtual addresses this appliance holds right now, read by the workers per packet
// and by the control lcore's responder (ARP, ping). A VRRP transition writes it on the control
// lcore (control/vrrp/overlay.h publish_ownership) and takes effect at the workers' next packet:
// a takeover owns its addresses at once, without waiting for a snapshot to be built and
// published. The snapshot maps each VRRP address to its slot here (addr_info::owner); the
// mapping is fixed for a run (the VRRP engine's addresses are those of start time).
//
// Thread safety: set() on the control lcore, held() anywhere; relaxed atomics (a flag that
// nothing else is published with).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ulvs::dp {

class vip_owners {
public:
    // VRRP virtual addresses with a slot; any beyond keep the snapshot's static ownership.
    static constexpr uint32_t capacity = 4096;

    bool held(uint32_t slot) const noexcept {
        return slot < capacity && m_held[slot].load(std::memory_order_relaxed) != 0;
    }
    void set(uint32_t slot, bool held) noexcept {
        if (slot < capacity)
            m_held[slot].store(held ? 1 : 0, std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<uint8_t>, capacity> m_held{};
};

} // namespace ulvs::dp
