// Byte streams under the http and https probes (probe.cc): the same request and response
// handling runs over a plain non-blocking socket or OpenSSL on it. Every call returns at once;
// want_read/want_write say what the socket must become before the call is repeated (OpenSSL's
// SSL_ERROR_WANT_* are the reason this is not just send/recv).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/control/health/probe.h"

#include <cstddef>
#include <memory>
#include <string>

namespace ulvs::ctl::health {

enum class io_state { ok, want_read, want_write, eof, error };

struct io_result {
    io_state state = io_state::ok;
    size_t n = 0;      // bytes moved when ok
    std::string error; // when error
};

class stream {
public:
    virtual ~stream() = default;
    virtual io_result handshake() { return {}; }
    virtual io_result write(const char* p, size_t n) = 0;
    virtual io_result read(char* p, size_t n) = 0;
};

// The fd stays owned by the caller, which closes it after the stream is gone.
std::unique_ptr<stream> make_plain_stream(int fd);
// TLS client, no certificate verification (keepalived's SSL_GET default), SNI `server_name`.
// Null with `error` set when OpenSSL cannot make the session.
std::unique_ptr<stream> make_tls_stream(int fd, const std::string& server_name, std::string& error);

// udp_probe.cc: keepalived's UDP_CHECK of `t`.
std::unique_ptr<probe> start_udp_probe(const config::health_check_cfg& c, const probe_target& t);
// Bind `fd` to `source` (a check's `source`, keepalived's bindto); 0.0.0.0: nothing to do.
bool bind_source(int fd, ip_addr source, std::string& why);
// A probe that failed before it started.
std::unique_ptr<probe> make_failed_probe(std::string why);

} // namespace ulvs::ctl::health
