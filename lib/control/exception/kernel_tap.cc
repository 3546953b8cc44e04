// TAP interfaces of the kernel exception path (kernel_tap.h).
#include "ulvs/control/exception/kernel_tap.h"

#include "ulvs/dataplane/pkt/parse.h"

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ulvs::ctl {

namespace {

constexpr uint16_t arp_op_reply = 2;

void set_sysctl(const std::string& path, char value) {
    if (int f = ::open(path.c_str(), O_WRONLY | O_CLOEXEC); f >= 0) {
        [[maybe_unused]] ssize_t n = write(f, &value, 1);
        ::close(f);
    }
}

// A non-persistent TAP "name" (it disappears with its last fd), non-blocking, no packet info
// header; its interface index through `ifindex`.
std::expected<int, std::string> open_tun(const std::string& name, int& ifindex) {
    const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return std::unexpected(std::string("/dev/net/tun: ") + std::strerror(errno));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        std::string e = name + ": TUNSETIFF: " + std::strerror(errno);
        ::close(fd);
        return std::unexpected(e);
    }
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool ok = s >= 0 && ioctl(s, SIOCGIFINDEX, &ifr) == 0;
    const int err = errno;
    if (s >= 0)
        ::close(s);
    if (!ok) {
        ::close(fd);
        return std::unexpected(name + ": SIOCGIFINDEX: " + std::strerror(err));
    }
    ifindex = ifr.ifr_ifindex;
    // No IPv6 on it: its router solicitations and DAD would only be noise on the port.
    set_sysctl("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6", '1');
    // The host view's VIPs (kernel_tap.h): ARP requests from the port's own address, never a
    // VIP's; a VIP leaving never flushes the port's addresses of its subnet.
    set_sysctl("/proc/sys/net/ipv4/conf/" + name + "/arp_announce", '2');
    set_sysctl("/proc/sys/net/ipv4/conf/" + name + "/promote_secondaries", '1');
    return fd;
}

// Is a packet to an address of kind `ai` the host's? Our own addresses, and the owned VIPs of the
// host view (dp::addr_kind::host) on what no virtual server takes: that never reaches the kernel.
bool for_host(const dp::snapshot& snap, dp::addr_info ai, const dp::parsed_pkt& pp) {
    const bool tcp_udp = pp.ip_proto == IPPROTO_TCP || pp.ip_proto == IPPROTO_UDP;
    if (dp::has(ai.kind, dp::addr_kind::vip) && tcp_udp &&
        snap.lookup(ai.kind, pp.ip_proto, pp.src_ip, pp.dst_ip, pp.dst_port) != nullptr)
        return false;
    if (dp::has(ai.kind, dp::addr_kind::local))
        return true;
    return dp::has(ai.kind, dp::addr_kind::host) && snap.held(ai);
}

template <class T> bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

kernel_taps::~kernel_taps() {
    for (const tap& t : m_taps)
        if (t.fd >= 0)
            ::close(t.fd); // a non-persistent TAP disappears with its last fd
}

std::expected<std::unique_ptr<kernel_taps>, std::string>
kernel_taps::create(std::vector<std::array<uint8_t, 6>> macs) {
    auto nl = rtnl::open();
    if (!nl)
        return std::unexpected(nl.error());
    std::unique_ptr<kernel_taps> t(new kernel_taps);
    t->m_rtnl = std::move(*nl);
    t->m_macs = std::move(macs);
    return t;
}

std::unique_ptr<kernel_taps> kernel_taps::over_fds(std::vector<int> fds) {
    std::unique_ptr<kernel_taps> t(new kernel_taps);
    t->m_taps.resize(fds.size());
    for (size_t i = 0; i < fds.size(); ++i) {
        t->m_taps[i].fd = fds[i];
        t->m_taps[i].name = "test" + std::to_string(i);
    }
    return t;
}

std::vector<std::string> kernel_taps::names() const {
    std::vector<std::string> out;
    for (const tap& t : m_taps)
        if (t.fd >= 0)
            out.push_back(t.name);
    return out;
}

bool kernel_taps::open_tap(size_t port, const config::config& cfg) {
    tap& t = m_taps[port];
    t.name = ("ulvs-" + cfg.ports[port].name).substr(0, IFNAMSIZ - 1);
    auto fd = open_tun(t.name, t.ifindex);
    if (!fd) {
        spdlog::error("kernel exception path: {} (health checks through port {} will fail)",
                      fd.error(), cfg.ports[port].name);
        return false;
    }
    t.fd = *fd;
    t.addresses.clear();
    spdlog::info("kernel exception path: TAP interface {} for port {}", t.name,
                 cfg.ports[port].name);
    return true;
}

void kernel_taps::sync(const config::config& cfg) {
    m_filter.set_policy(exception_policy::from_config(cfg));
    if (!m_rtnl)
        return; // over_fds (tests): the "TAPs" are fixed
    m_plan = tap_plan::from_config(cfg);
    const tap_plan& plan = m_plan;
    const auto want = plan.host_addresses(m_masters);
    const size_t n = std::min(cfg.ports.size(), m_macs.size());
    if (m_taps.size() < n)
        m_taps.resize(n);
    for (size_t p = 0; p < n; ++p) {
        tap& t = m_taps[p];
        const bool opened = t.fd < 0 && plan.needed[p] && open_tap(p, cfg);
        if (t.fd >= 0 && (opened || t.mtu != cfg.ports[p].mtu)) {
            t.mtu = cfg.ports[p].mtu;
            m_rtnl->link_up(t.ifindex, t.name, m_macs[p], t.mtu);
        }
    }
    std::vector<tap_plan::route> routes;
    for (const tap_plan::route& r : plan.routes)
        if (r.port < n && m_taps[r.port].fd >= 0)
            routes.push_back(r);
    bool same = routes == m_routes;
    for (size_t p = 0; p < n; ++p)
        same = same && (m_taps[p].fd < 0 || m_taps[p].addresses == want[p]);
    if (same)
        return;
    // Old routes first, then old addresses, then every address and route of the plan again
    // (replace: the kernel may have dropped a route with an address it went through). One
    // socket, in order: the kernel applies them in this order.
    for (const tap_plan::route& r : m_routes)
        if (!contains(routes, r))
            m_rtnl->del_route(m_taps[r.port].ifindex, m_taps[r.port].name, r.dst, r.via, r.metric);
    size_t n_addrs = 0;
    for (size_t p = 0; p < n; ++p) {
        tap& t = m_taps[p];
        if (t.fd < 0)
            continue;
        for (const ip_prefix& a : t.addresses)
            if (!contains(want[p], a))
                m_rtnl->del_addr(t.ifindex, t.name, a);
        for (const ip_prefix& a : want[p]) // the port's own first: the primary addresses
            m_rtnl->add_addr(t.ifindex, t.name, a);
        t.addresses = want[p];
        n_addrs += t.addresses.size();
    }
    for (const tap_plan::route& r : routes)
        m_rtnl->add_route(m_taps[r.port].ifindex, m_taps[r.port].name, r.dst, r.via, r.metric);
    m_routes = std::move(routes);
    m_rtnl->poll(); // sent now: checks starting in this pass find them in place
    spdlog::info("kernel exception path: {} addresses and {} routes on the TAPs", n_addrs,
                 m_routes.size());
}

void kernel_taps::set_vrrp_masters(std::vector<std::string> masters) {
    std::sort(masters.begin(), masters.end());
    if (masters == m_masters)
        return;
    m_masters = std::move(masters);
    if (!m_rtnl)
        return;
    // Only the VIPs that come or go: the port's addresses and the routes stay as they are.
    const auto want = m_plan.host_addresses(m_masters);
    for (size_t p = 0; p < m_taps.size() && p < want.size(); ++p) {
        tap& t = m_taps[p];
        if (t.fd < 0)
            continue;
        for (const ip_prefix& a : t.addresses)
            if (!contains(want[p], a)) {
                m_rtnl->del_addr(t.ifindex, t.name, a);
                spdlog::info("host view: {} leaves {}", a.to_string(), t.name);
            }
        for (const ip_prefix& a : want[p])
            if (!contains(t.addresses, a)) {
                m_rtnl->add_addr(t.ifindex, t.name, a);
                spdlog::info("host view: {} on {}", a.to_string(), t.name);
            }
        t.addresses = want[p];
    }
}

unsigned kernel_taps::poll(uint64_t now) {
    m_now = now;
    return m_rtnl ? m_rtnl->poll() : 0;
}

bool kernel_taps::to_kernel(const dp::snapshot& snap, const rte_mbuf* m, uint8_t in_port) {
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    dp::parsed_pkt pp;
    if (rte_pktmbuf_data_len(m) != rte_pktmbuf_pkt_len(m) ||
        dp::parse_frame(f, rte_pktmbuf_data_len(m), false, pp) != dp::drop::none) {
        ++m_ctr.refused; // a fragment, a reassembled (chained) datagram, a malformed frame
        return false;
    }
    if (pp.kind == dp::frame_kind::arp) {
        const auto* arp = f + sizeof(rte_ether_hdr);
        if (((arp[6] << 8) | arp[7]) != arp_op_reply || in_port >= m_taps.size() ||
            m_taps[in_port].fd < 0)
            return false; // ARP is the responder's; replies matter only where the kernel is
    } else {
        const auto info = snap.addrs.find(pp.dst_ip);
        const bool ours = info && for_host(snap, dp::unpack_addr_info(*info), pp);
        const auto v =
            ours ? m_filter.inbound(f, pp, in_port, m_now) : exception_filter::verdict::refused;
        if (v == exception_filter::verdict::refused) {
            ++m_ctr.refused;
            return false;
        }
        ++(v == exception_filter::verdict::check_reply ? m_ctr.check_replies : m_ctr.allowed);
    }
    if (in_port >= m_taps.size() || m_taps[in_port].fd < 0 ||
        write(m_taps[in_port].fd, f, rte_pktmbuf_data_len(m)) < 0) {
        ++m_ctr.to_kernel_dropped;
        return false;
    }
    ++m_ctr.to_kernel;
    return true;
}

unsigned kernel_taps::from_kernel(rte_mempool* pool,
                                  const std::function<void(uint8_t, rte_mbuf*)>& send,
                                  unsigned budget) {
    unsigned moved = 0;
    uint8_t buf[RTE_ETHER_MAX_JUMBO_FRAME_LEN];
    for (size_t p = 0; p < m_taps.size(); ++p) {
        if (m_taps[p].fd < 0)
            continue;
        for (unsigned i = 0; i < budget; ++i) {
            const ssize_t n = read(m_taps[p].fd, buf, sizeof buf);
            if (n <= 0)
                break; // EAGAIN: nothing more from this TAP
            // Seen before it leaves: a check's first packet opens its flow (exception_filter.h).
            m_filter.outbound(buf, static_cast<uint32_t>(n), m_now);
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            char* dst = m ? rte_pktmbuf_append(m, static_cast<uint16_t>(n)) : nullptr;
            if (dst == nullptr) {
                rte_pktmbuf_free(m);
                ++m_ctr.from_kernel_dropped;
                continue;
            }
            std::memcpy(dst, buf, static_cast<size_t>(n));
            send(static_cast<uint8_t>(p), m);
            ++m_ctr.from_kernel;
            ++moved;
        }
    }
    return moved;
}

} // namespace ulvs::ctl
