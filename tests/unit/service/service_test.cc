// ulvsd under a service manager (issue 15): the sd_notify datagrams (path and abstract sockets,
// never blocking) and the journal's native records, each read from a socket this test binds.
#include "journal_sink.h"
#include "sd_notify.h"

#include <spdlog/logger.h>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

namespace {

using ulvs::app::journal_sink;
using ulvs::app::sd_notifier;

// A datagram socket bound to `address` (a path, or "@name" for the abstract namespace).
struct receiver {
    int fd = -1;
    std::string address;
    explicit receiver(std::string a) : address(std::move(a)) {
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, address.data(), address.size());
        if (address[0] == '@')
            sa.sun_path[0] = '\0';
        else
            ::unlink(address.c_str());
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
        timeval tv{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~receiver() {
        ::close(fd);
        if (address[0] != '@')
            ::unlink(address.c_str());
    }
    std::string recv() {
        std::string buf(256 * 1024, '\0');
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        buf.resize(n > 0 ? size_t(n) : 0);
        return buf;
    }
};

std::string temp_path(const char* what) {
    return "/tmp/ulvs-service-test-" + std::to_string(::getpid()) + "-" + what;
}

TEST(SdNotify, SendsToAPathSocket) {
    receiver r(temp_path("notify"));
    sd_notifier n(r.address);
    ASSERT_TRUE(n.enabled());
    EXPECT_TRUE(n.send("READY=1\nSTATUS=running"));
    EXPECT_EQ(r.recv(), "READY=1\nSTATUS=running");
}

TEST(SdNotify, SendsToAnAbstractSocket) {
    receiver r("@ulvs-service-test-" + std::to_string(::getpid()));
    sd_notifier n(r.address);
    EXPECT_TRUE(n.send("RELOADING=1\n" + sd_notifier::monotonic_usec()));
    const std::string got = r.recv();
    EXPECT_TRUE(got.starts_with("RELOADING=1\nMONOTONIC_USEC=")) << got;
    EXPECT_GT(std::stoull(got.substr(got.find('=', 12) + 1)), 0u);
}

TEST(SdNotify, FromEnvTakesTheVariableOutOfTheEnvironment) {
    receiver r(temp_path("env"));
    ::setenv("NOTIFY_SOCKET", r.address.c_str(), 1);
    sd_notifier n = sd_notifier::from_env();
    EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr); // scripts we start do not inherit it
    EXPECT_TRUE(n.send("STOPPING=1"));
    EXPECT_EQ(r.recv(), "STOPPING=1");
    // Not under a service manager: disabled, sends nothing.
    sd_notifier none = sd_notifier::from_env();
    EXPECT_FALSE(none.enabled());
    EXPECT_FALSE(none.send("READY=1"));
}

TEST(SdNotify, AFullManagerQueueDropsInsteadOfBlocking) {
    receiver r(temp_path("full")); // never read until the end
    sd_notifier n(r.address);
    const auto t0 = std::chrono::steady_clock::now();
    int sent = 0;
    for (int i = 0; i < 5000; ++i)
        sent += n.send("STATUS=" + std::string(1000, 'x'));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(sent, 5000);
    EXPECT_EQ(n.dropped(), uint64_t(5000 - sent));
    EXPECT_LT(took, std::chrono::seconds(1)); // a blocking send would wait for a reader forever
}

TEST(SdNotify, NoManagerGoneSocketIsNotAnError) {
    sd_notifier n(temp_path("nobody"));
    EXPECT_FALSE(n.send("READY=1"));
    EXPECT_EQ(n.dropped(), 1u);
}

// Parses a native journal datagram into its fields (text and binary forms).
std::map<std::string, std::string> fields(const std::string& d) {
    std::map<std::string, std::string> out;
    size_t i = 0;
    while (i < d.size()) {
        const size_t nl = d.find('\n', i);
        const std::string line = d.substr(i, nl - i);
        if (const size_t eq = line.find('='); eq != std::string::npos) {
            out[line.substr(0, eq)] = line.substr(eq + 1);
            i = nl + 1;
        } else {
            uint64_t n = 0;
            for (int b = 7; b >= 0; --b)
                n = n << 8 | uint8_t(d[nl + 1 + b]);
            out[line] = d.substr(nl + 9, n);
            EXPECT_EQ(d[nl + 9 + n], '\n');
            i = nl + 10 + n;
        }
    }
    return out;
}

TEST(JournalSink, StructuredRecordsOnTheNativeSocket) {
    receiver r(temp_path("journal"));
    auto sink = std::make_shared<journal_sink>(r.address);
    spdlog::logger log("test", sink);
    log.set_level(spdlog::level::trace);
    log.info("audit: uid 0: -A -t 203.0.113.100:80 -s rr");
    auto f = fields(r.recv());
    EXPECT_EQ(f["PRIORITY"], "6");
    EXPECT_EQ(f["SYSLOG_IDENTIFIER"], "ulvsd");
    EXPECT_EQ(f["ULVS_COMPONENT"], "audit");
    EXPECT_EQ(f["ULVS_LEVEL"], "info");
    EXPECT_EQ(f["MESSAGE"], "audit: uid 0: -A -t 203.0.113.100:80 -s rr");

    log.warn("a line\nwith a newline and no topic");
    f = fields(r.recv());
    EXPECT_EQ(f["PRIORITY"], "4");
    EXPECT_EQ(f["ULVS_COMPONENT"], "ulvsd");
    EXPECT_EQ(f["MESSAGE"], "a line\nwith a newline and no topic");

    log.error("reload refused: /etc/ulvs/ulvs.yaml:3:1: error: x");
    f = fields(r.recv());
    EXPECT_EQ(f["PRIORITY"], "3");
    EXPECT_EQ(f["ULVS_COMPONENT"], "reload refused");
    log.debug("EAL arguments: -l 0,1");
    EXPECT_EQ(fields(r.recv())["PRIORITY"], "7");
    log.critical("port wan: gone");
    f = fields(r.recv());
    EXPECT_EQ(f["PRIORITY"], "2");
    EXPECT_EQ(f["ULVS_COMPONENT"], "port wan");
    EXPECT_EQ(sink->failed(), 0u);
}

TEST(JournalSink, NoJournalFallsBackToStderr) {
    auto sink = std::make_shared<journal_sink>(temp_path("no-journal"));
    spdlog::logger log("test", sink);
    testing::internal::CaptureStderr();
    log.warn("management: x");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "<4>management: x\n");
    EXPECT_EQ(sink->failed(), 1u);
}

TEST(JournalSink, Component) {
    using ulvs::app::log_component;
    EXPECT_EQ(log_component("management socket /run/ulvs/ulvsd.sock"), "ulvsd");
    EXPECT_EQ(log_component("port lan: net_null1 driver"), "port lan");
    EXPECT_EQ(log_component("/etc/ulvs/x.yaml:1:2: error"), "ulvsd"); // not a topic
    EXPECT_EQ(log_component(": x"), "ulvsd");
}

TEST(JournalStream, MatchesStderrsDeviceAndInode) {
    const std::string p = temp_path("stream");
    FILE* f = std::fopen(p.c_str(), "w");
    ASSERT_NE(f, nullptr);
    struct stat st {};
    ASSERT_EQ(::fstat(fileno(f), &st), 0);
    ::setenv("JOURNAL_STREAM",
             (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
    EXPECT_TRUE(ulvs::app::stderr_is_journal(fileno(f)));
    // stderr is not that file: systemd's variable inherited by a shell started from a unit.
    EXPECT_FALSE(ulvs::app::stderr_is_journal(2));
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    EXPECT_FALSE(ulvs::app::stderr_is_journal(fileno(f)));
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(ulvs::app::stderr_is_journal(fileno(f)));
    std::fclose(f);
    ::unlink(p.c_str());
}

} // namespace
