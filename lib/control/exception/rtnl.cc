// rtnetlink requests for the TAPs (rtnl.h), written from rtnetlink(7) and netlink(7).
#include "ulvs/control/exception/rtnl.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ulvs::ctl {

namespace {

// Large enough for `window` acknowledgements with their extended messages, many times over.
constexpr int rcvbuf_bytes = 1 << 20;
constexpr size_t recv_buf_bytes = 64 * 1024;

// One netlink message: header, the request's fixed part, then attributes (each padded to 4).
class builder {
public:
    builder(uint16_t type, uint16_t flags, const void* body, size_t body_len) {
        nlmsghdr h{};
        h.nlmsg_type = type;
        h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
        append(&h, sizeof h);
        append(body, body_len);
    }
    builder& attr(uint16_t type, const void* data, size_t len) {
        rtattr a{};
        a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        a.rta_type = type;
        append(&a, sizeof a);
        append(data, len);
        return *this;
    }
    builder& attr32(uint16_t type, uint32_t v) { return attr(type, &v, sizeof v); }
    std::vector<uint8_t> done() {
        reinterpret_cast<nlmsghdr*>(m_b.data())->nlmsg_len = static_cast<uint32_t>(m_b.size());
        return std::move(m_b);
    }

private:
    void append(const void* p, size_t len) {
        const auto* b = static_cast<const uint8_t*>(p);
        m_b.insert(m_b.end(), b, b + len);
        m_b.resize(NLMSG_ALIGN(m_b.size())); // NLMSG_ALIGN and RTA_ALIGN are both 4
    }
    std::vector<uint8_t> m_b;
};

uint32_t net32(ip_addr a) {
    return htonl(a.v4);
}

std::vector<uint8_t> addr_msg(uint16_t type, uint16_t flags, int ifindex, ip_prefix a) {
    ifaddrmsg m{};
    m.ifa_family = AF_INET;
    m.ifa_prefixlen = a.len;
    m.ifa_scope = RT_SCOPE_UNIVERSE;
    m.ifa_index = static_cast<uint32_t>(ifindex);
    return builder(type, flags, &m, sizeof m)
        .attr32(IFA_LOCAL, net32(a.addr))
        .attr32(IFA_ADDRESS, net32(a.addr)) // no peer: the same (rtnetlink(7))
        .done();
}

std::vector<uint8_t> route_msg(uint16_t type, uint16_t flags, int ifindex, ip_prefix dst,
                               ip_addr via, uint32_t metric) {
    rtmsg m{};
    m.rtm_family = AF_INET;
    m.rtm_dst_len = dst.len;
    m.rtm_table = RT_TABLE_MAIN;
    m.rtm_type = RTN_UNICAST;
    // A delete matches any scope and protocol; an add is a static route of global scope.
    m.rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
    m.rtm_protocol = type == RTM_DELROUTE ? RTPROT_UNSPEC : RTPROT_STATIC;
    builder b(type, flags, &m, sizeof m);
    if (dst.len > 0)
        b.attr32(RTA_DST, net32(dst.addr));
    b.attr32(RTA_GATEWAY, net32(via)).attr32(RTA_OIF, static_cast<uint32_t>(ifindex));
    if (metric != 0)
        b.attr32(RTA_PRIORITY, metric);
    return b.done();
}

// A route of `table` (RTA_TABLE: ids past 255 do not fit rtm_table) straight on the interface.
std::vector<uint8_t> table_route_msg(uint16_t type, uint16_t flags, int ifindex, ip_prefix dst,
                                     uint32_t table, uint8_t proto) {
    rtmsg m{};
    m.rtm_family = AF_INET;
    m.rtm_dst_len = dst.len;
    m.rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    m.rtm_type = RTN_UNICAST;
    m.rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_LINK;
    m.rtm_protocol = proto; // a delete names it too: only our own routes go
    builder b(type, flags, &m, sizeof m);
    b.attr32(RTA_TABLE, table);
    if (dst.len > 0)
        b.attr32(RTA_DST, net32(dst.addr));
    b.attr32(RTA_OIF, static_cast<uint32_t>(ifindex));
    return b.done();
}

std::string table_route_text(ip_prefix dst, uint32_t table, uint8_t proto) {
    return dst.to_string() + " table " + std::to_string(table) + " proto " + std::to_string(proto);
}

std::string route_text(ip_prefix dst, ip_addr via, uint32_t metric) {
    return dst.to_string() + " via " + via.to_string() +
           (metric != 0 ? " metric " + std::to_string(metric) : "");
}

} // namespace

std::expected<std::unique_ptr<rtnl>, std::string> rtnl::open() {
    const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return std::unexpected(std::string("netlink socket: ") + std::strerror(errno));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK; // nl_pid 0: the kernel assigns our address
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
        std::string e = std::string("netlink bind: ") + std::strerror(errno);
        ::close(fd);
        return std::unexpected(e);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    // Errors carry the kernel's reason as text, and not the whole request back (netlink(7)).
    const int on = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    return std::unique_ptr<rtnl>(new rtnl(fd));
}

rtnl::~rtnl() {
    if (m_fd >= 0)
        ::close(m_fd);
}

void rtnl::link_up(int ifindex, const std::string& name, const std::array<uint8_t, 6>& mac,
                   uint16_t mtu) {
    ifinfomsg m{};
    m.ifi_family = AF_UNSPEC;
    m.ifi_index = ifindex;
    m.ifi_flags = IFF_UP;
    m.ifi_change = IFF_UP;
    // The kernel sets the address and MTU before it brings the link up.
    queue({builder(RTM_NEWLINK, 0, &m, sizeof m)
               .attr(IFLA_ADDRESS, mac.data(), mac.size())
               .attr32(IFLA_MTU, mtu)
               .done(),
           name + ": set MAC, MTU " + std::to_string(mtu) + " and up"});
}

void rtnl::add_addr(int ifindex, const std::string& name, ip_prefix a) {
    queue({addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, a),
           name + ": add address " + a.to_string()});
}

void rtnl::del_addr(int ifindex, const std::string& name, ip_prefix a) {
    queue({addr_msg(RTM_DELADDR, 0, ifindex, a), name + ": delete address " + a.to_string(),
           EADDRNOTAVAIL});
}

void rtnl::add_route(int ifindex, const std::string& name, ip_prefix dst, ip_addr via,
                     uint32_t metric) {
    queue({route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, dst, via, metric),
           name + ": add route " + route_text(dst, via, metric)});
}

void rtnl::del_route(int ifindex, const std::string& name, ip_prefix dst, ip_addr via,
                     uint32_t metric) {
    // ESRCH: gone already (the kernel drops routes with the address they went through).
    queue({route_msg(RTM_DELROUTE, 0, ifindex, dst, via, metric),
           name + ": delete route " + route_text(dst, via, metric), ESRCH});
}

void rtnl::add_table_route(int ifindex, const std::string& name, ip_prefix dst, uint32_t table,
                           uint8_t proto) {
    queue({table_route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, dst, table, proto),
           name + ": add route " + table_route_text(dst, table, proto)});
}

void rtnl::del_table_route(int ifindex, const std::string& name, ip_prefix dst, uint32_t table,
                           uint8_t proto) {
    // ESRCH: gone already (the kernel drops routes through an interface that went down).
    queue({table_route_msg(RTM_DELROUTE, 0, ifindex, dst, table, proto),
           name + ": delete route " + table_route_text(dst, table, proto), ESRCH});
}

unsigned rtnl::send_some() {
    unsigned sent = 0;
    while (!m_queue.empty() && m_inflight.size() < window) {
        request& r = m_queue.front();
        auto* h = reinterpret_cast<nlmsghdr*>(r.msg.data());
        h->nlmsg_seq = ++m_seq;
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        const ssize_t n = sendto(m_fd, r.msg.data(), r.msg.size(), MSG_DONTWAIT,
                                 reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
        if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
            break; // try again on the next pass
        if (n < 0) {
            ++m_failures;
            spdlog::error("kernel exception path: {}: {}", r.what, std::strerror(errno));
        } else {
            m_inflight.emplace(h->nlmsg_seq, std::move(r));
        }
        m_queue.pop_front();
        ++sent;
    }
    return sent;
}

unsigned rtnl::read_acks() {
    unsigned got = 0;
    alignas(nlmsghdr) static uint8_t buf[recv_buf_bytes];
    for (;;) {
        const ssize_t n = recv(m_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == ENOBUFS) {
            // Acknowledgements were lost (cannot happen within the window, but if it does the
            // requests in flight will never be answered): forget them rather than wait forever.
            spdlog::error("kernel exception path: netlink receive overrun; {} requests "
                          "unconfirmed",
                          m_inflight.size());
            m_inflight.clear();
            continue;
        }
        if (n <= 0)
            return got; // EAGAIN: nothing more now
        // Walked by hand: NLMSG_OK compares a __u32 length with an int one (-Wsign-compare).
        size_t left = static_cast<size_t>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf);
             left >= sizeof(nlmsghdr) && h->nlmsg_len >= sizeof(nlmsghdr) && h->nlmsg_len <= left;
             left -= std::min<size_t>(left, NLMSG_ALIGN(h->nlmsg_len)),
                   h = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(h) +
                                                   NLMSG_ALIGN(h->nlmsg_len))) {
            if (h->nlmsg_type != NLMSG_ERROR)
                continue;
            auto it = m_inflight.find(h->nlmsg_seq);
            if (it == m_inflight.end())
                continue;
            ++got;
            const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
            const int err = -e->error;
            if (err != 0) {
                // The extended ack's text, if any: attributes after the (capped) request.
                std::string why;
                if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
                    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nlmsgerr));
                    if (!(h->nlmsg_flags & NLM_F_CAPPED)) // the whole request came back
                        off += NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(nlmsghdr));
                    for (size_t at = off; at + sizeof(nlattr) <= h->nlmsg_len;) {
                        const auto* a = reinterpret_cast<const nlattr*>(
                            reinterpret_cast<const uint8_t*>(h) + at);
                        if (a->nla_len < sizeof(nlattr) || at + a->nla_len > h->nlmsg_len)
                            break;
                        if (a->nla_type == NLMSGERR_ATTR_MSG)
                            why = std::string(reinterpret_cast<const char*>(a) + NLA_HDRLEN,
                                              strnlen(reinterpret_cast<const char*>(a) + NLA_HDRLEN,
                                                      a->nla_len - NLA_HDRLEN));
                        at += NLA_ALIGN(a->nla_len);
                    }
                }
                if (err == it->second.benign_errno) {
                    spdlog::debug("kernel exception path: {}: {}", it->second.what,
                                  std::strerror(err));
                } else {
                    ++m_failures;
                    spdlog::error("kernel exception path: {}: {}{}", it->second.what,
                                  std::strerror(err), why.empty() ? "" : " (" + why + ")");
                }
            }
            m_inflight.erase(it);
        }
    }
}

unsigned rtnl::poll() {
    if (m_queue.empty() && m_inflight.empty())
        return 0;
    unsigned work = read_acks();
    // The kernel answers a request while we send it: a few rounds empty a long queue quickly,
    // bounded so one pass stays short.
    for (int round = 0; round < 4 && !m_queue.empty(); ++round) {
        const unsigned sent = send_some();
        work += sent + read_acks();
        if (sent == 0)
            break;
    }
    return work;
}

} // namespace ulvs::ctl
