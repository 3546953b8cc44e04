// One VRRP virtual router's state machine (RFC 5798 section 6.4, RFC 3768 section 6.4), with
// keepalived's additions: FAULT (tracking), preempt_delay, a priority-0 advertisement when a
// master leaves. Pure: time is passed in (ms), packets are described by `advert`, and what the
// machine wants done comes back as `output`. The engine (engine.h) does the I/O.
//
// Timers, in ms: Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time with
//   v3: Skew_Time = (256 - Priority) * Master_Adver_Interval / 256 (RFC 5798 6.1), and
//       Master_Adver_Interval learnt from the master's advertisements;
//   v2: Skew_Time = (256 - Priority) / 256 s (RFC 3768 6.1), our own Advertisement_Interval.
//
// Thread safety: none; the control lcore owns every instance.
#pragma once

#include <cstdint>

namespace ulvs::ctl::vrrp {

enum class state : uint8_t { init, backup, master, fault };
const char* state_name(state s); // "INIT" "BACKUP" "MASTER" "FAULT" as keepalived prints them

struct params {
    uint8_t version = 3;
    uint8_t priority = 100; // configured (base) priority; 255 = address owner
    uint32_t advert_ms = 1000;
    bool preempt = true;
    uint32_t preempt_delay_ms = 0;
    bool initial_master = false;
    uint32_t primary_ip = 0; // our advertisement source (host order): breaks priority ties
};

// What the engine must do after a call.
struct output {
    bool send = false;         // send an advertisement with `send_priority`
    uint8_t send_priority = 0; // the effective priority, or 0 when leaving MASTER
    bool changed = false;      // the state changed (to instance::current())
};

// A track script's verdict from its results, as keepalived's vrrp_script counts them: `rise`
// successes in a row make a failed script OK, `fall` failures in a row an OK one failed; the
// first result decides alone (and before it, the script counts as OK).
class script_verdict {
public:
    script_verdict(uint32_t rise, uint32_t fall) : m_rise(rise), m_fall(fall), m_n(rise - 1) {}
    void add(bool success);
    bool ok() const { return m_ok; }

private:
    uint32_t m_rise, m_fall;
    uint32_t m_n; // keepalived's result: 0..rise+fall-1
    bool m_ok = true;
    bool m_first = true;
};

class instance {
public:
    explicit instance(const params& p) : m_p(p) {}

    // INIT -> MASTER (owner) or BACKUP.
    output start(uint64_t now);
    // Clean stop: a master sends priority 0 so backups take over after Skew_Time.
    output stop(uint64_t now);
    // Reload, instead of start(): this instance (the new configuration) replaces `old`, the same
    // virtual router (keepalived clear_diff_vrrp / restore_vrrp_state). The state carries over
    // without a transition: a MASTER stays MASTER and advertises at once (keepalived's
    // reload_master), a BACKUP stays BACKUP with a fresh Master_Down_Timer, a FAULT stays until
    // tracking is evaluated again; tracking's fault and delta carry over until then.
    output resume(const instance& old, uint64_t now);
    // An advertisement for our VRID that passed every check.
    output on_advert(uint8_t priority, uint32_t src_ip, uint16_t interval_cs, uint64_t now);
    // Timers; call at least at next_event().
    output tick(uint64_t now);
    // Tracking: `fault` (a tracked port down, a weight-0 script failing, ...) and the sum of the
    // weights in force. The effective priority is base + delta clamped to 1..254 (255 stays 255
    // only while delta is 0).
    output set_tracking(bool fault, int delta, uint64_t now);

    // Sync groups (keepalived vrrp_sync.c; the engine decides, these only move the machine).
    // A MASTER just entered that its group does not allow yet: back to BACKUP without a
    // transition, wanting MASTER, its Master_Down_Timer re-armed (keepalived's wantstate).
    void defer_master(uint64_t now);
    // A FAULT just left while another member is still faulty: back to FAULT, no transition.
    void hold_fault();
    // The group moves this member: to MASTER (advertises at once), to BACKUP (from MASTER no
    // priority-0 advertisement, as keepalived's vrrp_sync_backup), to FAULT (a MASTER sends
    // priority 0). The member's own tracking is unchanged.
    output force_master(uint64_t now);
    output force_backup(uint64_t now);
    output force_fault(uint64_t now);
    // BACKUP whose Master_Down_Timer expired (or a MASTER): it would be MASTER alone.
    bool wants_master() const { return m_state == state::master || m_wants_master; }
    bool tracking_fault() const { return m_fault; } // its own tracking says FAULT

    state current() const { return m_state; }
    uint8_t priority() const;                          // effective
    uint32_t master_ip() const { return m_master_ip; } // 0 = unknown
    uint64_t next_event() const;                       // UINT64_MAX: none
    uint32_t master_down_ms() const;
    uint32_t skew_ms() const;

private:
    output become_master(uint64_t now);
    output become_backup(uint64_t now);
    output enter_fault(uint64_t now);

    params m_p;
    state m_state = state::init;
    bool m_fault = false;
    int m_delta = 0;
    uint32_t m_master_adver_ms = 0; // Master_Adver_Interval (v3: learnt)
    uint64_t m_adver_at = 0;        // MASTER: next advertisement
    uint64_t m_down_at = 0;         // BACKUP: Master_Down_Timer
    // BACKUP: preempt_delay runs from m_delay_from, the first lower-priority advert accepted;
    // cleared by a higher-or-equal advert and on entering BACKUP (keepalived's preempt_time).
    bool m_delay_started = false;
    uint64_t m_delay_from = 0;
    uint32_t m_master_ip = 0;
    bool m_wants_master = false;       // sync group: deferred (defer_master)
    uint32_t m_deferred_master_ip = 0; // the master heard before a deferred takeover
};

} // namespace ulvs::ctl::vrrp
