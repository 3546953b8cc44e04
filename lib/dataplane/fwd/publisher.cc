#include "ulvs/dataplane/fwd/publisher.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace ulvs::dp {

publisher::publisher(uint32_t n_workers) {
    size_t sz = rte_rcu_qsbr_get_memsize(n_workers);
    m_qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("ulvs_qsbr", sz, RTE_CACHE_LINE_SIZE));
    if (m_qsbr != nullptr)
        rte_rcu_qsbr_init(m_qsbr, n_workers);
}

publisher::~publisher() {
    rte_free(m_qsbr);
}

void publisher::worker_online(uint32_t worker) noexcept {
    rte_rcu_qsbr_thread_register(m_qsbr, worker);
    rte_rcu_qsbr_thread_online(m_qsbr, worker);
}

void publisher::worker_quiescent(uint32_t worker) noexcept {
    rte_rcu_qsbr_quiescent(m_qsbr, worker);
}

void publisher::worker_offline(uint32_t worker) noexcept {
    rte_rcu_qsbr_thread_offline(m_qsbr, worker);
    rte_rcu_qsbr_thread_unregister(m_qsbr, worker);
}

void publisher::worker_pause(uint32_t worker) noexcept {
    rte_rcu_qsbr_thread_offline(m_qsbr, worker);
}

void publisher::worker_resume(uint32_t worker) noexcept {
    rte_rcu_qsbr_thread_online(m_qsbr, worker);
}

void publisher::publish(std::unique_ptr<const snapshot> next) {
    m_current.store(next.get(), std::memory_order_release);
    // Every worker that might still read the old snapshot goes through a quiescent state (or is
    // offline) before we free it. RTE_QSBR_THRID_INVALID: the caller is not a registered reader.
    rte_rcu_qsbr_synchronize(m_qsbr, RTE_QSBR_THRID_INVALID);
    m_owned = std::move(next);
}

void publisher::synchronize() noexcept {
    rte_rcu_qsbr_synchronize(m_qsbr, RTE_QSBR_THRID_INVALID);
}

} // namespace ulvs::dp
