#include "ulvs/mgmt/config_jobs.h"

#include <openssl/evp.h>

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

namespace {

std::string hex(const unsigned char* md, unsigned len) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
        return "";
    return hex(md, len);
}

} // namespace ulvs::mgmt
