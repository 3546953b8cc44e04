// TAP interfaces of the kernel exception path (kernel_tap.h).
#include "ulvs/control/exception/kernel_tap.h"

#include "ulvs/dataplane/pkt/parse.h"

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ulvs::ctl {

namespace {

constexpr uint8_t icmp_echo_request = 8;
constexpr uint16_t arp_op_reply = 2;
// The default route through a TAP: above any metric a host's own default route usually has.
constexpr const char* default_route_metric = "4000";

// Start-up only: run `ip ARGS...` and wait for it.
std::expected<void, std::string> run_ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    if (int e = posix_spawnp(&pid, "ip", nullptr, nullptr, argv.data(), environ); e != 0)
        return std::unexpected(std::string("cannot run ip: ") + std::strerror(e));
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    std::string cmd;
    for (size_t i = 0; i + 1 < argv.size(); ++i)
        cmd += (i ? " " : "") + std::string(argv[i]);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return std::unexpected("\"" + cmd + "\" failed");
    return {};
}

std::expected<int, std::string> open_tap(const std::string& name, const port_addrs& p,
                                         uint16_t mtu) {
    const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return std::unexpected(std::string("/dev/net/tun: ") + std::strerror(errno));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    auto fail = [&](const char* what) {
        std::string e = name + ": " + what + ": " + std::strerror(errno);
        ::close(fd);
        return std::unexpected(e);
    };
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        return fail("TUNSETIFF");
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(ifr.ifr_hwaddr.sa_data, p.mac.data(), 6);
    const bool mac_ok = ioctl(s, SIOCSIFHWADDR, &ifr) == 0;
    ifr.ifr_mtu = mtu;
    const bool mtu_ok = ioctl(s, SIOCSIFMTU, &ifr) == 0;
    ::close(s);
    if (!mac_ok || !mtu_ok)
        return fail(mac_ok ? "SIOCSIFMTU" : "SIOCSIFHWADDR");
    // No IPv6 on it: its router solicitations and DAD would only be noise on the port.
    if (int f = ::open(("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6").c_str(),
                       O_WRONLY | O_CLOEXEC);
        f >= 0) {
        [[maybe_unused]] ssize_t n = write(f, "1", 1);
        ::close(f);
    }
    return fd;
}

} // namespace

kernel_taps::~kernel_taps() {
    for (int fd : m_fds)
        if (fd >= 0)
            ::close(fd); // a non-persistent TAP disappears with its last fd
}

std::expected<std::unique_ptr<kernel_taps>, std::string>
kernel_taps::open(const config::config& cfg, const std::vector<port_addrs>& ports) {
    std::unique_ptr<kernel_taps> t(new kernel_taps);
    for (size_t i = 0; i < cfg.ports.size() && i < ports.size(); ++i) {
        const std::string name = ("ulvs-" + cfg.ports[i].name).substr(0, IFNAMSIZ - 1);
        auto fd = open_tap(name, ports[i], cfg.ports[i].mtu);
        if (!fd)
            return std::unexpected(fd.error());
        t->m_fds.push_back(*fd);
        t->m_names.push_back(name);
        for (const ip_prefix& a : cfg.ports[i].addresses)
            if (auto r = run_ip({"addr", "replace", a.to_string(), "dev", name}); !r)
                return std::unexpected(r.error());
        if (auto r = run_ip({"link", "set", name, "up"}); !r)
            return std::unexpected(r.error());
    }
    for (const config::route_cfg& r : cfg.routes) {
        auto port = cfg.port_for(r.via);
        if (!port || *port >= t->m_names.size())
            continue; // the validator requires a connected gateway; nothing to route through
        std::vector<std::string> args{"route",           "replace", r.prefix.to_string(), "via",
                                      r.via.to_string(), "dev",     t->m_names[*port]};
        if (r.prefix.len == 0) {
            args.push_back("metric");
            args.push_back(default_route_metric);
        }
        if (auto ok = run_ip(args); !ok)
            return std::unexpected(ok.error());
    }
    return t;
}

bool kernel_taps::to_kernel(const dp::snapshot& snap, const rte_mbuf* m, uint8_t in_port) {
    if (in_port >= m_fds.size() || rte_pktmbuf_data_len(m) != rte_pktmbuf_pkt_len(m))
        return false;
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    dp::parsed_pkt pp;
    if (dp::parse_frame(f, rte_pktmbuf_data_len(m), false, pp) != dp::drop::none)
        return false;
    bool wanted;
    if (pp.kind == dp::frame_kind::arp) {
        const auto* arp = f + sizeof(rte_ether_hdr);
        wanted = ((arp[6] << 8) | arp[7]) == arp_op_reply;
    } else {
        auto info = snap.addrs.find(pp.dst_ip);
        wanted = info && dp::has(dp::unpack_addr_info(*info).kind, dp::addr_kind::local) &&
                 !(pp.ip_proto == IPPROTO_ICMP && f[pp.l4_off] == icmp_echo_request);
    }
    if (!wanted)
        return false;
    if (write(m_fds[in_port], f, rte_pktmbuf_data_len(m)) < 0) {
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
    for (size_t p = 0; p < m_fds.size(); ++p) {
        for (unsigned i = 0; i < budget; ++i) {
            const ssize_t n = read(m_fds[p], buf, sizeof buf);
            if (n <= 0)
                break; // EAGAIN: nothing more from this TAP
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
