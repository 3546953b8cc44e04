#include "ulvs/dataplane/sched/load.h"

namespace ulvs::dp {

// Allocated once, before the workers start: value-initialised, every count and state 0.
load_board::load_board(uint32_t workers)
    : m_workers(workers), m_others(new shared_counts[size_t{workers} * row]),
      m_overload(new uint32_t[size_t{workers} * row]()) {}

} // namespace ulvs::dp
