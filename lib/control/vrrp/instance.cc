#include "ulvs/control/vrrp/instance.h"

#include <algorithm>

namespace ulvs::ctl::vrrp {

namespace {
constexpr uint8_t prio_owner = 255, prio_stop = 0;
} // namespace

const char* state_name(state s) {
    switch (s) {
    case state::init:
        return "INIT";
    case state::backup:
        return "BACKUP";
    case state::master:
        return "MASTER";
    case state::fault:
        return "FAULT";
    }
    return "?";
}

uint8_t instance::priority() const {
    if (m_delta == 0)
        return m_p.priority;
    return uint8_t(std::clamp(int(m_p.priority) + m_delta, 1, 254));
}

uint32_t instance::skew_ms() const {
    const uint32_t p = priority();
    if (m_p.version == 2)
        return (256 - p) * 1000 / 256;
    return (256 - p) * m_master_adver_ms / 256;
}

uint32_t instance::master_down_ms() const {
    return 3 * m_master_adver_ms + skew_ms();
}

uint64_t instance::next_event() const {
    switch (m_state) {
    case state::master:
        return m_adver_at;
    case state::backup:
        return m_down_at;
    default:
        return UINT64_MAX;
    }
}

output instance::become_master(uint64_t now) {
    m_deferred_master_ip = m_master_ip;
    m_wants_master = false;
    m_state = state::master;
    m_master_ip = m_p.primary_ip;
    m_adver_at = now + m_p.advert_ms;
    return {true, priority(), true};
}

output instance::become_backup(uint64_t now) {
    const bool changed = m_state != state::backup;
    m_state = state::backup;
    m_wants_master = false;
    m_delay_started = false; // keepalived clears preempt_time on entering BACKUP
    m_down_at = now + master_down_ms();
    return {false, 0, changed};
}

output instance::enter_fault(uint64_t) {
    output o;
    // Leaving MASTER: tell the backups at once rather than let them wait Master_Down_Interval
    // (keepalived does the same).
    if (m_state == state::master)
        o = {true, prio_stop, false};
    o.changed = m_state != state::fault; // a member its group put in FAULT may fail itself
    m_state = state::fault;
    m_master_ip = 0;
    m_wants_master = false;
    return o;
}

output instance::start(uint64_t now) {
    m_master_adver_ms = m_p.advert_ms;
    if (m_fault)
        return enter_fault(now);
    if (priority() == prio_owner)
        return become_master(now);
    output o = become_backup(now);
    // state: master (not the owner): listen one interval for a current master before taking
    // over, instead of the full Master_Down_Interval.
    if (m_p.initial_master)
        m_down_at = now + m_p.advert_ms;
    return o;
}

output instance::stop(uint64_t) {
    output o;
    if (m_state == state::master)
        o = {true, prio_stop, false};
    o.changed = m_state != state::init;
    m_state = state::init;
    return o;
}

output instance::resume(const instance& old, uint64_t now) {
    m_master_adver_ms = m_p.advert_ms;
    m_fault = old.m_fault;
    m_delta = old.m_delta;
    switch (old.m_state) {
    case state::init:
        return start(now);
    case state::fault:
        m_state = state::fault;
        return {};
    case state::master:
        become_master(now);
        return {true, priority(), false};
    case state::backup:
        become_backup(now);
        m_master_ip = old.m_master_ip;
        return {};
    }
    return {};
}

output instance::on_advert(uint8_t prio, uint32_t src_ip, uint16_t interval_cs, uint64_t now) {
    switch (m_state) {
    case state::backup: {
        if (prio == prio_stop) { // the master left: take over after Skew_Time
            m_down_at = now + skew_ms();
            return {};
        }
        // preempt_delay as keepalived's vrrp_state_backup(): the delay starts at the first
        // lower-priority advert accepted (not at start-up), and while it has not started or
        // runs, lower adverts are accepted as a higher master's would be.
        const bool delaying = m_p.preempt_delay_ms != 0 &&
                              (!m_delay_started || now < m_delay_from + m_p.preempt_delay_ms);
        if (!m_p.preempt || prio >= priority() || delaying) {
            if (m_p.version == 3) // RFC 5798: Master_Adver_Interval is the master's
                m_master_adver_ms = uint32_t(interval_cs) * 10;
            m_down_at = now + master_down_ms();
            m_master_ip = src_ip;
            m_wants_master = false; // keepalived: a master heard, wantstate BACKUP
            if (prio >= priority()) {
                m_delay_started = false; // keepalived: "stop preempt delay"
            } else if (!m_delay_started) {
                m_delay_started = true;
                m_delay_from = now;
            }
            return {};
        }
        return {}; // lower priority and we preempt: let Master_Down_Timer expire
    }
    case state::master: {
        if (prio == prio_stop) { // another master left: assert ourselves at once
            m_adver_at = now + m_p.advert_ms;
            return {true, priority(), false};
        }
        const bool yields = prio > priority() || (prio == priority() && src_ip > m_p.primary_ip);
        if (yields) {
            if (m_p.version == 3)
                m_master_adver_ms = uint32_t(interval_cs) * 10;
            output o = become_backup(now);
            m_master_ip = src_ip;
            return o;
        }
        // A lower-priority master: answer at once so it yields without waiting (keepalived).
        m_adver_at = now + m_p.advert_ms;
        return {true, priority(), false};
    }
    default:
        return {};
    }
}

output instance::tick(uint64_t now) {
    if (m_state == state::master && now >= m_adver_at) {
        m_adver_at = now + m_p.advert_ms;
        return {true, priority(), false};
    }
    if (m_state == state::backup && now >= m_down_at)
        return become_master(now);
    return {};
}

output instance::set_tracking(bool fault, int delta, uint64_t now) {
    m_delta = delta;
    if (fault == m_fault)
        return {};
    m_fault = fault;
    if (m_state == state::init)
        return {};
    if (fault)
        return enter_fault(now);
    if (priority() == prio_owner)
        return become_master(now);
    m_master_adver_ms = m_p.advert_ms;
    return become_backup(now);
}

void script_verdict::add(bool success) {
    if (success) {
        if (m_n + 1 < m_rise) {
            ++m_n;
        } else {
            m_ok = true;
            m_n = m_rise + m_fall - 1;
        }
    } else if (m_n > m_rise) {
        --m_n;
    } else {
        if (m_n == m_rise || m_first)
            m_ok = false;
        m_n = 0;
    }
    m_first = false;
}

void instance::defer_master(uint64_t now) {
    m_state = state::backup;
    m_master_ip = m_deferred_master_ip;
    m_down_at = now + master_down_ms();
    m_wants_master = true;
}

void instance::hold_fault() {
    m_state = state::fault;
    m_master_ip = 0;
}

output instance::force_master(uint64_t now) {
    if (m_state == state::master)
        return {};
    return become_master(now);
}

output instance::force_backup(uint64_t now) {
    if (m_state == state::backup)
        return {};
    m_master_adver_ms = m_p.advert_ms;
    m_master_ip = 0;
    return become_backup(now);
}

output instance::force_fault(uint64_t now) {
    if (m_state == state::fault || m_state == state::init)
        return {};
    return enter_fault(now);
}

} // namespace ulvs::ctl::vrrp
