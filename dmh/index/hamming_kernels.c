/* Hamming search kernels for dmh.index's `scan` and `mih` backends (loaded by native.py).
 *
 * Codes are one uint64 each (a packed code of <= 64 bits, zero-padded; any fixed bit
 * order, since Hamming distance ignores it). Every function writes candidate
 * (distance, position) pairs into out_d / out_p (capacity cap) and returns how many;
 * the caller sorts them by (distance, position) and keeps k. A negative return means cap
 * was too small: the caller grows it and asks again.
 *
 * Top k, in gallery order (scan): a histogram of the distances kept gives the k-th
 * distance t once k are kept; from then on a code is kept only if closer than t, since a
 * later code at distance t ranks after the >= k kept at <= t. So the kept set always
 * holds the evaluation's top k with its ties broken by position.
 */
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
#include <immintrin.h>
#endif

/* which inner loop this build has: 512 (AVX-512 VPOPCNTDQ, 8 codes a step) or 0 (scalar) */
int dmh_simd_width(void) {
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
    return 512;
#else
    return 0;
#endif
}

typedef struct {
    int64_t hist[66];
    int thr;            /* keep a code when its distance < thr (top k) or <= thr (radius) */
    int strict;         /* 1: top k in gallery order, thr = k-th distance, keep d < thr */
    int64_t m, k, cap;
    int n_bits;
    int32_t *od;
    int64_t *op;
} kept_t;

static void init(kept_t *s, int n_bits, int64_t k, int thr, int strict, int32_t *od,
                 int64_t *op, int64_t cap) {
    memset(s->hist, 0, sizeof s->hist);
    s->n_bits = n_bits; s->k = k; s->thr = thr; s->strict = strict;
    s->m = 0; s->cap = cap; s->od = od; s->op = op;
}

static int kth_distance(const kept_t *s) {
    int64_t c = 0;
    for (int t = 0; t <= s->n_bits; t++) { c += s->hist[t]; if (c >= s->k) return t; }
    return s->n_bits + 1;
}

static int keeps(const kept_t *s, int d) { return s->strict ? d < s->thr : d <= s->thr; }

/* keep (d, pos); 0, or -1 when full of codes that all still count */
static int keep(kept_t *s, int d, int64_t pos) {
    if (!keeps(s, d)) return 0;
    if (s->m == s->cap) {  /* drop what the threshold has since excluded */
        int64_t w = 0;
        for (int64_t j = 0; j < s->m; j++)
            if (s->od[j] <= s->thr) { s->od[w] = s->od[j]; s->op[w++] = s->op[j]; }
        s->m = w;
        if (w == s->cap) return -1;
    }
    s->od[s->m] = d; s->op[s->m++] = pos; s->hist[d]++;
    if (s->k > 0 && s->m >= s->k) {
        int t = kth_distance(s);
        if (t < s->thr || (s->strict && t <= s->thr)) s->thr = t;
    }
    return 0;
}

/* every code of the gallery, in order; k > 0: top k, else every code within radius */
int64_t dmh_scan(const uint64_t *codes, int64_t n, uint64_t q, int n_bits, int64_t k,
                 int radius, int32_t *out_d, int64_t *out_p, int64_t cap) {
    kept_t s;
    init(&s, n_bits, k, k > 0 ? n_bits + 1 : radius, k > 0, out_d, out_p, cap);
    int64_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
    /* 32 codes a step; the scalar pass runs only on steps holding a code to keep */
    const __m512i vq = _mm512_set1_epi64((long long)q);
    for (; i + 32 <= n; i += 32) {
        __m512i d0 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i), vq));
        __m512i d1 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 8), vq));
        __m512i d2 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 16), vq));
        __m512i d3 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + i + 24), vq));
        __m512i lo = _mm512_min_epu64(_mm512_min_epu64(d0, d1), _mm512_min_epu64(d2, d3));
        __m512i limit = _mm512_set1_epi64(s.strict ? s.thr : s.thr + 1);
        if (!_mm512_cmplt_epu64_mask(lo, limit)) continue;
        for (int64_t j = i; j < i + 32; j++)
            if (keep(&s, __builtin_popcountll(codes[j] ^ q), j)) return -1;
    }
#endif
    for (; i < n; i++)
        if (keep(&s, __builtin_popcountll(codes[i] ^ q), i)) return -1;
    return s.m;
}

/* Multi-index hashing (Norouzi, Punjani & Fleet, CVPR 2012), exact.
 *
 * Table j keys every code by its bits [shift[j], shift[j] + bits[j]); its codes and
 * positions are stored sorted by key (codes_j, pos_j), bucket key spans
 * [offsets_j[key], offsets_j[key + 1]). The search visits, radius r = 0, 1, ..., every
 * bucket whose key is r flips from the query's substring, in each table. After radius r
 * in tables 0..j and r - 1 in the others, an unvisited code differs in >= r + 1 bits in
 * tables 0..j and >= r in the rest: distance >= m * r + j + 1 (pigeonhole). The search
 * stops once that bound exceeds the k-th distance found (top k; every tie at it is then
 * in hand) or the radius asked. A code met in table j at radius r was met before iff an
 * earlier table is within r of the query, or a later one within r - 1: checked from its
 * substrings' distances (cheaper than a visited-set in memory), so it counts once.
 */
static uint64_t next_same_popcount(uint64_t v) {  /* Gosper's hack */
    uint64_t c = v & -v, r = v + c;
    return (((r ^ v) >> 2) / c) | r;
}

static uint64_t low_bits(int b) { return b >= 64 ? ~0ULL : (1ULL << b) - 1; }

static int met_before(uint64_t x, int m, int j, int r, const int *shift, const int *bits) {
    for (int i = 0; i < m; i++) {
        if (i == j) continue;
        int di = __builtin_popcountll((x >> shift[i]) & low_bits(bits[i]));
        if (di < r || (i < j && di == r)) return 1;
    }
    return 0;
}

static int bucket_one(kept_t *s, uint64_t c, int64_t p, uint64_t q, int m, int j, int r,
                      const int *shift, const int *bits) {
    const uint64_t x = c ^ q;
    const int d = __builtin_popcountll(x);
    if (!keeps(s, d) || met_before(x, m, j, r, shift, bits)) return 0;
    return keep(s, d, p);
}

/* the codes [a, e) of one bucket; the vector step skips 8 codes at once when none is kept */
static int bucket(kept_t *s, const uint64_t *codes, const int64_t *pos, int64_t a, int64_t e,
                  uint64_t q, int m, int j, int r, const int *shift, const int *bits) {
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
    const __m512i vq = _mm512_set1_epi64((long long)q);
    for (; a + 8 <= e; a += 8) {
        __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(codes + a), vq));
        __mmask8 hit = _mm512_cmple_epu64_mask(d, _mm512_set1_epi64(s->thr));
        for (; hit; hit &= hit - 1) {
            int64_t i = a + __builtin_ctz(hit);
            if (bucket_one(s, codes[i], pos[i], q, m, j, r, shift, bits)) return -1;
        }
    }
#endif
    for (; a < e; a++)
        if (bucket_one(s, codes[a], pos[a], q, m, j, r, shift, bits)) return -1;
    return 0;
}

int64_t dmh_mih(int m, const int *shift, const int *bits, const int64_t *const *offsets,
                const uint64_t *const *codes, const int64_t *const *pos, uint64_t q, int n_bits, int64_t k, int radius,
                int32_t *out_d, int64_t *out_p, int64_t cap) {
    kept_t s;
    init(&s, n_bits, k, k > 0 ? n_bits : radius, 0, out_d, out_p, cap);
    int64_t ret = 0;
    int widest = 0;
    for (int j = 0; j < m; j++) widest = bits[j] > widest ? bits[j] : widest;
    for (int r = 0; r <= widest && ret >= 0; r++) {
        for (int j = 0; j < m && ret >= 0; j++) {
            if (r <= bits[j]) {
                const uint64_t key0 = (q >> shift[j]) & low_bits(bits[j]);
                const uint64_t last = r == 0 ? 0 : ((1ULL << r) - 1) << (bits[j] - r);
                for (uint64_t flip = r == 0 ? 0 : (1ULL << r) - 1;; flip = next_same_popcount(flip)) {
                    const uint64_t key = key0 ^ flip;
                    if (bucket(&s, codes[j], pos[j], offsets[j][key], offsets[j][key + 1], q,
                               m, j, r, shift, bits)) { ret = -1; break; }
                    if (ret < 0 || flip == last) break;
                }
            }
            /* codes not met yet are >= bound away; all are met once a table is exhausted */
            const int64_t bound = (int64_t)m * r + j + 1;
            const int done = r == bits[j] || (k > 0 ? (s.m >= k && s.thr < bound) : radius < bound);
            if (done) { r = widest + 1; break; }
        }
    }
    return ret < 0 ? -1 : s.m;
}
