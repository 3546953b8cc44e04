// Interface set-up for the kernel exception path's TAPs (kernel_tap.h) over rtnetlink, issue 13:
// `ip` run as a child and waited for could hang the control loop. Here every request is one
// message on a non-blocking NETLINK_ROUTE socket (rtnetlink(7), netlink(7)), sent without waiting;
// the kernel's acknowledgements (NLMSG_ERROR, 0 for success) are read by poll() and failures
// logged with the request they answer and the kernel's extended message. At most `window`
// requests are unanswered at a time, so the acknowledgements always fit the receive buffer; the
// rest wait in a queue.
//
// What is left of waiting: the kernel handles a request inside sendmsg under its routing lock
// (microseconds; longer only if another process holds that lock), as it would for `ip`.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/common/inet.h"

#include <array>
#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ulvs::ctl {

class rtnl {
public:
    static constexpr size_t window = 64;

    static std::expected<std::unique_ptr<rtnl>, std::string> open();
    ~rtnl();
    rtnl(const rtnl&) = delete;
    rtnl& operator=(const rtnl&) = delete;

    // Requests, queued (sent by poll()). `ifindex` names the interface, `name` is for the log.
    // link_up: MAC, MTU and IFF_UP in one RTM_NEWLINK.
    void link_up(int ifindex, const std::string& name, const std::array<uint8_t, 6>& mac,
                 uint16_t mtu);
    // As `ip addr replace` / `ip addr del`.
    void add_addr(int ifindex, const std::string& name, ip_prefix a);
    void del_addr(int ifindex, const std::string& name, ip_prefix a);
    // As `ip route replace PREFIX via VIA dev NAME metric METRIC` / `ip route del ...`, main table.
    void add_route(int ifindex, const std::string& name, ip_prefix dst, ip_addr via,
                   uint32_t metric);
    void del_route(int ifindex, const std::string& name, ip_prefix dst, ip_addr via,
                   uint32_t metric);

    // As `ip route replace DST dev NAME table TABLE proto PROTO scope link` / `ip route del ...`
    // (the announced VIPs, control/announce/announcer.h).
    void add_table_route(int ifindex, const std::string& name, ip_prefix dst, uint32_t table,
                         uint8_t proto);
    void del_table_route(int ifindex, const std::string& name, ip_prefix dst, uint32_t table,
                         uint8_t proto);

    // Read acknowledgements, send what the window allows. Never blocks. Returns work done.
    unsigned poll();
    size_t pending() const { return m_queue.size() + m_inflight.size(); }
    uint64_t failures() const { return m_failures; } // requests the kernel refused

private:
    struct request {
        std::vector<uint8_t> msg; // one netlink message, seq set when sent
        std::string what;         // "ulvs-lan: add address 198.51.100.1/24"
        int benign_errno = 0;     // logged at debug only (a delete of what is already gone)
    };

    explicit rtnl(int fd) : m_fd(fd) {}
    void queue(request r) { m_queue.push_back(std::move(r)); }
    unsigned read_acks();
    unsigned send_some();

    int m_fd = -1;
    uint32_t m_seq = 0;
    std::deque<request> m_queue;
    std::map<uint32_t, request> m_inflight; // by sequence number
    uint64_t m_failures = 0;
};

} // namespace ulvs::ctl
