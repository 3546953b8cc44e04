// Readiness and state for a service manager (README "Running as a service"): systemd's notify
// protocol (sd_notify(3)), written here rather than linked from libsystemd: one datagram of
// "KEY=VALUE\n" lines to the unix socket named by $NOTIFY_SOCKET (a path, or an abstract name
// written with a leading '@'). ulvsd sends READY=1 once its ports are up and the first snapshot is
// published, RELOADING=1 + MONOTONIC_USEC at SIGHUP and READY=1 again when the reload is done
// (committed or refused), STOPPING=1 at shutdown, and STATUS= lines with each.
//
// Never per packet, and never blocking the control lcore: the socket is non-blocking and a
// datagram the manager cannot take at once is dropped (counted in dropped()).
//
// Thread safety: one thread (the control lcore) sends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ulvs::app {

class sd_notifier {
public:
    // From $NOTIFY_SOCKET, which is then removed from the environment so that the scripts ulvsd
    // starts do not speak for it. Without the variable (not run by a service manager) every
    // send is a no-op.
    static sd_notifier from_env();
    // To `address` (a path or "@abstract"); empty: disabled.
    explicit sd_notifier(std::string address);
    sd_notifier(sd_notifier&& o) noexcept;
    sd_notifier(const sd_notifier&) = delete;
    sd_notifier& operator=(const sd_notifier&) = delete;
    ~sd_notifier();

    bool enabled() const { return m_fd >= 0; }
    // Sends `state` ("READY=1\nSTATUS=...") as one datagram; false if it was not sent.
    bool send(std::string_view state);
    uint64_t dropped() const { return m_dropped; }

    // The service manager's clock for RELOADING=1: "MONOTONIC_USEC=<CLOCK_MONOTONIC in µs>".
    static std::string monotonic_usec();

private:
    std::string m_address;
    int m_fd = -1;
    uint64_t m_dropped = 0;
};

} // namespace ulvs::app
