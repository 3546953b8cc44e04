// Scheduler keys: every ipvsadm scheduler name, the -b flags of sh and mh, the Maglev table size
// (a ulvs addition: IPVS fixes it at kernel build time) and IPVS' per-server thresholds.
#include "parse_sched.h"

#include "ulvs/common/prime.h"

#include <algorithm>
#include <array>

namespace ulvs::config::detail {

namespace {

constexpr std::array<std::string_view, 11> schedulers{"rr",  "wrr", "lc", "wlc",  "sh",   "dh",
                                                      "sed", "nq",  "mh", "lblc", "lblcr"};
constexpr std::array<std::string_view, 4> flags{"sh-port", "sh-fallback", "mh-port", "mh-fallback"};
// The Maglev table: IPVS' smallest prime (251) up to 2^20 slots (2 MiB per service).
constexpr uint64_t mh_min = 251, mh_max = 1u << 20;

template <class A> bool in(const A& names, std::string_view s) {
    return std::find(names.begin(), names.end(), s) != names.end();
}

void parse_flags(reader& r, const field& f, virtual_server_cfg& out) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        auto s = read_string(r, item);
        if (!s)
            continue;
        if (!in(flags, *s)) {
            r.error(item.at, "unknown scheduler flag \"" + *s +
                                 "\" (expected sh-port, sh-fallback, mh-port or mh-fallback)");
            continue;
        }
        // sh-* flags belong to sh and mh-* to mh (IPVS would read sh-port as mh-port: say so).
        const std::string_view owner = std::string_view(*s).substr(0, 2);
        if (owner != out.scheduler) {
            r.error(item.at, "scheduler flag \"" + *s + "\" needs scheduler " + std::string(owner) +
                                 ", not \"" + out.scheduler + "\"");
            continue;
        }
        if (std::find(out.scheduler_flags.begin(), out.scheduler_flags.end(), *s) ==
            out.scheduler_flags.end())
            out.scheduler_flags.push_back(*s);
    }
}

} // namespace

void parse_sched_keys(reader& r, const mapping& m, const field& vs, virtual_server_cfg& out) {
    bool sched_ok = true;
    if (auto s = m.get("scheduler")) {
        sched_ok = false;
        if (auto name = read_string(r, *s)) {
            out.scheduler = *name;
            sched_ok = in(schedulers, *name);
            if (!sched_ok)
                r.error(s->at,
                        "unknown scheduler \"" + *name +
                            "\" (expected rr, wrr, lc, wlc, sh, dh, sed, nq, mh, lblc or lblcr)");
        }
    }
    // Flags of an unreadable scheduler cannot be checked against it: one mistake, one error.
    if (auto f = m.get("scheduler_flags"); f && sched_ok)
        parse_flags(r, *f, out);
    if (auto t = m.get("mh_table_size")) {
        if (auto v = read_uint(r, *t, mh_min, mh_max)) {
            if (!is_prime(*v))
                r.error(t->at, t->path + " must be a prime number, got " + std::to_string(*v));
            else if (sched_ok && out.scheduler != "mh")
                r.error(t->at,
                        t->path + " applies to scheduler mh only, not \"" + out.scheduler + "\"");
            else if (out.real_servers.size() >= *v)
                r.error(t->at, t->path + " must be above the number of real servers (" +
                                   std::to_string(out.real_servers.size()) + ")");
            else
                out.mh_table_size = uint32_t(*v);
        }
    } else if (out.scheduler == "mh" && out.real_servers.size() >= out.mh_table_size) {
        r.error(vs.at, vs.path + ": more real servers than Maglev table slots (" +
                           std::to_string(out.mh_table_size) + "); set mh_table_size");
    }
}

void parse_thresholds(reader& r, const mapping& m, real_server_cfg& out) {
    auto t = m.get("thresholds");
    if (!t)
        return;
    mapping tm(r, *t, {"upper", "lower"});
    if (!tm.valid())
        return;
    thresholds_cfg v;
    bool ok = true;
    if (auto u = tm.get("upper")) {
        auto x = read_uint(r, *u, 0, UINT32_MAX);
        ok = ok && x;
        v.upper = x ? uint32_t(*x) : 0;
    }
    if (auto l = tm.get("lower")) {
        auto x = read_uint(r, *l, 0, UINT32_MAX);
        ok = ok && x;
        v.lower = x ? uint32_t(*x) : 0;
    }
    // As ipvsadm/IPVS (-ERANGE): a lower threshold above the upper one is refused.
    if (ok && v.lower > v.upper) {
        r.error(t->at, t->path + ".lower (" + std::to_string(v.lower) + ") is above " + t->path +
                           ".upper (" + std::to_string(v.upper) + ")");
        return;
    }
    if (ok)
        out.thresholds = v;
}

} // namespace ulvs::config::detail
