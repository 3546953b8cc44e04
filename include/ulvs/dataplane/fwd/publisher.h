// Publication of configuration snapshots to the workers (docs/architecture.md "Who owns
// which state"): the control lcore swaps one pointer; the old snapshot is freed only after every
// worker has reported a quiescent state since the swap (rte_rcu_qsbr), so a worker may use the
// pointer it fetched at the top of its loop for the whole iteration without any lock.
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"

#include <atomic>
#include <memory>

struct rte_rcu_qsbr;

namespace ulvs::dp {

class publisher {
public:
    explicit publisher(uint32_t n_workers);
    ~publisher();
    publisher(const publisher&) = delete;
    publisher& operator=(const publisher&) = delete;

    // Worker: the snapshot to use for this loop iteration.
    const snapshot* current() const noexcept { return m_current.load(std::memory_order_acquire); }
    // Worker: online at start, quiescent once per loop iteration, offline before exit.
    void worker_online(uint32_t worker) noexcept;
    void worker_quiescent(uint32_t worker) noexcept;
    void worker_offline(uint32_t worker) noexcept;
    // Worker: around a sleep of lcores.idle: adaptive (idle_backoff.h), holding no snapshot, so
    // that a publish does not wait for the sleep to end.
    void worker_pause(uint32_t worker) noexcept;
    void worker_resume(uint32_t worker) noexcept;

    // Control lcore only: publish `next` and free the previous snapshot once no worker can hold it.
    // Blocks until then: workers pass a quiescent state every loop iteration (microseconds).
    void publish(std::unique_ptr<const snapshot> next);
    // Control lcore only: return once every online worker passed a quiescent state (an RCU grace
    // period, microseconds), e.g. before reusing a neighbour slot a worker may have looked up.
    void synchronize() noexcept;

private:
    rte_rcu_qsbr* m_qsbr = nullptr;
    std::atomic<const snapshot*> m_current{nullptr};
    std::unique_ptr<const snapshot> m_owned;
};

} // namespace ulvs::dp
