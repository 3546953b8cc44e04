#include "ulvs/mgmt/conn_listing.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <memory>

namespace ulvs::mgmt {

namespace {

// A non-negative integer (JSON from the wire parses as unsigned, from C++ literals as signed).
bool natural(const json& j) {
    return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

std::string endpoint(uint32_t ip_be, uint16_t port_be) {
    char buf[INET_ADDRSTRLEN] = "";
    in_addr a{ip_be};
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(port_be));
}

} // namespace

struct conn_listing::page {
    uint32_t worker = 0;
    uint32_t slot = 0;
    uint32_t limit = page_entries;
    uint64_t started = 0;
    std::optional<uint32_t> posted; // the request number of our chunk in flight
    uint32_t encoded = 0;           // of its entries, once it came back
    json conns = json::array();
    // A match service's templates hold its counter id where the VIP would be (conn_table.h
    // key_kind): they show its first destination instead, port 0 as IPVS shows fwmark templates.
    std::map<uint32_t, uint32_t> match_vip; // stats id -> first destination (network order)
};

handler_result conn_listing::start(const config::config& running, const traffic_stats& stats,
                                   const json& request, uint64_t now) {
    if (m_channels.empty())
        return make_error({errc::not_implemented, "connection listing (-c) is not available"});
    auto p = std::make_shared<page>();
    p->started = now;
    if (auto c = request.find("cursor"); c != request.end() && !c->is_null()) {
        if (!c->is_array() || c->size() != 2 || !natural((*c)[0]) || !natural((*c)[1]) ||
            (*c)[0].get<uint64_t>() >= m_channels.size() || (*c)[1].get<uint64_t>() > UINT32_MAX)
            return make_error({errc::bad_request, "\"cursor\" must be a cursor of a previous "
                                                  "reply: [worker, slot]"});
        p->worker = (*c)[0].get<uint32_t>();
        p->slot = (*c)[1].get<uint32_t>();
    }
    if (auto l = request.find("limit"); l != request.end()) {
        if (!natural(*l) || l->get<uint64_t>() == 0 || l->get<uint64_t>() > page_entries)
            return make_error(
                {errc::bad_request, "\"limit\" must be 1.." + std::to_string(page_entries)});
        p->limit = l->get<uint32_t>();
    }
    for (const auto& vs : running.virtual_servers)
        if (vs.match && !vs.match->destinations.empty())
            p->match_vip[stats.service_id(vs)] = htonl(vs.match->destinations.front().v4);
    return deferred_reply([this, p](uint64_t t) { return step(*p, t); });
}

std::optional<json> conn_listing::step(page& p, uint64_t now) {
    // A few chunks at most per pass: a worker that has nothing left answers its chunk in one
    // step, so a page usually needs one chunk per worker that still has entries.
    for (int round = 0; round < 4; ++round) {
        if (p.worker >= m_channels.size() || p.conns.size() >= p.limit) {
            json r =
                make_ok({{"conns", std::move(p.conns)}, {"more", p.worker < m_channels.size()}});
            if (p.worker < m_channels.size())
                r["cursor"] = {p.worker, p.slot};
            return r;
        }
        if (m_inflight) { // someone's chunk is out: ours, or another page's (possibly abandoned)
            dp::conn_dump_channel& ch = *m_channels[m_inflight->worker];
            const bool ours = p.posted && *p.posted == m_inflight->request;
            if (ch.done.load(std::memory_order_acquire) != m_inflight->request) {
                if (now - m_inflight->since < wait_ms)
                    return std::nullopt;
                // A late worker then finishes at once and writes nothing.
                ch.cap = 0;
                m_inflight.reset();
                if (!ours)
                    continue; // an abandoned page's chunk: ours goes out now
                return make_error({errc::internal, "the workers did not answer the connection "
                                                   "listing (worker loop without the conn_dump "
                                                   "hook?)"});
            }
            if (!ours) { // an abandoned page's chunk, or one whose page is gone
                m_inflight.reset();
                continue;
            }
            // Ours: encoded a slice per pass; the buffer stays ours (m_inflight) until then.
            const uint32_t count = std::min<uint32_t>(ch.count, uint32_t(m_buf.size()));
            p.encoded += append(p, p.encoded, std::min(count, p.encoded + encode_per_pass));
            if (p.encoded < count)
                return std::nullopt;
            m_inflight.reset();
            p.posted.reset();
            p.encoded = 0;
            p.slot = ch.end ? 0 : ch.next;
            p.worker += ch.end ? 1 : 0;
            continue;
        }
        if (now - p.started > 2 * wait_ms)
            return make_error({errc::internal, "the connection listing waited too long for "
                                               "other listings: retry"});
        dp::conn_dump_channel& ch = *m_channels[p.worker];
        ch.buf = m_buf.data();
        ch.cap = p.limit - static_cast<uint32_t>(p.conns.size());
        ch.start = p.slot;
        const uint32_t req = ch.request.load(std::memory_order_relaxed) + 1;
        ch.request.store(req, std::memory_order_release);
        m_inflight = inflight{p.worker, req, now};
        p.posted = req;
        return std::nullopt; // the worker needs at least one of its loop iterations
    }
    return std::nullopt;
}

uint32_t conn_listing::append(page& p, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; ++i) {
        const dp::conn_dump_entry& e = m_buf[i];
        const bool tcp = e.key.proto == static_cast<uint8_t>(l4_proto::tcp);
        // Persistence templates show as IPVS shows them: state NONE, client port 0.
        const bool tmpl = (e.flags & dp::conn_flag::persist_template) != 0;
        uint32_t vip = e.key.dst_ip;
        if (e.key.kind == dp::key_kind::match_template) {
            auto it = p.match_vip.find(e.key.dst_ip);
            vip = it == p.match_vip.end() ? 0 : it->second;
        }
        // SNAT connections (issue 19) take the same layout: source = the inside host that opened
        // it, virtual = the SNAT address:port it goes out as, destination = the remote end.
        if (e.flags & dp::conn_flag::snat) {
            const bool icmp = e.key.proto == 1;
            p.conns.push_back({{"proto", tcp    ? "tcp"
                                         : icmp ? "icmp"
                                                : "udp"},
                               {"expire", (e.expire_in_ms + 999) / 1000},
                               {"state", tcp    ? std::string(dp::tcp_state_name(e.state))
                                         : icmp ? "ICMP"
                                                : "UDP"},
                               {"client", endpoint(e.dest_ip, e.dest_port)},
                               {"vip", endpoint(e.key.dst_ip, e.key.dst_port)},
                               {"dest", endpoint(e.key.src_ip, e.key.src_port)},
                               {"template", false},
                               {"snat", true},
                               {"worker", p.worker}});
            continue;
        }
        const std::string state = tmpl  ? "NONE"
                                  : tcp ? std::string(dp::tcp_state_name(e.state))
                                        : "UDP";
        p.conns.push_back({{"proto", tcp ? "tcp" : "udp"},
                           {"expire", (e.expire_in_ms + 999) / 1000},
                           {"state", state},
                           {"client", endpoint(e.key.src_ip, e.key.src_port)},
                           {"vip", endpoint(vip, e.key.dst_port)},
                           {"dest", endpoint(e.dest_ip, e.dest_port)},
                           {"template", tmpl},
                           {"worker", p.worker}});
    }
    return to - from;
}

} // namespace ulvs::mgmt
