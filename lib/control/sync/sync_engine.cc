#include "ulvs/control/sync/sync_engine.h"

#include "ulvs/dataplane/conn/conn_table.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace ulvs::ctl {

namespace {

constexpr size_t eth_len = 14, ip_len = 20, udp_len = 8, hdr_len = eth_len + ip_len + udp_len;
constexpr uint8_t unicast_ttl = 64;

uint16_t rd16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t rd32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void wr16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t* p, uint32_t v) {
    wr16(p, static_cast<uint16_t>(v >> 16));
    wr16(p + 2, static_cast<uint16_t>(v));
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2)
        s += rd16(p + i);
    if (n & 1)
        s += uint32_t{p[n - 1]} << 8;
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

uint32_t wire_fwd(fwd_mode m) {
    switch (m) {
    case fwd_mode::nat:
        return sync::conn_flag::masq;
    case fwd_mode::dr:
        return sync::conn_flag::droute;
    case fwd_mode::tun:
        return sync::conn_flag::tunnel;
    }
    return sync::conn_flag::masq;
}

// The datagram limit: sync.maxlen, or IPVS' master default 1472 (1500 less the IP and UDP
// headers), less when the port's MTU is smaller.
uint16_t maxlen_of(const config::sync_cfg& c, uint16_t mtu) {
    if (c.maxlen != 0)
        return c.maxlen;
    const unsigned fit = mtu > 28 ? mtu - 28u : 0u;
    return static_cast<uint16_t>(std::min<unsigned>(fit, sync::default_maxlen));
}

} // namespace

sync_engine::sync_engine(params p, io o)
    : m_p(std::move(p)), m_io(std::move(o)), m_maxlen(maxlen_of(m_p.cfg, m_p.mtu)),
      m_frame(hdr_len + std::max<size_t>(m_maxlen, sync::min_maxlen)),
      m_msg(std::span<uint8_t>(m_frame).subspan(hdr_len, m_frame.size() - hdr_len), m_p.cfg.syncid),
      m_rx(rx_queue_slots, std::vector<uint8_t>(rx_slot_bytes)), m_rx_len(rx_queue_slots, 0) {}

sync_engine::~sync_engine() {
    for (rte_ring* r : m_out)
        rte_ring_free(r);
    for (rte_ring* r : m_in)
        rte_ring_free(r);
}

std::expected<std::pair<rte_ring*, rte_ring*>, std::string>
sync_engine::connect_worker(uint32_t id) {
    auto make = [&](const char* kind, unsigned size) -> rte_ring* {
        const std::string name = std::string("ulvs_sync_") + kind + "_w" + std::to_string(id);
        return rte_ring_create_elem(name.c_str(), sizeof(dp::sync_msg), size, rte_socket_id(),
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
    };
    rte_ring* out = nullptr;
    rte_ring* in = nullptr;
    if (sends()) {
        if ((out = make("out", dp::sync_out_ring_size)) == nullptr)
            return std::unexpected("cannot create the sync ring from worker " + std::to_string(id) +
                                   ": " + rte_strerror(rte_errno));
        m_out.push_back(out);
    }
    if (receives()) {
        if ((in = make("in", dp::sync_in_ring_size)) == nullptr)
            return std::unexpected("cannot create the sync ring to worker " + std::to_string(id) +
                                   ": " + rte_strerror(rte_errno));
        m_in.push_back(in);
    }
    return std::pair{out, in};
}

sync::conn_record sync_engine::to_wire(const dp::sync_msg& m) {
    sync::conn_record r;
    r.protocol = m.proto;
    r.flags = wire_fwd(m.mode);
    const bool tmpl = m.kind == dp::key_kind::addr_template;
    if (tmpl)
        r.flags |= sync::conn_flag::template_;
    else if (m.proto != sync::proto_tcp || !dp::tcp_state_active(m.state))
        r.flags |= sync::conn_flag::inactive; // as IPVS: counted in InActConn
    r.state = tmpl || m.proto != sync::proto_tcp ? 0 : static_cast<uint16_t>(m.state);
    r.cport = ntohs(m.cport);
    r.vport = ntohs(m.vport);
    r.dport = ntohs(m.dport);
    r.timeout = (m.timeout_ms + 999) / 1000;
    r.caddr = ntohl(m.caddr);
    r.vaddr = ntohl(m.vaddr);
    r.daddr = ntohl(m.daddr);
    return r;
}

std::optional<dp::sync_msg> sync_engine::from_wire(const sync::conn_record& r) {
    dp::sync_msg m{};
    switch (r.flags & sync::conn_flag::fwd_mask) {
    case sync::conn_flag::masq:
        m.mode = fwd_mode::nat;
        break;
    case sync::conn_flag::droute:
        m.mode = fwd_mode::dr;
        break;
    case sync::conn_flag::tunnel:
        m.mode = fwd_mode::tun;
        break;
    default:
        return std::nullopt; // local node, bypass: nothing ulvs forwards
    }
    if (r.flags & sync::conn_flag::template_) {
        if (r.fwmark != 0)
            return std::nullopt; // a fwmark service's template: ulvs has no fwmarks
        m.kind = dp::key_kind::addr_template;
        m.state = dp::tcp_state::none;
    } else {
        m.kind = dp::key_kind::packet;
        m.state = r.protocol == sync::proto_tcp ? static_cast<dp::tcp_state>(r.state)
                                                : dp::tcp_state::none;
    }
    m.proto = r.protocol;
    m.caddr = htonl(r.caddr);
    m.vaddr = htonl(r.vaddr);
    m.daddr = htonl(r.daddr);
    m.cport = htons(r.cport);
    m.vport = htons(r.vport);
    m.dport = htons(r.dport);
    // 0: the receiver's default for the state (dp apply_sync); capped far from overflow.
    m.timeout_ms = r.timeout > 4'000'000 ? 4'000'000'000u : r.timeout * 1000;
    return m;
}

void sync_engine::send_pending() {
    if (m_msg.empty())
        return;
    const std::span<const uint8_t> msg = m_msg.finish();
    const uint8_t n = m_msg.count();
    uint8_t* f = m_frame.data();
    const uint32_t dst = m_p.cfg.peer ? m_p.cfg.peer->v4 : m_p.cfg.group.v4;
    if (m_p.cfg.peer) {
        const auto mac = m_io.peer_mac ? m_io.peer_mac(dst) : std::nullopt;
        if (!mac) {
            ++m_c.send_unresolved;
            m_msg.reset();
            return;
        }
        std::memcpy(f, mac->data(), 6);
    } else { // RFC 1112: 01:00:5e and the group's low 23 bits
        const uint8_t g[6] = {0x01,
                              0x00,
                              0x5e,
                              static_cast<uint8_t>((dst >> 16) & 0x7f),
                              static_cast<uint8_t>(dst >> 8),
                              static_cast<uint8_t>(dst)};
        std::memcpy(f, g, 6);
    }
    std::memcpy(f + 6, m_p.mac.data(), 6);
    wr16(f + 12, 0x0800);
    uint8_t* ip = f + eth_len;
    const auto total = static_cast<uint16_t>(ip_len + udp_len + msg.size());
    ip[0] = 0x45;
    ip[1] = 0;
    wr16(ip + 2, total);
    wr16(ip + 4, m_ip_id++);
    wr16(ip + 6, 0x4000); // DF: datagrams are sized to the MTU
    ip[8] = m_p.cfg.peer ? unicast_ttl : m_p.cfg.ttl;
    ip[9] = 17;
    wr16(ip + 10, 0);
    wr32(ip + 12, m_p.src_ip);
    wr32(ip + 16, dst);
    wr16(ip + 10, fold(sum16(ip, ip_len)));
    uint8_t* udp = ip + ip_len;
    const auto ulen = static_cast<uint16_t>(udp_len + msg.size());
    wr16(udp, m_p.cfg.port);
    wr16(udp + 2, m_p.cfg.port);
    wr16(udp + 4, ulen);
    wr16(udp + 6, 0);
    uint32_t s = sum16(ip + 12, 8) + 17 + ulen;
    uint16_t c = fold(sum16(udp, ulen, s));
    wr16(udp + 6, c == 0 ? 0xffff : c);
    m_io.send(std::span<const uint8_t>(f, eth_len + total));
    ++m_c.datagrams_sent;
    m_c.records_sent += n;
    m_msg.reset();
}

void sync_engine::flush() {
    send_pending();
}

bool sync_engine::on_frame(const uint8_t* f, size_t len, uint8_t port) {
    if (!receives() || port != m_p.port || len < hdr_len || rd16(f + 12) != 0x0800)
        return false;
    const uint8_t* ip = f + eth_len;
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    if ((ip[0] >> 4) != 4 || ihl < ip_len || ip[9] != 17 || (rd16(ip + 6) & 0x3fff) != 0 ||
        len < eth_len + ihl + udp_len)
        return false;
    const uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
    const uint8_t* udp = ip + ihl;
    if (rd16(udp + 2) != m_p.cfg.port || (dst != m_p.cfg.group.v4 && dst != m_p.src_ip) ||
        src == m_p.src_ip)
        return false;
    if (m_p.cfg.peer && src != m_p.cfg.peer->v4)
        return false; // unicast: only the peer's (the exception path refuses the rest)
    const size_t ulen = rd16(udp + 4);
    const size_t avail = len - eth_len - ihl;
    const size_t payload = (ulen >= udp_len && ulen <= avail ? ulen : avail) - udp_len;
    if (m_rx_n == rx_queue_slots || payload > rx_slot_bytes) {
        ++m_c.datagrams_queue_full;
        return true;
    }
    const size_t slot = (m_rx_head + m_rx_n) % rx_queue_slots;
    std::memcpy(m_rx[slot].data(), udp + udp_len, payload);
    m_rx_len[slot] = static_cast<uint16_t>(payload);
    ++m_rx_n;
    return true;
}

void sync_engine::route(const dp::sync_msg& m) {
    const dp::snapshot* s = m_p.snapshot();
    const uint32_t owner = dp::sync_owner(*s, m, m_p.n_workers);
    if (owner >= m_in.size()) {
        ++m_c.records_unroutable;
        return;
    }
    dp::sync_msg copy = m; // DPDK's prototype takes a non-const pointer
    if (rte_ring_sp_enqueue_elem(m_in[owner], &copy, sizeof copy) != 0) {
        ++m_c.records_ring_full;
        return;
    }
    ++m_c.records_routed;
}

unsigned sync_engine::poll(uint64_t now_ms, const deadline& d) {
    unsigned work = 0;
    dp::sync_msg batch[256];
    for (rte_ring* r : m_out) {
        for (unsigned taken = 0; taken < records_per_poll;) {
            const unsigned n = rte_ring_sc_dequeue_burst_elem(r, batch, sizeof(dp::sync_msg),
                                                              std::size(batch), nullptr);
            for (unsigned i = 0; i < n; ++i) {
                const sync::conn_record rec = to_wire(batch[i]);
                if (!m_msg.add(rec)) {
                    send_pending();
                    m_msg.add(rec); // an empty message holds any record (min_maxlen)
                }
                if (m_msg.count() == 1)
                    m_first_ms = now_ms;
            }
            taken += n;
            work += n;
            if (n < std::size(batch) || d.passed())
                break;
        }
    }
    if (!m_msg.empty() && now_ms >= m_first_ms + flush_ms)
        send_pending();
    for (unsigned k = 0; k < datagrams_per_poll && m_rx_n != 0 && !d.passed(); ++k) {
        const std::span<const uint8_t> dg(m_rx[m_rx_head].data(), m_rx_len[m_rx_head]);
        m_rx_head = (m_rx_head + 1) % rx_queue_slots;
        --m_rx_n;
        ++m_c.datagrams_received;
        const sync::decode_result res = sync::decode(dg, m_p.cfg.syncid, [&](const auto& rec) {
            ++m_c.records_received;
            if (const auto m = from_wire(rec))
                route(*m);
            else
                ++m_c.records_unusable;
        });
        m_dec.add(res);
        ++work;
    }
    return work;
}

std::vector<sync_counter> sync_engine::named_counters() const {
    std::vector<sync_counter> out = {
        {"sync_records_sent", "Connection sync records sent to the peer.", m_c.records_sent},
        {"sync_datagrams_sent", "Connection sync datagrams sent.", m_c.datagrams_sent},
        {"sync_datagrams_unresolved",
         "Connection sync datagrams not sent: the unicast peer's MAC was not known yet.",
         m_c.send_unresolved},
        {"sync_datagrams_received", "Connection sync datagrams received and decoded.",
         m_c.datagrams_received},
        {"sync_datagrams_queue_full",
         "Connection sync datagrams refused: the control lcore's receive queue was full.",
         m_c.datagrams_queue_full},
        {"sync_datagrams_other_syncid", "Connection sync datagrams ignored: another syncid.",
         m_dec.other_syncid},
        {"sync_datagrams_malformed",
         "Connection sync datagrams refused as malformed (all reasons).", m_dec.refused_total()},
        {"sync_records_received", "Connection sync records received.", m_c.records_received},
        {"sync_records_unusable",
         "Received records ulvs cannot use (fwmark templates, local or bypass forwarding).",
         m_c.records_unusable},
        {"sync_records_unroutable",
         "Received records for no virtual server here (no owner worker to apply them).",
         m_c.records_unroutable},
        {"sync_records_ring_full",
         "Received records dropped: the owner worker's sync ring was full.", m_c.records_ring_full},
        {"sync_records_routed", "Received records handed to their owner worker.",
         m_c.records_routed},
    };
    for (size_t i = 1; i < sync::refusal_count; ++i)
        out.push_back({"sync_datagrams_malformed_" +
                           std::string(sync::to_string(static_cast<sync::refusal>(i))),
                       "Connection sync datagrams refused for this reason (wire.h).",
                       m_dec.refused[i]});
    for (size_t i = 0; i < sync::skip_count; ++i)
        out.push_back(
            {"sync_records_skipped_" + std::string(sync::to_string(static_cast<sync::skip>(i))),
             "Received entries skipped for this reason (wire.h).", m_dec.skipped[i]});
    return out;
}

} // namespace ulvs::ctl
