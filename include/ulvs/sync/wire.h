// Linux IPVS' connection sync protocol, version 1 (net/netfilter/ipvs/ip_vs_sync.c): the wire
// format the sync daemons of a pair exchange over UDP (README "Connection sync"). This is only
// the codec: plain bytes in and out, no sockets, no DPDK, no logging, no allocation in
// message_builder or decode, so the control lcore, ulvsadm and the fuzz target all use it.
//
// A datagram (a "message") is an 8-byte header and `nr_conns` entries, all in network order:
//   header: reserved (0) | syncid | size (16, the whole datagram) | nr_conns | version (1) |
//           spare (16, 0)
//   entry:  type (0 = IPv4, bit 0 = IPv6) | protocol | ver_size (16: version in the top 4 bits,
//           0; the entry's size in the low 12, options included) | flags (32) | state (16) |
//           cport | vport | dport | fwmark (32) | timeout (32, seconds) | caddr | vaddr | daddr
//           (4 bytes each for IPv4, 16 for IPv6) | options: type, length, data
// Each entry after the first starts on a 4-byte boundary of the message (zero padding between
// entries, counted in the header's size, not in the entry's). The sequence option (type 1,
// length 24) carries the in and out ip_vs_seq (init_seq, delta, previous_delta).
//
// Who may call what: everything here is plain functions on caller memory, safe on any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ulvs::sync {

inline constexpr uint16_t default_port = 8848;         // IP_VS_SYNC_PORT
inline constexpr uint32_t default_group = 0xe0000051u; // 224.0.0.81, IP_VS_SYNC_GROUP
inline constexpr uint8_t protocol_version = 1;         // SYNC_PROTO_VER

inline constexpr size_t header_size = 8;      // struct ip_vs_sync_mesg
inline constexpr size_t v4_entry_size = 36;   // struct ip_vs_sync_v4
inline constexpr size_t v6_entry_size = 72;   // struct ip_vs_sync_v6
inline constexpr size_t seq_option_size = 26; // type, length and two ip_vs_seq of 12 bytes
// The smallest maxlen that holds one record of any kind ulvs sends.
inline constexpr size_t min_maxlen = header_size + v4_entry_size + seq_option_size;
// The largest UDP payload over IPv4 (65535 less the IP and UDP headers).
inline constexpr size_t max_maxlen = 65507;
// IPVS' default for a master: 1500 less the IP and UDP headers, whatever the interface's MTU.
inline constexpr size_t default_maxlen = 1472;

// IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h): the connection flags, sent in an entry's flags.
namespace conn_flag {
inline constexpr uint32_t fwd_mask = 0x0007; // the forwarding method:
inline constexpr uint32_t masq = 0x0000;     //   NAT
inline constexpr uint32_t localnode = 0x0001;
inline constexpr uint32_t tunnel = 0x0002; //   TUN (IPIP)
inline constexpr uint32_t droute = 0x0003; //   DR
inline constexpr uint32_t bypass = 0x0004;
inline constexpr uint32_t sync = 0x0020;     // created by sync (set by the receiver)
inline constexpr uint32_t hashed = 0x0040;   // never sent
inline constexpr uint32_t nooutput = 0x0080; // no output packets
inline constexpr uint32_t inactive = 0x0100; // not established
inline constexpr uint32_t out_seq = 0x0200;
inline constexpr uint32_t in_seq = 0x0400;
inline constexpr uint32_t seq_mask = 0x0600;
inline constexpr uint32_t no_cport = 0x0800;   // a template without client port
inline constexpr uint32_t template_ = 0x1000;  // a persistence template, not a connection
inline constexpr uint32_t one_packet = 0x2000; // never synced
// What a backup takes from a received entry (IP_VS_CONN_F_BACKUP_MASK); the rest is dropped.
inline constexpr uint32_t backup_mask =
    fwd_mask | nooutput | inactive | seq_mask | no_cport | template_;
// What a backup updates on a connection it already has (IP_VS_CONN_F_BACKUP_UPD_MASK).
inline constexpr uint32_t backup_update_mask = inactive | seq_mask;
} // namespace conn_flag

// IP_VS_TCP_S_*: the TCP connection states as IPVS numbers them (entries' state of TCP).
namespace tcp_state {
inline constexpr uint16_t none = 0;
inline constexpr uint16_t established = 1;
inline constexpr uint16_t syn_sent = 2;
inline constexpr uint16_t syn_recv = 3;
inline constexpr uint16_t fin_wait = 4;
inline constexpr uint16_t time_wait = 5;
inline constexpr uint16_t close = 6;
inline constexpr uint16_t close_wait = 7;
inline constexpr uint16_t last_ack = 8;
inline constexpr uint16_t listen = 9;
inline constexpr uint16_t synack = 10;
inline constexpr uint16_t count = 11; // IP_VS_TCP_S_LAST: states >= this are refused
} // namespace tcp_state
inline constexpr uint16_t udp_state_normal = 0;    // IP_VS_UDP_S_NORMAL, UDP's only state
inline constexpr uint16_t template_state_none = 0; // IP_VS_CTPL_S_NONE
inline constexpr uint16_t template_state_assured = 1;

inline constexpr uint8_t proto_tcp = 6;
inline constexpr uint8_t proto_udp = 17;

// struct ip_vs_seq: a TCP sequence-number adjustment (in IPVS, for the FTP helper).
struct seq_adjust {
    uint32_t init_seq = 0;
    uint32_t delta = 0;
    uint32_t previous_delta = 0;
    bool operator==(const seq_adjust&) const = default;
};

// IPVS_OPT_SEQ_DATA: sent when the connection has one (IPVS: flags & seq_mask).
struct seq_option {
    seq_adjust in;
    seq_adjust out;
    bool operator==(const seq_option&) const = default;
};

// One synced connection or template, host byte order. IPv4 only: ulvs has no IPv6 service.
struct conn_record {
    uint8_t protocol = proto_tcp; // IPPROTO_*; a fwmark template carries 0 (IPPROTO_IP)
    uint32_t flags = 0;           // conn_flag bits, forwarding method included
    uint16_t state = 0;           // tcp_state for TCP, 0 for UDP, template_state for templates
    uint16_t cport = 0;           // 0 in a template with conn_flag::no_cport
    uint16_t vport = 0;           // 0 for a fwmark service
    uint16_t dport = 0;
    uint32_t fwmark = 0;  // the service's firewall mark, 0 for an address:port service
    uint32_t timeout = 0; // seconds the receiver gives it (0: the receiver's default)
    uint32_t caddr = 0;
    uint32_t vaddr = 0;
    uint32_t daddr = 0;
    std::optional<seq_option> seq;
    bool operator==(const conn_record&) const = default;
};

// Bytes the record takes in a message, padding to its start not included.
size_t encoded_size(const conn_record& r) noexcept;

// Builds one message in caller memory: add() records until it says no, then finish() gives the
// datagram to send; reset() starts the next one. At most 255 records a message (nr_conns is
// one byte), at most buf.size() bytes.
class message_builder {
public:
    // buf.size() is the datagram limit (the maxlen); it must be at least min_maxlen.
    message_builder(std::span<uint8_t> buf, uint8_t syncid) noexcept;

    // Appends `r`; false (the message unchanged) when it does not fit or the count is 255.
    bool add(const conn_record& r) noexcept;
    uint8_t count() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    size_t size() const noexcept { return used_; }
    // Writes the header's size and count; the datagram is the first size() bytes of buf.
    std::span<const uint8_t> finish() noexcept;
    void reset() noexcept;
    void set_syncid(uint8_t id) noexcept { syncid_ = id; }

private:
    std::span<uint8_t> buf_;
    uint8_t syncid_;
    uint8_t count_ = 0;
    size_t used_ = header_size;
};

// All of `records` in as few datagrams of at most `maxlen` bytes as the order allows (a record
// is never split; records keep their order). For tools and tests: it allocates.
std::vector<std::vector<uint8_t>> encode(std::span<const conn_record> records, uint8_t syncid,
                                         size_t maxlen = default_maxlen);

// Why a whole datagram was refused: none of its records is delivered (IPVS applies the entries
// before the bad one; a refused datagram here changes nothing). Names: to_string.
#define ULVS_FOREACH_SYNC_REFUSAL(X)                                                               \
    X(too_short)         /* shorter than the header */                                             \
    X(size_mismatch)     /* the header's size is not the datagram's length */                      \
    X(version_0)         /* a version 0 message (first byte, the old count, not 0) */              \
    X(bad_version)       /* version not 1, or spare not 0 */                                       \
    X(truncated_entry)   /* an entry's fixed part or declared size runs past the end */            \
    X(bad_entry_version) /* an entry's version (ver_size's top 4 bits) not 0 */                    \
    X(bad_entry_type)    /* type neither 0 (IPv4) nor with bit 0 (IPv6) */                         \
    X(bad_entry_size)    /* an entry's size smaller than its fixed part */                         \
    X(bad_option)        /* an option without its 2 bytes, of length 0, or past the entry */       \
    X(bad_seq_option)    /* the sequence option not 24 bytes, or twice */                          \
    X(bad_pe_option)     /* persistence-engine data or name too long, or twice */                  \
    X(trailing_bytes)    /* bytes after the last entry beyond its 4-byte padding */

enum class refusal : uint8_t {
    none,
#define ULVS_X(name) name,
    ULVS_FOREACH_SYNC_REFUSAL(ULVS_X)
#undef ULVS_X
};
inline constexpr size_t refusal_count = 1 + static_cast<size_t>(refusal::trailing_bytes);

// Entries of a well-formed datagram that are skipped, the rest being delivered (IPVS skips the
// same ones and goes on).
#define ULVS_FOREACH_SYNC_SKIP(X)                                                                  \
    X(ipv6)             /* an IPv6 entry: ulvs is IPv4 */                                          \
    X(protocol)         /* a connection of a protocol other than TCP and UDP */                    \
    X(state)            /* a state past the protocol's last (IP_VS_TCP_S_LAST...) */               \
    X(mandatory_option) /* an unknown option without the optional bit (0x40) */                    \
    X(pe_data)          /* persistence-engine data: ulvs has no engine (IPVS' sip) */

enum class skip : uint8_t {
#define ULVS_X(name) name,
    ULVS_FOREACH_SYNC_SKIP(ULVS_X)
#undef ULVS_X
};
inline constexpr size_t skip_count = 1 + static_cast<size_t>(skip::pe_data);

std::string_view to_string(refusal r) noexcept; // "none", "too_short", ...
std::string_view to_string(skip s) noexcept;    // "ipv6", ...

struct decode_result {
    refusal reason = refusal::none;
    bool other_syncid = false; // well-formed, but for another syncid: nothing delivered
    uint8_t syncid = 0;        // the header's (when at least the header was there)
    uint8_t entries = 0;       // the header's nr_conns
    uint16_t delivered = 0;    // records passed to the callback
    std::array<uint8_t, skip_count> skipped{};
    bool ok() const noexcept { return reason == refusal::none; }
};

// Decodes one datagram. `syncid` is the backup's: 0 accepts every message, another value only
// messages with that syncid (IPVS). The datagram is checked whole first; then `fn(ctx, record)`
// is called once per IPv4 entry not skipped, in order, with the entry's flags as sent (the
// receiver masks them with conn_flag::backup_mask). Never reads outside `dgram`.
using record_fn = void (*)(void* ctx, const conn_record& r);
decode_result decode(std::span<const uint8_t> dgram, uint8_t syncid, record_fn fn,
                     void* ctx) noexcept;

template <class F>
decode_result decode(std::span<const uint8_t> dgram, uint8_t syncid, F&& on_record) {
    using fn_t = std::remove_reference_t<F>;
    return decode(
        dgram, syncid, [](void* ctx, const conn_record& r) { (*static_cast<fn_t*>(ctx))(r); },
        const_cast<void*>(static_cast<const void*>(&on_record)));
}

// Counts decode results by outcome, for the receiver's metrics.
struct decode_counters {
    uint64_t datagrams = 0;                        // decoded (refused ones included)
    uint64_t other_syncid = 0;                     // ignored: another syncid
    uint64_t records = 0;                          // delivered
    std::array<uint64_t, refusal_count> refused{}; // by reason (index 0, none, stays 0)
    std::array<uint64_t, skip_count> skipped{};

    void add(const decode_result& r) noexcept;
    uint64_t refused_total() const noexcept;
};

} // namespace ulvs::sync
