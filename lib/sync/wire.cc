// IPVS sync protocol version 1: encoder and decoder (wire.h has the layout).
#include "ulvs/sync/wire.h"

#include <algorithm>
#include <cstring>

namespace ulvs::sync {

namespace {

// Entry fields' offsets (struct ip_vs_sync_v4 / v6 share the first 24 bytes).
constexpr size_t off_type = 0, off_protocol = 1, off_ver_size = 2, off_flags = 4, off_state = 8,
                 off_cport = 10, off_vport = 12, off_dport = 14, off_fwmark = 16, off_timeout = 20,
                 off_caddr = 24, off_vaddr = 28, off_daddr = 32;

constexpr uint8_t type_inet6 = 0x01;   // STYPE_F_INET6
constexpr uint16_t size_mask = 0x0fff; // SVER_MASK
constexpr unsigned version_shift = 12; // SVER_SHIFT
constexpr uint8_t opt_seq_data = 1;    // IPVS_OPT_SEQ_DATA
constexpr uint8_t opt_pe_data = 2;     // IPVS_OPT_PE_DATA
constexpr uint8_t opt_pe_name = 3;     // IPVS_OPT_PE_NAME
constexpr uint8_t opt_optional = 0x40; // IPVS_OPT_F_PARAM: a receiver may ignore it
constexpr size_t seq_data_len = 24;    // struct ip_vs_sync_conn_options
constexpr size_t pe_name_max = 16;     // IP_VS_PENAME_MAXLEN

void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

constexpr size_t pad_to_4(size_t n) {
    return (4 - (n & 3)) & 3;
}

void put_seq(uint8_t* p, const seq_adjust& s) {
    put32(p, s.init_seq);
    put32(p + 4, s.delta);
    put32(p + 8, s.previous_delta);
}
seq_adjust get_seq(const uint8_t* p) {
    return {get32(p), get32(p + 4), get32(p + 8)};
}

// One entry of a message: where it is and what its options said.
struct entry_view {
    const uint8_t* p = nullptr;
    size_t size = 0; // ver_size's size
    bool v6 = false;
    bool has_seq = false;
    seq_option seq;
    std::optional<skip> skipped;
};

// Checks the entry at `p` (size already within the datagram); fills the options.
refusal check_entry(entry_view& e) {
    const uint8_t type = e.p[off_type];
    if (type & type_inet6)
        e.v6 = true;
    else if (type == 0)
        e.v6 = false;
    else
        return refusal::bad_entry_type;
    const size_t fixed = e.v6 ? v6_entry_size : v4_entry_size;
    if (e.size < fixed)
        return refusal::bad_entry_size;
    const uint8_t* o = e.p + fixed;
    const uint8_t* end = e.p + e.size;
    bool pe_data = false, pe_name = false;
    while (o < end) {
        if (end - o < 2)
            return refusal::bad_option;
        const uint8_t ptype = o[0];
        const size_t plen = o[1];
        o += 2;
        if (plen == 0 || size_t(end - o) < plen)
            return refusal::bad_option;
        switch (ptype & ~opt_optional) {
        case opt_seq_data:
            if (plen != seq_data_len || e.has_seq)
                return refusal::bad_seq_option;
            e.has_seq = true;
            e.seq = {get_seq(o), get_seq(o + 12)};
            break;
        case opt_pe_data: // its length fits the byte: IP_VS_PEDATA_MAXLEN is 255
            if (pe_data)
                return refusal::bad_pe_option;
            pe_data = true;
            break;
        case opt_pe_name:
            if (plen > pe_name_max || pe_name)
                return refusal::bad_pe_option;
            pe_name = true;
            break;
        default:
            if (!(ptype & opt_optional) && !e.skipped)
                e.skipped = skip::mandatory_option;
        }
        o += plen;
    }
    if (e.skipped)
        return refusal::none;
    if (e.v6)
        e.skipped = skip::ipv6;
    else if (pe_data) // IPVS needs the engine the name names (or refuses data without a name)
        e.skipped = skip::pe_data;
    else if (!(get32(e.p + off_flags) & conn_flag::template_)) {
        // Templates are not checked (IPVS only logs a template state past IP_VS_CTPL_S_LAST).
        const uint8_t proto = e.p[off_protocol];
        const uint16_t state = get16(e.p + off_state);
        if (proto != proto_tcp && proto != proto_udp)
            e.skipped = skip::protocol;
        else if (state >= (proto == proto_tcp ? tcp_state::count : 1))
            e.skipped = skip::state;
    }
    return refusal::none;
}

conn_record to_record(const entry_view& e) {
    conn_record r;
    r.protocol = e.p[off_protocol];
    r.flags = get32(e.p + off_flags);
    r.state = get16(e.p + off_state);
    r.cport = get16(e.p + off_cport);
    r.vport = get16(e.p + off_vport);
    r.dport = get16(e.p + off_dport);
    r.fwmark = get32(e.p + off_fwmark);
    r.timeout = get32(e.p + off_timeout);
    r.caddr = get32(e.p + off_caddr);
    r.vaddr = get32(e.p + off_vaddr);
    r.daddr = get32(e.p + off_daddr);
    if (e.has_seq)
        r.seq = e.seq;
    return r;
}

// Walks the entries: `each(entry_view&)` for every entry; stops at the first refusal.
template <class F> refusal walk(std::span<const uint8_t> d, uint8_t nr, F each) {
    size_t at = header_size;
    size_t end_of_last = header_size;
    for (unsigned i = 0; i < nr; ++i) {
        if (at > d.size() || d.size() - at < v4_entry_size)
            return refusal::truncated_entry;
        const uint16_t ver_size = get16(d.data() + at + off_ver_size);
        entry_view e;
        e.p = d.data() + at;
        e.size = ver_size & size_mask;
        if (e.size > d.size() - at)
            return refusal::truncated_entry;
        if (ver_size >> version_shift)
            return refusal::bad_entry_version;
        if (refusal r = check_entry(e); r != refusal::none)
            return r;
        each(e);
        end_of_last = at + e.size;
        at += e.size + pad_to_4(e.size);
    }
    // What IPVS' sender writes ends with the last entry; allow its padding, nothing more.
    if (d.size() - end_of_last > pad_to_4(end_of_last))
        return refusal::trailing_bytes;
    return refusal::none;
}

} // namespace

size_t encoded_size(const conn_record& r) noexcept {
    return v4_entry_size + (r.seq ? seq_option_size : 0);
}

message_builder::message_builder(std::span<uint8_t> buf, uint8_t syncid) noexcept
    : buf_(buf), syncid_(syncid) {}

bool message_builder::add(const conn_record& r) noexcept {
    const size_t pad = pad_to_4(used_);
    const size_t len = encoded_size(r);
    if (count_ == 255 || used_ + pad + len > buf_.size())
        return false;
    uint8_t* p = buf_.data() + used_;
    std::memset(p, 0, pad);
    p += pad;
    p[off_type] = 0;
    p[off_protocol] = r.protocol;
    put16(p + off_ver_size, uint16_t(len)); // version 0 in the top bits
    put32(p + off_flags, r.flags & ~conn_flag::hashed);
    put16(p + off_state, r.state);
    put16(p + off_cport, r.cport);
    put16(p + off_vport, r.vport);
    put16(p + off_dport, r.dport);
    put32(p + off_fwmark, r.fwmark);
    put32(p + off_timeout, r.timeout);
    put32(p + off_caddr, r.caddr);
    put32(p + off_vaddr, r.vaddr);
    put32(p + off_daddr, r.daddr);
    if (r.seq) {
        uint8_t* o = p + v4_entry_size;
        o[0] = opt_seq_data;
        o[1] = uint8_t(seq_data_len);
        put_seq(o + 2, r.seq->in);
        put_seq(o + 14, r.seq->out);
    }
    used_ += pad + len;
    ++count_;
    return true;
}

std::span<const uint8_t> message_builder::finish() noexcept {
    uint8_t* h = buf_.data();
    h[0] = 0; // reserved: a version 0 receiver reads it as its count and takes nothing
    h[1] = syncid_;
    put16(h + 2, uint16_t(used_));
    h[4] = count_;
    h[5] = protocol_version;
    h[6] = h[7] = 0;
    return buf_.first(used_);
}

void message_builder::reset() noexcept {
    count_ = 0;
    used_ = header_size;
}

std::vector<std::vector<uint8_t>> encode(std::span<const conn_record> records, uint8_t syncid,
                                         size_t maxlen) {
    std::vector<std::vector<uint8_t>> out;
    std::vector<uint8_t> buf(std::clamp(maxlen, min_maxlen, max_maxlen));
    message_builder b(buf, syncid);
    for (const conn_record& r : records) {
        if (b.add(r))
            continue;
        auto d = b.finish();
        out.emplace_back(d.begin(), d.end());
        b.reset();
        b.add(r); // always fits an empty message: maxlen >= min_maxlen
    }
    if (!b.empty()) {
        auto d = b.finish();
        out.emplace_back(d.begin(), d.end());
    }
    return out;
}

decode_result decode(std::span<const uint8_t> d, uint8_t syncid, record_fn fn, void* ctx) noexcept {
    decode_result res;
    if (d.size() < header_size) {
        res.reason = refusal::too_short;
        return res;
    }
    const uint8_t* h = d.data();
    res.syncid = h[1];
    res.entries = h[4];
    if (get16(h + 2) != d.size())
        res.reason = refusal::size_mismatch;
    else if (h[0] != 0)
        res.reason = refusal::version_0;
    else if (h[5] != protocol_version || get16(h + 6) != 0)
        res.reason = refusal::bad_version;
    else
        res.reason = walk(d, res.entries, [](entry_view&) {});
    if (res.reason != refusal::none)
        return res;
    // IPVS: a backup with syncid 0 takes every message, another only its own.
    if (syncid != 0 && res.syncid != syncid) {
        res.other_syncid = true;
        return res;
    }
    walk(d, res.entries, [&](entry_view& e) {
        if (e.skipped) {
            ++res.skipped[size_t(*e.skipped)];
            return;
        }
        fn(ctx, to_record(e));
        ++res.delivered;
    });
    return res;
}

std::string_view to_string(refusal r) noexcept {
    switch (r) {
    case refusal::none:
        return "none";
#define ULVS_X(name)                                                                               \
    case refusal::name:                                                                            \
        return #name;
        ULVS_FOREACH_SYNC_REFUSAL(ULVS_X)
#undef ULVS_X
    }
    return "?";
}

std::string_view to_string(skip s) noexcept {
    switch (s) {
#define ULVS_X(name)                                                                               \
    case skip::name:                                                                               \
        return #name;
        ULVS_FOREACH_SYNC_SKIP(ULVS_X)
#undef ULVS_X
    }
    return "?";
}

void decode_counters::add(const decode_result& r) noexcept {
    ++datagrams;
    if (!r.ok()) {
        ++refused[size_t(r.reason)];
        return;
    }
    if (r.other_syncid) {
        ++other_syncid;
        return;
    }
    records += r.delivered;
    for (size_t i = 0; i < skip_count; ++i)
        skipped[i] += r.skipped[i];
}

uint64_t decode_counters::refused_total() const noexcept {
    uint64_t n = 0;
    for (uint64_t v : refused)
        n += v;
    return n;
}

} // namespace ulvs::sync
