// Loading and validating YAML off the control lcore.
//
// A reload parses the whole file, and a CLI change is validated by writing the changed config as
// YAML and loading it again (config_edit.h revalidate): with hundreds of real servers either takes
// tens of milliseconds, which on the control lcore would delay VRRP adverts, ARP and the exception
// path by as much (docs/architecture.md "The control lcore"). So the manager runs them here, one
// at a time, on a thread of their own, and commits the outcome on the control lcore. The job reads
// only what it captured (a copy of the config or a path): no state is shared with the lcore.
//
// The thread inherits the control lcore's CPU set (never a worker's core) and runs at nice 10, so
// the control loop wins the core whenever both are runnable.
//
// Thread safety: start/take from one thread (the control lcore).
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/mgmt/protocol.h"

#include <expected>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <string_view>

namespace ulvs::mgmt {

class config_jobs {
public:
    struct loaded {
        config::config cfg;
        std::string sha256; // of the file's bytes (reloads), hex; empty for a CLI change
    };
    // A loaded config, or the error reply that refuses it.
    using outcome = std::expected<loaded, json>;

    // Runs `job` on a new thread. At most one job at a time: the caller checks busy().
    void start(std::function<outcome()> job);
    bool busy() const { return m_job.valid(); }
    // The finished job's outcome, once; nullopt while it runs (or when none was started).
    std::optional<outcome> take();

private:
    std::future<outcome> m_job;
};

// SHA-256 of `bytes` in hex.
std::string sha256_hex(std::string_view bytes);

} // namespace ulvs::mgmt
