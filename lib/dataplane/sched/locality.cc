#include "ulvs/dataplane/sched/locality.h"

namespace ulvs::dp {

// Allocated by the control plane, never on a worker: value-initialised, every entry unused.
locality_table::locality_table(sched_kind kind, uint32_t workers, uint64_t expiration_ms)
    : m_kind(kind), m_workers(workers), m_expiration_ms(expiration_ms) {
    if (kind == sched_kind::lblc) {
        m_lblc = std::make_unique<std::unique_ptr<lblc_entry[]>[]>(workers);
        for (uint32_t w = 0; w < workers; ++w)
            m_lblc[w] = std::make_unique<lblc_entry[]>(locality_entries);
    } else if (kind == sched_kind::lblcr) {
        m_lblcr = std::make_unique<std::unique_ptr<lblcr_entry[]>[]>(workers);
        for (uint32_t w = 0; w < workers; ++w)
            m_lblcr[w] = std::make_unique<lblcr_entry[]>(locality_entries);
    }
}

void locality_table::clear() noexcept {
    for (uint32_t w = 0; w < m_workers; ++w)
        for (uint32_t i = 0; i < locality_entries; ++i) {
            if (m_lblc)
                m_lblc[w][i] = lblc_entry{};
            if (m_lblcr)
                m_lblcr[w][i] = lblcr_entry{};
        }
}

} // namespace ulvs::dp
