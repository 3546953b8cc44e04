// The daemon's child processes: health `misc` checks, VRRP track scripts and every notify
// script are started here and reaped here, in one list, and nothing here ever waits.
//
// Starting (spawn.cc): the command line is split by the one rule of common/command_line.h and
// run with posix_spawnp. glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK, so the daemon's
// memory is neither copied nor write-protected: the workers never take copy-on-write faults for
// a script (fork() would mark every anonymous page of the process read-only until the child
// execs). The child gets its own process group (a timeout kills it all), stdin from /dev/null,
// stdout/stderr of the daemon, and no other descriptor (DPDK's, the management socket's, the
// probes' sockets are all closed before exec, whatever their close-on-exec flag). With a
// `scripts.user` the child runs as that user (spawn.cc says how).
//
// Reaping (children.cc): each child has a pidfd (pidfd_open, Linux >= 5.3) in one epoll set;
// poll() asks epoll with timeout 0 and reaps the exited ones with waitpid(pid, WNOHANG), so an
// idle poll is one syscall whatever the number of children. Where pidfd_open is unavailable the
// children are scanned with waitpid(WNOHANG) every 50 ms instead. Only pids we started are ever
// waited for (never waitpid(-1)).
//
// Ending: terminate() sends SIGTERM to the child's process group and returns; poll() sends
// SIGKILL to the group after the grace (keepalived: SIGTERM, then SIGKILL 2 s later) and keeps
// the child listed until it is reaped, however long its death takes (a process in
// uninterruptible sleep dies when it wakes).
//
// Thread safety: control lcore only (the one process-wide instance is children()).
#pragma once

#include "ulvs/config/config.h"

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace ulvs::ctl::proc {

// Who a child runs as: nullopt = as the daemon (root). uid/gid resolved when the configuration
// was loaded (config::scripts_cfg), never looked up here.
struct run_as {
    uid_t uid = 0;
    gid_t gid = 0;
};

struct spawn_options {
    std::optional<run_as> user;
};

// config `scripts: {user, group}` as spawn options.
spawn_options options_for(const config::scripts_cfg& c);

// How a child ended.
struct exit_status {
    bool exited = false; // exit() or return from main: `code` holds the status
    int code = 0;        // exit status 0..255
    int signal = 0;      // the signal that killed it, when !exited (0: unknown, e.g. reaped
                         // elsewhere)
};

using child_id = uint64_t; // never 0

class reaper {
public:
    // keepalived's misc checker: SIGTERM, then SIGKILL 2 s later.
    static constexpr std::chrono::milliseconds default_grace{2000};

    reaper();
    ~reaper();
    reaper(const reaper&) = delete;
    reaper& operator=(const reaper&) = delete;

    // Split `command_line` (command_line.h) and start it. The error says why (bad quoting, no
    // such program, no resources).
    std::expected<child_id, std::string> start(std::string_view command_line,
                                               const spawn_options& o = {});
    std::expected<child_id, std::string> start(const std::vector<std::string>& argv,
                                               const spawn_options& o = {});
    // Start and forget: the child is reaped by poll() (notify scripts).
    std::expected<void, std::string> start_detached(std::string_view command_line,
                                                    const spawn_options& o = {});

    // The child's end once it exited, reaping it now if needed (never waits; one epoll_wait
    // serves every status() asked within 0.5 ms); nullopt while it runs. An unknown id reads as
    // ended by an unknown cause (signal 0).
    std::optional<exit_status> status(child_id id);
    // The owner gives up on the child: SIGTERM to its process group now, SIGKILL after
    // `grace`; it stays listed (and is reaped by poll) however long it takes to die. On an
    // exited child: just forgets it. Never waits.
    void terminate(child_id id, std::chrono::milliseconds grace = default_grace);
    // The owner no longer wants the status; the child runs on and poll() reaps it.
    void release(child_id id);

    // Reap the children that exited, SIGKILL the ones past their grace. Never waits. Returns
    // how many it reaped or signalled (0: idle).
    unsigned poll();

    // Children not reaped yet (including those whose owner gave up).
    size_t running() const;
    std::optional<pid_t> pid_of(child_id id) const; // tests and logs
    // The exec wrapper that switches user (spawn.cc); default: `ulvs-runas` beside the daemon's
    // executable.
    void set_runas_path(std::string path) { m_runas = std::move(path); }

private:
    struct entry {
        pid_t pid = -1;
        int pidfd = -1;
        bool owned = true;       // someone will ask status(); else erased when reaped
        uint64_t kill_at_ms = 0; // 0: no SIGKILL pending
        bool terminated = false; // terminate() sent SIGTERM
        std::optional<exit_status> end;
    };
    bool reap(entry& e);      // waitpid(WNOHANG); true when it ended
    unsigned collect_exits(); // reap the children whose pidfd says they exited
    std::expected<pid_t, std::string> spawn(const std::vector<std::string>& argv,
                                            const spawn_options& o);

    std::map<child_id, entry> m_children;
    child_id m_next = 1;
    int m_epoll = -1;
    uint64_t m_next_scan_ms = 0; // SIGKILL deadlines, and children without a pidfd
    uint64_t m_exits_at_us = 0;  // last collect_exits()
    std::string m_runas;
};

// The process's children (one reap list for the whole daemon). Control lcore only.
reaper& children();

} // namespace ulvs::ctl::proc
