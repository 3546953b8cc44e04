#include "ulvs/mgmt/id_recycling.h"

namespace ulvs::mgmt {

unsigned id_recycler::poll(uint64_t now) {
    if (m_asking)
        return read_answers();
    if (now < m_next_ms)
        return 0;
    m_next_ms = now + period_ms;
    m_question = m_ids->to_check(max_ids);
    if (m_question.empty())
        return 0;
    if (m_checks.empty())
        return check_directly();
    m_busy.assign(m_checks.size(), std::vector<uint8_t>(m_question.size()));
    for (size_t w = 0; w < m_checks.size(); ++w) {
        dp::id_check_channel& ch = *m_checks[w];
        ch.ids = m_question.data();
        ch.busy = m_busy[w].data();
        ch.n = static_cast<uint32_t>(m_question.size());
        ch.request.store(ch.request.load() + 1, std::memory_order_release);
    }
    m_asking = true;
    return 1;
}

unsigned id_recycler::read_answers() {
    for (const dp::id_check_channel* ch : m_checks)
        if (ch->done.load(std::memory_order_acquire) != ch->request.load())
            return 0; // not every worker answered yet
    std::vector<uint32_t> unused;
    for (size_t i = 0; i < m_question.size(); ++i) {
        bool busy = false;
        for (const auto& b : m_busy)
            busy = busy || b[i] != 0;
        if (!busy)
            unused.push_back(m_question[i]);
    }
    m_ids->release_unused(unused);
    m_asking = false;
    return 1;
}

unsigned id_recycler::check_directly() {
    // No worker runs concurrently: the counts are exact as read here.
    std::vector<uint32_t> unused;
    for (uint32_t id : m_question) {
        bool busy = false;
        for (const dp::worker_ctx* w : m_workers) {
            const dp::dest_conn_counts& c = w->dest_conns[id];
            busy = busy || (c.active | c.inactive | c.persistent) != 0;
        }
        if (!busy)
            unused.push_back(id);
    }
    m_ids->release_unused(unused);
    return 1;
}

} // namespace ulvs::mgmt
