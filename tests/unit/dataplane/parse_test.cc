#include "ulvs/dataplane/pkt/parse.h"

#include "frame_builder.h"

#include <array>
#include <cstring>
#include <gtest/gtest.h>

using namespace ulvs;
using namespace ulvs::dp;
using namespace ulvs::test;

namespace {

// The bytes of a network-order field as stored in parsed_pkt.
template <class T> std::vector<uint8_t> raw(T v) {
    std::vector<uint8_t> b(sizeof v);
    std::memcpy(b.data(), &v, sizeof v);
    return b;
}

drop parse(const bytes& f, parsed_pkt& out, bool verify = true) {
    return parse_frame(f.data(), static_cast<uint32_t>(f.size()), verify, out);
}

drop parse(const bytes& f, bool verify = true) {
    parsed_pkt out{};
    return parse(f, out, verify);
}

bytes good_tcp(uint8_t flags = tcp_flag::syn, size_t payload = 0) {
    return ipv4_frame({}, tcp_segment(40000, 80, flags, payload));
}

} // namespace

TEST(parse, good_tcp_fields_and_offsets) {
    bytes f = good_tcp(tcp_flag::psh | tcp_flag::ack, 10);
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.kind, frame_kind::ipv4);
    EXPECT_EQ(p.ip_proto, 6);
    EXPECT_EQ(p.tcp_flags, 0x18);
    EXPECT_EQ(p.ip_hdr_len, 20);
    EXPECT_EQ(p.l3_off, 14);
    EXPECT_EQ(p.l4_off, 34);
    EXPECT_EQ(p.ip_total_len, 50);
    EXPECT_EQ(p.l4_len, 30);
    EXPECT_EQ(raw(p.src_ip), (std::vector<uint8_t>{203, 0, 113, 1}));
    EXPECT_EQ(raw(p.dst_ip), (std::vector<uint8_t>{203, 0, 113, 100}));
    EXPECT_EQ(raw(p.src_port), (std::vector<uint8_t>{0x9c, 0x40})); // 40000
    EXPECT_EQ(raw(p.dst_port), (std::vector<uint8_t>{0x00, 0x50})); // 80
}

TEST(parse, good_udp) {
    ipv4_spec s;
    s.proto = 17;
    bytes f = ipv4_frame(s, udp_datagram(5353, 53, 12));
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.ip_proto, 17);
    EXPECT_EQ(p.l4_off, 34);
    EXPECT_EQ(p.l4_len, 20);
    EXPECT_EQ(p.ip_total_len, 40);
    EXPECT_EQ(raw(p.src_port), (std::vector<uint8_t>{0x14, 0xe9})); // 5353
    EXPECT_EQ(raw(p.dst_port), (std::vector<uint8_t>{0x00, 0x35})); // 53
}

TEST(parse, udp_length_shorter_than_ip_payload_is_accepted) {
    ipv4_spec s;
    s.proto = 17;
    EXPECT_EQ(parse(ipv4_frame(s, udp_datagram(1, 2, 12, 8))), drop::none);
}

TEST(parse, good_icmp_has_no_ports) {
    ipv4_spec s;
    s.proto = 1;
    bytes f = ipv4_frame(s, icmp_echo(56));
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.ip_proto, 1);
    EXPECT_EQ(p.l4_len, 64);
    EXPECT_EQ(p.src_port, 0);
    EXPECT_EQ(p.dst_port, 0);
}

TEST(parse, other_ip_protocol_passes_with_ports_zero) {
    ipv4_spec s;
    s.proto = 47; // GRE
    bytes f = ipv4_frame(s, bytes(4, 0x11));
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.ip_proto, 47);
    EXPECT_EQ(p.l4_len, 4);
    EXPECT_EQ(p.src_port, 0);
    EXPECT_EQ(p.dst_port, 0);
}

TEST(parse, good_arp) {
    const uint8_t sender[4] = {203, 0, 113, 1}, target[4] = {203, 0, 113, 10};
    bytes f = arp_request(sender, target);
    ASSERT_EQ(f.size(), 42u);
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.kind, frame_kind::arp);
    EXPECT_EQ(p.l3_off, 14);
    EXPECT_EQ(raw(p.src_ip), (std::vector<uint8_t>{203, 0, 113, 1}));
    EXPECT_EQ(raw(p.dst_ip), (std::vector<uint8_t>{203, 0, 113, 10}));
}

TEST(parse, truncated_arp_is_eth_truncated) {
    const uint8_t a[4] = {1, 2, 3, 4};
    bytes f = arp_request(a, a);
    f.pop_back();
    EXPECT_EQ(parse(f), drop::eth_truncated);
}

TEST(parse, tcp_with_ip_options) {
    ipv4_spec s;
    s.options = {1, 1, 1, 0}; // NOP NOP NOP EOL
    bytes f = ipv4_frame(s, tcp_segment(1234, 443, tcp_flag::syn));
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.ip_hdr_len, 24);
    EXPECT_EQ(p.l4_off, 14 + 24);
    EXPECT_EQ(p.l4_len, 20);
    EXPECT_EQ(p.ip_total_len, 44);
    EXPECT_EQ(raw(p.dst_port), (std::vector<uint8_t>{0x01, 0xbb}));
    EXPECT_EQ(p.tcp_flags, tcp_flag::syn);
}

TEST(parse, tcp_with_tcp_options) {
    bytes f = ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 0, 20)); // doff 10, 40 bytes
    EXPECT_EQ(parse(f), drop::none);
}

TEST(parse, truncated_ethernet) {
    EXPECT_EQ(parse(bytes{}), drop::eth_truncated);
    bytes f = good_tcp();
    f.resize(13);
    EXPECT_EQ(parse(f), drop::eth_truncated);
}

TEST(parse, truncated_ipv4) {
    bytes f = good_tcp();
    f.resize(14);
    EXPECT_EQ(parse(f), drop::ip_truncated);
    f = good_tcp();
    f.resize(14 + 19);
    EXPECT_EQ(parse(f), drop::ip_truncated);
}

TEST(parse, truncated_l4_headers) {
    // The IP total length says the transport header is short (the frame agrees).
    EXPECT_EQ(parse(ipv4_frame({}, bytes(19, 0))), drop::l4_truncated);
    ipv4_spec udp;
    udp.proto = 17;
    EXPECT_EQ(parse(ipv4_frame(udp, bytes(7, 0))), drop::l4_truncated);
    ipv4_spec icmp;
    icmp.proto = 1;
    EXPECT_EQ(parse(ipv4_frame(icmp, bytes(7, 0))), drop::l4_truncated);
    // Exactly the minimum passes.
    EXPECT_EQ(parse(ipv4_frame(icmp, bytes(8, 0))), drop::none);
}

TEST(parse, frame_cut_inside_tcp_header_is_bad_ip_len) {
    // The IP header claims 40 bytes but the frame stops at 14 + 30: total length past the frame.
    bytes f = good_tcp();
    f.resize(14 + 30);
    EXPECT_EQ(parse(f), drop::ip_bad_len);
}

TEST(parse, bad_version) {
    bytes f = good_tcp();
    f[14] = 0x65;
    fix_ip_checksum(f);
    EXPECT_EQ(parse(f), drop::ip_bad_version);
    f[14] = 0x45 & 0x0f; // version 0
    EXPECT_EQ(parse(f), drop::ip_bad_version);
}

TEST(parse, bad_ihl) {
    bytes f = good_tcp();
    f[14] = 0x44;
    fix_ip_checksum(f);
    EXPECT_EQ(parse(f), drop::ip_bad_ihl);
    f[14] = 0x40;
    EXPECT_EQ(parse(f), drop::ip_bad_ihl);
    // IHL 15 = 60 bytes, but the frame has only 40 after Ethernet.
    f = good_tcp();
    f[14] = 0x4f;
    EXPECT_EQ(parse(f, false), drop::ip_bad_ihl);
}

TEST(parse, total_length_below_header) {
    bytes f = good_tcp();
    put16(f, 16, 19);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(f), drop::ip_bad_len);
    // With options the bound is the real header length, not 20.
    ipv4_spec s;
    s.options = {1, 1, 1, 1};
    f = ipv4_frame(s, tcp_segment(1, 2, tcp_flag::syn));
    put16(f, 16, 23);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(f), drop::ip_bad_len);
}

TEST(parse, total_length_past_frame) {
    bytes f = good_tcp();
    put16(f, 16, 41);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(f), drop::ip_bad_len);
}

TEST(parse, header_only_ip_total_length_equals_header) {
    ipv4_spec s;
    s.proto = 99;
    bytes f = ipv4_frame(s, {});
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.l4_len, 0);
    EXPECT_EQ(p.l4_off, 34);
}

TEST(parse, bad_checksum_and_verify_off) {
    bytes f = good_tcp();
    f[14 + 10] ^= 0x01;
    EXPECT_EQ(parse(f), drop::ip_bad_checksum);
    EXPECT_EQ(parse(f, false), drop::none);
    // A changed field with the old checksum is caught too.
    f = good_tcp();
    f[14 + 8] = 63; // ttl
    EXPECT_EQ(parse(f), drop::ip_bad_checksum);
}

TEST(parse, fragments_dropped_df_passes) {
    ipv4_spec s;
    s.frag_word = 0x2000; // MF
    EXPECT_EQ(parse(ipv4_frame(s, tcp_segment(1, 2, 0))), drop::ip_fragment);
    s.frag_word = 0x0001; // offset 8
    EXPECT_EQ(parse(ipv4_frame(s, tcp_segment(1, 2, 0))), drop::ip_fragment);
    s.frag_word = 0x1fff; // largest offset
    EXPECT_EQ(parse(ipv4_frame(s, tcp_segment(1, 2, 0))), drop::ip_fragment);
    s.frag_word = 0x6000; // DF + MF
    EXPECT_EQ(parse(ipv4_frame(s, tcp_segment(1, 2, 0))), drop::ip_fragment);
    s.frag_word = 0x4000; // DF alone
    EXPECT_EQ(parse(ipv4_frame(s, tcp_segment(1, 2, 0))), drop::none);
}

TEST(parse, fragments_come_with_their_ip_fields_for_reassembly) {
    ipv4_spec s;
    s.frag_word = 0x2000; // first fragment: MF
    parsed_pkt p{};
    ASSERT_EQ(parse(ipv4_frame(s, tcp_segment(40000, 80, 0, 4)), p), drop::ip_fragment);
    EXPECT_EQ(p.kind, frame_kind::ipv4);
    EXPECT_EQ(p.ip_proto, 6);
    EXPECT_EQ(p.ip_hdr_len, 20);
    EXPECT_EQ(p.ip_total_len, 44);
    EXPECT_EQ(p.l4_len, 24);
    EXPECT_EQ(raw(p.src_ip), (std::vector<uint8_t>{203, 0, 113, 1}));
    EXPECT_EQ(raw(p.dst_ip), (std::vector<uint8_t>{203, 0, 113, 100}));
    EXPECT_EQ(p.src_port, 0); // not parsed: a later fragment has no ports to read
    // A later fragment whose data would not even hold a TCP header is still a fragment.
    s.frag_word = 0x0003;
    EXPECT_EQ(parse(ipv4_frame(s, bytes(8, 0xab)), p), drop::ip_fragment);
    EXPECT_EQ(p.l4_len, 8);
}

// A chained packet (a reassembled datagram): `head` contiguous bytes of a longer packet.
TEST(parse, chain_headers_must_be_in_the_first_segment) {
    const bytes f = good_tcp(tcp_flag::ack, 200); // 14 + 20 + 20 + 200
    parsed_pkt p{};
    const auto n = static_cast<uint32_t>(f.size());
    EXPECT_EQ(parse_chain(f.data(), 54, n, true, p), drop::none);
    EXPECT_EQ(p.ip_total_len, 240);
    EXPECT_EQ(p.l4_len, 220);
    EXPECT_EQ(p.tcp_flags, tcp_flag::ack);
    // The TCP header split across segments: l4_truncated, never a read past the segment.
    EXPECT_EQ(parse_chain(f.data(), 53, n, true, p), drop::l4_truncated);
    // The IP total length is checked against the whole chain, not the first segment...
    EXPECT_EQ(parse_frame(f.data(), 54, true, p), drop::ip_bad_len);
    // ...and still against it.
    EXPECT_EQ(parse_chain(f.data(), 54, n - 1, true, p), drop::ip_bad_len);
    ipv4_spec s;
    s.proto = 17;
    const bytes u = ipv4_frame(s, udp_datagram(5353, 53, 100));
    EXPECT_EQ(parse_chain(u.data(), 42, static_cast<uint32_t>(u.size()), true, p), drop::none);
    EXPECT_EQ(parse_chain(u.data(), 41, static_cast<uint32_t>(u.size()), true, p),
              drop::l4_truncated);
}

TEST(parse, tcp_bad_data_offset) {
    EXPECT_EQ(parse(ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 0, 0, 4))), drop::tcp_bad_doff);
    EXPECT_EQ(parse(ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 0, 0, 0))), drop::tcp_bad_doff);
    // doff 6 = 24 bytes, but the segment has only 20 (+3 payload).
    EXPECT_EQ(parse(ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 3, 0, 6))), drop::tcp_bad_doff);
    // doff 6 with 4 payload bytes: exactly fits.
    EXPECT_EQ(parse(ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 4, 0, 6))), drop::none);
    EXPECT_EQ(parse(ipv4_frame({}, tcp_segment(1, 2, tcp_flag::syn, 0, 0, 15))),
              drop::tcp_bad_doff);
}

TEST(parse, udp_bad_length) {
    ipv4_spec s;
    s.proto = 17;
    EXPECT_EQ(parse(ipv4_frame(s, udp_datagram(1, 2, 4, 7))), drop::udp_bad_len);
    EXPECT_EQ(parse(ipv4_frame(s, udp_datagram(1, 2, 4, 0))), drop::udp_bad_len);
    EXPECT_EQ(parse(ipv4_frame(s, udp_datagram(1, 2, 4, 13))), drop::udp_bad_len);
    EXPECT_EQ(parse(ipv4_frame(s, udp_datagram(1, 2, 4, 12))), drop::none);
}

TEST(parse, ethernet_padding_accepted) {
    bytes f = good_tcp(tcp_flag::ack); // 54 bytes
    f.resize(60, 0);                   // padded to the Ethernet minimum
    parsed_pkt p{};
    ASSERT_EQ(parse(f, p), drop::none);
    EXPECT_EQ(p.ip_total_len, 40);
    EXPECT_EQ(p.l4_len, 20);
}

TEST(parse, ipv6_and_vlan_are_unknown_ethertypes) {
    bytes f = good_tcp();
    put16(f, 12, 0x86dd);
    EXPECT_EQ(parse(f), drop::unknown_ethertype);
    put16(f, 12, 0x8100);
    EXPECT_EQ(parse(f), drop::unknown_ethertype);
    EXPECT_EQ(parse(eth_header(0x0800 + 1)), drop::unknown_ethertype);
}

TEST(parse, unaligned_frame_start) {
    // The same frame one byte into a buffer: byte-wise reads must not care.
    bytes f = good_tcp(tcp_flag::syn, 1);
    bytes buf(f.size() + 1);
    std::memcpy(buf.data() + 1, f.data(), f.size());
    parsed_pkt p{};
    ASSERT_EQ(parse_frame(buf.data() + 1, static_cast<uint32_t>(f.size()), true, p), drop::none);
    EXPECT_EQ(raw(p.src_port), (std::vector<uint8_t>{0x9c, 0x40}));
}

TEST(inet_checksum, rfc1071_example) {
    // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 (with the carry); checksum 220d.
    const uint8_t even[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint16_t c = inet_checksum(even, sizeof even);
    EXPECT_EQ(raw(c), (std::vector<uint8_t>{0x22, 0x0d}));
    // Odd length: the last byte is padded with zero: 0001+f203+f4f5+f600 -> dcfb -> 2304.
    c = inet_checksum(even, 7);
    EXPECT_EQ(raw(c), (std::vector<uint8_t>{0x23, 0x04}));
    EXPECT_EQ(inet_checksum(even, 0), 0xffff);
}

TEST(inet_checksum, known_ipv4_header) {
    // A well-known sample header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum is b861.
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint16_t c = inet_checksum(h, sizeof h);
    EXPECT_EQ(raw(c), (std::vector<uint8_t>{0xb8, 0x61}));
    std::memcpy(h + 10, &c, 2);
    EXPECT_EQ(inet_checksum(h, sizeof h), 0); // verifying a correct header gives 0
}

TEST(inet_checksum, matches_reference_on_many_buffers) {
    uint32_t seed = 12345;
    for (size_t len = 0; len < 300; ++len) {
        bytes b(len + 1);
        for (auto& x : b)
            x = static_cast<uint8_t>((seed = seed * 1103515245 + 12345) >> 16);
        // Also from an odd address.
        for (size_t off : {size_t{0}, size_t{1}}) {
            if (off > b.size() - len)
                continue;
            const uint16_t want = ref_checksum(b.data() + off, len);
            const uint16_t got = inet_checksum(b.data() + off, static_cast<uint32_t>(len));
            EXPECT_EQ(raw(got), (std::vector<uint8_t>{static_cast<uint8_t>(want >> 8),
                                                      static_cast<uint8_t>(want)}))
                << "len " << len << " off " << off;
        }
    }
}

TEST(counters, drop_names_from_the_list) {
    EXPECT_EQ(drop_name(drop::eth_truncated), "eth_truncated");
    EXPECT_EQ(drop_name(drop::ip_bad_ihl), "ip_bad_ihl");
    EXPECT_EQ(drop_name(drop::tx_full), "tx_full");
    EXPECT_EQ(drop_description(drop::ip_fragment),
              "IPv4 fragment of neither TCP nor UDP, or a datagram for us over one mbuf");
    EXPECT_EQ(drop_description(drop::tx_full), "transmit queue refused the packet");
    EXPECT_EQ(drop_name(drop::none), "none");
    for (size_t i = 0; i < static_cast<size_t>(drop::count); ++i) {
        EXPECT_FALSE(drop_name(static_cast<drop>(i)).empty());
        EXPECT_FALSE(drop_description(static_cast<drop>(i)).empty());
    }
}
