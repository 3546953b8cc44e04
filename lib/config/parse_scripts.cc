// `scripts: {user, group}` and the command-line check (parse_scripts.h).
#include "parse_scripts.h"

#include "ulvs/common/command_line.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

namespace ulvs::config::detail {

namespace {

// getpwnam_r/getgrnam_r with a buffer that grows: some NSS backends need more than sysconf's
// hint. Load time only (--check, start, reload), never while scripts run.
template <class T, class F> bool lookup(F fn, const std::string& name, T& out) {
    std::vector<char> buf(16384);
    for (;;) {
        T* res = nullptr;
        const int e = fn(name.c_str(), &out, buf.data(), buf.size(), &res);
        if (e == ERANGE && buf.size() < (1u << 22)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        return e == 0 && res != nullptr;
    }
}

} // namespace

void parse_scripts(reader& r, const field& f, scripts_cfg& out) {
    mapping m(r, f, {"user", "group"});
    const auto user = m.get("user");
    const auto group = m.get("group");
    if (user) {
        auto s = read_string(r, *user);
        passwd pw{};
        if (s && s->empty())
            r.error(user->at, user->path + " must not be empty");
        else if (s && !lookup(getpwnam_r, *s, pw))
            r.error(user->at, user->path + ": no user \"" + *s + "\" on this host");
        else if (s) {
            out.user = *s;
            out.uid = pw.pw_uid;
            out.gid = pw.pw_gid; // keepalived: the user's own group unless one is given
        }
    }
    if (group) {
        auto s = read_string(r, *group);
        ::group gr{};
        if (!user)
            r.error(group->key_at, group->path + " needs scripts.user (as keepalived's "
                                                 "script_user USER [GROUP])");
        else if (s && s->empty())
            r.error(group->at, group->path + " must not be empty");
        else if (s && !lookup(getgrnam_r, *s, gr))
            r.error(group->at, group->path + ": no group \"" + *s + "\" on this host");
        else if (s) {
            out.group = *s;
            out.gid = gr.gr_gid;
        }
    }
}

void check_command(reader& r, const field& f, const std::string& command) {
    if (command.empty())
        return; // "" means no script where that is allowed; required ones say so themselves
    if (auto words = split_command_line(command); !words)
        r.error(f.at, f.path + ": " + words.error() + " (scripts are split as keepalived " +
                          "splits them: README \"Scripts\")");
}

} // namespace ulvs::config::detail
