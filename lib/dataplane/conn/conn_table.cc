#include "ulvs/dataplane/conn/conn_table.h"

#include "ulvs/dataplane/conn/timer_wheel.h"

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <nmmintrin.h> // SSE4.2 crc32 (-march=corei7)

#include <cassert>
#include <cstring>
#include <sys/mman.h>

namespace ulvs::dp {

// 8 slots: their signatures compare in one SSE instruction, and sig + ref fill 48 of 64 bytes.
struct alignas(64) conn_table::bucket {
    uint16_t sig[8]; // 0 = empty
    uint32_t ref[8]; // entry index << 1 | reply
};
static_assert(sizeof(conn_table::bucket) == 64);

namespace {

constexpr uint32_t slots = 8;
// Keys per slot at most 0.75: two keys per connection over 8-slot buckets, 4/3 x. (At 0.8 and
// 20M keys, 0.1% of the last inserts found no cuckoo path within the search below.)
constexpr uint64_t buckets_num = 2 * 4, buckets_den = slots * 3;
// Cuckoo path search: breadth first over at most this many buckets (paths of length <= 4). Only
// an insert whose two buckets are both full searches at all.
constexpr uint32_t bfs_max = 512;

uint32_t n_buckets_for(uint32_t capacity) {
    const uint64_t n = (uint64_t{capacity} * buckets_num + buckets_den - 1) / buckets_den;
    return static_cast<uint32_t>(n < 2 ? 2 : n);
}

// The table is the worker's alone and never seen by a device, so what matters is the page size:
// at 10M connections every lookup touches random lines of a gigabyte, and with 4 KiB pages each
// would also miss the TLB. With EAL hugepages, rte_malloc gives them (and the right NUMA node);
// without (--no-huge), anonymous memory with transparent huge pages, prefaulted so the data path
// never takes a page fault. Zeroed either way.
void* alloc_table(const char* name, size_t bytes, int socket) {
    if (rte_eal_has_hugepages())
        return rte_zmalloc_socket(name, bytes, 64, socket);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return nullptr;
    madvise(p, bytes, MADV_HUGEPAGE);
    madvise(p, bytes, MADV_POPULATE_WRITE); // Linux 5.14; where absent, pages fault in on use
    return p;
}

void free_table(void* p, size_t bytes) {
    if (p == nullptr)
        return;
    if (rte_eal_has_hugepages())
        rte_free(p);
    else
        munmap(p, bytes);
}

inline uint32_t ref_of(uint32_t index, bool reply) noexcept {
    return index << 1 | (reply ? 1 : 0);
}

inline bool key_eq(const conn_key& a, const conn_key& b) noexcept {
    uint64_t x[2], y[2];
    std::memcpy(x, &a, 16);
    std::memcpy(y, &b, 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

// Bit i set when slot i holds signature `sig` (sig 0: the empty slots).
inline uint32_t sig_mask(const conn_table::bucket& b, uint16_t sig) noexcept {
    const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(b.sig));
    const __m128i eq = _mm_cmpeq_epi16(v, _mm_set1_epi16(static_cast<short>(sig)));
    return static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128())));
}

inline void prefetch_buckets(const conn_table::bucket* bs, const uint32_t (&b)[2]) noexcept {
    rte_prefetch0(&bs[b[0]]);
    rte_prefetch0(&bs[b[1]]);
}

} // namespace

conn_table::conn_table(const char* name, uint32_t capacity, int socket) noexcept
    : m_free(capacity), m_capacity(capacity), m_pressure_free(capacity / 8) {
    m_n_buckets = n_buckets_for(capacity);
    // Zeroed: every signature 0, every slot empty.
    m_buckets =
        static_cast<bucket*>(alloc_table(name, sizeof(bucket) * size_t{m_n_buckets}, socket));
    m_conns = static_cast<conn*>(alloc_table(name, sizeof(conn) * size_t{capacity}, socket));
    // Hand out low indices first: recently freed entries are reused while still cached.
    for (uint32_t i = 0; i < capacity; ++i)
        m_free[i] = capacity - 1 - i;
    m_free_top = capacity;
}

conn_table::~conn_table() {
    free_table(m_buckets, sizeof(bucket) * size_t{m_n_buckets});
    free_table(m_conns, sizeof(conn) * size_t{m_capacity});
}

// The other bucket of a key in bucket `b`: (F(sig) - b) mod n, an involution, so it is found
// from either side with the signature alone. F maps the signature onto [0, n) by multiply-shift
// (issue 17: a 64-bit division here cost tens of cycles per lookup); any F in [0, n) keeps the
// involution.
[[gnu::always_inline]] inline uint32_t conn_table::alt(uint32_t b, uint16_t sig) const noexcept {
    const uint32_t mixed = uint32_t{sig} * 0x9e3779b1u;
    const auto f = static_cast<uint32_t>((uint64_t{mixed} * m_n_buckets) >> 32);
    return f >= b ? f - b : f + m_n_buckets - b;
}

// CRC32C of the key picks the bucket (multiply-shift onto any bucket count); a multiplicative
// hash gives the signature. Not a second CRC with another seed: CRC is linear, the two would
// differ by a constant, every key of a bucket would get nearly the same signature and so the
// same alternative bucket, and cuckoo paths would run out (they did, at 10M connections).
// Inlined into the lookups (issue 17: called out of line, its result waited on a call and a
// return).
[[gnu::always_inline]] inline conn_table::hashed
conn_table::hash_of(const conn_key& k) const noexcept {
    uint64_t w[2];
    std::memcpy(w, &k, 16);
    const auto h = static_cast<uint32_t>(_mm_crc32_u64(_mm_crc32_u64(0x9e3779b9u, w[0]), w[1]));
    const auto g = static_cast<uint32_t>(
        ((w[0] ^ (w[1] * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull) >> 32);
    hashed r;
    r.sig = static_cast<uint16_t>(g >> 16) | static_cast<uint16_t>((g >> 16) == 0);
    r.b[0] = static_cast<uint32_t>((uint64_t{h} * m_n_buckets) >> 32);
    r.b[1] = alt(r.b[0], r.sig);
    return r;
}

bool conn_table::matches(uint32_t ref, const conn_key& k) const noexcept {
    const conn& c = m_conns[ref >> 1];
    return (ref & 1) ? key_eq(reply_key(c), k) : key_eq(c.key, k);
}

conn_ref conn_table::find(const conn_key& k, const hashed& h) const noexcept {
    for (const uint32_t b : h.b) {
        const bucket& bk = m_buckets[b];
        for (uint32_t m = sig_mask(bk, h.sig); m != 0; m &= m - 1) {
            const uint32_t ref = bk.ref[__builtin_ctz(m)];
            if (matches(ref, k))
                return conn_ref{ref >> 1, (ref & 1) != 0};
        }
    }
    return conn_ref{};
}

// Three passes over the burst so that each one's memory accesses overlap: hash and prefetch both
// buckets; prefetch the entries whose signatures match; verify. The entries found stay in the
// cache for the caller, which reads them next.
void conn_table::lookup_bulk(const conn_key** keys, uint32_t n, conn_ref* refs) const noexcept {
    hashed h[lookup_bulk_max];
    for (uint32_t i = 0; i < n; ++i) {
        h[i] = hash_of(*keys[i]);
        prefetch_buckets(m_buckets, h[i].b);
    }
    for (uint32_t i = 0; i < n; ++i)
        for (const uint32_t b : h[i].b) {
            const bucket& bk = m_buckets[b];
            for (uint32_t m = sig_mask(bk, h[i].sig); m != 0; m &= m - 1)
                rte_prefetch0(&m_conns[bk.ref[__builtin_ctz(m)] >> 1]);
        }
    for (uint32_t i = 0; i < n; ++i)
        refs[i] = find(*keys[i], h[i]);
}

conn_ref conn_table::lookup(const conn_key& key) const noexcept {
    return find(key, hash_of(key));
}

// Breadth-first search from the key's two buckets for a chain of moves ending in a free slot,
// then the moves from the free end back, so the index is consistent after each one. Returns the
// slot freed in one of the key's buckets.
bool conn_table::make_room(const hashed& h, uint32_t& out_bucket, uint32_t& out_slot) noexcept {
    struct node {
        uint32_t bucket;
        int32_t parent; // index in q, -1 for the key's own buckets
        uint32_t slot;  // the slot of the parent's bucket whose entry moves into this bucket
    };
    node q[bfs_max];
    uint32_t tail = 0;
    q[tail++] = {h.b[0], -1, 0};
    if (h.b[1] != h.b[0])
        q[tail++] = {h.b[1], -1, 0};
    for (uint32_t head = 0; head < tail; ++head) {
        const bucket& bk = m_buckets[q[head].bucket];
        for (uint32_t s = 0; s < slots; ++s) {
            const uint32_t to = alt(q[head].bucket, bk.sig[s]);
            if (to == q[head].bucket)
                continue;
            // A path through one bucket twice could move one slot twice: not taken.
            bool cycle = false;
            for (int32_t a = static_cast<int32_t>(head); a >= 0 && !cycle; a = q[a].parent)
                cycle = q[a].bucket == to;
            if (cycle)
                continue;
            const uint32_t free_mask = sig_mask(m_buckets[to], 0);
            if (free_mask == 0) {
                if (tail < bfs_max)
                    q[tail++] = {to, static_cast<int32_t>(head), s};
                continue;
            }
            // Move the entry in (head, s) to `to`, then each ancestor's into the slot freed.
            uint32_t dst_b = to, dst_s = static_cast<uint32_t>(__builtin_ctz(free_mask));
            uint32_t src_b = q[head].bucket, src_s = s;
            for (int32_t at = static_cast<int32_t>(head);;) {
                bucket& from = m_buckets[src_b];
                m_buckets[dst_b].sig[dst_s] = from.sig[src_s];
                m_buckets[dst_b].ref[dst_s] = from.ref[src_s];
                from.sig[src_s] = 0;
                if (q[at].parent < 0)
                    break;
                dst_b = src_b;
                dst_s = src_s;
                src_s = q[at].slot;
                at = q[at].parent;
                src_b = q[at].bucket;
            }
            out_bucket = src_b;
            out_slot = src_s;
            return true;
        }
    }
    return false;
}

bool conn_table::add(const hashed& h, uint32_t ref) noexcept {
    uint32_t b = h.b[0], s = 0;
    uint32_t m = sig_mask(m_buckets[b], 0);
    if (m == 0) {
        b = h.b[1];
        m = sig_mask(m_buckets[b], 0);
    }
    if (m != 0)
        s = static_cast<uint32_t>(__builtin_ctz(m));
    else if (!make_room(h, b, s))
        return false;
    m_buckets[b].sig[s] = h.sig;
    m_buckets[b].ref[s] = ref;
    return true;
}

void conn_table::remove(const conn_key& k, uint32_t ref) noexcept {
    const hashed h = hash_of(k);
    for (const uint32_t b : h.b) {
        bucket& bk = m_buckets[b];
        for (uint32_t m = sig_mask(bk, h.sig); m != 0; m &= m - 1) {
            const auto s = static_cast<uint32_t>(__builtin_ctz(m));
            if (bk.ref[s] == ref) {
                bk.sig[s] = 0;
                return;
            }
        }
    }
}

uint32_t conn_table::insert(const conn_key& key, const conn& init, bool with_reply) noexcept {
    if (m_free_top == 0)
        return conn_ref::none;
    const uint32_t idx = m_free[m_free_top - 1];
    conn& c = m_conns[idx];
    c = init;
    c.key = key;
    c.flags |= conn_flag::live;
    if (!add(hash_of(key), ref_of(idx, false)))
        return conn_ref::none;
    if (with_reply && !add(hash_of(reply_key(c)), ref_of(idx, true))) {
        remove(key, ref_of(idx, false));
        return conn_ref::none;
    }
    --m_free_top;
    return idx;
}

void conn_table::erase(uint32_t index) noexcept {
    conn& c = m_conns[index];
    // A second erase of one entry would push its index twice: two connections would later
    // share it. The burst path makes that impossible (erasures()); this states it.
    assert(c.flags & conn_flag::live);
    assert(m_free_top < m_capacity);
    remove(c.key, ref_of(index, false));
    if (c.mode == fwd_mode::nat) // absent for entries inserted without it: a no-op then
        remove(reply_key(c), ref_of(index, true));
    c.flags &= static_cast<uint8_t>(~conn_flag::live);
    m_free[m_free_top++] = index;
    ++m_erasures;
}

uint64_t conn_table::memory_bytes() const noexcept {
    return sizeof(bucket) * uint64_t{m_n_buckets} + sizeof(conn) * uint64_t{m_capacity} +
           sizeof(uint32_t) * m_free.size();
}

uint64_t conn_table::bytes_per_entry_estimate() noexcept {
    // Index: 4/3 x 2 slots of a 64-byte bucket's 8 = 21.3 bytes; entry, free-list slot, and the
    // timer wheel's links and tick.
    return sizeof(bucket) * buckets_num / buckets_den + sizeof(conn) + sizeof(uint32_t) +
           timer_wheel::bytes_per_entry;
}

} // namespace ulvs::dp
