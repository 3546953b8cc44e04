#include "offloads.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace ulvs {

namespace {

// ETHTOOL_GGRO / ETHTOOL_GFLAGS on `iface`: the value, or -1 when the ioctl fails.
long ethtool_get(int fd, const std::string& iface, uint32_t cmd) {
    ethtool_value ev{};
    ev.cmd = cmd;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&ev);
    return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? static_cast<long>(ev.data) : -1;
}

} // namespace

std::string socket_iface(std::string_view device) {
    const std::string_view name = device.substr(0, device.find(','));
    if (!name.starts_with("net_af_packet") && !name.starts_with("net_pcap"))
        return "";
    for (size_t p = device.find(','); p != std::string_view::npos;) {
        const size_t e = device.find(',', p + 1);
        const std::string_view kv =
            device.substr(p + 1, e == std::string_view::npos ? e : e - p - 1);
        for (std::string_view key : {"iface=", "rx_iface="})
            if (kv.starts_with(key))
                return std::string(kv.substr(key.size()));
        p = e;
    }
    return "";
}

std::string offload_warning(std::string_view port, std::string_view device) {
    const std::string iface = socket_iface(device);
    if (iface.empty() || iface.size() >= IFNAMSIZ)
        return "";
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return "";
    const long gro = ethtool_get(fd, iface, ETHTOOL_GGRO);
    const long flags = ethtool_get(fd, iface, ETHTOOL_GFLAGS);
    close(fd);
    std::string on, off;
    if (gro > 0) {
        on = "GRO";
        off = " gro off";
    }
    if (flags > 0 && (flags & ETH_FLAG_LRO) != 0) {
        on += on.empty() ? "LRO" : " and LRO";
        off += " lro off";
    }
    if (on.empty())
        return "";
    return "port " + std::string(port) + ": " + iface + " has " + on +
           " on: the kernel merges TCP segments into frames over the MTU before the packet "
           "socket reads them, and they arrive cut (dropped, counted frame_cut); switch it off: "
           "ethtool -K " +
           iface + off;
}

} // namespace ulvs
