// Logging to the systemd journal (README "Running as a service"), structured: each line is one
// datagram of journal fields on the native socket (/run/systemd/journal/socket):
//   PRIORITY          syslog level (3 error ... 7 debug) from spdlog's level
//   SYSLOG_IDENTIFIER ulvsd
//   ULVS_COMPONENT    what the line is about: its leading "topic: " when it has one ("audit",
//                     "management", "reload refused", "port wan", ...), else "ulvsd"
//   ULVS_LEVEL        spdlog's level name (info, warning, ...)
//   MESSAGE           the line
// so `journalctl -u ulvsd -p warning` or `journalctl ULVS_COMPONENT=audit` select lines.
//
// ulvsd uses it when systemd started it with stderr connected to the journal ($JOURNAL_STREAM
// names stderr's device and inode, as systemd.exec(5) says to check) and logging.file is not set;
// otherwise it logs to stderr as before. ($ULVS_JOURNAL_SOCKET names another socket than
// systemd's: tests/lab/service_notify.sh reads the records of a real ulvsd that way.) The sink runs
// on spdlog's logging thread only (the async logger of app/ulvsd/main.cc): the control lcore and
// the workers never wait for the journal. A line the journal refuses (socket gone) is written to
// stderr instead.
#pragma once

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>
#include <string_view>

namespace ulvs::app {

// systemd's native protocol socket.
inline constexpr const char* journal_socket_path = "/run/systemd/journal/socket";

// True when $JOURNAL_STREAM is "DEVICE:INODE" of the file descriptor `fd` (stderr).
bool stderr_is_journal(int fd = 2);

// The component of a log line: its leading "topic: " (at most 32 characters of letters, digits,
// spaces, '-', '_' and '.'), or "ulvsd".
std::string_view log_component(std::string_view line);

// One journal datagram for a line (native protocol: "KEY=VALUE\n", MESSAGE in the binary form
// "MESSAGE\n<64-bit little-endian length><bytes>\n" so a line may hold newlines).
std::string journal_record(int priority, std::string_view level_name, std::string_view message,
                           std::string_view identifier = "ulvsd");

class journal_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit journal_sink(std::string socket_path = journal_socket_path);
    ~journal_sink() override;
    uint64_t failed() const { return m_failed; }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    std::string m_path;
    int m_fd = -1;
    uint64_t m_failed = 0;
};

} // namespace ulvs::app
