// misc checks (control/health/probe.h): keepalived's exit-code semantics, and the child
// process they run in (proc/children.h): no inherited descriptor, its own process group, and an
// abort that never waits for the child to die.
#include "ulvs/config/load.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/health/probe.h"
#include "ulvs/control/proc/children.h"

#include "split_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ulvs::ctl::health {
namespace {

using namespace std::chrono_literals;

struct outcome {
    probe_status st;
    std::optional<uint32_t> weight;
};

outcome run(const std::string& cmd, bool dynamic) {
    config::health_check_cfg c;
    c.type = config::check_type::misc;
    c.dynamic = dynamic;
    c.path = cmd;
    auto p = start_probe(c, {});
    probe_status st = probe_status::running;
    for (int i = 0; i < 2500 && st == probe_status::running; ++i) {
        st = p->poll_child();
        usleep(2000);
    }
    return {st, p->weight()};
}

std::string exit_with(int code) {
    return "sh -c 'exit " + std::to_string(code) + "'";
}

// keepalived.conf(5), SCRIPTS: "(c) LVS checker misc scripts that will cause a real server to
// be configured down if they exit with a non-zero status." Without misc_dynamic, then, only 0
// is up.
TEST(misc_exit, without_dynamic_0_is_up) {
    auto r = run(exit_with(0), false);
    EXPECT_EQ(r.st, probe_status::ok);
    EXPECT_EQ(r.weight, std::nullopt);
}

TEST(misc_exit, without_dynamic_1_is_down) {
    EXPECT_EQ(run(exit_with(1), false).st, probe_status::failed);
}

TEST(misc_exit, without_dynamic_2_to_255_is_down) {
    for (int code : {2, 3, 12, 254, 255}) {
        auto r = run(exit_with(code), false);
        EXPECT_EQ(r.st, probe_status::failed) << "exit " << code;
        EXPECT_EQ(r.weight, std::nullopt) << "exit " << code;
    }
}

// keepalived.conf(5), MISC_CHECK misc_dynamic: "exit status 0: svc check success, weight
// unchanged."
TEST(misc_exit, dynamic_0_is_up_with_the_weight_unchanged) {
    auto r = run(exit_with(0), true);
    EXPECT_EQ(r.st, probe_status::ok);
    EXPECT_EQ(r.weight, std::nullopt); // nullopt: the configured weight
}

// "exit status 1: svc check failed."
TEST(misc_exit, dynamic_1_is_down) {
    EXPECT_EQ(run(exit_with(1), true).st, probe_status::failed);
}

// "exit status 2-255: svc check success, then the RS weight is increased by (exit status - 2 -
// rs configured weight). An exit status of 10 will set the RS weight to 10" (sic: the same page
// says the weight becomes two less than the exit status, as keepalived's check_misc.c computes
// status - 2; 255 gives 253).
TEST(misc_exit, dynamic_2_to_255_is_up_with_weight_code_minus_2) {
    for (int code : {2, 3, 12, 255}) {
        auto r = run(exit_with(code), true);
        EXPECT_EQ(r.st, probe_status::ok) << "exit " << code;
        EXPECT_EQ(r.weight, std::optional<uint32_t>(code - 2)) << "exit " << code;
    }
}

// keepalived treats a script killed by a signal as a failure (check_misc.c).
TEST(misc_exit, killed_by_a_signal_is_down) {
    EXPECT_EQ(run("sh -c 'kill -9 $$'", true).st, probe_status::failed);
}

// The pids of this process's children (every thread's).
std::set<pid_t> my_children() {
    std::set<pid_t> out;
    DIR* d = opendir("/proc/self/task");
    while (dirent* e = d ? readdir(d) : nullptr) {
        if (e->d_name[0] == '.')
            continue;
        std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
        for (pid_t p; in >> p;)
            out.insert(p);
    }
    if (d)
        closedir(d);
    return out;
}

std::set<int> fds_of(pid_t pid) {
    std::set<int> out;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    while (dirent* e = d ? readdir(d) : nullptr)
        if (e->d_name[0] != '.')
            out.insert(std::atoi(e->d_name));
    if (d)
        closedir(d);
    return out;
}

std::string comm_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string s;
    std::getline(in, s);
    return s;
}

// The one child a misc probe started, once it has exec'd (its name is no longer ours: `sleep`,
// or `sh` where a shell ran it).
pid_t the_sleeping_child(const std::set<pid_t>& before) {
    const std::string self = comm_of(getpid());
    for (int i = 0; i < 500; ++i) {
        for (pid_t p : my_children())
            if (!before.contains(p) && comm_of(p) != self && !comm_of(p).empty())
                return p;
        usleep(2000);
    }
    return -1;
}

// A script must not hold the daemon's descriptors (DPDK's, sockets, the management socket):
// with fork()+exec every descriptor opened without O_CLOEXEC leaked into every script.
TEST(misc_child, inherits_no_descriptor_and_leads_its_own_group) {
    const int leaked = open("/dev/null", O_RDONLY); // no O_CLOEXEC, as many libraries open
    ASSERT_GE(leaked, 3);
    const auto before = my_children();
    config::health_check_cfg c;
    c.type = config::check_type::misc;
    c.path = "sleep 5";
    auto p = start_probe(c, {});
    const pid_t pid = the_sleeping_child(before);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(fds_of(pid), (std::set<int>{0, 1, 2}));
    char target[256] = {};
    ASSERT_GT(
        readlink(("/proc/" + std::to_string(pid) + "/fd/0").c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "/dev/null");
    EXPECT_EQ(getpgid(pid), pid); // a timeout kills the group: everything it started
    close(leaked);
}

// The control lcore must never wait for a child to die. A child that cannot be reaped for a
// while after SIGKILL (a process in uninterruptible sleep dies only when it wakes) is simulated
// with a tracer that holds its exit: while a tracer that is not the parent has not waited for
// a traced child, the parent's waitpid() cannot reap it (ptrace(2)). abort() must return at
// once all the same, and the child is reaped by a later poll.
TEST(misc_child, abort_returns_at_once_and_a_later_poll_reaps) {
    const auto before = my_children();
    config::health_check_cfg c;
    c.type = config::check_type::misc;
    c.path = "sleep 30";
    auto p = start_probe(c, {});
    const pid_t pid = the_sleeping_child(before);
    ASSERT_GT(pid, 0);
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t tracer = fork();
    if (tracer == 0) {
        // Holds the child's death for 1.5 s, then exits (which hands the zombie to its parent).
        const bool ok = ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0;
        [[maybe_unused]] auto w = write(ready[1], ok ? "y" : "n", 1);
        usleep(1500 * 1000);
        _exit(0);
    }
    char ok = 0;
    ASSERT_EQ(read(ready[0], &ok, 1), 1);
    ASSERT_EQ(ok, 'y') << "ptrace(PTRACE_SEIZE) refused: the test needs CAP_SYS_PTRACE";
    const auto t0 = std::chrono::steady_clock::now();
    p->abort(); // what the checker does at the timeout
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 100ms) << "abort() waited "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                           << " ms for the child";
    // Still there (the tracer holds it); gone once the tracer let go and the reaper polled.
    EXPECT_EQ(kill(pid, 0), 0);
    bool reaped = false;
    for (int i = 0; i < 400 && !reaped; ++i) { // up to 4 s: 1.5 s held, 2 s grace
        proc::children().poll();
        reaped = kill(pid, 0) != 0 && errno == ESRCH;
        usleep(10000);
    }
    EXPECT_TRUE(reaped) << "the child is still a zombie: nobody reaped it";
    waitpid(tracer, nullptr, 0);
    close(ready[0]);
    close(ready[1]);
}

// The command line is split by keepalived's rule, the same for misc checks as for VRRP track
// scripts (vrrp_engine_test.cc) and notify scripts: not by a shell.
TEST(misc_child, command_line_split_as_keepalived_splits_it) {
    const auto dir = std::filesystem::temp_directory_path() / "ulvs_misc_split_test";
    std::filesystem::create_directories(dir);
    const auto out = dir / "args";
    std::filesystem::remove(out);
    auto r = run(test::split_probe_command(out.string()), false);
    EXPECT_EQ(r.st, probe_status::ok);
    std::ifstream in(out);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), test::split_probe_expected);
    std::filesystem::remove_all(dir);
}

uint64_t mono_us() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

// The checker as the daemon drives it (checker.poll and proc::children().poll every pass): a
// misc check that hangs in a script ignoring SIGTERM fails at its timeout, no pass takes long,
// and the script is killed (SIGKILL after the 2 s grace) and reaped.
TEST(misc_checker, a_hung_script_ignoring_sigterm_fails_at_its_timeout_and_is_reaped) {
    auto cfg = config::load_string(
        "ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
        "virtual_servers:\n"
        "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
        "     health_check: {type: misc, path: \"sh -c 'trap \\\"\\\" TERM; sleep 30'\",\n"
        "                    timeout: 200ms, delay_loop: 60s},\n"
        "     real_servers: [{address: 198.51.100.20, port: 80}]}\n",
        "t.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    const size_t before = proc::children().running();
    checker chk;
    const uint64_t t0 = mono_us();
    chk.sync(*cfg, t0 / 1000);
    const ip_addr rs = *ip_addr::parse("198.51.100.20");
    uint64_t worst_us = 0, down_at = 0, reaped_at = 0;
    bool started = false;
    while (mono_us() - t0 < 6'000'000 && reaped_at == 0) {
        const uint64_t p0 = mono_us();
        chk.poll(p0);
        proc::children().poll();
        worst_us = std::max(worst_us, mono_us() - p0);
        started = started || proc::children().running() > before;
        if (down_at == 0 && !chk.server_up("web", rs, 80))
            down_at = mono_us() - t0;
        if (down_at != 0 && started && proc::children().running() == before)
            reaped_at = mono_us() - t0;
        usleep(1000);
    }
    EXPECT_TRUE(started);
    EXPECT_GE(down_at, 199'000u); // the checker counts whole milliseconds
    EXPECT_LT(down_at, 1'000'000u) << "down " << down_at / 1000 << " ms after the start";
    // SIGTERM at the timeout is ignored; SIGKILL 2 s later; reaped by a following poll.
    EXPECT_GE(reaped_at, 2'200'000u);
    EXPECT_LT(reaped_at, 3'500'000u) << "reaped " << reaped_at / 1000 << " ms after the start";
    EXPECT_LT(worst_us, 50'000u) << "a pass took " << worst_us << " us";
}
} // namespace
} // namespace ulvs::ctl::health
