// Rate estimation as IPVS does it (net/netfilter/ipvs/ip_vs_est.c), for `ulvsadm -L --rate`.
//
// Every 2 seconds the counter deltas are folded into an exponentially weighted moving average
// with weight 1/4, in fixed point: connections and packets scaled by 2^10 per second (delta << 9
// over 2 s), bytes by 2^5 (delta << 4). Reading rounds as the kernel does ((x + 0x1FF) >> 10,
// (x + 0xF) >> 5). Time is injected: the control lcore calls tick() from its loop; a late tick
// still counts as one 2-second interval, exactly like the kernel's timer.
//
// Thread safety: control lcore only.
#pragma once

#include <cstdint>

namespace ulvs::mgmt {

struct est_totals {
    uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
};

struct est_rates {
    uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

class estimator {
public:
    static constexpr uint64_t interval_ms = 2000;

    // Start (or restart, as -Z does) from these totals with zero rates.
    void reset(const est_totals& now);
    // One 2-second sample.
    void sample(const est_totals& now);
    est_rates rates() const;

private:
    est_totals m_last;
    int64_t m_cps = 0, m_inpps = 0, m_outpps = 0, m_inbps = 0, m_outbps = 0;
    bool m_started = false;
};

} // namespace ulvs::mgmt
