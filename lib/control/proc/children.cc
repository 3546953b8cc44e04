// The reap list (children.h): pidfds in one epoll set, waitpid(WNOHANG) per known pid, SIGTERM
// then SIGKILL for the children whose owner gave up.
#include "ulvs/control/proc/children.h"

#include "ulvs/common/command_line.h"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ulvs::ctl::proc {

namespace {

// Without pidfds, and for the SIGKILL deadlines: how often poll() looks at every child.
constexpr uint64_t scan_period_ms = 50;
constexpr int max_events = 64;

// status() of a child with a pidfd trusts the epoll set when it was asked this recently: the
// checker asks for every running misc check each millisecond, and 500 of them must cost one
// epoll_wait, not 500 waitpid calls.
constexpr uint64_t exits_fresh_us = 500;

uint64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

uint64_t now_ms() {
    return now_us() / 1000;
}

// glibc 2.36 has no pidfd_open wrapper. A pidfd is always close-on-exec.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

exit_status decode(int st) {
    exit_status e;
    if (WIFEXITED(st)) {
        e.exited = true;
        e.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        e.signal = WTERMSIG(st);
    }
    return e;
}

} // namespace

spawn_options options_for(const config::scripts_cfg& c) {
    spawn_options o;
    if (!c.user.empty())
        o.user = run_as{static_cast<uid_t>(c.uid), static_cast<gid_t>(c.gid)};
    return o;
}

reaper::reaper() : m_epoll(epoll_create1(EPOLL_CLOEXEC)) {}

reaper::~reaper() {
    // The daemon is exiting. Children still running are left to run, except those it was
    // already stopping: no poll will send their SIGKILL, so it goes now.
    for (auto& [id, e] : m_children) {
        if (e.kill_at_ms != 0 && !e.end)
            kill(-e.pid, SIGKILL);
        if (e.pidfd >= 0)
            close(e.pidfd);
    }
    if (m_epoll >= 0)
        close(m_epoll);
}

std::expected<child_id, std::string> reaper::start(std::string_view command_line,
                                                   const spawn_options& o) {
    auto argv = split_command_line(command_line);
    if (!argv)
        return std::unexpected("\"" + std::string(command_line) + "\": " + argv.error());
    return start(*argv, o);
}

std::expected<child_id, std::string> reaper::start(const std::vector<std::string>& argv,
                                                   const spawn_options& o) {
    auto pid = spawn(argv, o);
    if (!pid)
        return std::unexpected(pid.error());
    const child_id id = m_next++;
    entry e;
    e.pid = *pid;
    // Race-free: the child cannot be reaped (so its pid cannot be reused) before we wait for it.
    e.pidfd = open_pidfd(*pid);
    if (e.pidfd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = id;
        if (m_epoll < 0 || epoll_ctl(m_epoll, EPOLL_CTL_ADD, e.pidfd, &ev) < 0) {
            close(e.pidfd);
            e.pidfd = -1;
        }
    }
    m_children.emplace(id, e);
    return id;
}

std::expected<void, std::string> reaper::start_detached(std::string_view command_line,
                                                        const spawn_options& o) {
    auto id = start(command_line, o);
    if (!id)
        return std::unexpected(id.error());
    release(*id);
    return {};
}

bool reaper::reap(entry& e) {
    if (e.end)
        return true;
    if (e.terminated) {
        // It was asked to stop: once it has exited (still a zombie, so its process group id
        // cannot have been reused), kill what it left running in its group, as keepalived does.
        siginfo_t si{};
        if (waitid(P_PID, static_cast<id_t>(e.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == e.pid)
            kill(-e.pid, SIGKILL);
    }
    int st = 0;
    const pid_t r = waitpid(e.pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return false;
    // r < 0 (ECHILD): reaped by someone else (SIGCHLD ignored): it ended, we cannot say how.
    e.end = r > 0 ? decode(st) : exit_status{};
    if (e.pidfd >= 0)
        close(e.pidfd); // also leaves the epoll set
    e.pidfd = -1;
    return true;
}

std::optional<exit_status> reaper::status(child_id id) {
    auto it = m_children.find(id);
    if (it == m_children.end())
        return exit_status{};
    entry& e = it->second;
    if (e.end)
        return e.end;
    if (e.pidfd < 0)
        return reap(e) ? e.end : std::nullopt;
    if (now_us() - m_exits_at_us < exits_fresh_us)
        return std::nullopt;
    collect_exits(); // may erase released entries
    it = m_children.find(id);
    return it == m_children.end() ? exit_status{} : it->second.end;
}

unsigned reaper::collect_exits() {
    m_exits_at_us = now_us();
    if (m_epoll < 0)
        return 0;
    unsigned work = 0;
    epoll_event evs[max_events];
    int n = max_events;
    // A full batch may mean more are ready: read on (ready ones leave the set as they are
    // reaped), a bounded number of times.
    for (int round = 0; round < 16 && n == max_events; ++round) {
        n = epoll_wait(m_epoll, evs, max_events, 0);
        for (int k = 0; k < n; ++k) {
            // Copied first: epoll_event is packed on x86-64, its u64 is not 8-byte aligned.
            const uint64_t id = evs[k].data.u64;
            auto it = m_children.find(id);
            if (it == m_children.end() || !reap(it->second))
                continue;
            ++work;
            if (!it->second.owned)
                m_children.erase(it);
        }
    }
    return work;
}

void reaper::terminate(child_id id, std::chrono::milliseconds grace) {
    auto it = m_children.find(id);
    if (it == m_children.end())
        return;
    entry& e = it->second;
    if (reap(e)) {
        m_children.erase(it);
        return;
    }
    // The group: spawn.cc made the child a group leader before exec, so -pid is its group.
    kill(-e.pid, SIGTERM);
    e.terminated = true;
    e.owned = false;
    e.kill_at_ms = now_ms() + static_cast<uint64_t>(std::max<int64_t>(grace.count(), 1));
}

void reaper::release(child_id id) {
    auto it = m_children.find(id);
    if (it == m_children.end())
        return;
    if (reap(it->second))
        m_children.erase(it);
    else
        it->second.owned = false;
}

unsigned reaper::poll() {
    if (m_children.empty())
        return 0;
    unsigned work = collect_exits();
    const uint64_t now = now_ms();
    if (now < m_next_scan_ms)
        return work;
    m_next_scan_ms = now + scan_period_ms;
    for (auto it = m_children.begin(); it != m_children.end();) {
        entry& e = it->second;
        if (!e.end && e.pidfd < 0 && reap(e))
            ++work;
        if (!e.end && e.kill_at_ms != 0 && now >= e.kill_at_ms) {
            kill(-e.pid, SIGKILL);
            kill(e.pid, SIGKILL); // should it have left its group
            e.kill_at_ms = 0;
            ++work;
        }
        if (e.end && !e.owned)
            it = m_children.erase(it);
        else
            ++it;
    }
    return work;
}

size_t reaper::running() const {
    size_t n = 0;
    for (const auto& [id, e] : m_children)
        n += e.end ? 0 : 1;
    return n;
}

std::optional<pid_t> reaper::pid_of(child_id id) const {
    auto it = m_children.find(id);
    if (it == m_children.end())
        return std::nullopt;
    return it->second.pid;
}

reaper& children() {
    static reaper r;
    return r;
}

} // namespace ulvs::ctl::proc
