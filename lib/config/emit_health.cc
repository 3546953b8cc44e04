// Health keys back to YAML: every value the parser accepts, so load(to_yaml(c)) == c.
#include "emit_health.h"

#include "ulvs/config/emit.h"

namespace ulvs::config {

std::string_view to_string(check_type t) {
    switch (t) {
    case check_type::tcp:
        return "tcp";
    case check_type::http:
        return "http";
    case check_type::https:
        return "https";
    case check_type::misc:
        return "misc";
    case check_type::udp:
        return "udp";
    }
    return "tcp";
}

namespace detail {

namespace {

// ", path: ..., status: [...], digest: ..." of one url.
std::string url_keys(const url_cfg& u, quote_fn quote) {
    std::string s = ", path: " + quote(u.path);
    if (!u.status.empty()) {
        s += ", status: [";
        for (size_t i = 0; i < u.status.size(); ++i)
            s += (i ? ", " : "") + std::to_string(u.status[i]);
        s += "]";
    }
    if (!u.digest.empty())
        s += ", digest: " + quote(u.digest);
    return s;
}

std::string check_yaml(const health_check_cfg& c, quote_fn quote) {
    const bool misc = c.type == check_type::misc;
    std::string s = "{type: " + std::string(to_string(c.type)) +
                    ", delay_loop: " + duration_text(c.delay_loop) +
                    (misc ? ", timeout: " : ", connect_timeout: ") +
                    duration_text(c.connect_timeout) + ", retry: " + std::to_string(c.retry) +
                    ", delay_before_retry: " + duration_text(c.delay_before_retry);
    if (c.port != 0)
        s += ", port: " + std::to_string(c.port);
    if (c.address.v4 != 0)
        s += ", address: " + c.address.to_string();
    if (c.source.v4 != 0)
        s += ", source: " + c.source.to_string();
    if (c.warmup.count() != 0)
        s += ", warmup: " + duration_text(c.warmup);
    if (misc) {
        s += ", path: " + quote(c.path) + ", dynamic: " + (c.dynamic ? "true" : "false");
    } else if (c.type == check_type::udp) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string h;
        for (unsigned char b : c.payload)
            h += std::string{hex[b >> 4], hex[b & 15]};
        if (!h.empty())
            s += ", payload: " + quote(h);
        s += std::string(", require_reply: ") + (c.require_reply ? "true" : "false");
    } else if (c.type == check_type::http || c.type == check_type::https) {
        if (c.urls.empty()) {
            s += url_keys({c.path, c.status, c.digest}, quote);
        } else {
            s += ", urls: [";
            for (size_t i = 0; i < c.urls.size(); ++i)
                s += (i ? ", {" : "{") + url_keys(c.urls[i], quote).substr(2) + "}";
            s += "]";
        }
        if (!c.virtualhost.empty())
            s += ", virtualhost: " + quote(c.virtualhost);
    }
    return s + "}";
}

} // namespace

std::string vs_health_yaml(const vs_health_cfg& h, quote_fn quote) {
    std::string s = "    quorum: " + std::to_string(h.quorum) + "\n" +
                    "    hysteresis: " + std::to_string(h.hysteresis) + "\n" +
                    "    alpha: " + (h.alpha ? "true" : "false") + "\n";
    if (h.sorry_server)
        s += "    sorry_server: {address: " + h.sorry_server->address.to_string() +
             ", port: " + std::to_string(h.sorry_server->port) + "}\n";
    if (h.check)
        s += "    health_check: " + check_yaml(*h.check, quote) + "\n";
    if (!h.checks.empty()) {
        s += "    health_checks:\n";
        for (const auto& c : h.checks)
            s += "      - " + check_yaml(c, quote) + "\n";
    }
    if (!h.quorum_up.empty() || !h.quorum_down.empty())
        s += "    notify: {quorum_up: " + quote(h.quorum_up) +
             ", quorum_down: " + quote(h.quorum_down) + "}\n";
    return s;
}

std::string rs_health_yaml(const rs_health_cfg& h, quote_fn quote) {
    std::string s;
    if (h.inhibit_on_failure)
        s += ", inhibit_on_failure: true";
    if (h.check)
        s += ", health_check: " + check_yaml(*h.check, quote);
    if (!h.checks.empty()) {
        s += ", health_checks: [";
        for (size_t i = 0; i < h.checks.size(); ++i)
            s += (i ? ", " : "") + check_yaml(h.checks[i], quote);
        s += "]";
    }
    if (!h.notify.up.empty() || !h.notify.down.empty())
        s += ", notify: {up: " + quote(h.notify.up) + ", down: " + quote(h.notify.down) + "}";
    return s;
}

} // namespace detail
} // namespace ulvs::config
