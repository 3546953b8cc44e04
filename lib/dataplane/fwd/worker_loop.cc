#include "ulvs/dataplane/fwd/worker_loop.h"

#include "ulvs/dataplane/fwd/idle_backoff.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <poll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

namespace ulvs::dp {

namespace {

// Expiry work per loop iteration: bounded so a mass expiry cannot delay packets for long.
constexpr uint32_t expire_budget = 64;

void free_rest(worker_ctx& w, rte_mbuf** pkts, uint16_t from, uint16_t n, drop why) noexcept {
    for (uint16_t i = from; i < n; ++i) {
        w.ctr.count_drop(why);
        rte_pktmbuf_free(pkts[i]);
    }
}

// A resolution request's carrier (mbuf_port_resolve_request, xmit.h send_routed) that may not
// be held is a packet already counted as dropped (neigh_unresolved): it is neither to_control
// nor, when the ring refuses it, a second drop, so that every received packet is counted once
// (counters.h). One the control lcore may hold (mbuf_port_hold) is to_control when the ring
// takes it, neigh_unresolved when it refuses it. Which ones are carriers is read before the
// enqueue: after it the control lcore may free them.
unsigned flush_to_control(worker_ctx& w, tx_stage& s, rte_ring* ring, drop why) noexcept {
    if (s.n == 0)
        return 0;
    enum : uint8_t { plain, carrier, held };
    uint8_t kind[tx_stage_size];
    for (uint16_t i = 0; i < s.n; ++i) {
        const uint16_t p = s.pkts[i]->port;
        kind[i] = !(p & mbuf_port_resolve_request) ? plain : (p & mbuf_port_hold) ? held : carrier;
    }
    const unsigned q =
        rte_ring_sp_enqueue_burst(ring, reinterpret_cast<void**>(s.pkts), s.n, nullptr);
    for (uint16_t i = 0; i < s.n; ++i) {
        if (i < q) {
            w.ctr.to_control += kind[i] == carrier ? 0 : 1;
            continue;
        }
        if (kind[i] != carrier)
            w.ctr.count_drop(kind[i] == held ? drop::neigh_unresolved : why);
        rte_pktmbuf_free(s.pkts[i]);
    }
    s.n = 0;
    return q;
}

// Packets were queued for the control lcore: wake it if it sleeps (ctrl_wake).
void wake_control(const worker_runtime& rt) noexcept {
    if (rt.wake != nullptr)
        wake_sleeper(*rt.wake);
}

// Control-lcore packets proxied through this worker's TX queues.
unsigned drain_ctrl_tx(worker_ctx& w, rte_ring* ring) noexcept {
    rte_mbuf* pkts[max_burst];
    const unsigned n =
        rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), max_burst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        const uint16_t p = pkts[i]->port;
        if (p < w.n_ports)
            w.tx[p].pkts[w.tx[p].n++] = pkts[i];
        else
            rte_pktmbuf_free(pkts[i]);
    }
    return n;
}

// lcores.idle: adaptive: sleep `us` outside the RCU read side (publisher::worker_pause). A
// worker that carries the control lcore's frames (ctrl_tx: VRRP adverts, ARP, the kernel's
// frames) sleeps on its eventfd, which the control lcore writes when it queues one, so that
// they are not held for the rest of the sleep.
void idle_sleep(const worker_runtime& rt, uint32_t id, uint32_t us) noexcept {
    const timespec ts{0, static_cast<long>(us) * 1000};
    rt.pub->worker_pause(id);
    if (rt.tx_wake == nullptr) {
        nanosleep(&ts, nullptr);
    } else {
        rt.tx_wake->sleeping.store(true, std::memory_order_seq_cst);
        pollfd p{rt.tx_wake->fd, POLLIN, 0};
        if (rte_ring_count(rt.ctrl_tx) == 0 && ppoll(&p, 1, &ts, nullptr) > 0) {
            uint64_t n;
            [[maybe_unused]] const ssize_t r = ::read(rt.tx_wake->fd, &n, sizeof n);
        }
        rt.tx_wake->sleeping.store(false, std::memory_order_relaxed);
    }
    rt.pub->worker_resume(id);
}

} // namespace

// The fence orders the producer's enqueue before its read of the flag, as the sleeper orders its
// flag before its last look at the ring, so that one of the two sees the other.
void wake_sleeper(ctrl_wake& w) noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!w.sleeping.load(std::memory_order_relaxed) ||
        !w.sleeping.exchange(false, std::memory_order_acq_rel))
        return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(w.fd, &one, sizeof one);
}

uint64_t clock_ms() noexcept {
    static const uint64_t cycles_per_ms = rte_get_tsc_hz() / 1000;
    return rte_get_tsc_cycles() / cycles_per_ms;
}

void flush_stages(worker_ctx& w, const worker_runtime& rt) noexcept {
    for (uint8_t p = 0; p < w.n_ports; ++p) {
        tx_stage& s = w.tx[p];
        if (s.n == 0)
            continue;
        const uint16_t sent =
            rte_eth_tx_burst(w.ports[p].dpdk_port, w.ports[p].tx_queue, s.pkts, s.n);
        for (uint16_t i = 0; i < sent; ++i)
            w.ctr.tx_bytes += s.pkts[i]->pkt_len;
        w.ctr.tx_pkts += sent;
        free_rest(w, s.pkts, sent, s.n, drop::tx_full);
        s.n = 0;
    }
    if (flush_to_control(w, w.to_ctrl_prio, rt.to_ctrl_prio, drop::ctrl_prio_ring_full) +
            flush_to_control(w, w.to_ctrl, rt.to_ctrl, drop::ctrl_ring_full) !=
        0)
        wake_control(rt);
    for (uint32_t o = 0; o < w.n_workers; ++o) {
        redirect_stage& s = w.redirect[o];
        if (s.n == 0)
            continue;
        const unsigned q = rte_ring_sp_enqueue_burst(
            rt.redirect_out[o], reinterpret_cast<void**>(s.pkts), s.n, nullptr);
        free_rest(w, s.pkts, static_cast<uint16_t>(q), s.n, drop::redirect_ring_full);
        s.n = 0;
    }
    if (w.sync_out.n != 0) { // records, not packets: a full ring loses them, counted
        const unsigned q =
            rt.sync_out == nullptr
                ? 0
                : rte_ring_sp_enqueue_burst_elem(rt.sync_out, w.sync_out.recs, sizeof(sync_msg),
                                                 w.sync_out.n, nullptr);
        w.ctr.sync_queued += q;
        w.ctr.sync_dropped += w.sync_out.n - q;
        w.sync_out.n = 0;
    }
}

unsigned drain_sync_in(worker_ctx& w, const worker_runtime& rt, uint64_t now_ms) noexcept {
    sync_msg msgs[sync_apply_per_iteration];
    const unsigned n = rte_ring_sc_dequeue_burst_elem(rt.sync_in, msgs, sizeof(sync_msg),
                                                      sync_apply_per_iteration, nullptr);
    if (n != 0)
        apply_sync(w, msgs, n, now_ms);
    return n;
}

int worker_main(void* arg) {
    auto& rt = *static_cast<worker_runtime*>(arg);
    worker_ctx& w = *rt.ctx;
    rt.pub->worker_online(w.id);
    // --exit-idle counts from here too: a worker that started late has not been idle.
    rt.last_rx_ms.store(clock_ms(), std::memory_order_relaxed);
    rte_mbuf* pkts[max_burst];
    idle_backoff backoff;
    // The kernel's default timer slack (50 us) would lengthen every short sleep of the backoff.
    if (rt.adaptive_idle)
        prctl(PR_SET_TIMERSLACK, 5'000UL, 0, 0, 0);
    while (!rt.stop->load(std::memory_order_relaxed)) {
        w.snap = rt.pub->current();
        const uint64_t now = clock_ms();
        bool busy = false;
        for (uint8_t p = 0; p < w.n_ports; ++p) {
            const uint16_t n = rte_eth_rx_burst(w.ports[p].dpdk_port, rt.rx_queue, pkts, max_burst);
            if (n == 0)
                continue;
            busy = true;
            rt.last_rx_ms.store(now, std::memory_order_relaxed);
            process_burst(w, p, pkts, n, now);
            flush_stages(w, rt);
        }
        // Packets other workers received for connections this one owns.
        for (uint32_t o = 0; o < w.n_workers; ++o) {
            if (rt.redirect_in[o] == nullptr)
                continue;
            const unsigned n = rte_ring_sc_dequeue_burst(
                rt.redirect_in[o], reinterpret_cast<void**>(pkts), max_burst, nullptr);
            if (n == 0)
                continue;
            busy = true;
            rt.last_rx_ms.store(now, std::memory_order_relaxed);
            process_redirected(w, pkts, static_cast<uint16_t>(n), now);
            flush_stages(w, rt);
        }
        if (rt.ctrl_tx != nullptr && drain_ctrl_tx(w, rt.ctrl_tx) != 0) {
            busy = true;
            flush_stages(w, rt);
        }
        if (rt.sync_in != nullptr && drain_sync_in(w, rt, now) != 0) // the peer's connections
            busy = true;
        expire_conns(w, now, expire_budget);
        expire_fragments(w, now);
        if (rt.conn_dump != nullptr)
            conn_dump_step(w.conns, *rt.conn_dump, now);
        if (rt.id_check != nullptr) // here, where this worker's counts are exact
            id_check_step(w.dest_conns.data(), *rt.id_check);
        rt.pub->worker_quiescent(w.id);
        if (!rt.adaptive_idle)
            continue;
        if (busy) {
            backoff.busy();
        } else if (const uint32_t us = backoff.idle(); us != 0) {
            idle_sleep(rt, w.id, us);
        }
    }
    if (rt.ctrl_tx != nullptr) { // the control lcore's last words (it stopped before us)
        drain_ctrl_tx(w, rt.ctrl_tx);
        flush_stages(w, rt);
    }
    rt.pub->worker_offline(w.id);
    return 0;
}

} // namespace ulvs::dp
