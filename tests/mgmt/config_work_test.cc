// Config changes and reloads through the manager (issue 13: nothing on the control lcore blocks):
// their YAML work runs off the control lcore (mgmt/config_jobs.h), so a reload whose file cannot
// be read yet (here: a FIFO nobody writes) leaves handle() and poll() returning at once, while
// other requests are answered; the reply comes in a later poll, and the changes queued behind it
// apply in arrival order. On the old code reload() read the file inline: this test hung in its
// first poll and failed by its meson timeout.
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/mgmt/config_jobs.h"
#include "ulvs/mgmt/manager.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 64}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
)";

// The reloaded file: one more virtual server.
constexpr const char* reloaded = R"(
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 53}
)";

class config_work : public ::testing::Test {
protected:
    std::string dir;
    std::string path;
    config::config cfg;
    std::unique_ptr<test::rig> r;
    dp::publisher pub{1};
    std::unique_ptr<mgmt::manager> mgr;
    uint64_t now = 1000;

    void SetUp() override {
        char tmpl[] = "/tmp/ulvs_config_work_XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/ulvs.yaml";
        ASSERT_EQ(mkfifo(path.c_str(), 0600), 0); // a reload's read blocks until it is written
        auto loaded = config::load_string(yaml, path);
        ASSERT_TRUE(loaded.has_value());
        cfg = *loaded;
        cfg.path = path;
        r = std::make_unique<test::rig>(cfg, 1000);
        ASSERT_TRUE(r->ok()) << r->error();
        pub.publish(std::move(*ctl::build_snapshot(cfg, r->neigh(), r->ids())));
        r->neigh().published(*pub.current());
        r->ids().published(*pub.current());
        mgmt::manager_deps deps;
        deps.neigh = &r->neigh();
        deps.neigh_table = &r->table();
        deps.ids = &r->ids();
        deps.pub = &pub;
        deps.workers = {&r->worker()};
        mgr = std::make_unique<mgmt::manager>(cfg, deps, now);
    }
    void TearDown() override {
        // Unblock a reader still waiting on the FIFO so the job thread ends.
        const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0)
            close(fd);
        mgr.reset();
        unlink(path.c_str());
        rmdir(dir.c_str());
    }

    mgmt::deferred_reply deferred(const mgmt::json& req) {
        auto h = mgr->handle(req, now);
        EXPECT_TRUE(std::holds_alternative<mgmt::deferred_reply>(h)) << "answered at once";
        return std::holds_alternative<mgmt::deferred_reply>(h) ? std::get<mgmt::deferred_reply>(h)
                                                               : mgmt::deferred_reply();
    }
    std::optional<mgmt::json> wait(mgmt::deferred_reply& d) {
        for (int i = 0; i < 5000; ++i) {
            mgr->poll(now);
            if (auto j = d(now))
                return j;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return std::nullopt;
    }
    size_t services() {
        auto l = std::get<mgmt::json>(mgr->handle({{"cmd", "list"}}, now));
        return l["services"].size();
    }
};

mgmt::json add_service(int port) {
    return {{"cmd", "add_service"},
            {"service", {{"proto", "tcp"}, {"vip", "203.0.113.100"}, {"port", port}}},
            {"scheduler", "wlc"}};
}

TEST_F(config_work, a_reload_that_cannot_read_its_file_yet_does_not_hold_the_lcore) {
    auto reload = deferred({{"cmd", "reload"}});
    auto change = deferred(add_service(443)); // queued behind the reload
    for (int i = 0; i < 50; ++i) {
        mgr->poll(now); // returns although the file is not readable yet
        EXPECT_FALSE(reload(now).has_value());
        EXPECT_FALSE(change(now).has_value());
    }
    // Other requests are served meanwhile, from the running config.
    EXPECT_EQ(services(), 1u);

    std::ofstream(path) << yaml << reloaded; // the job's read completes
    auto r1 = wait(reload);
    ASSERT_TRUE(r1.has_value()) << "the reload never completed";
    EXPECT_TRUE(r1->value("ok", false)) << r1->dump();
    auto r2 = wait(change);
    ASSERT_TRUE(r2.has_value()) << "the change queued behind it never completed";
    EXPECT_TRUE(r2->value("ok", false)) << r2->dump();
    // In arrival order: the reload's two services, then the added one.
    EXPECT_EQ(services(), 3u);
}

TEST_F(config_work, a_refused_reload_keeps_the_running_config_and_says_why) {
    auto reload = deferred({{"cmd", "reload"}});
    mgr->poll(now); // starts the job, whose open() of the FIFO lets the write below proceed
    std::ofstream(path) << yaml << "  - name: [broken\n";
    auto r1 = wait(reload);
    ASSERT_TRUE(r1.has_value());
    EXPECT_FALSE(r1->value("ok", true));
    EXPECT_EQ((*r1)["error"].value("code", ""), "invalid");
    EXPECT_FALSE((*r1)["error"].value("details", mgmt::json::array()).empty()) << r1->dump();
    EXPECT_EQ(services(), 1u);
}

// Issue 16: a refused reload showed only in the log. The metrics count reloads by outcome, and
// show when the last good one was and the digest of the file in force.
TEST_F(config_work, reload_metrics_move_on_a_refused_and_an_accepted_reload) {
    auto sample = [&](const std::string& name) -> std::string {
        const std::string page = mgr->metrics(now);
        const auto at = page.find("\n" + name + " ");
        if (at == std::string::npos)
            return "absent";
        const auto value = at + 1 + name.size() + 1;
        return page.substr(value, page.find('\n', value) - value);
    };
    EXPECT_EQ(sample("ulvs_config_reloads_total{outcome=\"invalid\"}"), "0");
    EXPECT_EQ(sample("ulvs_config_last_reload_success_timestamp_seconds"), "0");

    auto refused = deferred({{"cmd", "reload"}});
    mgr->poll(now);
    std::ofstream(path) << "virtual_servers: [\n";
    ASSERT_TRUE(wait(refused).has_value());
    EXPECT_EQ(sample("ulvs_config_reloads_total{outcome=\"invalid\"}"), "1");
    EXPECT_EQ(sample("ulvs_config_reloads_total{outcome=\"ok\"}"), "0");
    EXPECT_EQ(sample("ulvs_config_last_reload_success_timestamp_seconds"), "0");

    auto accepted = deferred({{"cmd", "reload"}});
    mgr->poll(now);
    const std::string text = std::string(yaml) + reloaded;
    std::ofstream(path) << text;
    ASSERT_TRUE(wait(accepted).has_value());
    EXPECT_EQ(sample("ulvs_config_reloads_total{outcome=\"ok\"}"), "1");
    EXPECT_EQ(sample("ulvs_config_reloads_total{outcome=\"invalid\"}"), "1");
    const long long at = std::stoll(sample("ulvs_config_last_reload_success_timestamp_seconds"));
    EXPECT_NEAR(at,
                std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count(),
                60);
    // FIPS 180-2's example, as `printf abc | sha256sum` prints it.
    EXPECT_EQ(mgmt::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const std::string page = mgr->metrics(now);
    EXPECT_NE(page.find("sha256=\"" + mgmt::sha256_hex(text) + "\"} 1"), std::string::npos)
        << page.substr(page.find("ulvs_config_info"));
}

TEST_F(config_work, a_change_that_does_not_apply_is_answered_in_the_next_poll) {
    mgmt::json del = {{"cmd", "del_service"},
                      {"service", {{"proto", "tcp"}, {"vip", "203.0.113.100"}, {"port", 8080}}}};
    auto d = deferred(del);
    mgr->poll(now);
    auto r1 = d(now);
    ASSERT_TRUE(r1.has_value());
    EXPECT_FALSE(r1->value("ok", true)) << r1->dump();
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!ulvs::test::init_eal("config_work_test", 256))
        return 1;
    return RUN_ALL_TESTS();
}
