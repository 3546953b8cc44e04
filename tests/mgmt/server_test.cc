// The management socket against a table of malformed and misbehaving clients (issue 6,
// acceptance 3): every bad request gets an error reply or its connection closed, and a good
// client is served before, during and after. Runs the real server in-process on a temporary
// socket; time is injected so idle timeouts are tested without waiting. Limits, deadlines,
// credentials and the metrics endpoint (issue 13): server_access_test.cc.
#include "ulvs/mgmt/server.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

namespace ulvs::mgmt {
namespace {

class server_test : public ::testing::Test {
protected:
    void SetUp() override {
        m_path = "/tmp/ulvs-mgmt-test-" + std::to_string(::getpid()) + ".sock";
        server_limits lim;
        lim.idle_ms = 1000;
        lim.request_ms = 1000;
        lim.max_admin = 8;
        lim.max_out = 256 * 1024;
        auto s = server::open(
            m_path, "",
            [this](const json& req, uint64_t) -> json {
                ++m_handled;
                if (req["cmd"] == "throw")
                    throw std::runtime_error("handler bug");
                return make_ok({{"echo", req["cmd"]}});
            },
            nullptr, lim);
        ASSERT_TRUE(s) << s.error();
        m_srv = std::move(*s);
    }
    void TearDown() override {
        for (int fd : m_fds)
            ::close(fd);
        m_srv.reset();
        EXPECT_NE(::access(m_path.c_str(), F_OK), 0) << "socket file left behind";
    }

    int connect_client() {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", m_path.c_str());
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
        m_fds.push_back(fd);
        pump(3);
        return fd;
    }
    void send_all(int fd, const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n > 0)
                off += size_t(n);
            else if (errno == EAGAIN)
                pump(1);
            else
                return; // closed by the server: fine for the too-large case
        }
    }
    void pump(int passes) {
        for (int i = 0; i < passes; ++i) {
            m_srv->poll(m_now);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    // Next reply line, or "EOF" when the server closed, or "" on timeout.
    std::string reply(int fd) {
        std::string& buf = m_bufs[fd];
        for (int i = 0; i < 500; ++i) {
            if (auto nl = buf.find('\n'); nl != std::string::npos) {
                std::string line = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                return line;
            }
            char tmp[4096];
            ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
            if (n > 0)
                buf.append(tmp, size_t(n));
            else if (n == 0)
                return "EOF";
            else
                pump(1);
        }
        return "";
    }
    std::string error_code(int fd) {
        auto r = json::parse(reply(fd), nullptr, false);
        if (r.is_discarded() || !r.contains("error"))
            return "no error reply";
        return r["error"]["code"];
    }
    bool healthy() {
        int fd = connect_client();
        send_all(fd, R"({"v":1,"cmd":"ping"})"
                     "\n");
        auto r = json::parse(reply(fd), nullptr, false);
        return !r.is_discarded() && r.value("ok", false) && r["echo"] == "ping";
    }

    std::string m_path;
    std::unique_ptr<server> m_srv;
    std::vector<int> m_fds;
    std::map<int, std::string> m_bufs;
    uint64_t m_now = 1000;
    int m_handled = 0;
};

TEST_F(server_test, socket_is_private) {
    struct stat st {};
    ASSERT_EQ(::stat(m_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(server_test, malformed_requests_get_typed_errors) {
    struct row {
        std::string line;
        std::string code;
    };
    const row table[] = {
        {"garbage", "bad_request"},
        {"\x01\x02\xff\xfe", "bad_request"},
        {"[1,2,3]", "bad_request"},
        {"\"cmd\"", "bad_request"},
        {"{}", "bad_request"},
        {R"({"cmd":"list"})", "bad_request"},
        {R"({"v":"1","cmd":"list"})", "bad_request"},
        {R"({"v":2,"cmd":"list"})", "unsupported_version"},
        {R"({"v":1})", "bad_request"},
        {R"({"v":1,"cmd":42})", "bad_request"},
        {R"({"v":1,"cmd":"throw"})", "internal"},
        {std::string(R"({"v":1,"cmd":")") + std::string(5000, 'x') + "\"", "bad_request"},
    };
    int fd = connect_client();
    for (const row& r : table) {
        send_all(fd, r.line + "\n");
        EXPECT_EQ(error_code(fd), r.code) << r.line.substr(0, 60);
    }
    // The same connection still works, and so do others.
    send_all(fd, "\n\r\n"
                 R"({"v":1,"cmd":"ping"})"
                 "\r\n");
    EXPECT_NE(reply(fd).find("\"ok\":true"), std::string::npos);
    EXPECT_TRUE(healthy());
}

TEST_F(server_test, pipelined_requests_are_answered_in_order) {
    int fd = connect_client();
    std::string many;
    for (int i = 0; i < 100; ++i)
        many += R"({"v":1,"cmd":"c)" + std::to_string(i) + "\"}\n";
    send_all(fd, many);
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(json::parse(reply(fd))["echo"], "c" + std::to_string(i));
}

TEST_F(server_test, a_long_pipeline_is_not_mistaken_for_a_long_line) {
    // 5000 requests (more than max_line bytes in all, over several rounds) in one go each
    // round: back-pressure keeps them in the socket, every one is answered.
    int fd = connect_client();
    std::string batch;
    for (int i = 0; i < 5000; ++i)
        batch += R"({"v":1,"cmd":"p","pad":")" + std::string(200, 'x') + "\"}\n";
    for (int round = 0; round < 3; ++round) {
        send_all(fd, batch);
        for (int i = 0; i < 5000; ++i)
            ASSERT_EQ(json::parse(reply(fd))["echo"], "p") << round << " " << i;
    }
}

TEST_F(server_test, oversized_line_is_refused_and_closed) {
    int fd = connect_client();
    send_all(fd, std::string(max_line + 100, 'a')); // no newline ever
    EXPECT_EQ(error_code(fd), "too_large");
    EXPECT_EQ(reply(fd), "EOF");
    EXPECT_TRUE(healthy());
}

TEST_F(server_test, half_closed_client_still_gets_its_replies) {
    int fd = connect_client();
    send_all(fd, R"({"v":1,"cmd":"a"})"
                 "\n"
                 R"({"v":1,"cmd":"b"})"); // last one unterminated
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(json::parse(reply(fd))["echo"], "a");
    EXPECT_EQ(json::parse(reply(fd))["echo"], "b");
    EXPECT_EQ(reply(fd), "EOF");
}

TEST_F(server_test, idle_and_partial_clients_are_closed_after_the_timeout) {
    int idle = connect_client();
    int partial = connect_client();
    send_all(partial, R"({"v":1,"cm)");
    pump(5);
    EXPECT_EQ(m_srv->clients(), 2u);
    m_now += 1001;
    pump(5);
    EXPECT_EQ(m_srv->clients(), 0u);
    EXPECT_EQ(reply(idle), "EOF");
    EXPECT_EQ(reply(partial), "EOF");
    EXPECT_TRUE(healthy());
}

TEST_F(server_test, a_client_that_never_reads_is_dropped_not_waited_for) {
    int stuck = connect_client();
    std::string burst;
    for (int i = 0; i < 2000; ++i)
        burst += R"({"v":1,"cmd":"a-long-command-name-to-make-replies-bigger-xxxxxxxxxxxxxxxxx"})"
                 "\n";
    // Never reads: replies pile up past max_out (kernel buffers fill first).
    for (int round = 0; round < 50 && m_srv->clients() > 0; ++round) {
        send_all(stuck, burst);
        pump(5);
    }
    EXPECT_EQ(m_srv->clients(), 0u);
    EXPECT_TRUE(healthy());
}

TEST_F(server_test, many_admin_clients_at_once_and_a_limit) {
    std::vector<int> fds;
    for (int i = 0; i < 8; ++i)
        fds.push_back(connect_client());
    int extra = connect_client(); // the 9th: over max_clients, closed at once
    EXPECT_EQ(reply(extra), "EOF");
    for (int fd : fds)
        send_all(fd, R"({"v":1,"cmd":"x"})"
                     "\n");
    for (int fd : fds)
        EXPECT_EQ(json::parse(reply(fd))["echo"], "x");
}

TEST(server_open, refuses_a_live_socket_and_replaces_a_stale_one) {
    const std::string path = "/tmp/ulvs-mgmt-open-" + std::to_string(::getpid()) + ".sock";
    auto echo = [](const json&, uint64_t) { return make_ok(); };
    {
        auto a = server::open(path, "", echo, nullptr);
        ASSERT_TRUE(a) << a.error();
        auto b = server::open(path, "", echo, nullptr);
        ASSERT_FALSE(b);
        EXPECT_NE(b.error().find("another process"), std::string::npos);
    }
    // A stale socket file (its server gone without unlinking) is replaced.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);
    auto c = server::open(path, "", echo, nullptr);
    EXPECT_TRUE(c) << (c ? "" : c.error());
}

TEST(server_open, refuses_a_bad_metrics_address) {
    auto echo = [](const json&, uint64_t) { return make_ok(); };
    auto s = server::open("/tmp/ulvs-mgmt-m-" + std::to_string(::getpid()) + ".sock", "localhost",
                          echo, nullptr);
    EXPECT_FALSE(s);
}

TEST(server_open, metrics_binds_where_the_user_says_and_empty_disables) {
    auto echo = [](const json&, uint64_t) { return make_ok(); };
    const std::string path = "/tmp/ulvs-mgmt-b-" + std::to_string(::getpid()) + ".sock";
    for (const char* addr : {"0.0.0.0:0", "127.0.0.1:0", "localhost:0"}) {
        auto s = server::open(path, addr, echo, nullptr);
        ASSERT_TRUE(s) << addr << ": " << s.error();
        EXPECT_NE((*s)->metrics_port(), 0) << addr;
    }
    auto none = server::open(path, "", echo, nullptr);
    ASSERT_TRUE(none);
    EXPECT_EQ((*none)->metrics_port(), 0);
    none->reset();
    // Not an address of this host: refused at start, with the reason.
    auto far = server::open(path, "192.0.2.1:9145", echo, nullptr);
    ASSERT_FALSE(far);
    EXPECT_NE(far.error().find("192.0.2.1:9145"), std::string::npos) << far.error();
}

} // namespace
} // namespace ulvs::mgmt
