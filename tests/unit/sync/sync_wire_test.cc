// IPVS sync protocol version 1 (issue 18): every record kind encoded to, and decoded from, byte
// layouts written out by hand from IPVS' format (ip_vs_sync.c's struct ip_vs_sync_mesg and
// struct ip_vs_sync_v4, network order, entries 4-byte aligned in the message); malformed
// datagrams refused with their reason and counted.
#include "ulvs/sync/wire.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace ulvs::sync;

namespace {

using bytes = std::vector<uint8_t>;

// "00 06 00 24 ..." to bytes: the expected layouts below are written as text, byte by byte.
bytes hex(std::string_view text) {
    bytes out;
    unsigned v = 0;
    int digits = 0;
    for (char c : text) {
        if (c == ' ' || c == '\n')
            continue;
        v = v * 16 + unsigned(c <= '9' ? c - '0' : c - 'a' + 10);
        if (++digits == 2) {
            out.push_back(uint8_t(v));
            v = 0;
            digits = 0;
        }
    }
    EXPECT_EQ(digits, 0) << text;
    return out;
}

bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

bytes first(const bytes& b, size_t n) {
    return bytes(b.begin(), b.begin() + std::ptrdiff_t(n));
}

std::string dump(const bytes& b) {
    std::string s;
    for (size_t i = 0; i < b.size(); ++i) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02x", b[i]);
        s += (i == 0 ? "" : i % 4 == 0 ? " | " : " ") + std::string(buf);
    }
    return s;
}

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

// The records and their entries. Addresses: client 203.0.113.5 (cb 00 71 05), VIPs
// 203.0.113.100/.101 (cb 00 71 64/65), real servers 198.51.100.11/.12/.13 (c6 33 64 0b/0c/0d).
// Entry fields in order: type protocol ver_size | flags | state cport | vport dport | fwmark |
// timeout | caddr | vaddr | daddr.

// A: TCP, DR, ESTABLISHED, 203.0.113.5:40000 -> 203.0.113.100:80 -> 198.51.100.11:80, 900 s.
conn_record rec_a() {
    conn_record r;
    r.protocol = proto_tcp;
    r.flags = conn_flag::droute;
    r.state = tcp_state::established;
    r.cport = 40000;
    r.vport = 80;
    r.dport = 80;
    r.timeout = 900;
    r.caddr = ip(203, 0, 113, 5);
    r.vaddr = ip(203, 0, 113, 100);
    r.daddr = ip(198, 51, 100, 11);
    return r;
}
const char* const entry_a = "00 06 00 24  00 00 00 03  00 01 9c 40  00 50 00 50  00 00 00 00"
                            "  00 00 03 84  cb 00 71 05  cb 00 71 64  c6 33 64 0b";

// B: UDP, NAT, 198.51.100.20:5353 -> 203.0.113.100:53 -> 198.51.100.12:5300, 300 s.
conn_record rec_b() {
    conn_record r;
    r.protocol = proto_udp;
    r.flags = conn_flag::masq;
    r.state = udp_state_normal;
    r.cport = 5353;
    r.vport = 53;
    r.dport = 5300;
    r.timeout = 300;
    r.caddr = ip(198, 51, 100, 20);
    r.vaddr = ip(203, 0, 113, 100);
    r.daddr = ip(198, 51, 100, 12);
    return r;
}
const char* const entry_b = "00 11 00 24  00 00 00 00  00 00 14 e9  00 35 14 b4  00 00 00 00"
                            "  00 00 01 2c  c6 33 64 14  cb 00 71 64  c6 33 64 0c";

// C: a persistence template of 203.0.113.100:443 (granularity /24: client 203.0.113.0, no
// client port), DR, 360 s.
conn_record rec_c() {
    conn_record r;
    r.protocol = proto_tcp;
    r.flags = conn_flag::template_ | conn_flag::droute;
    r.state = template_state_none;
    r.vport = 443;
    r.dport = 443;
    r.timeout = 360;
    r.caddr = ip(203, 0, 113, 0);
    r.vaddr = ip(203, 0, 113, 100);
    r.daddr = ip(198, 51, 100, 11);
    return r;
}
const char* const entry_c = "00 06 00 24  00 00 10 03  00 00 00 00  01 bb 01 bb  00 00 00 00"
                            "  00 00 01 68  cb 00 71 00  cb 00 71 64  c6 33 64 0b";

// D: a template of an all-ports service (port 0) with NO_CPORT, assured, 300 s.
conn_record rec_d() {
    conn_record r;
    r.protocol = proto_tcp;
    r.flags = conn_flag::template_ | conn_flag::no_cport | conn_flag::droute;
    r.state = template_state_assured;
    r.timeout = 300;
    r.caddr = ip(203, 0, 113, 5);
    r.vaddr = ip(203, 0, 113, 100);
    r.daddr = ip(198, 51, 100, 11);
    return r;
}
const char* const entry_d = "00 06 00 24  00 00 18 03  00 01 00 00  00 00 00 00  00 00 00 00"
                            "  00 00 01 2c  cb 00 71 05  cb 00 71 64  c6 33 64 0b";

// E: a connection of fwmark service 7, TUN, 203.0.113.5:40001 -> 203.0.113.101:8080.
conn_record rec_e() {
    conn_record r;
    r.protocol = proto_tcp;
    r.flags = conn_flag::tunnel;
    r.state = tcp_state::established;
    r.cport = 40001;
    r.vport = 8080;
    r.dport = 8080;
    r.fwmark = 7;
    r.timeout = 900;
    r.caddr = ip(203, 0, 113, 5);
    r.vaddr = ip(203, 0, 113, 101);
    r.daddr = ip(198, 51, 100, 13);
    return r;
}
const char* const entry_e = "00 06 00 24  00 00 00 02  00 01 9c 41  1f 90 1f 90  00 00 00 07"
                            "  00 00 03 84  cb 00 71 05  cb 00 71 65  c6 33 64 0d";

// F: fwmark 7's persistence template as IPVS makes it: protocol IPPROTO_IP (0), the mark as
// the virtual address, no ports.
conn_record rec_f() {
    conn_record r;
    r.protocol = 0;
    r.flags = conn_flag::template_ | conn_flag::tunnel;
    r.state = template_state_none;
    r.fwmark = 7;
    r.timeout = 300;
    r.caddr = ip(203, 0, 113, 5);
    r.vaddr = 7;
    r.daddr = ip(198, 51, 100, 13);
    return r;
}
const char* const entry_f = "00 00 00 24  00 00 10 02  00 00 00 00  00 00 00 00  00 00 00 07"
                            "  00 00 01 2c  cb 00 71 05  00 00 00 07  c6 33 64 0d";

// G: NAT TCP with the sequence option (in/out seq flags): entry size 36 + 2 + 24 = 62 (0x3e).
conn_record rec_g() {
    conn_record r;
    r.protocol = proto_tcp;
    r.flags = conn_flag::in_seq | conn_flag::out_seq | conn_flag::masq;
    r.state = tcp_state::established;
    r.cport = 40002;
    r.vport = 21;
    r.dport = 21;
    r.timeout = 900;
    r.caddr = ip(203, 0, 113, 5);
    r.vaddr = ip(203, 0, 113, 100);
    r.daddr = ip(198, 51, 100, 12);
    r.seq = seq_option{{0x01020304, 5, 0xfffffffe}, {0xa0b0c0d0, 0xfffffffb, 2}};
    return r;
}
const char* const entry_g = "00 06 00 3e  00 00 06 00  00 01 9c 42  00 15 00 15  00 00 00 00"
                            "  00 00 03 84  cb 00 71 05  cb 00 71 64  c6 33 64 0c"
                            "  01 18  01 02 03 04  00 00 00 05  ff ff ff fe"
                            "  a0 b0 c0 d0  ff ff ff fb  00 00 00 02";

// Header: reserved 0 | syncid | size | nr_conns | version 1 | spare 0.
const char* const header_one = "00 00 00 2c  01 01 00 00"; // syncid 0, 44 bytes, 1 entry

std::vector<conn_record> decode_all(const bytes& d, uint8_t syncid, decode_result* out = nullptr) {
    std::vector<conn_record> got;
    decode_result r = decode(d, syncid, [&](const conn_record& c) { got.push_back(c); });
    if (out)
        *out = r;
    EXPECT_TRUE(r.ok()) << to_string(r.reason);
    return got;
}

bytes encode_one(const conn_record& r, uint8_t syncid = 0) {
    auto d = encode(std::span(&r, 1), syncid);
    EXPECT_EQ(d.size(), 1u);
    return d.empty() ? bytes{} : d.front();
}

} // namespace

TEST(SyncWire, SizesAreIpvsStructs) {
    EXPECT_EQ(header_size, 8u);
    EXPECT_EQ(v4_entry_size, 36u);
    EXPECT_EQ(v6_entry_size, 72u);
    EXPECT_EQ(seq_option_size, 26u);
    // lib/config/parse_sync.cc bounds sync.maxlen by the same numbers.
    EXPECT_EQ(min_maxlen, 70u);
    EXPECT_EQ(max_maxlen, 65507u);
    EXPECT_EQ(default_maxlen, 1472u);
}

TEST(SyncWire, EveryRecordKindBothWays) {
    struct kind {
        const char* name;
        conn_record rec;
        const char* header;
        const char* entry;
    };
    const kind kinds[] = {
        {"tcp dr established", rec_a(), header_one, entry_a},
        {"udp nat", rec_b(), header_one, entry_b},
        {"template port 443", rec_c(), header_one, entry_c},
        {"template no_cport port 0", rec_d(), header_one, entry_d},
        {"fwmark connection", rec_e(), header_one, entry_e},
        {"fwmark template", rec_f(), header_one, entry_f},
        {"tcp with seq option", rec_g(), "00 00 00 46  01 01 00 00", entry_g}, // 8 + 62 = 70
    };
    for (const kind& k : kinds) {
        const bytes want = cat({hex(k.header), hex(k.entry)});
        EXPECT_EQ(dump(encode_one(k.rec)), dump(want)) << k.name;
        decode_result res;
        auto got = decode_all(want, 0, &res);
        ASSERT_EQ(got.size(), 1u) << k.name;
        EXPECT_EQ(got[0], k.rec) << k.name;
        EXPECT_EQ(res.entries, 1);
        EXPECT_EQ(res.delivered, 1);
    }
}

TEST(SyncWire, EveryTcpState) {
    for (uint16_t s = tcp_state::none; s < tcp_state::count; ++s) {
        conn_record r = rec_a();
        r.state = s;
        bytes want = cat({hex(header_one), hex(entry_a)});
        want[8 + 9] = uint8_t(s); // the entry's state, low byte (entry_a has 00 01 there)
        EXPECT_EQ(dump(encode_one(r)), dump(want)) << "state " << s;
        auto got = decode_all(want, 0);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].state, s);
    }
}

TEST(SyncWire, HashedFlagIsNotSent) {
    conn_record r = rec_a();
    r.flags |= conn_flag::hashed; // IPVS masks IP_VS_CONN_F_HASHED off what it sends
    EXPECT_EQ(dump(encode_one(r)), dump(cat({hex(header_one), hex(entry_a)})));
}

TEST(SyncWire, SyncidInTheHeader) {
    EXPECT_EQ(dump(encode_one(rec_a(), 200)),
              dump(cat({hex("00 c8 00 2c  01 01 00 00"), hex(entry_a)})));
}

TEST(SyncWire, SeveralRecordsPaddedTo4Bytes) {
    // G is 62 bytes: two zero bytes align B on the message's 4-byte boundary (72); the header's
    // size counts them (8 + 62 + 2 + 36 = 108), the entries' sizes do not.
    const conn_record recs[] = {rec_g(), rec_b(), rec_a()};
    const bytes want = cat({hex("00 00 00 90  03 01 00 00"), hex(entry_g), hex("00 00"),
                            hex(entry_b), hex(entry_a)}); // 108 + 36 = 144
    auto d = encode(recs, 0);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(dump(d[0]), dump(want));
    auto got = decode_all(want, 0);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], rec_g());
    EXPECT_EQ(got[1], rec_b());
    EXPECT_EQ(got[2], rec_a());
}

TEST(SyncWire, SizeLimitSplits) {
    // 100 bytes hold the header and two plain entries (80); the third starts a new message.
    const conn_record recs[] = {rec_a(), rec_b(), rec_c(), rec_g(), rec_d()};
    auto d = encode(recs, 9, 100);
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(dump(d[0]), dump(cat({hex("00 09 00 50  02 01 00 00"), hex(entry_a), hex(entry_b)})));
    // C (44 with the header) and G (62) would need 106: G starts the third, alone (70); D
    // after it would need 2 bytes of padding and 36 (108): the fourth.
    EXPECT_EQ(dump(d[1]), dump(cat({hex("00 09 00 2c  01 01 00 00"), hex(entry_c)})));
    EXPECT_EQ(dump(d[2]), dump(cat({hex("00 09 00 46  01 01 00 00"), hex(entry_g)})));
    EXPECT_EQ(dump(d[3]), dump(cat({hex("00 09 00 2c  01 01 00 00"), hex(entry_d)})));
    std::vector<conn_record> all;
    for (const bytes& m : d) {
        EXPECT_LE(m.size(), 100u);
        for (const conn_record& r : decode_all(m, 9))
            all.push_back(r);
    }
    EXPECT_EQ(all, std::vector<conn_record>(std::begin(recs), std::end(recs)));
}

TEST(SyncWire, AtMost255RecordsAMessage) {
    std::vector<conn_record> recs(300, rec_a());
    auto d = encode(recs, 0, max_maxlen);
    ASSERT_EQ(d.size(), 2u);
    // 8 + 255 * 36 = 9188 (0x23e4); 8 + 45 * 36 = 1628 (0x065c).
    EXPECT_EQ(dump(bytes(d[0].begin(), d[0].begin() + 8)), dump(hex("00 00 23 e4  ff 01 00 00")));
    EXPECT_EQ(dump(bytes(d[1].begin(), d[1].begin() + 8)), dump(hex("00 00 06 5c  2d 01 00 00")));
    EXPECT_EQ(d[0].size(), 9188u);
    EXPECT_EQ(d[1].size(), 1628u);
}

TEST(SyncWire, BuilderRefusesWhatDoesNotFit) {
    bytes buf(min_maxlen);
    message_builder b(buf, 1);
    EXPECT_TRUE(b.empty());
    EXPECT_TRUE(b.add(rec_g())); // 70: exactly the minimum
    EXPECT_FALSE(b.add(rec_a()));
    EXPECT_EQ(b.count(), 1);
    EXPECT_EQ(b.size(), 70u);
    auto d = b.finish();
    EXPECT_EQ(dump(bytes(d.begin(), d.end())),
              dump(cat({hex("00 01 00 46  01 01 00 00"), hex(entry_g)})));
    b.reset();
    EXPECT_TRUE(b.empty());
    EXPECT_TRUE(b.add(rec_a()));
    d = b.finish();
    EXPECT_EQ(dump(bytes(d.begin(), d.end())),
              dump(cat({hex("00 01 00 2c  01 01 00 00"), hex(entry_a)})));
}

TEST(SyncWire, EmptyMessage) {
    decode_result r;
    EXPECT_TRUE(decode_all(hex("00 00 00 08  00 01 00 00"), 0, &r).empty());
    EXPECT_EQ(r.entries, 0);
}

TEST(SyncWire, SyncidFilterAsIpvs) {
    const bytes m = cat({hex("00 05 00 2c  01 01 00 00"), hex(entry_a)});
    EXPECT_EQ(decode_all(m, 0).size(), 1u); // a backup with syncid 0 takes every message
    EXPECT_EQ(decode_all(m, 5).size(), 1u);
    decode_result r;
    EXPECT_TRUE(decode_all(m, 6, &r).empty());
    EXPECT_TRUE(r.other_syncid);
    EXPECT_EQ(r.syncid, 5);
    decode_counters c;
    c.add(r);
    EXPECT_EQ(c.other_syncid, 1u);
    EXPECT_EQ(c.records, 0u);
    EXPECT_EQ(c.refused_total(), 0u);
}

TEST(SyncWire, SkippedEntriesAndTheRestDelivered) {
    struct skip_case {
        const char* name;
        bytes message;
        skip why;
    };
    const bytes v6 = hex("01 06 00 48  00 00 00 03  00 01 9c 40  00 50 00 50  00 00 00 00"
                         "  00 00 03 84"
                         "  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05"
                         "  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 64"
                         "  20 01 0d b8 00 00 00 01 00 00 00 00 00 00 00 0b");
    // The same entry A but SCTP (132), a TCP state past the last, UDP in state 1.
    const bytes sctp = hex("00 84 00 24  00 00 00 03  00 01 9c 40  00 50 00 50  00 00 00 00"
                           "  00 00 03 84  cb 00 71 05  cb 00 71 64  c6 33 64 0b");
    const bytes tcp_state_11 = hex("00 06 00 24  00 00 00 03  00 0b 9c 40  00 50 00 50"
                                   "  00 00 00 00  00 00 03 84  cb 00 71 05  cb 00 71 64"
                                   "  c6 33 64 0b");
    const bytes udp_state_1 = hex("00 11 00 24  00 00 00 00  00 01 14 e9  00 35 14 b4"
                                  "  00 00 00 00  00 00 01 2c  c6 33 64 14  cb 00 71 64"
                                  "  c6 33 64 0c");
    // Entry A with an unknown mandatory option 5 of 2 bytes (size 40).
    const bytes mandatory = hex("00 06 00 28  00 00 00 03  00 01 9c 40  00 50 00 50"
                                "  00 00 00 00  00 00 03 84  cb 00 71 05  cb 00 71 64"
                                "  c6 33 64 0b  05 02 aa bb");
    // Entry A with persistence-engine data (2, 3 bytes) and name "sip" (3, 3 bytes): size 46,
    // then 2 bytes of padding.
    const bytes pe = hex("00 06 00 2e  00 00 00 03  00 01 9c 40  00 50 00 50"
                         "  00 00 00 00  00 00 03 84  cb 00 71 05  cb 00 71 64"
                         "  c6 33 64 0b  02 03 01 02 03  03 03 73 69 70  00 00");
    const skip_case cases[] = {
        {"ipv6", cat({hex("00 00 00 74  02 01 00 00"), v6, hex(entry_a)}), skip::ipv6},
        {"sctp", cat({hex("00 00 00 50  02 01 00 00"), sctp, hex(entry_a)}), skip::protocol},
        {"tcp state 11", cat({hex("00 00 00 50  02 01 00 00"), tcp_state_11, hex(entry_a)}),
         skip::state},
        {"udp state 1", cat({hex("00 00 00 50  02 01 00 00"), udp_state_1, hex(entry_a)}),
         skip::state},
        {"mandatory option", cat({hex("00 00 00 54  02 01 00 00"), mandatory, hex(entry_a)}),
         skip::mandatory_option},
        {"pe data", cat({hex("00 00 00 5c  02 01 00 00"), pe, hex(entry_a)}), skip::pe_data},
    };
    decode_counters counters;
    for (const skip_case& k : cases) {
        decode_result r;
        auto got = decode_all(k.message, 0, &r);
        ASSERT_EQ(got.size(), 1u) << k.name;
        EXPECT_EQ(got[0], rec_a()) << k.name;
        EXPECT_EQ(r.skipped[size_t(k.why)], 1) << k.name;
        counters.add(r);
    }
    EXPECT_EQ(counters.records, 6u);
    EXPECT_EQ(counters.skipped[size_t(skip::state)], 2u);
    EXPECT_EQ(counters.skipped[size_t(skip::ipv6)], 1u);
    EXPECT_EQ(to_string(skip::mandatory_option), "mandatory_option");
}

TEST(SyncWire, OptionalUnknownOptionAndOddTemplatesPass) {
    // Option 0x45 (5 with IPVS_OPT_F_PARAM) may be ignored; a template is not checked for its
    // protocol or state (IPVS only logs one past IP_VS_CTPL_S_LAST).
    const bytes m = cat({hex("00 00 00 54  02 01 00 00"),
                         hex("00 06 00 28  00 00 00 03  00 01 9c 40  00 50 00 50  00 00 00 00"
                             "  00 00 03 84  cb 00 71 05  cb 00 71 64  c6 33 64 0b  45 02 aa bb"),
                         hex("00 84 00 24  00 00 10 03  00 09 00 00  01 bb 01 bb  00 00 00 00"
                             "  00 00 01 68  cb 00 71 00  cb 00 71 64  c6 33 64 0b")});
    auto got = decode_all(m, 0);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], rec_a());
    EXPECT_EQ(got[1].protocol, 132);
    EXPECT_EQ(got[1].state, 9);
}

TEST(SyncWire, MalformedRefusedWithReasonAndCounted) {
    struct bad {
        const char* name;
        bytes message;
        refusal why;
    };
    // Entry A with its size field changed (offset 2..3 of the entry).
    auto a_sized = [](const char* ver_size) {
        bytes e = hex(entry_a);
        bytes vs = hex(ver_size);
        e[2] = vs[0];
        e[3] = vs[1];
        return e;
    };
    const bad cases[] = {
        {"empty", {}, refusal::too_short},
        {"7 bytes", hex("00 00 00 07  00 01 00"), refusal::too_short},
        {"size says more", cat({hex("00 00 00 30  01 01 00 00"), hex(entry_a)}),
         refusal::size_mismatch},
        {"size says less", cat({hex("00 00 00 28  01 01 00 00"), hex(entry_a)}),
         refusal::size_mismatch},
        // Version 0: nr_conns, syncid, size, then 24-byte entries.
        {"version 0",
         hex("01 00 00 1c  00 06 9c 40 00 50 00 50 cb 00 71 05 cb 00 71 64"
             "  c6 33 64 0b 00 03 00 01"),
         refusal::version_0},
        {"version 2", cat({hex("00 00 00 2c  01 02 00 00"), hex(entry_a)}), refusal::bad_version},
        {"spare set", cat({hex("00 00 00 2c  01 01 00 01"), hex(entry_a)}), refusal::bad_version},
        {"count without entry", hex("00 00 00 08  01 01 00 00"), refusal::truncated_entry},
        {"count 2, one entry", cat({hex("00 00 00 2c  02 01 00 00"), hex(entry_a)}),
         refusal::truncated_entry},
        {"entry cut", cat({hex("00 00 00 28  01 01 00 00"), first(hex(entry_a), 32)}),
         refusal::truncated_entry},
        {"entry size past the end", cat({hex("00 00 00 2c  01 01 00 00"), a_sized("00 28")}),
         refusal::truncated_entry},
        {"entry version 1", cat({hex("00 00 00 2c  01 01 00 00"), a_sized("10 24")}),
         refusal::bad_entry_version},
        {"entry size below 36", cat({hex("00 00 00 2c  01 01 00 00"), a_sized("00 20")}),
         refusal::bad_entry_size},
        {"entry size 0", cat({hex("00 00 00 2c  01 01 00 00"), a_sized("00 00")}),
         refusal::bad_entry_size},
        {"type 2",
         cat({hex("00 00 00 2c  01 01 00 00"),
              hex("02 06 00 24  00 00 00 03  00 01 9c 40  00 50 00 50  00 00 00 00"
                  "  00 00 03 84  cb 00 71 05  cb 00 71 64  c6 33 64 0b")}),
         refusal::bad_entry_type},
        {"ipv6 entry of 36 bytes",
         cat({hex("00 00 00 2c  01 01 00 00"),
              hex("01 06 00 24  00 00 00 03  00 01 9c 40  00 50 00 50"
                  "  00 00 00 00  00 00 03 84  cb 00 71 05"
                  "  cb 00 71 64  c6 33 64 0b")}),
         refusal::bad_entry_size},
        {"option of one byte",
         cat({hex("00 00 00 30  01 01 00 00"), a_sized("00 25"), hex("01 00 00 00")}),
         refusal::bad_option},
        {"option length 0",
         cat({hex("00 00 00 30  01 01 00 00"), a_sized("00 28"), hex("01 00 00 00")}),
         refusal::bad_option},
        {"option past the entry",
         cat({hex("00 00 00 30  01 01 00 00"), a_sized("00 28"), hex("01 18 00 00")}),
         refusal::bad_option},
        {"seq option of 12 bytes",
         cat({hex("00 00 00 3c  01 01 00 00"), a_sized("00 32"),
              hex("01 0c  00 00 00 01  00 00 00 02  00 00 00 03  00 00")}),
         refusal::bad_seq_option},
        {"seq option twice",
         cat({hex("00 00 00 60  01 01 00 00"), a_sized("00 58"),
              hex("01 18  00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05 00 00 00 06"
                  "  01 18  00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05 00 00 00 "
                  "06")}),
         refusal::bad_seq_option},
        {"pe name of 17 bytes",
         cat({hex("00 00 00 40  01 01 00 00"), a_sized("00 37"),
              hex("03 11  61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61  00")}),
         refusal::bad_pe_option},
        {"pe data twice",
         cat({hex("00 00 00 34  01 01 00 00"), a_sized("00 2a"), hex("02 01 aa  02 01 bb  00 00")}),
         refusal::bad_pe_option},
        {"trailing bytes", cat({hex("00 00 00 30  01 01 00 00"), hex(entry_a), hex("00 00 00 00")}),
         refusal::trailing_bytes},
        {"trailing after a padded entry",
         cat({hex("00 00 00 4c  01 01 00 00"), hex(entry_g), hex("00 00  00 00 00 00")}),
         refusal::trailing_bytes},
    };
    decode_counters counters;
    for (const bad& b : cases) {
        unsigned calls = 0;
        decode_result r = decode(b.message, 0, [&](const conn_record&) { ++calls; });
        EXPECT_EQ(to_string(r.reason), to_string(b.why)) << b.name << ": " << dump(b.message);
        EXPECT_FALSE(r.ok()) << b.name;
        EXPECT_EQ(calls, 0u) << b.name << ": a refused datagram delivers nothing";
        counters.add(r);
    }
    EXPECT_EQ(counters.datagrams, std::size(cases));
    EXPECT_EQ(counters.refused_total(), std::size(cases));
    EXPECT_EQ(counters.records, 0u);
    EXPECT_EQ(counters.refused[size_t(refusal::too_short)], 2u);
    EXPECT_EQ(counters.refused[size_t(refusal::truncated_entry)], 4u);
    EXPECT_EQ(counters.refused[size_t(refusal::none)], 0u);
}

TEST(SyncWire, PaddingAfterTheLastEntryIsAccepted) {
    // A sender that pads the last entry too (2 bytes after G's 62) is read, not refused.
    const bytes m = cat({hex("00 00 00 48  01 01 00 00"), hex(entry_g), hex("00 00")});
    auto got = decode_all(m, 0);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], rec_g());
}

TEST(SyncWire, EveryCutAndFlipNeverReadsOutside) {
    // Every prefix (with the header's size made to agree) and every single-byte change of a
    // three-entry message: decode answers without reading past the span (ASan in the sanitizer
    // tree; here at least it answers and delivers at most the header's count).
    const conn_record recs[] = {rec_g(), rec_b(), rec_a()};
    const bytes full = encode(recs, 0).front();
    for (size_t n = 0; n <= full.size(); ++n) {
        bytes m(full.begin(), full.begin() + n);
        if (n >= 4) {
            m[2] = uint8_t(n >> 8);
            m[3] = uint8_t(n);
        }
        unsigned calls = 0;
        decode_result r =
            decode(std::span<const uint8_t>(m.data(), n), 0, [&](const conn_record&) { ++calls; });
        EXPECT_EQ(r.ok(), n == full.size()) << n;
        EXPECT_EQ(calls, r.ok() ? 3u : 0u);
    }
    for (size_t i = 0; i < full.size(); ++i)
        for (uint8_t x : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
            bytes m = full;
            m[i] ^= x;
            unsigned calls = 0;
            decode_result r = decode(m, 0, [&](const conn_record&) { ++calls; });
            EXPECT_LE(calls, r.entries);
            EXPECT_EQ(calls, r.delivered);
        }
}
