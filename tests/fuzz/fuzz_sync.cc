// libFuzzer target: the IPVS sync v1 decoder (lib/sync, issue 18) on arbitrary datagrams, as a
// backup receives them from the network.
//
// Any bytes must give an answer, never a crash or a read outside the datagram (ASan). What it
// says must hold together: a refused datagram delivers nothing, an accepted one at most its
// header's count; the records it delivers, encoded again, decode to the same records (their
// flags without IP_VS_CONN_F_HASHED, which is never sent) in datagrams within the limit.
#include "ulvs/sync/wire.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace ulvs::sync;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_sync: %s\n", what);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A heap copy of exactly `size` bytes: ASan then sees any read past the datagram's end.
    std::vector<uint8_t> dgram(data, data + size);
    std::vector<conn_record> got;
    decode_result r = decode(dgram, 0, [&](const conn_record& c) { got.push_back(c); });
    decode_counters counters;
    counters.add(r);
    if (counters.datagrams != 1 || counters.refused_total() != (r.ok() ? 0u : 1u))
        fail("counters disagree with the result");
    if (!r.ok()) {
        if (!got.empty())
            fail("a refused datagram delivered records");
        return 0;
    }
    if (r.other_syncid)
        fail("syncid 0 accepts every message");
    size_t skipped = 0;
    for (uint8_t n : r.skipped)
        skipped += n;
    if (got.size() != r.delivered || got.size() + skipped != r.entries)
        fail("delivered and skipped entries do not add up to the header's count");

    // Another backup's syncid: the same datagram is ignored whole.
    unsigned calls = 0;
    const uint8_t other = uint8_t(r.syncid == 255 ? 1 : r.syncid + 1);
    decode_result o = decode(dgram, other, [&](const conn_record&) { ++calls; });
    if (!o.ok() || !o.other_syncid || calls != 0)
        fail("a message of another syncid was not ignored");

    // Round trip through the encoder, with a limit taken from the input.
    const size_t maxlen = std::clamp<size_t>(size, min_maxlen, max_maxlen);
    std::vector<conn_record> again;
    for (const std::vector<uint8_t>& m : encode(got, r.syncid, maxlen)) {
        if (m.size() > maxlen)
            fail("the encoder wrote past the limit");
        decode_result d = decode(m, r.syncid, [&](const conn_record& c) { again.push_back(c); });
        if (!d.ok() || d.delivered != d.entries)
            fail("an encoded datagram does not decode whole");
    }
    if (again.size() != got.size())
        fail("the round trip lost records");
    for (size_t i = 0; i < got.size(); ++i) {
        conn_record want = got[i];
        want.flags &= ~conn_flag::hashed;
        if (!(again[i] == want))
            fail("the round trip changed a record");
    }
    return 0;
}
