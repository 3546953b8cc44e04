// ulvs-runas UID GID PROGRAM [ARGS...]: the exec wrapper through which ulvsd runs scripts as
// `scripts.user` (lib/control/proc/spawn.cc says why a wrapper). It drops every supplementary
// group, sets the gid, then the uid (after which it could not change the gid), checks the
// switch cannot be undone, and execs PROGRAM, searched in PATH. Exit 127 when any step fails,
// as a shell does for a command it cannot run.
#include <grp.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unistd.h>

namespace {

bool parse_id(std::string_view s, unsigned& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

int fail(const char* what) {
    std::fprintf(stderr, "ulvs-runas: %s: %s\n", what, std::strerror(errno));
    return 127;
}

} // namespace

int main(int argc, char** argv) {
    unsigned uid = 0, gid = 0;
    if (argc < 4 || !parse_id(argv[1], uid) || !parse_id(argv[2], gid)) {
        std::fprintf(stderr, "usage: ulvs-runas UID GID PROGRAM [ARGS...]\n");
        return 127;
    }
    if (setgroups(0, nullptr) != 0)
        return fail("setgroups");
    if (setgid(gid) != 0)
        return fail("setgid");
    if (setuid(uid) != 0)
        return fail("setuid");
    if (uid != 0 && setuid(0) == 0) {
        std::fprintf(stderr, "ulvs-runas: could regain root after setuid(%u)\n", uid);
        return 127;
    }
    execvp(argv[3], argv + 3);
    return fail(argv[3]);
}
