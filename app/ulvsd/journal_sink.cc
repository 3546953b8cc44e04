#include "journal_sink.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ulvs::app {

namespace {

// spdlog's levels as syslog priorities (sd-daemon.h's LOG_*).
int priority_of(spdlog::level::level_enum l) {
    switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return 7;
    case spdlog::level::info:
        return 6;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::err:
        return 3;
    case spdlog::level::critical:
        return 2;
    default:
        return 6;
    }
}

// A line longer than this is cut: a datagram must fit the socket's buffer (the lines ulvsd logs
// are far shorter; a 3 KB path in a reload message is the longest seen in tests).
constexpr size_t max_message = 48 * 1024;

} // namespace

bool stderr_is_journal(int fd) {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (js == nullptr)
        return false;
    unsigned long long dev = 0, ino = 0;
    char extra = 0;
    if (std::sscanf(js, "%llu:%llu%c", &dev, &ino, &extra) != 2)
        return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

std::string_view log_component(std::string_view line) {
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0 || colon > 32)
        return "ulvsd";
    for (char c : line.substr(0, colon))
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '_' ||
              c == '.'))
            return "ulvsd";
    return line.substr(0, colon);
}

std::string journal_record(int priority, std::string_view level_name, std::string_view message,
                           std::string_view identifier) {
    if (message.size() > max_message)
        message = message.substr(0, max_message);
    std::string r;
    r.reserve(message.size() + 128);
    r += "PRIORITY=" + std::to_string(priority) + "\n";
    r += "SYSLOG_IDENTIFIER=";
    r += identifier;
    r += "\nULVS_COMPONENT=";
    r += log_component(message);
    r += "\nULVS_LEVEL=";
    r += level_name;
    r += "\nMESSAGE\n";
    uint64_t n = message.size();
    for (int i = 0; i < 8; ++i, n >>= 8)
        r += static_cast<char>(n & 0xff);
    r += message;
    r += '\n';
    return r;
}

journal_sink::journal_sink(std::string socket_path) : m_path(std::move(socket_path)) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (m_fd >= 0) {
        // Blocking, on the logging thread only; bounded so a wedged journald costs lines (the
        // async queue overwrites its oldest) rather than the logging thread for good.
        timeval tv{1, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
}

journal_sink::~journal_sink() {
    if (m_fd >= 0)
        ::close(m_fd);
}

void journal_sink::sink_it_(const spdlog::details::log_msg& msg) {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const auto name = spdlog::level::to_string_view(msg.level);
    const std::string rec =
        journal_record(priority_of(msg.level), std::string_view(name.data(), name.size()), text);
    bool sent = false;
    if (m_fd >= 0 && m_path.size() < sizeof(sockaddr_un::sun_path)) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, m_path.data(), m_path.size());
        sent = ::sendto(m_fd, rec.data(), rec.size(), MSG_NOSIGNAL,
                        reinterpret_cast<const sockaddr*>(&sa),
                        sizeof sa) == static_cast<ssize_t>(rec.size());
    }
    if (!sent) {
        // The journal is gone or refused the line: stderr (under systemd, the journal's stream
        // too) with the syslog prefix sd-daemon(3) defines, so the level survives.
        ++m_failed;
        std::fprintf(stderr, "<%d>%.*s\n", priority_of(msg.level), static_cast<int>(text.size()),
                     text.data());
    }
}

} // namespace ulvs::app
