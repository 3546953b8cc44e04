// The https probe's stream (stream.h): OpenSSL on the probe's non-blocking socket.
#include "stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace ulvs::ctl::health {

namespace {

// One context for every probe: made once, never freed (it lives as long as the daemon).
SSL_CTX* client_ctx() {
    static SSL_CTX* ctx = [] {
        SSL_CTX* c = SSL_CTX_new(TLS_client_method());
        if (c) {
            // keepalived's SSL_GET verifies nothing unless told to: a health check asks whether
            // the server answers, and real servers often carry self-signed certificates.
            SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
            // Servers that close without close_notify (s_server -www, many others) end the body
            // as EOF does over plain HTTP/1.0.
            SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
        }
        return c;
    }();
    return ctx;
}

std::string ssl_error_text() {
    const unsigned long e = ERR_get_error();
    if (e == 0)
        return errno != 0 ? std::strerror(errno) : "connection closed";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

class tls_stream final : public stream {
public:
    explicit tls_stream(SSL* ssl) : m_ssl(ssl) {}
    ~tls_stream() override { SSL_free(m_ssl); } // no SSL_shutdown: the socket closes next

    io_result handshake() override { return result(SSL_connect(m_ssl)); }
    io_result write(const char* p, size_t n) override {
        return result(SSL_write(m_ssl, p, static_cast<int>(n)));
    }
    io_result read(char* p, size_t n) override {
        return result(SSL_read(m_ssl, p, static_cast<int>(n)));
    }

private:
    // The errors of the calls are read only for the call just made: the queue starts clear.
    io_result result(int r) {
        if (r > 0) {
            ERR_clear_error();
            return {io_state::ok, static_cast<size_t>(r), {}};
        }
        const int e = SSL_get_error(m_ssl, r);
        switch (e) {
        case SSL_ERROR_WANT_READ:
            return {io_state::want_read, 0, {}};
        case SSL_ERROR_WANT_WRITE:
            return {io_state::want_write, 0, {}};
        case SSL_ERROR_ZERO_RETURN:
            return {io_state::eof, 0, {}};
        default: {
            io_result out{io_state::error, 0, "TLS: " + ssl_error_text()};
            ERR_clear_error();
            return out;
        }
        }
    }
    SSL* m_ssl;
};

class plain_stream final : public stream {
public:
    explicit plain_stream(int fd) : m_fd(fd) {}
    io_result write(const char* p, size_t n) override {
        return result(send(m_fd, p, n, MSG_NOSIGNAL), io_state::want_write, "send: ");
    }
    io_result read(char* p, size_t n) override {
        const ssize_t r = recv(m_fd, p, n, 0);
        return r == 0 ? io_result{io_state::eof, 0, {}} : result(r, io_state::want_read, "recv: ");
    }

private:
    static io_result result(ssize_t r, io_state again, const char* what) {
        if (r >= 0)
            return {io_state::ok, static_cast<size_t>(r), {}};
        if (errno == EAGAIN || errno == EINTR)
            return {again, 0, {}};
        return {io_state::error, 0, what + std::string(std::strerror(errno))};
    }
    int m_fd;
};

} // namespace

std::unique_ptr<stream> make_plain_stream(int fd) {
    return std::make_unique<plain_stream>(fd);
}

std::unique_ptr<stream> make_tls_stream(int fd, const std::string& server_name,
                                        std::string& error) {
    SSL_CTX* ctx = client_ctx();
    SSL* ssl = ctx ? SSL_new(ctx) : nullptr;
    if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
        SSL_set_tlsext_host_name(ssl, const_cast<char*>(server_name.c_str())) != 1) {
        error = "TLS setup: " + ssl_error_text();
        SSL_free(ssl);
        return nullptr;
    }
    SSL_set_connect_state(ssl);
    return std::make_unique<tls_stream>(ssl);
}

} // namespace ulvs::ctl::health
