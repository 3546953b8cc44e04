#include "daemon.h"

#include "eal_args.h"
#include "health_runtime.h"
#include "offloads.h"
#include "sync_runtime.h"
#include "ulvs/control/control_loop.h"
#include "ulvs/control/proc/children.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/control/vrrp/engine.h"
#include "ulvs/control/vrrp/overlay.h"
#include "ulvs/dataplane/mbuf_budget.h"
#include "ulvs/dataplane/port/port.h"
#include "ulvs/mgmt/manager.h"
#include "ulvs/mgmt/server.h"
#include "ulvs/mgmt/stats.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <spdlog/spdlog.h>

#include <grp.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace ulvs::app {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_hup = 0;

constexpr uint32_t neigh_capacity = 4096;
// The best-effort tasks run at most every millisecond, not every pass of the control loop (tens
// of thousands a second): a poll() over every management client each pass was most of the
// control lcore's time with 100 metrics clients connected (tests/lab/control_stall.sh).
constexpr uint64_t mgmt_period_ms = 1;
// /metrics with 500 real servers costs ~0.6 ms of the control lcore per page (more on a busy
// host), and ten scrapers in a loop asked for ~200 pages a second (control_stall.sh): a page
// younger than this is served again, so at most 10 are built a second whatever the scrapers.
constexpr uint64_t metrics_max_age_ms = 100;
struct metrics_page {
    std::string text;
    uint64_t built_ms = 0;
    bool valid = false;
};
// Ring and cache sizes are counted in the config's mbuf check (dataplane/mbuf_budget.h).
constexpr unsigned ring_size = dp::lcore_ring_size; // the control TX proxy and redirect rings

void on_signal(int sig) {
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

void install_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP})
        sigaction(s, &sa, nullptr);
}

// Everything created after rte_eal_init, torn down in reverse order whatever happened.
struct runtime {
    rte_mempool* pool = nullptr;
    std::vector<uint16_t> open_ports;
    std::vector<rte_ring*> rings;
    std::vector<std::unique_ptr<dp::worker_ctx>> workers;
    std::vector<std::unique_ptr<dp::worker_runtime>> worker_rts;
    std::unique_ptr<dp::publisher> pub;

    ~runtime() {
        worker_rts.clear();
        workers.clear();
        pub.reset();
        for (rte_ring* r : rings) {
            void* m;
            while (rte_ring_dequeue(r, &m) == 0)
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            rte_ring_free(r);
        }
        // Stop and close every port: pcap output files are complete only after this.
        for (uint16_t p : open_ports)
            dp::port_close(p);
        rte_mempool_free(pool);
    }
};

rte_ring* make_ring(runtime& rt, const std::string& name) {
    rte_ring* r =
        rte_ring_create(name.c_str(), ring_size, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r != nullptr)
        rt.rings.push_back(r);
    return r;
}

// The engine's I/O: frames copied into mbufs sent from the control lcore, link state without
// waiting, unicast peers' MACs from the neighbour manager (which starts resolving them).
// When this appliance's next VRRP advertisement is due, as the control loop's next_due_ms
// (control_loop.h): the last one sent plus the shortest advert_int. A BACKUP sends none, so
// nothing is due for it. (With several instances out of phase this is only the latest one's.)
struct advert_clock {
    uint64_t interval_ms = 0;
    uint64_t last_ms = 0; // 0: none sent yet

    explicit advert_clock(const config::config& cfg) {
        for (const auto& v : cfg.vrrp_instances) {
            const auto ms = static_cast<uint64_t>(v.advert_int.count());
            interval_ms = interval_ms == 0 ? ms : std::min(interval_ms, ms);
        }
    }
    void sent(std::span<const uint8_t> f) {
        // An IPv4 frame of protocol 112: an advertisement (gratuitous ARP are not).
        if (f.size() >= 34 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 112)
            last_ms = dp::clock_ms();
    }
    uint64_t next_due_ms() const {
        return last_ms == 0 || interval_ms == 0 ? UINT64_MAX : last_ms + interval_ms;
    }
};

ctl::vrrp::engine_io vrrp_io(ctl::control_env& env, const std::vector<uint16_t>& dpdk_ports,
                             ctl::neigh_manager& neigh, rte_mempool*& pool, advert_clock& adverts) {
    ctl::vrrp::engine_io io;
    for (const ctl::port_addrs& pa : env.addrs)
        io.port_macs.push_back(pa.mac);
    io.send = [&env, &pool, &adverts](uint8_t port, std::span<const uint8_t> f) {
        adverts.sent(f);
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr)
            return; // the next advertisement goes out a second later
        if (char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()))) {
            std::memcpy(d, f.data(), f.size());
            ctl::control_transmit(env, port, m);
        } else {
            rte_pktmbuf_free(m);
        }
    };
    io.link_up = [&dpdk_ports](uint8_t port) {
        rte_eth_link link{};
        return rte_eth_link_get_nowait(dpdk_ports[port], &link) == 0 &&
               link.link_status == RTE_ETH_LINK_UP;
    };
    io.peer_mac = [&neigh](uint8_t port, ip_addr peer) {
        neigh.slot_for(peer, port, true); // pinned: the peer stays for the whole run
        return neigh.mac_of(peer);
    };
    return io;
}

mgmt::json vrrp_json(const ctl::vrrp::engine& e) {
    mgmt::json list = mgmt::json::array();
    for (const auto& s : e.statuses())
        list.push_back({{"name", s.name},
                        {"state", ctl::vrrp::state_name(s.st)},
                        {"priority", s.priority},
                        {"master", s.master_ip ? ip_addr::from_v4(s.master_ip).to_string() : ""},
                        {"rx_errors", s.rx_errors},
                        {"adverts_rx", s.adverts_rx},
                        {"adverts_tx", s.adverts_tx},
                        {"transitions", s.transitions}});
    return {{"instances", list}, {"text", e.status_text()}};
}

// The control plane's own counters for status and /metrics: the exception path's, and the
// packets held for neighbours still resolving (control/neigh/unres_queue.h).
std::vector<mgmt::control_counter> control_counters(const health_runtime& health,
                                                    const ctl::unres_queue& unres,
                                                    const sync_runtime& sync) {
    auto out = health.counters();
    for (mgmt::control_counter& c : sync.counters())
        out.push_back(std::move(c));
    const ctl::unres_queue::counters& c = unres.stats();
    out.push_back({"neigh_queued_packets",
                   "Packets to a next hop still resolving, held until it answers ARP.", c.queued});
    out.push_back({"neigh_queue_sent_packets", "Of those: sent once it answered.", c.sent});
    out.push_back({"neigh_queue_full_packets",
                   "Packets to a next hop still resolving dropped: its queue (3) or all (128) "
                   "full.",
                   c.dropped_full});
    out.push_back({"neigh_queue_failed_packets",
                   "Held packets dropped: their next hop did not answer within 3 s.",
                   c.dropped_failed});
    return out;
}

int run(const options& opts, const config::config& cfg, const std::string& config_sha256) {
    runtime rt;
    const auto n_workers = static_cast<uint16_t>(cfg.lcores.workers.size());
    if (rte_lcore_count() != n_workers + 1u || rte_get_main_lcore() != cfg.lcores.control) {
        spdlog::error("EAL lcores ({} enabled, main {}) do not match the config's lcores "
                      "(control {} + {} workers): leave -l/--lcores to ulvsd",
                      rte_lcore_count(), rte_get_main_lcore(), cfg.lcores.control, n_workers);
        return 1;
    }
    rt.pool = rte_pktmbuf_pool_create("ulvs_mbufs", cfg.dpdk.mbufs, dp::mbuf_cache_size, 0,
                                      RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    if (rt.pool == nullptr) {
        spdlog::error("cannot allocate {} mbufs: {} (more EAL memory, -m?)", cfg.dpdk.mbufs,
                      rte_strerror(rte_errno));
        return 1;
    }

    // Ports.
    ctl::control_env env;
    std::vector<dp::port_view> views;
    bool need_proxy = false;
    for (const config::port_cfg& pc : cfg.ports) {
        auto info = dp::port_open({pc.name, pc.device, pc.mtu, n_workers, rt.pool});
        if (!info) {
            spdlog::error("{}", info.error());
            return 1;
        }
        rt.open_ports.push_back(info->dpdk_port);
        ctl::port_addrs pa;
        pa.mac = info->mac;
        pa.addresses = pc.addresses;
        spdlog::info("port {}: {} driver {} mac {} rss {} tx queues {} multi-seg tx {}{}", pc.name,
                     pc.device, info->driver, mac_addr{info->mac}.to_string(),
                     info->rss ? "on" : "off", info->n_tx_queues, info->tx_multi_seg ? "on" : "off",
                     info->mtu_set ? "" : " (MTU not settable on this device)");
        if (const std::string w = offload_warning(pc.name, pc.device); !w.empty())
            spdlog::warn("{}", w);
        env.addrs.push_back(pa);
        env.ports.push_back({info->dpdk_port, info->ctrl_tx_queue, n_workers});
        need_proxy |= !info->ctrl_tx_queue;
        views.push_back(
            {info->dpdk_port, 0, info->mac, pc.mtu, info->tx_multi_seg, info->partial_csum});
    }

    // Neighbours, snapshot, publication.
    dp::neigh_table neigh_table(neigh_capacity);
    ctl::neigh_manager neigh(neigh_table);
    ctl::unres_queue unres; // freed before the pool: declared after it
    for (const config::neighbor_cfg& n : cfg.neighbors)
        for (size_t p = 0; p < cfg.ports.size(); ++p)
            if (cfg.ports[p].name == n.port)
                neigh.set_static(n.address, static_cast<uint8_t>(p), n.mac);
    // The workers' connection counts for lc/wlc/sed/nq and thresholds, shared by every snapshot.
    dp::load_board loads(n_workers);
    ctl::stats_ids ids;
    ids.attach_loads(&loads);
    ids.attach_neigh(&neigh); // real servers' ids hold their neighbour slots (stats_ids.h)
    ctl::snapshot_inputs inputs(neigh, ids);
    inputs.loads = &loads;
    // VRRP: built before the first snapshot, whose virtual addresses it marks unowned until an
    // instance becomes MASTER (control/vrrp/overlay.h).
    // Health checks + the kernel exception path (health_runtime.h); VRRP tracks virtual servers
    // through the checker (engine_io::vs_up), which knows before a snapshot is published.
    health_runtime health;
    advert_clock adverts(cfg);
    auto vio = vrrp_io(env, rt.open_ports, neigh, rt.pool, adverts);
    vio.vs_up = [&health](const config::virtual_server_cfg& vs) {
        return health.checker.serving(vs);
    };
    // Attached and polled even without instances: a reload may add some (engine::update).
    ctl::vrrp::engine vrrp(cfg, std::move(vio));
    inputs.vrrp = &vrrp;
    auto snap = ctl::build_snapshot(cfg, inputs);
    if (!snap) {
        spdlog::error("{}", snap.error());
        return 1;
    }
    rt.pub = std::make_unique<dp::publisher>(n_workers);
    rt.pub->publish(std::move(*snap));
    neigh.published(*rt.pub->current());
    ids.published(*rt.pub->current());
    // A reclaimed neighbour slot is reused only after a grace period (neigh_manager.h).
    neigh.set_synchronize([&rt] { rt.pub->synchronize(); });

    // Connection sync (issue 18): the control lcore's engine; each worker's rings below.
    auto sync_rt = sync_runtime::make(cfg, env, neigh, rt.pool, rt.pub.get(), n_workers);
    if (!sync_rt) {
        spdlog::error("{}", sync_rt.error());
        return 1;
    }
    sync_runtime& sync = *sync_rt;

    // Workers.
    rte_ring* proxy = need_proxy ? make_ring(rt, "ulvs_ctl_tx") : nullptr;
    if (need_proxy && proxy == nullptr) {
        spdlog::error("cannot create the control TX ring: {}", rte_strerror(rte_errno));
        return 1;
    }
    std::atomic<bool> stop_workers{false};
    for (uint16_t i = 0; i < n_workers; ++i) {
        dp::worker_params wp;
        wp.id = i;
        wp.conn_capacity = cfg.connections.max;
        wp.socket = static_cast<int>(rte_lcore_to_socket_id(cfg.lcores.workers[i]));
        wp.neigh = &neigh_table;
        wp.n_workers = n_workers;
        wp.pool = rt.pool;
        wp.ports = views;
        for (dp::port_view& v : wp.ports)
            v.tx_queue = i;
        wp.sync = sync.worker_params(cfg);
        rt.workers.push_back(std::make_unique<dp::worker_ctx>(wp, dp::clock_ms()));
        if (!rt.workers.back()->conns.ok()) {
            spdlog::error("cannot allocate a connection table of {} entries for worker {}: {} "
                          "(lower connections.max or give EAL more memory with -m)",
                          cfg.connections.max, i, rte_strerror(rte_errno));
            return 1;
        }
        auto wrt = std::make_unique<dp::worker_runtime>();
        if (auto c = ctl::connect_worker(env, *wrt, i, rt.rings); !c) {
            spdlog::error("{}", c.error());
            return 1;
        }
        if (auto c = sync.connect(*wrt, i); !c) {
            spdlog::error("{}", c.error());
            return 1;
        }
        wrt->ctx = rt.workers.back().get();
        wrt->pub = rt.pub.get();
        wrt->ctrl_tx = i == 0 ? proxy : nullptr;
        wrt->stop = &stop_workers;
        wrt->rx_queue = i;
        wrt->adaptive_idle = cfg.lcores.idle == config::idle_mode::adaptive;
        // Stamped before launch: the control loop may check --exit-idle before the worker runs.
        wrt->last_rx_ms.store(dp::clock_ms(), std::memory_order_relaxed);
        env.workers.push_back(wrt.get());
        env.dest_counts.push_back(rt.workers.back()->dest_conns.data());
        rt.worker_rts.push_back(std::move(wrt));
    }
    // Worker 0 carries the control lcore's frames on ports without a TX queue for it: when it
    // may sleep, the control lcore wakes it for them (worker_loop.h ctrl_wake).
    if (proxy != nullptr && cfg.lcores.idle == config::idle_mode::adaptive) {
        auto w = ctl::make_wake();
        if (!w) {
            spdlog::error("{}", w.error());
            return 1;
        }
        env.proxy_wake = std::move(*w);
        rt.worker_rts[0]->tx_wake = env.proxy_wake.get();
    }
    // Management plane (lib/mgmt): socket, metrics and the running config, served from the
    // control loop. Opened before the workers start so a busy socket path fails cleanly.
    std::vector<const dp::worker_ctx*> mgmt_ctxs;
    for (const auto& w : rt.workers)
        mgmt_ctxs.push_back(w.get());
    auto conn_dumps = std::make_unique<dp::conn_dump_channel[]>(n_workers); // ulvsadm -c
    auto id_checks = std::make_unique<dp::id_check_channel[]>(n_workers);   // id recycling
    std::vector<dp::conn_dump_channel*> dump_ptrs;
    std::vector<dp::id_check_channel*> check_ptrs;
    for (uint16_t i = 0; i < n_workers; ++i) {
        rt.worker_rts[i]->conn_dump = &conn_dumps[i];
        dump_ptrs.push_back(&conn_dumps[i]);
        rt.worker_rts[i]->id_check = &id_checks[i];
        check_ptrs.push_back(&id_checks[i]);
    }
    mgmt::manager mgr(
        cfg,
        {&neigh, &neigh_table, &ids, &inputs, rt.pub.get(), mgmt_ctxs, dump_ptrs,
         [&vrrp] { return vrrp_json(vrrp); }, &health.checker, check_ptrs,
         [pool = rt.pool] {
             return std::array<uint64_t, 2>{rte_mempool_in_use_count(pool), pool->size};
         },
         config_sha256, [&health, &unres, &sync] { return control_counters(health, unres, sync); },
         [&vrrp](const config::config& c, uint64_t now) { vrrp.update(c, now); }},
        dp::clock_ms());
    mgmt::server_access access; // management.group: checked to exist when the file was loaded
    if (!cfg.management.group.empty()) {
        const group* gr = ::getgrnam(cfg.management.group.c_str());
        if (gr == nullptr) {
            spdlog::error("management.group \"{}\": no such group", cfg.management.group);
            return 1;
        }
        access.group = gr->gr_gid;
    }
    metrics_page page; // served again while younger than metrics_max_age_ms
    auto mgmt_srv = mgmt::server::open(
        cfg.management.socket, cfg.management.metrics,
        [&mgr](const mgmt::json& r, uint64_t now) { return mgr.handle(r, now); },
        [&mgr, &env, &page](uint64_t now) {
            if (!page.valid || now - page.built_ms >= metrics_max_age_ms) {
                page.text = mgr.metrics(now) + ctl::timing_metrics(env.timing);
                page.built_ms = now;
                page.valid = true;
            }
            return page.text;
        },
        {}, access);
    if (!mgmt_srv) {
        spdlog::error("management: {}", mgmt_srv.error());
        return 1;
    }
    spdlog::info("management socket {}{}", cfg.management.socket,
                 cfg.management.metrics.empty()
                     ? ""
                     : ", metrics http://" + cfg.management.metrics + "/metrics");
    // One SP/SC ring per ordered pair of workers: a packet of a connection another worker owns
    // goes to it (docs/architecture.md "A packet's way", step 3).
    for (uint16_t i = 0; i < n_workers; ++i)
        for (uint16_t j = 0; j < n_workers; ++j) {
            if (i == j)
                continue;
            rte_ring* r = make_ring(rt, "ulvs_rd_" + std::to_string(i) + "_" + std::to_string(j));
            if (r == nullptr) {
                spdlog::error("cannot create redirect ring: {}", rte_strerror(rte_errno));
                return 1;
            }
            rt.worker_rts[i]->redirect_out[j] = r;
            rt.worker_rts[j]->redirect_in[i] = r;
        }
    for (uint16_t i = 0; i < n_workers; ++i)
        rte_eal_remote_launch(dp::worker_main, rt.worker_rts[i].get(), cfg.lcores.workers[i]);
    spdlog::info("ulvsd running: {} ports, {} workers, {} virtual servers", cfg.ports.size(),
                 n_workers, cfg.virtual_servers.size());

    // Control loop on this (the main) lcore until a signal or --exit-idle.
    env.proxy_tx = proxy;
    env.loads = &loads;
    env.pub = rt.pub.get();
    env.neigh = &neigh;
    env.unres = &unres;
    env.pool = rt.pool;
    env.exit_idle_ms = opts.exit_idle ? uint64_t(opts.exit_idle->count()) : 0;
    env.stop_signal = &g_stop;
    env.hup_signal = &g_hup;
    env.on_reload = [&mgr] { mgr.request_reload(); }; // SIGHUP: queued (lib/mgmt)
    bool ownership_changed = false; // set by VRRP on the timers, cleared by the publish task
    // By deadline (control_loop.h): VRRP's timers and the kernel's frames with the rings in
    // every pass and between tasks; the rest as best-effort tasks taking turns.
    env.on_timers = [&vrrp, &rt, &health, &env, &inputs, &ownership_changed](uint64_t now) {
        unsigned work = health.poll_taps(env);
        work += vrrp.poll(now, *rt.pub->current()); // a reload may add the first instance
        if (vrrp.take_ownership_change()) {
            // At once for the workers (vrrp/overlay.h); the publish task's republish covers
            // addresses past the ownership table's capacity.
            ctl::vrrp::publish_ownership(vrrp, inputs.owners);
            ownership_changed = true;
        }
        return work;
    };
    env.tasks.push_back(
        {"management socket", mgmt_period_ms,
         [&mgmt_srv](uint64_t now, const ctl::deadline&) { return (*mgmt_srv)->poll(now); }});
    env.tasks.back().on_fds = true; // a client woke the control loop: served at once
    env.tasks.push_back(
        {"publish", mgmt_period_ms, [&mgr, &ownership_changed](uint64_t now, const ctl::deadline&) {
             // A VRRP ownership change republishes here, one slice later.
             if (ownership_changed) {
                 ownership_changed = false;
                 mgr.republish(now);
             }
             return mgr.poll(now);
         }});
    env.tasks.push_back({"health checks", mgmt_period_ms,
                         [&health, &env, &mgr](uint64_t now, const ctl::deadline&) {
                             // Every script's child, reaped without waiting (control/proc).
                             return ctl::proc::children().poll() +
                                    health.poll_checks(env, mgr, now);
                         }});
    if (sync.engine) // sends what the workers queued, applies what the peer sent (sync_engine.h)
        env.tasks.push_back({"sync", 1, [&sync](uint64_t now, const ctl::deadline& d) {
                                 return sync.engine->poll(now, d);
                             }});
    // Idle, the loop sleeps until a task is due or one of these (or a worker) has work for it.
    env.sleep_fds = [&health, &mgmt_srv](std::vector<int>& fds) {
        fds.push_back((*mgmt_srv)->event_fd());
        if (health.taps)
            health.taps->fds(fds);
    };
    // A task that took long lately waits for the advert rather than delaying it.
    env.next_due_ms = [&adverts] { return adverts.next_due_ms(); };
    env.on_packet = [&vrrp, &sync](const rte_mbuf* m, uint8_t port, uint64_t now) {
        const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
        return vrrp.on_frame(f, rte_pktmbuf_data_len(m), port, now) ||
               (sync.engine && sync.engine->on_frame(f, rte_pktmbuf_data_len(m), port));
    };
    vrrp.start(dp::clock_ms());
    const ctl::stop_reason why = ctl::run_control_loop(env);
    // Masters send priority 0 while the workers (worker 0 may carry our TX) still run; the
    // last sync records go first.
    if (sync.engine) {
        sync.engine->poll(dp::clock_ms(), ctl::deadline::after_us(2'000));
        sync.engine->flush();
    }
    vrrp.stop(dp::clock_ms());
    spdlog::info("stopping ({})", why == ctl::stop_reason::idle ? "idle" : "signal");
    for (const std::string& line : ctl::timing_summary(env))
        spdlog::info("control loop timing: {}", line);
    stop_workers.store(true, std::memory_order_relaxed);
    rte_eal_mp_wait_lcore();

    std::vector<const dp::worker_ctx*> ctxs;
    for (const auto& w : rt.workers)
        ctxs.push_back(w.get());
    spdlog::info("counters: {}", mgmt::format_counters(mgmt::sum_workers(ctxs)));
    return 0;
}

} // namespace

int run_daemon(const options& opts, const config::config& cfg, const std::string& config_sha256) {
    const std::vector<std::string> args =
        build_eal_args(cfg, opts.eal_args.value_or(cfg.dpdk.eal_args));
    std::vector<char*> argv;
    for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::string joined;
    for (const std::string& a : args)
        joined += " " + a;
    spdlog::debug("EAL arguments:{}", joined);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
        spdlog::error("EAL initialisation failed: {} (arguments:{})", rte_strerror(rte_errno),
                      joined);
        return 1;
    }
    install_signals();
    int rc = run(opts, cfg, config_sha256);
    rte_eal_cleanup();
    return rc;
}

} // namespace ulvs::app
