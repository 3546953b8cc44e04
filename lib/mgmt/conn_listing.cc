#include "ulvs/mgmt/conn_listing.h"

#include <arpa/inet.h>

#include <map>

namespace ulvs::mgmt {

namespace {

std::string endpoint(uint32_t ip_be, uint16_t port_be) {
    char buf[INET_ADDRSTRLEN] = "";
    in_addr a{ip_be};
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(port_be));
}

} // namespace

handler_result conn_listing::start(const config::config& running, const traffic_stats& stats,
                                   uint64_t start) {
    if (m_channels.empty())
        return make_error({errc::not_implemented, "connection listing (-c) is not available"});
    if (m_busy)
        return make_error({errc::internal, "another connection listing is running: retry"});
    m_busy = true;
    const auto n = static_cast<uint32_t>(m_channels.size());
    m_bufs.assign(n, std::vector<dp::conn_dump_entry>(max_listed_conns / n));
    std::vector<uint32_t> want(n);
    for (uint32_t i = 0; i < n; ++i) {
        dp::conn_dump_channel& ch = *m_channels[i];
        ch.buf = m_bufs[i].data();
        ch.cap = static_cast<uint32_t>(m_bufs[i].size());
        want[i] = ch.request.load(std::memory_order_relaxed) + 1;
        ch.request.store(want[i], std::memory_order_release);
    }
    return deferred_reply(
        [this, want, start, &running, &stats](uint64_t now) -> std::optional<json> {
            bool all = true;
            for (size_t i = 0; i < want.size(); ++i)
                all = all && m_channels[i]->done.load(std::memory_order_acquire) == want[i];
            if (all) {
                bool truncated = false;
                for (const dp::conn_dump_channel* ch : m_channels)
                    truncated = truncated || ch->count >= ch->cap;
                m_busy = false;
                return reply(running, stats, truncated);
            }
            if (now - start < wait_ms)
                return std::nullopt;
            // The buffers stay allocated (a late worker may still write into them) until the next
            // listing, which re-posts every channel with new buffers only after this one is over.
            m_busy = false;
            for (dp::conn_dump_channel* ch : m_channels)
                ch->cap = 0; // a late worker then finishes at once and writes nothing
            return make_error({errc::internal, "the workers did not answer the connection listing "
                                               "(worker loop without the conn_dump hook?)"});
        });
}

json conn_listing::reply(const config::config& running, const traffic_stats& stats,
                         bool truncated) {
    // A match service's templates hold its counter id where the VIP would be (conn_table.h
    // key_kind): show its first destination instead, port 0 as IPVS shows fwmark templates.
    std::map<uint32_t, uint32_t> match_vip; // stats id -> first destination (network order)
    for (const auto& vs : running.virtual_servers)
        if (vs.match && !vs.match->destinations.empty())
            match_vip[stats.service_id(vs)] = htonl(vs.match->destinations.front().v4);
    json conns = json::array();
    for (size_t w = 0; w < m_channels.size(); ++w) {
        const uint32_t count = m_channels[w]->count;
        for (uint32_t i = 0; i < count && i < m_bufs[w].size(); ++i) {
            const dp::conn_dump_entry& e = m_bufs[w][i];
            const bool tcp = e.key.proto == static_cast<uint8_t>(l4_proto::tcp);
            // Persistence templates show as IPVS shows them: state NONE, client port 0.
            const bool tmpl = (e.flags & dp::conn_flag::persist_template) != 0;
            uint32_t vip = e.key.dst_ip;
            if (e.key.kind == dp::key_kind::match_template) {
                auto it = match_vip.find(e.key.dst_ip);
                vip = it == match_vip.end() ? 0 : it->second;
            }
            const std::string state = tmpl  ? "NONE"
                                      : tcp ? std::string(dp::tcp_state_name(e.state))
                                            : "UDP";
            conns.push_back({{"proto", tcp ? "tcp" : "udp"},
                             {"expire", (e.expire_in_ms + 999) / 1000},
                             {"state", state},
                             {"client", endpoint(e.key.src_ip, e.key.src_port)},
                             {"vip", endpoint(vip, e.key.dst_port)},
                             {"dest", endpoint(e.dest_ip, e.dest_port)},
                             {"template", tmpl},
                             {"worker", w}});
        }
    }
    return make_ok({{"conns", conns}, {"truncated", truncated}});
}

} // namespace ulvs::mgmt
