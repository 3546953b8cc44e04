// Starting a child (children.h): posix_spawnp, own process group, stdin /dev/null, no inherited
// descriptor beyond stdout/stderr, optionally as another user.
#include "ulvs/control/proc/children.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace ulvs::ctl::proc {

namespace {

// `ulvs-runas` beside our own executable (build/app/ and the install's bin/ alike).
std::string default_runas_path() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return "ulvs-runas";
    std::string self(buf, static_cast<size_t>(n));
    return self.substr(0, self.rfind('/') + 1) + "ulvs-runas";
}

} // namespace

std::expected<pid_t, std::string> reaper::spawn(const std::vector<std::string>& argv,
                                                const spawn_options& o) {
    if (argv.empty() || argv.front().empty())
        return std::unexpected("no command");
    // posix_spawn cannot change the user, and switching in our own vfork-style child would
    // mean raw setresuid syscalls in a process that shares the daemon's memory (glibc's
    // setuid() signals every thread of the parent to change theirs too). A tiny exec wrapper
    // run by the same posix_spawn keeps the daemon's side vfork-cheap and does the switch in a
    // process of its own: `ulvs-runas UID GID PROGRAM ARGS...` (app/ulvs-runas) drops the
    // supplementary groups, sets gid then uid, and execs PROGRAM. Its cost is one more exec,
    // paid by the child, not by the control lcore.
    std::vector<std::string> wrapped;
    const std::vector<std::string>* args = &argv;
    if (o.user) {
        if (m_runas.empty())
            m_runas = default_runas_path();
        wrapped = {m_runas, std::to_string(o.user->uid), std::to_string(o.user->gid)};
        wrapped.insert(wrapped.end(), argv.begin(), argv.end());
        args = &wrapped;
    }
    std::vector<char*> cargv;
    for (const std::string& a : *args)
        cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // Every descriptor past stderr, whether or not it was opened close-on-exec (DPDK's, the
    // NICs', libraries' are not all).
    posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    // Group leader before exec, so kill(-pid) reaches it and everything it starts at once.
    posix_spawnattr_setpgroup(&at, 0);
    // Default dispositions and an empty mask: the daemon ignores SIGPIPE and may block
    // signals; a script must see them as any program does.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    const int e = posix_spawnp(&pid, cargv[0], &fa, &at, cargv.data(), environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        return std::unexpected("cannot run " + (*args)[0] + ": " + std::strerror(e));
    return pid;
}

} // namespace ulvs::ctl::proc
