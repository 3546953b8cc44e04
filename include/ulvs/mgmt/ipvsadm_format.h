// Rendering the daemon's structured replies as ipvsadm 1.31 prints them (README "Managing it"), so
// scripts that parse ipvsadm's output keep working. Pure functions of a reply: unit-tested column
// by column in tests/mgmt/ipvsadm_format_test.cc.
//
// The `list` reply (lib/mgmt/service_listing.cc builds it; with "configured": true in the request,
// as -S sends, of the configured servers and weights instead of the health-adjusted view):
//   {"size":4096, "services":[{"proto":"tcp","vip":"203.0.113.100","port":80,"scheduler":"wrr",
//     "flags":["sh-port"], "persistent":50 | null, "netmask":"255.255.255.0",
//     "stats":{"conns","inpkts","outpkts","inbytes","outbytes"},
//     "rate":{"cps","inpps","outpps","inbps","outbps"},
//     "dests":[{"addr","port","fwd":"nat|dr|tun","weight","upper","lower","active","inactive",
//               "persist","stats":{..},"rate":{..}}]}],
//    "timeouts":{"tcp":900,"tcpfin":120,"udp":300}}
// Services and destinations are sorted here as ipvsadm sorts them (protocol, address, port).
// Without -n ipvsadm resolves names; we resolve port names (getservbyport, local files) but keep
// addresses numeric: a DNS lookup may hang, and a management tool must not.
#pragma once

#include "ulvs/mgmt/protocol.h"

#include <cstdint>
#include <string>

namespace ulvs::mgmt {

enum class list_view { plain, stats, rate, thresholds, persistent_conn, rule };

struct list_format {
    list_view view = list_view::plain;
    bool numeric = false;
    bool exact = false;    // --exact: no K/M/G/T
    bool headless = false; // one service (-L -t VIP:PORT): no version line
};

// ipvsadm's print_largenum: 9 columns (right-aligned), K/M/G/T above 10^8 unless exact.
std::string largenum(uint64_t v, bool exact);

// -L/-l in every view, and -S (view rule).
std::string render_list(const json& list_reply, const list_format& f);

// --timeout: "Timeout (tcp tcpfin udp): 900 120 300".
std::string render_timeouts(const json& list_reply);

// -c: "IPVS connection entries" and one line per connection. The listing comes in pages
// (conn_listing.h): the two header lines once, then each page's lines as it arrives.
//   {"conns":[{"proto":"tcp","expire":s,"state":"ESTABLISHED","client":"a:p","vip":"a:p",
//              "dest":"a:p"}], "more":bool, "cursor":[w,slot]}
std::string render_conns_header();
std::string render_conns_page(const json& conns_reply);

// -L --daemon: ipvsadm's lines, master first, e.g.
//   "master sync daemon (mcast=wan, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
// from the `daemon` reply (include/ulvs/mgmt/sync_daemon.h); nothing when no daemon runs.
std::string render_daemons(const json& daemon_reply);

// "ADDR:PORT" with the port named unless numeric.
std::string addr_port(const std::string& addr, uint16_t port, const std::string& proto,
                      bool numeric);

} // namespace ulvs::mgmt
