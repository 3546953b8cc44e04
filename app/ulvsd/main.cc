// ulvsd: the appliance daemon (README "Running it"). This file only parses the command line, loads
// the configuration and sets up logging; daemon.cc wires the planes together.
#include "daemon.h"
#include "journal_sink.h"
#include "options.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_jobs.h"

#include <rte_version.h>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace {

constexpr int exit_runtime = 1;
constexpr int exit_usage = 2;
// Log lines waiting for the logging thread. Past this the oldest are overwritten: a slow disk or
// a stopped terminal costs log lines, never a stall of the control lcore.
constexpr size_t log_queue = 8192;

bool setup_logging(const ulvs::config::config& cfg, const ulvs::app::options& o) {
    const std::string level = o.log_level.value_or(cfg.logging.level);
    auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") {
        std::fprintf(stderr, "ulvsd: unknown log level \"%s\"\n", level.c_str());
        return false;
    }
    try {
        // Asynchronous: the control lcore only formats the line and queues it; one thread of
        // spdlog's pool (started here, before EAL, so not pinned to a worker's core) writes it.
        spdlog::init_thread_pool(log_queue, 1);
        spdlog::sink_ptr sink;
        // Started by systemd with stderr on the journal: structured records on the journal's
        // own socket instead (journal_sink.h), so level and component are fields.
        // ULVS_JOURNAL_SOCKET: another socket than systemd's, for tests (service_notify.sh).
        const char* journal = std::getenv("ULVS_JOURNAL_SOCKET");
        if (journal == nullptr || *journal == '\0')
            journal = ulvs::app::journal_socket_path;
        if (cfg.logging.file.empty() && ulvs::app::stderr_is_journal() &&
            ::access(journal, W_OK) == 0)
            sink = std::make_shared<ulvs::app::journal_sink>(journal);
        else if (cfg.logging.file.empty())
            sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        else
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(cfg.logging.file);
        auto logger = std::make_shared<spdlog::async_logger>(
            "ulvsd", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
        logger->set_level(lvl);
        // Logs are rare (never per packet): the logging thread flushes after each line, so
        // tests and operators reading the output see every line at once.
        logger->flush_on(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    } catch (const spdlog::spdlog_ex& e) {
        std::fprintf(stderr, "ulvsd: cannot open log: %s\n", e.what());
        return false;
    }
    return true;
}

// With --lcores the user maps lcore ids onto CPUs (several lcores may share one, as tests of
// several workers on a small machine do): the ids need not be CPUs then, and EAL checks the map.
bool maps_lcores(const std::vector<std::string>& eal_args) {
    for (const std::string& a : eal_args)
        if (a == "--lcores" || a.starts_with("--lcores="))
            return true;
    return false;
}

} // namespace

int main(int argc, char** argv) {
    auto opts = ulvs::app::parse_options(argc, argv);
    if (!opts) {
        std::fprintf(stderr, "ulvsd: %s\n%s\n", opts.error().c_str(), ulvs::app::usage);
        return exit_usage;
    }
    if (opts->help) {
        std::fputs(ulvs::app::help_text, stdout);
        return 0;
    }
    if (opts->version) {
        std::printf("ulvsd %s (%s)\n", ULVS_VERSION, rte_version());
        return 0;
    }
    std::string bytes; // for the digest the metrics show (ulvs_config_info)
    std::vector<ulvs::config::diagnostic> warnings; // shown by --check and at start alike
    auto cfg = ulvs::config::load_file(opts->config, &bytes, &warnings);
    for (const auto& w : warnings)
        std::fprintf(stderr, "%s\n", w.to_string().c_str());
    std::vector<ulvs::config::diagnostic> errors;
    if (!cfg)
        errors = cfg.error();
    else if (!maps_lcores(opts->eal_args.value_or(cfg->dpdk.eal_args)))
        errors = ulvs::config::check_host(*cfg, std::thread::hardware_concurrency());
    if (!errors.empty()) {
        for (const auto& d : errors)
            std::fprintf(stderr, "%s\n", d.to_string().c_str());
        return exit_usage;
    }
    if (opts->check) {
        std::printf("ok\n");
        return 0;
    }
    if (!setup_logging(*cfg, *opts))
        return exit_usage;
    const int rc =
        ulvs::app::run_daemon(*opts, *cfg, ulvs::mgmt::sha256_hex(bytes)) == 0 ? 0 : exit_runtime;
    spdlog::shutdown(); // writes what is queued, stops the logging thread
    return rc;
}
