// A real server's keepalived checkers (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK) ->
// `health_check:` (one) or `health_checks:` (several; the server is up when all pass, as in
// keepalived). The timers are looked up as keepalived's check_data.c does: the checker's own,
// else the real server's, else the virtual server's, else the default (which ulvs shares).
#include "import_common.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace ulvs::importer {

namespace {

const node* find(const node& n, std::string_view keyword) {
    const node* found = nullptr;
    for (const node& ch : n.children)
        if (ch.keyword == keyword)
            found = &ch; // the last one wins, as each handler overwrites
    return found;
}

// The timer `key` of the checker, else of the real server, else of the virtual server.
const node* inherited(const node& vs, const node& rs, const node& chk, std::string_view key) {
    if (const node* n = find(chk, key))
        return n;
    if (key == "retry")
        if (const node* n = find(chk, "nb_get_retry"))
            return n;
    if (const node* n = find(rs, key))
        return n;
    return find(vs, key);
}

std::string status_list(ctx& c, const node& n) {
    std::set<unsigned> codes;
    for (const token& t : n.args) {
        const size_t dash = t.text.find('-');
        auto lo = to_uint(t.text.substr(0, dash), 599);
        auto hi = dash == std::string::npos ? lo : to_uint(t.text.substr(dash + 1), 599);
        if (!lo || !hi || *lo < 100 || *hi < *lo) {
            c.d.error(t.at, "status_code " + t.text + ": expected a code or a range 100..599");
            continue;
        }
        for (uint64_t v = *lo; v <= *hi; ++v)
            codes.insert(unsigned(v));
    }
    bool all_2xx = codes.size() == 100 && *codes.begin() == 200 && *codes.rbegin() == 299;
    if (codes.empty() || all_2xx) // ulvs' default: any 2xx
        return "";
    std::string o = "[";
    for (unsigned v : codes)
        o += (o.size() > 1 ? ", " : "") + std::to_string(v);
    return o + "]";
}

// One url block; `vhost` gets its own virtualhost ("" when it has none).
std::string url(ctx& c, const node& u, std::string& vhost) {
    std::string path = "/", status, digest;
    for (const node& n : u.children) {
        const std::string& k = n.keyword;
        if (k == "path") {
            if (need_args(c, n, 1))
                path = n.arg(0);
        } else if (k == "status_code") {
            status = status_list(c, n);
        } else if (k == "digest") {
            if (!need_args(c, n, 1))
                continue;
            digest = n.arg(0);
            std::transform(digest.begin(), digest.end(), digest.begin(),
                           [](unsigned char ch) { return char(std::tolower(ch)); });
        } else if (k == "virtualhost") {
            if (!need_args(c, n, 1))
                continue;
            vhost = n.arg(0);
        } else if (k.starts_with("regex")) {
            c.d.error(n.at, k + ": ulvs checks status codes and digests, not regular expressions");
        } else {
            unsupported(c, n, "url");
        }
    }
    std::string o = "path: " + q(path);
    if (!status.empty())
        o += ", status: " + status;
    if (!digest.empty())
        o += ", digest: " + q(digest);
    return o;
}

std::optional<std::string> checker(ctx& c, const node& vs, const node& rs, const node& chk) {
    const std::string& k = chk.keyword;
    const bool http = k == "HTTP_GET" || k == "SSL_GET", misc = k == "MISC_CHECK";
    std::string o = "type: ";
    o += k == "TCP_CHECK"  ? "tcp"
         : k == "HTTP_GET" ? "http"
         : k == "SSL_GET"  ? "https"
         : misc            ? "misc"
                           : "udp";
    std::string vhost;
    std::set<std::string> url_vhosts; // each url's own ("" = the check's)
    std::vector<std::string> urls;
    for (const node& n : chk.children) {
        const std::string& w = n.keyword;
        if (w == "delay_loop" || w == "connect_timeout" || w == "retry" || w == "nb_get_retry" ||
            w == "delay_before_retry" || w == "warmup" || w == "virtualhost") {
            continue; // below
        } else if (w == "connect_ip" && !misc) {
            if (need_args(c, n, 1))
                o += ", address: " + n.arg(0);
        } else if (w == "connect_port" && !misc) {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 65535))
                o += ", port: " + n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "connect_port must be 1..65535");
        } else if (w == "bindto" && !misc) {
            if (need_args(c, n, 1))
                o += ", source: " + n.arg(0);
        } else if (w == "url" && http) {
            std::string own;
            urls.push_back(url(c, n, own));
            url_vhosts.insert(own);
        } else if (w == "misc_path" && misc) {
            if (auto cmd = command_arg(c, n))
                o += ", path: " + q(*cmd);
        } else if (w == "misc_timeout" && misc) {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 100000000))
                o += ", timeout: " + dur(int64_t(*to_uint(n.arg(0), 100000000)) * 1000);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "misc_timeout must be a number of seconds");
        } else if (w == "misc_dynamic" && misc) {
            o += ", dynamic: true";
        } else if (w == "payload" && k == "UDP_CHECK") {
            std::string hex;
            for (const token& t : n.args)
                hex += t.text;
            o += ", payload: " + q(hex);
        } else if (w == "require_reply" && k == "UDP_CHECK") {
            o += ", require_reply: true";
            if (!n.args.empty())
                c.d.warn(n.args[0].at, "require_reply's expected data is not compared by ulvs "
                                       "(any reply passes); left out");
        } else if (w == "user" && misc) {
            c.d.warn(n.at, "MISC_CHECK user: ulvs runs every script as scripts.user; left out");
        } else {
            unsupported(c, n, k);
        }
    }
    if (http) {
        if (urls.empty())
            c.d.warn(chk.at, k + " without url: ulvs checks GET /");
        else if (urls.size() == 1)
            o += ", " + urls[0];
        else {
            o += ", urls: [";
            for (size_t i = 0; i < urls.size(); ++i)
                o += (i ? ", {" : "{") + urls[i] + "}";
            o += "]";
        }
        // keepalived sends each url's own Host, else the checker's (real server's, virtual
        // server's); ulvs has one per check.
        std::string dflt;
        if (const node* v = inherited(vs, rs, chk, "virtualhost"); v && need_args(c, *v, 1))
            dflt = v->arg(0);
        std::set<std::string> hosts;
        for (const std::string& h : url_vhosts)
            hosts.insert(h.empty() ? dflt : h);
        if (hosts.size() > 1) {
            c.d.error(chk.at, k + ": its urls name different virtualhosts; ulvs has one per check");
            return std::nullopt;
        }
        vhost = hosts.empty() ? dflt : *hosts.begin();
        if (!vhost.empty())
            o += ", virtualhost: " + q(vhost);
    }
    for (const char* key :
         {"delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup"}) {
        const std::string_view kv = key;
        if (misc && kv == "connect_timeout")
            continue; // misc_timeout is the script's
        const node* n = inherited(vs, rs, chk, kv);
        if (!n || !need_args(c, *n, 1))
            continue;
        if (kv == "retry") {
            if (auto v = to_uint(n->arg(0), 0xffffffffu))
                o += ", retry: " + n->arg(0);
            else
                c.d.error(n->args[0].at, "retry must be a number");
        } else if (auto ms = seconds_ms(n->arg(0))) {
            o += ", " + std::string(kv) + ": " + dur(*ms);
        } else {
            c.d.error(n->args[0].at, std::string(kv) + " must be a number of seconds");
        }
    }
    return "{" + o + "}";
}

} // namespace

std::string import_checks(ctx& c, const node& vs, const node& rs) {
    std::vector<std::string> checks;
    for (const node& n : rs.children)
        if (n.keyword == "TCP_CHECK" || n.keyword == "HTTP_GET" || n.keyword == "SSL_GET" ||
            n.keyword == "MISC_CHECK" || n.keyword == "UDP_CHECK")
            if (auto s = checker(c, vs, rs, n))
                checks.push_back(*s);
    if (checks.empty())
        return "";
    if (checks.size() == 1)
        return "        health_check: " + checks[0] + "\n";
    std::string o = "        health_checks:\n";
    for (const std::string& s : checks)
        o += "          - " + s + "\n";
    return o;
}

} // namespace ulvs::importer
