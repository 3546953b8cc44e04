#include "ulvs/mgmt/config_jobs.h"

#include <sys/resource.h>
#include <unistd.h>

namespace ulvs::mgmt {

void config_jobs::start(std::function<outcome()> job) {
    m_job = std::async(std::launch::async, [job = std::move(job)] {
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10); // this thread only
        return job();
    });
}

std::optional<config_jobs::outcome> config_jobs::take() {
    if (!m_job.valid() || m_job.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        return std::nullopt;
    return m_job.get();
}

} // namespace ulvs::mgmt
