// The VRRP instances of a running ulvsd: advertisements in and out, timers, gratuitous ARP,
// tracking (ports, virtual servers, scripts), notify scripts, and which virtual addresses this
// appliance owns (the snapshot's VIP ownership, see build_snapshot.h).
//
// Nothing here blocks: scripts are child processes of proc/children.h, never waited for; a track
// script still running after its timeout (default: its interval) gets SIGTERM (then SIGKILL) and
// counts as failed; rise/fall count results as keepalived's vrrp_script. Notify scripts run as
// keepalived's notify_master/backup/fault/stop do: the command line split by keepalived's rule
// (common/command_line.h), no extra arguments, not waited for (two quick transitions may run
// theirs concurrently); `notify.any` (keepalived's `notify`) gets INSTANCE|GROUP NAME STATE
// PRIORITY appended.
//
// Sync groups (keepalived vrrp_sync_group): the members of a group change state together. One
// member entering FAULT puts the others in FAULT (a MASTER sends priority 0); one leaving MASTER
// for BACKUP takes the other MASTERs to BACKUP; a member becomes MASTER only when every other
// member would too (MASTER already, or its own Master_Down_Timer expired), and then all do;
// until then it stays BACKUP wanting MASTER. The group leaves FAULT when no member's own
// tracking fails any more, every member going BACKUP. Group notify scripts run on the group's
// changes.
// The configuration follows every committed one (update()): reloads add, change and remove
// instances as keepalived's reload does.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/proc/children.h"
#include "ulvs/control/vrrp/instance.h"
#include "ulvs/control/vrrp/packet.h"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ulvs::dp {
struct snapshot;
}

namespace ulvs::ctl::vrrp {

// A VRRP virtual address and whether we hold it now (an address of several instances is held
// when any of them is MASTER).
struct owned_addr {
    ip_addr addr;
    uint8_t port = 0; // port index of its instance: ARP for it is answered there
    bool owned = false;
};

struct engine_io {
    std::vector<std::array<uint8_t, 6>> port_macs; // by port index
    // Transmit a frame on port index `port` (the caller copies it into an mbuf).
    std::function<void(uint8_t port, std::span<const uint8_t> frame)> send;
    // Link state of port index `port` (rte_eth_link_get_nowait in ulvsd).
    std::function<bool(uint8_t port)> link_up;
    // The MAC of a unicast peer, if resolved (neighbour manager); nullopt: not sent this time.
    std::function<std::optional<mac_addr>(uint8_t port, ip_addr peer)> peer_mac;
    // Is a tracked virtual server (of the last update()) serving? ulvsd asks the health checker,
    // which knows at once, where a snapshot may wait for its publication. Null: the snapshot
    // given to poll() is asked (a real server of weight > 0 in it).
    std::function<bool(const config::virtual_server_cfg& vs)> vs_up;
};

class engine {
public:
    static constexpr unsigned garp_count = 5;         // keepalived garp_master_repeat
    static constexpr unsigned garp_refresh_count = 1; // keepalived garp_master_refresh_repeat
    static constexpr uint64_t track_period_ms = 50;

    engine(const config::config& cfg, engine_io io);
    ~engine();

    bool empty() const { return m_inst.empty(); }
    void start(uint64_t now);
    // A frame from a worker: true when it was VRRP (IPv4 protocol 112) and is consumed here.
    bool on_frame(const uint8_t* frame, size_t len, uint8_t in_port, uint64_t now);
    // Timers, tracking, scripts. `snap`: the workers' current snapshot (tracked virtual
    // servers, when engine_io::vs_up is null). Returns work done.
    unsigned poll(uint64_t now, const dp::snapshot& snap);
    // Clean stop: masters send priority 0; children are not waited for.
    void stop(uint64_t now);
    // A committed configuration (reload or CLI change), after start(): tracked virtual servers
    // follow it, and so do the instances, as keepalived's reload does: an unchanged instance is
    // kept as it is; a changed one (same VRID on the same port) takes its new settings and keeps
    // its state (instance::resume) and counters; a new one starts; a removed one stops (a master
    // sends priority 0) and its addresses are released.
    void update(const config::config& cfg, uint64_t now);

    // True once after any ownership change: the snapshot must be republished.
    bool take_ownership_change();
    std::vector<owned_addr> ownership() const;
    // `ulvsadm vrrp`: one line per instance.
    std::string status_text() const;
    struct status {
        std::string name;
        state st;
        uint8_t priority;
        uint32_t master_ip;
        uint64_t rx_errors;
        uint64_t adverts_rx = 0;  // accepted from peers
        uint64_t adverts_tx = 0;  // sent (one per unicast peer)
        uint64_t transitions = 0; // state changes since start
    };
    std::vector<status> statuses() const;
    // Sync groups: name and state (BACKUP, MASTER or FAULT; INIT after stop()).
    std::vector<std::pair<std::string, state>> group_states() const;

private:
    struct script_state {
        proc::child_id id = 0; // 0: not running
        uint64_t started = 0;
        uint64_t next_run = 0;
        script_verdict verdict{1, 1}; // rise/fall of its configuration (make_inst)
    };
    struct inst {
        config::vrrp_instance_cfg cfg;
        uint8_t port = 0;
        instance sm;
        advert ours;                      // what we send (priority set per send)
        std::vector<uint8_t> track_ports; // port indexes
        std::vector<size_t> track_vs;     // indexes into m_vs
        std::vector<script_state> scripts;
        uint64_t garp_again = 0;      // 0: none pending
        uint64_t garp_refresh = 0;    // MASTER with garp.master_refresh: next single GARP
        state reported = state::init; // the state of the last transition applied
        int group = -1;               // index in m_groups
        uint64_t rx_errors = 0;
        uint64_t adverts_rx = 0;
        uint64_t adverts_tx = 0;
        uint64_t transitions = 0;
        uint16_t ip_id = 0;
    };

    inst make_inst(const config::config& cfg, const config::vrrp_instance_cfg& c);
    void resolve_tracked(inst& in) const; // track_vs from the names, in m_vs
    void retire_scripts(inst& in);        // kill its running track scripts
    void apply(inst& in, const output& o, uint64_t now);
    void send_advert(inst& in, uint8_t priority);
    void send_garps(inst& in, unsigned count);
    unsigned run_scripts(inst& in, uint64_t now);
    unsigned track_all(inst& in, uint64_t now, const dp::snapshot& snap);
    void notify(const inst& in);
    void notify_any(const std::string& script, const char* type, const std::string& name,
                    const char* state_text, unsigned priority);
    void entered_master(inst& in, uint64_t now); // gratuitous ARPs now, and timers for more

    struct group {
        config::vrrp_sync_group_cfg cfg;
        std::vector<size_t> members; // indexes in m_inst
        state st = state::backup;
    };
    void build_groups(const config::config& cfg);
    bool sync_gate(inst& in, uint64_t now); // false: the transition was taken back
    void sync_after(inst& in, state from, uint64_t now);
    void set_group(group& g, state st);

    std::vector<inst> m_inst;
    std::vector<group> m_groups;
    std::vector<config::virtual_server_cfg> m_vs; // copies for tracking (the last update())
    engine_io m_io;
    bool m_ownership_changed = false;
    uint64_t m_next_track =
        0; // tracking is sampled, not polled every pass (link state is an ioctl)
    proc::spawn_options m_run_as; // config `scripts` (of the last update())
};

} // namespace ulvs::ctl::vrrp
