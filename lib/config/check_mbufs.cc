// dpdk.mbufs against the least the configuration needs (dataplane/mbuf_budget.h lists every
// holder): refused at --check and at start, with the minimum and its terms.
#include "draft.h"
#include "ulvs/dataplane/mbuf_budget.h"

namespace ulvs::config::detail {

void check_mbufs(reader& r, const draft& d) {
    // The minimum follows from the ports and lcores: with an error anywhere the sum would be a
    // guess (and the file is refused anyway); the message comes once the rest is right.
    if (r.error_count() != 0 || !d.mbufs_ok || d.ports_unreadable)
        return;
    std::vector<std::string> devices;
    for (const port_cfg& p : d.cfg.ports)
        devices.push_back(p.device);
    const auto need =
        dp::mbuf_consumers(static_cast<uint32_t>(d.cfg.lcores.workers.size()), devices);
    const uint64_t min = dp::mbufs_needed(need);
    if (d.cfg.dpdk.mbufs >= min)
        return;
    std::string terms;
    for (const dp::mbuf_consumer& c : need)
        if (c.count != 0)
            terms += (terms.empty() ? "" : " + ") + c.what + " " + std::to_string(c.count) + " (" +
                     c.how + ")";
    r.error(d.mbufs_at, "dpdk.mbufs " + std::to_string(d.cfg.dpdk.mbufs) +
                            (d.mbufs_given ? "" : " (the default)") + " is below the " +
                            std::to_string(min) + " mbufs this configuration can hold at once: " +
                            terms + "; set dpdk.mbufs to at least " + std::to_string(min));
}

} // namespace ulvs::config::detail
