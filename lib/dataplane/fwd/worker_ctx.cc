#include "ulvs/dataplane/fwd/worker.h"

#include <cstdio>

namespace ulvs::dp {

namespace {

constexpr uint32_t wheel_slots = 4096; // x 100 ms = a 410 s horizon; longer timeouts re-file
constexpr uint32_t wheel_tick_ms = 100;

const char* conn_table_name(uint32_t id) {
    static thread_local char buf[32];
    std::snprintf(buf, sizeof buf, "ulvs_conn_w%u", id);
    return buf;
}

} // namespace

worker_ctx::worker_ctx(const worker_params& p, uint64_t now_ms)
    : id(p.id), n_workers(p.n_workers), n_ports(static_cast<uint8_t>(p.ports.size())), pool(p.pool),
      neigh(p.neigh), next_ip_id(static_cast<uint16_t>(p.id)),
      conns(conn_table_name(p.id), p.conn_capacity, p.socket),
      wheel(p.conn_capacity, wheel_slots, wheel_tick_ms, now_ms), frags(p.socket),
      svc_ctr(max_stats_ids), dest_ctr(max_stats_ids), dest_conns(max_stats_ids),
      cursors(max_stats_ids), sync(p.sync) {
    for (size_t i = 0; i < p.ports.size() && i < max_ports; ++i) {
        ports[i] = p.ports[i];
        if (min_mtu == 0 || ports[i].mtu < min_mtu)
            min_mtu = ports[i].mtu;
    }
}

} // namespace ulvs::dp
