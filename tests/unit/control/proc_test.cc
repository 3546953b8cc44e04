// The daemon's children (control/proc/children.h): what a child inherits, whom it runs as, exit
// statuses, and a reaper that never waits.
#include "ulvs/control/proc/children.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ulvs::ctl::proc {
namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

// Polls `r` until `id` ends (up to 5 s).
std::optional<exit_status> wait_end(reaper& r, child_id id) {
    for (int i = 0; i < 2500; ++i) {
        r.poll();
        if (auto s = r.status(id))
            return s;
        usleep(2000);
    }
    return std::nullopt;
}

bool gone(pid_t pid) {
    return kill(pid, 0) != 0 && errno == ESRCH;
}

// Dead, whoever reaps it: gone, or a zombie (state Z) its (not our) parent has not reaped.
bool dead(pid_t pid) {
    if (gone(pid))
        return true;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(proc, exit_codes_and_signals) {
    reaper r;
    auto a = r.start("sh -c 'exit 7'");
    ASSERT_TRUE(a) << a.error();
    auto s = wait_end(r, *a);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->exited);
    EXPECT_EQ(s->code, 7);
    auto b = r.start("sh -c 'kill -USR1 $$'");
    ASSERT_TRUE(b);
    s = wait_end(r, *b);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->exited);
    EXPECT_EQ(s->signal, SIGUSR1);
    r.release(*a);
    r.release(*b);
    EXPECT_EQ(r.running(), 0u);
}

TEST(proc, start_errors_say_why) {
    reaper r;
    auto a = r.start("/nonexistent/script arg");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), "cannot run /nonexistent/script: No such file or directory");
    auto b = r.start("check 'unterminated");
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), "\"check 'unterminated\": missing the closing '");
}

// Only stdin (/dev/null), stdout and stderr reach the child, whether or not the daemon's
// descriptors were opened close-on-exec; the child leads its own process group.
TEST(proc, child_inherits_only_stdio_and_leads_a_group) {
    const int file = open("/dev/null", O_RDONLY);    // no O_CLOEXEC
    const int sock = socket(AF_INET, SOCK_DGRAM, 0); // no SOCK_CLOEXEC
    const int dup_high = fcntl(file, F_DUPFD, 200);  // a high number too
    ASSERT_TRUE(file >= 3 && sock >= 3 && dup_high >= 200);
    reaper r;
    auto id = r.start("sleep 5");
    ASSERT_TRUE(id);
    const pid_t pid = *r.pid_of(*id);
    std::set<int> fds;
    DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    ASSERT_NE(d, nullptr);
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.')
            fds.insert(std::atoi(e->d_name));
    closedir(d);
    EXPECT_EQ(fds, (std::set<int>{0, 1, 2}));
    EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/0"), "/dev/null");
    EXPECT_EQ(getpgid(pid), pid);
    r.terminate(*id, 100ms);
    for (int i = 0; i < 500 && r.running() > 0; ++i, usleep(2000))
        r.poll();
    EXPECT_EQ(r.running(), 0u);
    close(file);
    close(sock);
    close(dup_high);
}

// terminate() signals and returns; a child that ignores SIGTERM is killed after the grace and
// reaped by a poll, never waited for.
TEST(proc, terminate_never_waits_and_kills_after_the_grace) {
    reaper r;
    auto id = r.start("sh -c 'trap \"\" TERM; while :; do sleep 0.05; done'");
    ASSERT_TRUE(id);
    const pid_t pid = *r.pid_of(*id);
    usleep(100 * 1000); // the trap is set
    const auto t0 = clk::now();
    r.terminate(*id, 400ms);
    EXPECT_LT(clk::now() - t0, 20ms);
    EXPECT_EQ(r.running(), 1u); // listed until reaped, though its owner gave it up
    clk::time_point reaped_at{};
    for (int i = 0; i < 1000 && reaped_at == clk::time_point{}; ++i) {
        const auto p0 = clk::now();
        r.poll();
        EXPECT_LT(clk::now() - p0, 20ms); // a poll never waits either
        if (r.running() == 0)
            reaped_at = clk::now();
        usleep(2000);
    }
    ASSERT_NE(reaped_at, clk::time_point{}) << "never reaped";
    EXPECT_GE(reaped_at - t0, 400ms); // it ignored SIGTERM: SIGKILL came after the grace
    EXPECT_LT(reaped_at - t0, 1400ms);
    EXPECT_TRUE(gone(pid)); // reaped, not a zombie
}

// SIGTERM goes to the group: what the script started dies with it.
TEST(proc, terminate_reaches_the_whole_group) {
    const auto dir = std::filesystem::temp_directory_path() / "ulvs_proc_group_test";
    std::filesystem::create_directories(dir);
    const auto pidfile = dir / "grandchild";
    std::filesystem::remove(pidfile);
    reaper r;
    auto id = r.start("sh -c 'sleep 30 & echo $! > " + pidfile.string() + "; wait'");
    ASSERT_TRUE(id);
    pid_t grandchild = 0;
    for (int i = 0; i < 500 && grandchild == 0; ++i, usleep(2000))
        grandchild = std::atoi(slurp(pidfile).c_str());
    ASSERT_GT(grandchild, 0);
    r.terminate(*id);
    // The grandchild is not ours to reap: dead is enough.
    for (int i = 0; i < 500 && !dead(grandchild); ++i, usleep(2000))
        r.poll();
    EXPECT_TRUE(dead(grandchild));
    std::filesystem::remove_all(dir);
}

// Notify scripts: started and forgotten, reaped by poll (no zombie left).
TEST(proc, detached_children_are_reaped_by_poll) {
    reaper r;
    ASSERT_TRUE(r.start_detached("sleep 0.1"));
    ASSERT_TRUE(r.start_detached("sh -c 'sleep 0.1; exit 3'"));
    EXPECT_EQ(r.running(), 2u);
    for (int i = 0; i < 500 && r.running() > 0; ++i, usleep(2000))
        r.poll();
    EXPECT_EQ(r.running(), 0u);
}

// scripts: {user: nobody}: the child runs with nobody's uid and gid and no supplementary group
// (the daemon, root here, has group 0 and maybe more).
TEST(proc, runs_as_the_configured_user) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to switch users";
    const auto dir = std::filesystem::temp_directory_path() / "ulvs_proc_user_test";
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::all); // nobody writes here
    const auto out = dir / "id";
    std::filesystem::remove(out);
    reaper r;
    r.set_runas_path(ULVS_RUNAS_PATH);
    config::scripts_cfg cfg{"nobody", "", 65534, 65534};
    auto w = r.start("sh -c 'id -u > " + out.string() + "; id -g >> " + out.string() +
                         "; id -G >> " + out.string() + "'",
                     options_for(cfg));
    ASSERT_TRUE(w) << w.error();
    auto s = wait_end(r, *w);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->exited && s->code == 0) << s->code;
    EXPECT_EQ(slurp(out), "65534\n65534\n65534\n");
    // Without a user: as the daemon.
    std::filesystem::remove(out);
    auto root = r.start("sh -c 'id -u > " + out.string() + "'");
    ASSERT_TRUE(root);
    wait_end(r, *root);
    EXPECT_EQ(slurp(out), std::to_string(geteuid()) + "\n");
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace ulvs::ctl::proc
