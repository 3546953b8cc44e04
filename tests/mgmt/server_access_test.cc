// Who may use the management server, and how long (issue 13, server.h): admin and metrics
// clients have separate limits, a request is due within request_ms whatever a client trickles,
// the unix socket serves only root and management.group (credentials checked per connection,
// clients run as `nobody` in forked children), the metrics endpoint serves only GET /metrics, and
// every change is audited with the peer's uid (issue 16). The server runs in-process; time is
// injected.
#include "ulvs/mgmt/audit.h"
#include "ulvs/mgmt/server.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace ulvs::mgmt {
namespace {

constexpr uid_t nobody = 65534;
constexpr gid_t nogroup = 65534;
constexpr gid_t admin_gid = 4242; // a group nobody is in unless a test puts it there

class access_test : public ::testing::Test {
protected:
    void open_server(server_access access = {}) {
        m_path = "/tmp/ulvs-mgmt-access-" + std::to_string(::getpid()) + ".sock";
        server_limits lim;
        lim.max_admin = 4;
        auto s = server::open(
            m_path, "127.0.0.1:0",
            [this](const json& req, uint64_t) -> handler_result {
                ++m_handled;
                if (req["cmd"] == "clear") // as the manager's changes: answered a few passes later
                    return deferred_reply([n = 0](uint64_t) mutable -> std::optional<json> {
                        if (++n < 3)
                            return std::nullopt;
                        return make_ok({{"echo", "clear"}});
                    });
                return make_ok({{"echo", req["cmd"]}});
            },
            [](uint64_t) { return std::string("ulvs_up 1\n"); }, lim, access);
        ASSERT_TRUE(s) << s.error();
        m_srv = std::move(*s);
    }
    void TearDown() override {
        for (int fd : m_fds)
            ::close(fd);
        m_srv.reset();
    }
    void pump(int passes = 1) {
        for (int i = 0; i < passes; ++i) {
            m_srv->poll(m_now);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    int track(int fd) {
        m_fds.push_back(fd);
        return fd;
    }
    int connect_unix() {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", m_path.c_str());
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        pump(2);
        return track(fd);
    }
    int connect_metrics() {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(m_srv->metrics_port());
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa); // EINPROGRESS at most
        return track(fd);
    }
    // Everything the server sends until it closes ("...EOF"), or what came within `passes`.
    std::string read_to_eof(int fd, int passes = 2000) {
        std::string out;
        for (int i = 0; i < passes; ++i) {
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0)
                out.append(buf, size_t(n));
            else if (n == 0 || (n < 0 && errno != EAGAIN)) // ECONNRESET: closed unread
                return out + "EOF";
            else
                pump();
        }
        return out;
    }
    bool ping(int fd) {
        const std::string req = R"({"v":1,"cmd":"ping"})"
                                "\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size()))
            return false;
        std::string got;
        for (int i = 0; i < 2000 && got.find('\n') == std::string::npos; ++i) {
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0)
                got.append(buf, size_t(n));
            else if (n == 0)
                return false;
            else
                pump();
        }
        return got.find(R"("echo":"ping")") != std::string::npos;
    }
    // Runs `client` in a forked child with the given credentials while this process serves;
    // returns the child's exit status (0: its expectations held).
    int as_user(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::function<int()>& fn) {
        pid_t pid = ::fork();
        if (pid == 0) {
            if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                ::setresuid(uid, uid, uid) != 0)
                ::_exit(100);
            ::_exit(fn());
        }
        int status = 0;
        for (int i = 0; i < 20000; ++i) {
            pump();
            if (::waitpid(pid, &status, WNOHANG) == pid)
                return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return 201;
    }
    // In a child: connect, send a ping and a change, read until EOF (3 s at most).
    static std::string child_exchange(const std::string& path, int& connect_errno) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        connect_errno = 0;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            connect_errno = errno;
            return "";
        }
        timeval tv{3, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const std::string req = R"({"v":1,"cmd":"ping"})"
                                "\n"
                                R"({"v":1,"cmd":"clear"})"
                                "\n";
        ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR); // served clients are then closed after their replies
        std::string out;
        for (;;) {
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            // A server that closes with our request unread makes the kernel report ECONNRESET
            // after the data it sent: a close all the same.
            if (n <= 0)
                return out + (n == 0 || errno == ECONNRESET ? "EOF" : "TIMEOUT");
            out.append(buf, size_t(n));
        }
    }

    std::string m_path;
    std::unique_ptr<server> m_srv;
    std::vector<int> m_fds;
    uint64_t m_now = 1000;
    int m_handled = 0;
};

// Issue 13's lock-out: metrics clients filled the shared pool (64) and root's ulvsadm got EOF.
TEST_F(access_test, metrics_connections_never_take_an_admin_slot) {
    open_server();
    std::vector<int> metrics;
    for (int i = 0; i < 300; ++i) {
        metrics.push_back(connect_metrics());
        if (i % 8 == 0)
            pump();
    }
    pump(100);
    EXPECT_EQ(m_srv->metrics_clients(), 256u); // the rest were closed at once
    // 50 of them trickle a byte now and then: nothing changes for admin clients.
    for (int i = 0; i < 50; ++i)
        ::send(metrics[size_t(i)], "G", 1, MSG_NOSIGNAL);
    std::vector<int> admins;
    for (int i = 0; i < 4; ++i)
        admins.push_back(connect_unix());
    EXPECT_EQ(m_srv->admin_clients(), 4u);
    for (int fd : admins)
        EXPECT_TRUE(ping(fd));
    // The admin pool has its own limit: a fifth admin client is closed, metrics or not.
    EXPECT_EQ(read_to_eof(connect_unix(), 200), "EOF");
}

TEST_F(access_test, trickling_clients_are_closed_at_the_request_deadline) {
    open_server();
    int admin = connect_unix();
    int metrics = connect_metrics();
    pump(20);
    ASSERT_EQ(m_srv->clients(), 2u);
    const std::string half_json = R"({"v":1,"cmd":"pi)";
    const std::string half_http = "GET /metrics HT";
    // One byte a second, never a whole request: closed 5 s after connecting, not later.
    for (size_t i = 0; i < 4; ++i) {
        m_now += 1000;
        ::send(admin, &half_json[i], 1, MSG_NOSIGNAL);
        ::send(metrics, &half_http[i], 1, MSG_NOSIGNAL);
        pump(20);
        ASSERT_EQ(m_srv->clients(), 2u) << "closed after " << i + 1 << " s";
    }
    m_now += 1001;
    ::send(admin, &half_json[4], 1, MSG_NOSIGNAL);
    ::send(metrics, &half_http[4], 1, MSG_NOSIGNAL);
    pump(20);
    EXPECT_EQ(m_srv->clients(), 0u);
    EXPECT_EQ(read_to_eof(admin, 100), "EOF");
    EXPECT_EQ(read_to_eof(metrics, 100), "EOF");
}

TEST_F(access_test, an_admin_client_has_request_ms_after_each_reply) {
    open_server();
    int fd = connect_unix();
    m_now += 4000;
    ASSERT_TRUE(ping(fd)); // at 4 s: in time, and the next request is due by 9 s
    m_now += 4500;
    pump(20);
    EXPECT_EQ(m_srv->admin_clients(), 1u);
    m_now += 600;
    pump(20);
    EXPECT_EQ(m_srv->admin_clients(), 0u);
}

TEST_F(access_test, nobody_gets_permission_denied_and_nothing_else) {
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    auto old = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("t", sink));
    open_server();
    struct stat st {};
    ASSERT_EQ(::stat(m_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // A socket file loosened by hand (or a directory others can reach) must not open the door:
    // the peer's credentials are checked on every connection.
    ASSERT_EQ(::chmod(m_path.c_str(), 0666), 0);
    const std::string path = m_path;
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(as_user(nobody, nogroup, {},
                          [&] {
                              int err = 0;
                              const std::string out = child_exchange(path, err);
                              const bool ok =
                                  out.starts_with(R"({"error":{"code":"permission_denied")") &&
                                  out.ends_with("}\nEOF") &&
                                  std::count(out.begin(), out.end(), '\n') == 1;
                              if (!ok)
                                  std::fprintf(stderr, "nobody got: %s (errno %d)\n", out.c_str(),
                                               err);
                              return ok ? 0 : 1;
                          }),
                  0);
    }
    EXPECT_EQ(m_handled, 0) << "a request of nobody's was served";
    EXPECT_EQ(m_srv->clients(), 0u);
    // Logged once for the uid, not once per connection.
    const std::string text = log.str();
    size_t n = 0;
    for (size_t p = text.find("uid 65534"); p != std::string::npos;
         p = text.find("uid 65534", p + 1))
        ++n;
    EXPECT_EQ(n, 1u) << text;
    spdlog::set_default_logger(old);
    // Root is served as before.
    EXPECT_TRUE(ping(connect_unix()));
}

TEST_F(access_test, members_of_management_group_are_served) {
    open_server({.group = admin_gid});
    struct stat st {};
    ASSERT_EQ(::stat(m_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_gid, admin_gid);
    const std::string path = m_path;
    auto served = [&] {
        int err = 0;
        const std::string out = child_exchange(path, err);
        const bool ok = out.find(R"("echo":"ping")") != std::string::npos &&
                        out.find(R"("echo":"clear")") != std::string::npos;
        if (!ok)
            std::fprintf(stderr, "member got: %s (errno %d)\n", out.c_str(), err);
        return ok ? 0 : 1;
    };
    EXPECT_EQ(as_user(nobody, admin_gid, {}, served), 0) << "primary group";
    EXPECT_EQ(as_user(nobody, nogroup, {admin_gid}, served), 0) << "supplementary group";
    EXPECT_EQ(m_handled, 4);
    // Not a member: the file's mode keeps it out (connect fails), and if not, the credentials do.
    EXPECT_EQ(as_user(nobody, nogroup, {},
                      [&] {
                          int err = 0;
                          const std::string out = child_exchange(path, err);
                          return err == EACCES ? 0 : 1;
                      }),
              0);
    ASSERT_EQ(::chmod(m_path.c_str(), 0666), 0);
    EXPECT_EQ(as_user(nobody, nogroup, {},
                      [&] {
                          int err = 0;
                          const std::string out = child_exchange(path, err);
                          return out.find("permission_denied") != std::string::npos &&
                                         out.find("echo") == std::string::npos
                                     ? 0
                                     : 1;
                      }),
              0);
    EXPECT_EQ(m_handled, 4);
}

TEST_F(access_test, metrics_serves_only_get_metrics) {
    open_server();
    struct row {
        std::string request;
        std::string status;
    };
    const row table[] = {
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 200 OK"},
        {"GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK"},
        {"GET /metrics?name=x HTTP/1.1\r\n\r\n", "HTTP/1.0 200 OK"},
        {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.0 405 "},
        {"HEAD /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 405 "},
        {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.0 404 "},
        {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.0 404 "},
        {"GET /metrics\r\n\r\n", "HTTP/1.0 400 "},
        {"GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.0 400 "},
        {"get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.0 400 "},
        {"\x16\x03\x01\x02\x01\x01\r\n\r\n", "HTTP/1.0 400 "}, // a TLS hello
        {"GET /metrics HTTP/1.1\r\nX: " + std::string(5000, 'a') + "\r\n\r\n", "HTTP/1.0 431 "},
        {"GET /metrics HTTP/1.1\r\nX: " + std::string(100000, 'a'), "HTTP/1.0 431 "},
    };
    for (const row& r : table) {
        int fd = connect_metrics();
        pump(5);
        size_t off = 0;
        for (int i = 0; i < 2000 && off < r.request.size(); ++i) {
            ssize_t n = ::send(fd, r.request.data() + off, r.request.size() - off, MSG_NOSIGNAL);
            if (n > 0)
                off += size_t(n);
            else if (n < 0 && errno != EAGAIN)
                break; // closed by the server (the oversized head)
            pump();
        }
        const std::string out = read_to_eof(fd);
        EXPECT_TRUE(out.starts_with(r.status))
            << r.request.substr(0, 40) << " -> " << out.substr(0, 60);
        EXPECT_TRUE(out.ends_with("EOF")) << r.request.substr(0, 40);
        const bool ok = r.status.find(" 200") != std::string::npos;
        EXPECT_EQ(out.find("ulvs_up 1") != std::string::npos, ok) << r.request.substr(0, 40);
    }
    EXPECT_EQ(m_srv->metrics_clients(), 0u);
}

TEST_F(access_test, changes_are_audited_with_the_peers_uid) {
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    auto old = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("t", sink));
    open_server();
    int fd = connect_unix();
    const std::string req =
        R"({"v":1,"cmd":"add_dest","service":{"proto":"tcp","vip":"203.0.113.100","port":80},)"
        R"("dest":{"addr":"198.51.100.11","port":80},"fwd":"nat","weight":1,"upper":0,"lower":0})"
        "\n"
        R"({"v":1,"cmd":"list"})"
        "\n"
        R"({"v":1,"cmd":"clear"})"
        "\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    pump(20);
    spdlog::set_default_logger(old);
    const std::string text = log.str();
    EXPECT_NE(
        text.find("[info] audit: uid 0: -a -t 203.0.113.100:80 -r 198.51.100.11:80 -m -w 1\n"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("audit: uid 0: list"), std::string::npos) << "a listing is no change";
    EXPECT_NE(text.find("[info] audit: uid 0: -C\n"), std::string::npos) << "a deferred change";
    size_t n = 0;
    for (size_t p = text.find("audit:"); p != std::string::npos; p = text.find("audit:", p + 1))
        ++n;
    EXPECT_EQ(n, 2u) << text;
}

TEST(audit_text, ipvsadm_words_for_every_change) {
    const json svc = {{"proto", "udp"}, {"vip", "203.0.113.100"}, {"port", 53}};
    struct row {
        json req;
        std::vector<std::string> want;
    };
    const std::vector<row> table = {
        {{{"cmd", "add_service"},
          {"service", svc},
          {"scheduler", "wrr"},
          {"flags", json::array()},
          {"persistent", 50},
          {"netmask", "255.255.255.0"}},
         {"-A -u 203.0.113.100:53 -s wrr -p 50 -M 255.255.255.0"}},
        {{{"cmd", "edit_service"}, {"service", svc}, {"scheduler", "sh"}, {"flags", {"sh-port"}}},
         {"-E -u 203.0.113.100:53 -s sh -b sh-port"}},
        {{{"cmd", "del_service"}, {"service", svc}}, {"-D -u 203.0.113.100:53"}},
        {{{"cmd", "edit_dest"},
          {"service", svc},
          {"dest", {{"addr", "198.51.100.12"}, {"port", 53}}},
          {"fwd", "tun"},
          {"weight", 0},
          {"upper", 10},
          {"lower", 2}},
         {"-e -u 203.0.113.100:53 -r 198.51.100.12:53 -i -w 0 -x 10 -y 2"}},
        {{{"cmd", "del_dest"},
          {"service", svc},
          {"dest", {{"addr", "198.51.100.12"}, {"port", 53}}}},
         {"-d -u 203.0.113.100:53 -r 198.51.100.12:53"}},
        {{{"cmd", "clear"}}, {"-C"}},
        {{{"cmd", "zero"}}, {"-Z"}},
        {{{"cmd", "set_timeouts"}, {"tcp", 900}, {"tcpfin", 120}, {"udp", 300}},
         {"--set 900 120 300"}},
        {{{"cmd", "reload"}}, {"reload"}},
        {{{"cmd", "drain"}}, {"drain"}},
        {{{"cmd", "undrain"}, {"vip", "203.0.113.100"}}, {"undrain 203.0.113.100"}},
        {{{"cmd", "save_yaml"}, {"write", true}}, {"save-yaml --write"}}, // rewrites the file
        {{{"cmd", "save_yaml"}}, {}},                                     // prints only
        {{{"cmd", "batch"},
          {"ops", {{{"cmd", "clear"}}, {{"cmd", "del_service"}, {"service", svc}}}}},
         {"-R: -C", "-R: -D -u 203.0.113.100:53"}},
        {{{"cmd", "list"}}, {}},
        {{{"cmd", "connections"}}, {}},
        {{{"cmd", "add_dest"}, {"service", 7}, {"dest", "x"}}, {"-a -t ? -r ?"}},
    };
    for (const row& r : table)
        EXPECT_EQ(audit_text(r.req), r.want) << r.req.dump();
}

} // namespace
} // namespace ulvs::mgmt
