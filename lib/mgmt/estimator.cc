#include "ulvs/mgmt/estimator.h"

namespace ulvs::mgmt {

namespace {

// avg += (rate - avg) >> 2, with rate = (now - last) << shift; as ip_vs_est.c.
void fold(int64_t& avg, uint64_t now, uint64_t& last, int shift) {
    const auto rate = static_cast<int64_t>((now - last) << shift);
    last = now;
    avg += (rate - avg) >> 2;
}

uint64_t read(int64_t v, int64_t round, int shift) {
    return v <= 0 ? 0 : static_cast<uint64_t>((v + round) >> shift);
}

} // namespace

void estimator::reset(const est_totals& now) {
    m_last = now;
    m_cps = m_inpps = m_outpps = m_inbps = m_outbps = 0;
    m_started = true;
}

void estimator::sample(const est_totals& now) {
    if (!m_started) {
        reset(now);
        return;
    }
    fold(m_cps, now.conns, m_last.conns, 9);
    fold(m_inpps, now.inpkts, m_last.inpkts, 9);
    fold(m_outpps, now.outpkts, m_last.outpkts, 9);
    fold(m_inbps, now.inbytes, m_last.inbytes, 4);
    fold(m_outbps, now.outbytes, m_last.outbytes, 4);
}

est_rates estimator::rates() const {
    return {read(m_cps, 0x1FF, 10), read(m_inpps, 0x1FF, 10), read(m_outpps, 0x1FF, 10),
            read(m_inbps, 0xF, 5), read(m_outbps, 0xF, 5)};
}

} // namespace ulvs::mgmt
